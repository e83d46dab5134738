// What the tool must remember about replicas across rounds, runs and crashes, because the
// cluster itself forgets or never says it (see the protocol reference and README "Known
// limits"):
//   - the metadata flags as found before any run changed them (is_alive tells which
//     replicas were in step with the leader's lineage; the tool marks replicas not alive
//     itself, so a rerun can no longer read that from the cluster);
//   - each replica's snapshot term and offset, readable (GetTermPair) only while the
//     replica is NOT loaded: once loaded, a follower reports term 0;
//   - the LoadTables it sent: a disk-table load may still sit in the tablet's queue, and a
//     second one would move the live data to old_data (tablet_impl.cc LoadDiskTableInternal);
//   - replicas whose load failed: the tablet moved their directory to the recycle bin, so
//     loading them again reads nothing.
// The record is written (atomically) before the changes it protects, and kept until the
// partition is served again; a later run, from a crash or after a refusal, reads it.
import type { ClusterSnapshot, StorageMode, TableMode } from '../cluster/types.js';

export interface ReplicaRecord {
  /** Metadata before any run of this tool changed it (the offset is shown, never used to choose). */
  found?: { isLeader: boolean; isAlive: boolean; metaOffset?: number };
  /** Snapshot MANIFEST term and offset, read before this tool loaded the replica. */
  snapshot?: { term: number; offset: number };
  /** The last LoadTable this tool sent for it. */
  load?: { sentAt: number; mode: TableMode; storageMode: StorageMode; seen?: boolean };
  /** Its data cannot be read any more, and why. */
  unreadable?: { reason: string; at: number };
  /** A follower that did not catch up with its leader in a bounded wait (catch-up.ts): to rebuild. */
  stuck?: { offset: number; target: number; at: number };
}

export interface PartitionRecord {
  /** When the first record was made (ms since the epoch). */
  since: number;
  replicas: Record<string, ReplicaRecord>;
}

export interface EvidenceFile {
  version: 1;
  partitions: Record<string, PartitionRecord>;
}

/** Where the record lives: a file in the state directory, or nowhere (dry runs, tests). */
export interface EvidenceStore {
  read(): EvidenceFile | undefined;
  /** May be asynchronous (the record in ZooKeeper, commands/safety.ts); save() waits for it. */
  write(file: EvidenceFile): void | Promise<void>;
}

/** Key of a partition in the record: `db.table:pid`. */
export const evidenceKey = (db: string, table: string, pid: number): string => `${db}.${table}:${pid}`;

/** A read-only view of one partition's record, for the (pure) planner. */
export type PartitionEvidence = Readonly<Record<string, Readonly<ReplicaRecord>>>;

export class RunMemory {
  private file: EvidenceFile;
  private pending: Promise<void> | undefined;
  private dirty = false;

  constructor(private readonly store?: EvidenceStore) {
    this.file = store?.read() ?? { version: 1, partitions: {} };
  }

  partition(key: string): PartitionEvidence {
    return this.file.partitions[key]?.replicas ?? {};
  }

  private replica(key: string, endpoint: string): ReplicaRecord {
    const p = (this.file.partitions[key] ??= { since: Date.now(), replicas: {} });
    return (p.replicas[endpoint] ??= {});
  }

  /**
   * Record what only an observation before the tool's changes can tell: for every partition
   * in `keys`, the flags of replicas seen for the first time, and the snapshot of replicas
   * that are not loaded and whose snapshot is not known yet.
   */
  observe(snapshot: ClusterSnapshot, keys: ReadonlySet<string>): void {
    for (const t of snapshot.tables) {
      for (const p of t.partitions) {
        const key = evidenceKey(t.db, t.name, p.pid);
        if (!keys.has(key)) continue;
        this.observeFlags(key, p.replicas);
        for (const r of p.replicas) {
          const rec = this.replica(key, r.endpoint);
          if (r.loaded === undefined && r.snapshot !== undefined && rec.snapshot === undefined && rec.load === undefined) {
            rec.snapshot = { ...r.snapshot };
            this.dirty = true;
          }
        }
      }
    }
  }

  /** Record the flags of replicas of partition `key` seen for the first time (the nameserver's metadata alone). */
  observeFlags(key: string, replicas: ReadonlyArray<{ endpoint: string; isLeader: boolean; isAlive: boolean; metaOffset?: number }>): void {
    for (const r of replicas) {
      const rec = this.replica(key, r.endpoint);
      if (rec.found !== undefined) continue;
      rec.found = { isLeader: r.isLeader, isAlive: r.isAlive, ...(r.metaOffset !== undefined ? { metaOffset: r.metaOffset } : {}) };
      this.dirty = true;
    }
  }

  noteLoadSent(key: string, endpoint: string, load: { mode: TableMode; storageMode: StorageMode }): void {
    this.replica(key, endpoint).load = { sentAt: Date.now(), ...load };
    this.dirty = true;
  }

  noteLoadSeen(key: string, endpoint: string): void {
    const rec = this.replica(key, endpoint);
    if (rec.load && !rec.load.seen) {
      rec.load.seen = true;
      this.dirty = true;
    }
  }

  /** A follower that did not catch up (`offset` short of `target`), or, with undefined, one that did. */
  noteStuck(key: string, endpoint: string, stuck: { offset: number; target: number } | undefined): void {
    const had = this.file.partitions[key]?.replicas[endpoint]?.stuck;
    if (stuck === undefined) {
      if (had === undefined) return;
      delete (this.file.partitions[key]?.replicas[endpoint] as ReplicaRecord).stuck;
    } else {
      this.replica(key, endpoint).stuck = { ...stuck, at: Date.now() };
    }
    this.dirty = true;
  }

  noteUnreadable(key: string, endpoint: string, reason: string): void {
    this.replica(key, endpoint).unreadable = { reason, at: Date.now() };
    this.dirty = true;
  }

  /** The partitions a run has worked on and that were not served again since (keys as `evidenceKey`). */
  keys(): string[] {
    return Object.keys(this.file.partitions);
  }

  /** The partitions are served again: nothing of theirs needs remembering. */
  forget(keys: Iterable<string>): void {
    for (const k of keys) {
      if (this.file.partitions[k] !== undefined) {
        delete this.file.partitions[k];
        this.dirty = true;
      }
    }
  }

  /**
   * Write what changed; every caller that changed something before this write started is
   * covered when it resolves (one atomic write for many concurrent changes).
   */
  save(): Promise<void> {
    if (!this.store || !this.dirty) return this.pending ?? Promise.resolve();
    this.pending ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.pending = undefined;
        this.dirty = false;
        const failed = (err: unknown) => {
          this.dirty = true;
          reject(err);
        };
        try {
          Promise.resolve(this.store?.write(this.file)).then(() => resolve(), failed);
        } catch (err) {
          failed(err);
        }
      });
    });
    return this.pending;
  }
}
