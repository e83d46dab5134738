// The data path: client writes routed to the partitions' leaders, followers catching up,
// binlogs fsynced, and what the leader nameserver learns of it (the status poll). The
// tablets' side of each step (appending, AppendEntries) lives in tablet.ts.
import { partitionKey } from './model.js';
import type { NameserverMetadata } from './ns-metadata.js';
import type { SimNodes } from './nodes.js';
import { type TabletService, recordCount } from './tablet.js';

export class Replication {
  /** A status poll waits for the metadata lock (pollLocked); at most one at a time. */
  private pollQueued = false;

  constructor(
    private readonly nodes: SimNodes,
    private readonly meta: NameserverMetadata,
    private readonly tabletService: TabletService,
  ) {}

  /**
   * Client writes: routed by the metadata (the alive leader), appended by that tablet if it
   * serves the partition as leader; followers catch up on the replication clock.
   */
  write(db: string, name: string, entries: number, pids?: number[]): number {
    const table = this.meta.tableByName(db, name);
    if (!table) return 0;
    let written = 0;
    for (const part of table.partitions) {
      if (pids !== undefined && !pids.includes(part.pid)) continue;
      const leader = part.replicas.find((r) => r.isLeader && r.isAlive);
      const t = leader ? this.nodes.tabletNodes.get(leader.endpoint) : undefined;
      const p = t?.running ? t.loaded.get(partitionKey(table.tid, part.pid)) : undefined;
      if (!t || !p || p.mode !== 'kTableLeader' || p.state !== 'kTableNormal') continue;
      this.tabletService.writeOnLeader(t, p, entries);
      written += entries;
    }
    return written;
  }

  /** The leaders send their followers what they lack (AppendEntries), on the replication clock. */
  replicate(): void {
    this.tabletService.replicate(this.nodes.tablets());
  }

  /** SchedSyncDisk: running tablets fsync the binlogs of what they have loaded. */
  syncBinlogs(): void {
    for (const t of this.nodes.tablets()) {
      if (!t.running) continue;
      for (const p of t.loaded.values()) {
        const d = t.disk.get(partitionKey(p.tid, p.pid));
        if (d) d.syncedOffset = d.log.end;
      }
    }
  }

  /** Binlog parts no one needs any more are deleted (binlog_delete_interval). */
  deleteBinlogs(): void {
    this.tabletService.deleteBinlogs(this.nodes.tablets());
  }

  /** The status poll takes the metadata lock (UpdateTableStatus locks mu_); one waits at a time. */
  pollLocked(): void {
    if (this.pollQueued) return;
    this.pollQueued = true;
    void this.meta.withMetadata(() => {
      this.pollQueued = false;
      this.poll();
    });
  }

  /**
   * UpdateTableStatus (name_server_impl.cc UpdateTableStatusFun): the leader asks every
   * healthy tablet for everything it has loaded, loading partitions included (they report
   * offset 0), and sets the replicas' offsets in MEMORY only; ZooKeeper sees them only
   * when the table's node is next rewritten for another reason.
   */
  poll(): void {
    if (this.nodes.leaderEndpoint === undefined) return;
    const reported = new Map<string, { offset: number; recordCnt: number; bytes: number; disk: number }>();
    for (const [endpoint, view] of this.nodes.tabletViews()) {
      const t = this.nodes.tabletNodes.get(endpoint);
      if (view.state !== 'kHealthy' || !t?.running) continue;
      for (const p of t.loaded.values()) {
        const memory = p.storageMode === 'kMemory';
        const normal = p.state !== 'kTableUndefined' && p.state !== 'kTableLoading';
        reported.set(`${endpoint}|${partitionKey(p.tid, p.pid)}`, {
          offset: p.offset,
          recordCnt: normal ? recordCount(p, t.disk.get(partitionKey(p.tid, p.pid))) : 0,
          bytes: memory && normal ? p.offset * 124 : 0,
          disk: normal ? p.offset * (memory ? 64 : 124) : 0,
        });
      }
    }
    if (reported.size === 0) return;
    for (const table of this.meta.tables) {
      for (const part of table.partitions) {
        for (const r of part.replicas) {
          const s = reported.get(`${r.endpoint}|${partitionKey(table.tid, part.pid)}`);
          r.tabletHasPartition = s !== undefined;
          if (!s) continue;
          r.offset = s.offset;
          r.recordCnt = s.recordCnt;
          r.recordByteSize = s.bytes;
          r.diskused = s.disk;
        }
      }
    }
  }
}
