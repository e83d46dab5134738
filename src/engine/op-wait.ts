// Waiting for the nameserver's ops: poll the op listing until the ops of interest have
// ended, tolerating a few transient failures of the listing, within a timeout.
import { type Op, isUnfinished } from '../cluster/types.js';
import { pollDelay, sleep } from './poll.js';
import { type Backoff, retryTransient } from './retry.js';

export interface OpWait {
  /** The ops waited for; default every op listed. */
  select?: (op: Op) => boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  pollMs?: number;
  /** After each poll, with the selected ops still kInited or kDoing. */
  onPoll?: (running: Op[]) => void;
  /** Consecutive transient failures of the listing tolerated (a standby answering, a dropped call). */
  retries?: number;
  /** The wait after a failed listing (default BACKOFF). */
  backoff?: Backoff;
}

export interface OpWaitResult {
  /** The last listing, all ops. */
  ops: Op[];
  /** The selected ops of the last listing. */
  selected: Op[];
  /** Selected ops still unfinished (empty unless timed out or aborted). */
  running: Op[];
  timedOut: boolean;
  aborted: boolean;
}

/** Poll an op listing until no selected op is kInited or kDoing; bounded by a timeout. */
export async function waitForOps(list: () => Promise<Op[]>, w: OpWait): Promise<OpWaitResult> {
  const deadline = Date.now() + w.timeoutMs;
  const listing = { retries: w.retries ?? 4, ...(w.signal ? { signal: w.signal } : {}), ...(w.backoff ? { backoff: w.backoff } : {}) };
  let last: Op[] = [];
  for (let poll = 0; ; poll++) {
    let ops: Op[];
    try {
      ops = await retryTransient('showopstatus', list, listing);
    } catch (err) {
      // A stopped run stops waiting at once, even between two tries of a failing listing.
      if (!w.signal?.aborted) throw err;
      const selected = w.select ? last.filter(w.select) : last;
      return { ops: last, selected, running: selected.filter(isUnfinished), timedOut: false, aborted: true };
    }
    last = ops;
    const selected = w.select ? ops.filter(w.select) : ops;
    const running = selected.filter(isUnfinished);
    w.onPoll?.(running);
    const result = { ops, selected, running, timedOut: false, aborted: false };
    if (running.length === 0) return result;
    if (w.signal?.aborted) return { ...result, aborted: true };
    if (Date.now() > deadline) return { ...result, timedOut: true };
    await sleep(pollDelay(poll, w.pollMs), w.signal);
  }
}

/** `op 31 kRecoverTableOP t0 pid 1 kFailed (task kLoadTable)`. */
export function opLine(o: Op): string {
  const where = o.table !== undefined ? ` ${o.db !== undefined ? `${o.db}.` : ''}${o.table}${o.pid !== undefined ? ` pid ${o.pid}` : ''}` : '';
  const task = o.task !== undefined && o.task !== '-' ? ` (task ${o.task})` : '';
  return `op ${o.opId} ${o.opType}${where} ${o.status}${task}`;
}

