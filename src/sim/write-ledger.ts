// The ledger of client writes: which Puts a tablet applied, and which of them the client saw
// acknowledged. Only an acknowledged write was promised to the client; `check` counts one as
// lost when the partition's served leader no longer holds the entry it became (log.ts
// identity: who wrote it, at which offset).
import { type Run, count, distinct } from './log.js';
import { type AcknowledgedWrite, partitionKey } from './model.js';

export class WriteLedger {
  /** Applied by a tablet, the reply not seen by the client yet: by the client's request id. */
  private pending = new Map<string, AcknowledgedWrite>();
  /** Per partition (`tid_pid`), every acknowledged write, as runs of one writer. */
  private acked = new Map<string, Run[]>();
  private total = 0;

  /** A tablet applied request `id` as this entry (its reply may still be lost). */
  applied(id: string, w: AcknowledgedWrite): void {
    this.pending.set(id, w);
  }

  /** The client saw request `id` answered ok. */
  acknowledge(id: string): void {
    const w = this.pending.get(id);
    this.pending.delete(id);
    if (!w) return;
    const key = partitionKey(w.tid, w.pid);
    const runs = this.acked.get(key) ?? [];
    const last = runs[runs.length - 1];
    if (last && last.epoch === w.epoch && last.to + 1 === w.offset) last.to = w.offset;
    else runs.push({ epoch: w.epoch, term: w.term, from: w.offset, to: w.offset });
    this.acked.set(key, runs);
    this.total += 1;
  }

  /** The client saw request `id` fail, or gave up on it: not acknowledged. */
  forget(id: string): void {
    this.pending.delete(id);
  }

  /** Acknowledged writes of one partition (each entry once). */
  of(tid: number, pid: number): Run[] {
    return distinct(this.acked.get(partitionKey(tid, pid)) ?? []);
  }

  get acknowledged(): number {
    return this.total;
  }

  /** Acknowledged writes of one partition, counted. */
  countOf(tid: number, pid: number): number {
    return count(this.of(tid, pid));
  }
}
