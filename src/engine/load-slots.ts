// How many loads each tablet is given at once. A tablet loads partitions on its task pool
// (tablet_impl.cc LoadTable -> task_pool_.AddTask; FLAGS_task_pool_size, 3 by default) and
// queues the rest, out of sight for disk tables (created only when their load starts). The
// run keeps every tablet's pool busy, never idle while the run notices that a load ended:
// besides the pool's size, as many loads are kept sent and unfinished per tablet as it ends
// in twice the time between two reads of its status (at least NOTICE_MS; at least the
// pool's size again, at most MAX_QUEUED_POOLS times it): enough queued to start the next
// load at once until the run sees the last ones end, few enough that none waits in the
// tablet's queue for long (loads that take minutes are queued one pool deep; the nameserver's wait behind them). The tablet's
// status is read once per answer for all its loads in flight, not per load: the calls grow
// with the time the loads take, not with their number.
//
// A slot is held from the LoadTable until the partition serves there (or vanishes: the load
// failed, the tablet restarted; or the load timeout passes), as the run's shared reads see
// it. It does not wait for the partition's own steps: a partition waiting for a slot on one
// tablet never holds up loads on another.
import { setTimeout as delay } from 'node:timers/promises';
import type { SharedReads } from './cluster.js';
import { SERVING_STATES } from '../cluster/types.js';

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

/**
 * The loads queued beyond the pool cover at least this long at the rate the tablet ends
 * them, and at least twice the time between two answers of its status (watch.ts paces them).
 */
export const NOTICE_MS = 1000;
/**
 * Loads queued beyond the pool: at most this many pools. A tablet's queue is also where the
 * nameserver's own loads wait (a recovertable op's LoadTable): queued behind many of ours,
 * every op waited, and the ops, two queues for the whole cluster, fell behind.
 */
const MAX_QUEUED_POOLS = 2;
/** Ends remembered per tablet, for its rate. */
const RATE_WINDOW = 12;

interface Watched {
  tid: number;
  pid: number;
  /** A memory table exists as soon as LoadTable answers; a disk table only once its load starts. */
  seen: boolean;
  deadline: number;
  ended: () => void;
}

interface Tablet {
  inFlight: number;
  /** Loads waiting for a slot, by rank then arrival (a lower rank first: priority.ts). */
  waiting: Array<{ rank: number; go: () => void }>;
  /** Sent loads not seen to end yet, all watched by one read of the tablet's status at a time. */
  watched: Set<Watched>;
  polling: boolean;
  /** When its last loads were seen to end (ms), oldest first. */
  ends: number[];
  /** Time between the last two answers of its status while loads were watched (ms). */
  gap: number;
}

export class LoadSlots {
  private readonly tablets = new Map<string, Tablet>();

  constructor(
    private readonly watch: SharedReads,
    private readonly o: LoadSlotsOptions,
  ) {}

  private tablet(endpoint: string): Tablet {
    let t = this.tablets.get(endpoint);
    if (!t) this.tablets.set(endpoint, (t = { inFlight: 0, waiting: [], watched: new Set(), polling: false, ends: [], gap: 0 }));
    return t;
  }

  /** Sent and unfinished loads the tablet is given now: its pool, and what it ends until the run notices. */
  limitOf(endpoint: string, now = Date.now()): number {
    const pool = Math.max(1, this.o.slots);
    const t = this.tablet(endpoint);
    const first = t.ends[0];
    // Up to now, not to the last end: a tablet that stopped ending loads is not fast.
    const perMs = first !== undefined && t.ends.length >= 2 ? (t.ends.length - 1) / Math.max(1, now - first) : 0;
    const notice = Math.max(NOTICE_MS, 2 * t.gap);
    return pool + Math.min(MAX_QUEUED_POOLS * pool, Math.max(pool, Math.ceil(perMs * notice)));
  }

  /**
   * Send a load through `send` once the tablet has a free slot. The slot is given back when
   * the load has ended (as seen by the run), or at once if `send` fails or says nothing was
   * started (`started` false: the partition was loaded already).
   */
  async load<T>(endpoint: string, part: { tid: number; pid: number; visibleAtOnce: boolean; rank?: number }, send: () => Promise<T>, started: (result: T) => boolean): Promise<T> {
    const t = this.tablet(endpoint);
    if (t.inFlight >= this.limitOf(endpoint)) {
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
      this.release(endpoint, t);
      throw err;
    }
    if (!started(result)) this.release(endpoint, t);
    else {
      t.watched.add({
        tid: part.tid,
        pid: part.pid,
        seen: part.visibleAtOnce,
        deadline: Date.now() + this.o.timeoutMs,
        ended: () => {
          t.ends.push(Date.now());
          if (t.ends.length > RATE_WINDOW) t.ends.shift();
          this.release(endpoint, t);
          this.o.onEnded?.();
        },
      });
      void this.poll(endpoint, t);
    }
    return result;
  }

  /** Slots freed (or more of them, the tablet ending loads faster) go to the waiters in order. */
  private release(endpoint: string, t: Tablet): void {
    t.inFlight--;
    const limit = this.limitOf(endpoint);
    while (t.waiting.length > 0 && t.inFlight < limit) {
      t.inFlight++;
      t.waiting.shift()?.go();
    }
  }

  /** One read of the tablet's status at a time answers every load sent there, until none is left. */
  private async poll(endpoint: string, t: Tablet): Promise<void> {
    if (t.polling) return;
    t.polling = true;
    let answered: number | undefined;
    try {
      while (t.watched.size > 0 && !this.o.signal.aborted) {
        // The read itself is paced (watch.ts): this only keeps a tight loop off a read that fails at once.
        await delay(this.o.pollMs ?? 200, undefined, { signal: this.o.signal }).catch(() => {});
        let rows;
        try {
          rows = await this.watch.statuses(endpoint);
        } catch {
          continue; // a dropped call: ask again
        }
        const now = Date.now();
        if (answered !== undefined) t.gap = now - answered;
        answered = now;
        const byPartition = new Map<string, string>();
        for (const r of rows) byPartition.set(`${r.tid}/${r.pid}`, r.state);
        for (const w of [...t.watched]) {
          const state = byPartition.get(`${w.tid}/${w.pid}`);
          // Seen, then gone: the load failed or the tablet restarted. A disk load is invisible
          // until it starts, so "not seen yet" is waited on, up to the load timeout.
          const ended = (state !== undefined && SERVING_STATES.has(state)) || (state === undefined && w.seen) || now > w.deadline;
          if (state !== undefined) w.seen = true;
          if (ended) {
            t.watched.delete(w);
            w.ended();
          }
        }
      }
    } finally {
      t.polling = false;
      // A stopped run watches no more: every slot goes back.
      if (this.o.signal.aborted) {
        for (const w of [...t.watched]) {
          t.watched.delete(w);
          w.ended();
        }
      }
    }
  }
}
