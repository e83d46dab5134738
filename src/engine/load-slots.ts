// How many loads each tablet is given at once. A tablet loads partitions on its task pool
// (tablet_impl.cc LoadTable -> task_pool_.AddTask; FLAGS_task_pool_size, 3 by default) and
// queues the rest, out of sight for disk tables (created only when their load starts). The
// run keeps every tablet's pool busy, never idle while the run notices that a load ended,
// by keeping twice the pool's size sent and unfinished per tablet: enough queued to start
// the next load at once, few enough that none waits in the tablet's queue for long.
//
// A slot is held from the LoadTable until the partition serves there (or vanishes: the load
// failed, the tablet restarted; or the load timeout passes), as the run's shared reads see
// it. It does not wait for the partition's own steps: a partition waiting for a slot on one
// tablet never holds up loads on another.
import { setTimeout as delay } from 'node:timers/promises';
import type { SharedReads } from './cluster.js';
import { SERVING_STATES } from '../cluster/types.js';
import { pollDelay } from './poll.js';

export interface LoadSlotsOptions {
  /** Loads one tablet runs at once (its task pool). */
  slots: number;
  /** How long a sent load may take before its slot is given back anyway (ms). */
  timeoutMs: number;
  pollMs?: number;
  signal: AbortSignal;
  /** A sent load ended, as the run saw it (served, or gone): the counter line counts it. */
  onEnded?: () => void;
}

interface Tablet {
  inFlight: number;
  /** Loads waiting for a slot, by rank then arrival (a lower rank first: priority.ts). */
  waiting: Array<{ rank: number; go: () => void }>;
}

export class LoadSlots {
  private readonly tablets = new Map<string, Tablet>();
  /** Sent and unfinished loads per tablet. */
  readonly limit: number;

  constructor(
    private readonly watch: SharedReads,
    private readonly o: LoadSlotsOptions,
  ) {
    this.limit = Math.max(1, 2 * o.slots);
  }

  private tablet(endpoint: string): Tablet {
    let t = this.tablets.get(endpoint);
    if (!t) this.tablets.set(endpoint, (t = { inFlight: 0, waiting: [] }));
    return t;
  }

  /**
   * Send a load through `send` once the tablet has a free slot. The slot is given back when
   * the load has ended (as seen by the run), or at once if `send` fails or says nothing was
   * started (`started` false: the partition was loaded already).
   */
  async load<T>(endpoint: string, part: { tid: number; pid: number; visibleAtOnce: boolean; rank?: number }, send: () => Promise<T>, started: (result: T) => boolean): Promise<T> {
    const t = this.tablet(endpoint);
    if (t.inFlight >= this.limit) {
      const rank = part.rank ?? 0;
      await new Promise<void>((go) => {
        // After every waiter of the same or a lower rank: a priority table's load overtakes the rest.
        const at = t.waiting.findIndex((w) => w.rank > rank);
        t.waiting.splice(at < 0 ? t.waiting.length : at, 0, { rank, go });
      });
    } else t.inFlight++;
    let result: T;
    try {
      result = await send();
    } catch (err) {
      this.release(t);
      throw err;
    }
    if (!started(result)) this.release(t);
    else
      void this.watchUntilEnded(endpoint, part).finally(() => {
        this.release(t);
        this.o.onEnded?.();
      });
    return result;
  }

  /** A waiter takes the freed slot over directly, so the count never drops in between. */
  private release(t: Tablet): void {
    const next = t.waiting.shift();
    if (next) next.go();
    else t.inFlight--;
  }

  private async watchUntilEnded(endpoint: string, { tid, pid, visibleAtOnce }: { tid: number; pid: number; visibleAtOnce: boolean }): Promise<void> {
    const deadline = Date.now() + this.o.timeoutMs;
    // A memory table exists as soon as LoadTable answers; a disk table only once its load starts.
    let seen = visibleAtOnce;
    for (let poll = 0; Date.now() < deadline && !this.o.signal.aborted; poll++) {
      await delay(pollDelay(poll, this.o.pollMs), undefined, { signal: this.o.signal }).catch(() => {});
      let s;
      try {
        s = await this.watch.loaded(endpoint, tid, pid);
      } catch {
        continue; // a dropped call: ask again
      }
      if (s && SERVING_STATES.has(s.state)) return;
      if (s) seen = true;
      // Seen, then gone: the load failed or the tablet restarted. A disk load is invisible
      // until it starts, so "not seen yet" is waited on.
      else if (seen) return;
    }
  }
}
