// The nameserver's one metadata mutex (name_server_impl.cc `mu_`) and what it costs.
// OpenMLDB takes it in ShowTable, ShowTablet, ShowOPStatus, the table status poll
// (UpdateTableStatus), every op's creation (AddOPData writes the op's node) and every
// metadata change; a change rewrites the table's whole node in ZooKeeper synchronously
// while holding it (UpdateTableAliveStatus / UpdatePartitionStatus / UpdateLeaderInfo ->
// UpdateZkTableNode -> SetNodeValue). So every caller waits behind every write, in order,
// and a recovery's metadata writes run one at a time however many clients send them.
// `updatetablealive` without a pid changes every partition of the table on that endpoint
// with one write; with a pid, one write per partition.
//
// A write's time grows with the node's size. Default from scripts/measure-zk-writes.ts on
// the ZooKeeper server of the project's ZooKeeper tier (Debian's package, forceSync on,
// loopback, 2-core VM, 2026-12-07): medians 0.91 ms (1 KB), 0.65 (4 KB), 0.82 (16 KB),
// 0.91 (64 KB), 1.43 (128 KB); least squares 0.736 ms + 0.0049 ms per KB.
import { setTimeout as delay } from 'node:timers/promises';

export interface MetadataCosts {
  /** One ZooKeeper set: fixed part (ms). */
  zkWriteBaseMs: number;
  /** One ZooKeeper set: per KB of the node (ms). */
  zkWritePerKbMs: number;
}

export const MEASURED_ZK_WRITE: MetadataCosts = { zkWriteBaseMs: 0.736, zkWritePerKbMs: 0.0049 };

/** The time one ZooKeeper write of a node of `bytes` takes (ms). */
export function zkWriteMs(costs: MetadataCosts, bytes: number): number {
  return costs.zkWriteBaseMs + (bytes / 1024) * costs.zkWritePerKbMs;
}

export interface MetadataStats {
  /** Table-node and op-node writes made under the lock. */
  writes: number;
  /** Bytes those writes carried. */
  bytes: number;
  /** Time the lock was held, and waited for (summed over waiters), ms. */
  heldMs: number;
  waitedMs: number;
  /** Times the lock was taken. */
  taken: number;
}

export class MetadataLock {
  private tail: Promise<unknown> = Promise.resolve();
  readonly stats: MetadataStats = { writes: 0, bytes: 0, heldMs: 0, waitedMs: 0, taken: 0 };

  constructor(private readonly costs: () => MetadataCosts) {}

  /** Run `fn` holding the lock: callers run one at a time, in the order they asked. */
  hold<T>(fn: () => T | Promise<T>): Promise<T> {
    const asked = performance.now();
    const run = async () => {
      const started = performance.now();
      this.stats.waitedMs += started - asked;
      this.stats.taken++;
      try {
        return await fn();
      } finally {
        this.stats.heldMs += performance.now() - started;
      }
    };
    const mine = this.tail.then(run, run);
    this.tail = mine.catch(() => undefined);
    return mine;
  }

  /** A ZooKeeper write made while holding the lock, counted; `timed`: it takes the time a measured one takes. */
  async write(bytes: number, timed = true): Promise<void> {
    this.stats.writes++;
    this.stats.bytes += bytes;
    const ms = timed ? zkWriteMs(this.costs(), bytes) : 0;
    if (ms > 0) await delay(ms);
  }
}
