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

/**
 * Where the record lives: a log of table records in the state directory, one node per table
 * in ZooKeeper, or nowhere (dry runs, tests). Written per table so a write costs what changed:
 * written whole, 8000 partitions' record was megabytes per write, thousands of writes a run
 * (most of the tool's CPU), and past ZooKeeper's 1 MB node limit.
 */
export interface EvidenceStore {
  read(): EvidenceFile | undefined;
  /**
   * Write these tables' records (`evidenceTable` -> that table's partitions, each whole; no
   * partitions left: the table's record removed). Serializes before it returns; may finish
   * asynchronously (the record in ZooKeeper, commands/run-safety.ts), and save() waits for it.
   */
  write(tables: ReadonlyMap<string, EvidenceFile>): void | Promise<void>;
}

/** Key of a partition in plans, the evidence record and `PlanOptions.leaders`: `db.table:pid`. */
export const partitionKey = (db: string, table: string, pid: number): string => `${db}.${table}:${pid}`;

/** The table a partition's key belongs to (`db.table`): the unit a store writes. */
export const evidenceTable = (key: string): string => {
  const colon = key.lastIndexOf(':');
  return colon < 0 ? key : key.slice(0, colon);
};

/** The records of many tables as one (a store's read). */
export function mergeEvidence(parts: Iterable<EvidenceFile>): EvidenceFile | undefined {
  let merged: EvidenceFile | undefined;
  for (const f of parts) {
    merged ??= { version: 1, partitions: {} };
    Object.assign(merged.partitions, f.partitions);
  }
  return merged;
}

/** A record split by table, as stores keep it. */
export function splitEvidence(file: EvidenceFile): Map<string, EvidenceFile> {
  const tables = new Map<string, EvidenceFile>();
  for (const [key, p] of Object.entries(file.partitions)) {
    const t = evidenceTable(key);
    let f = tables.get(t);
    if (!f) tables.set(t, (f = { version: 1, partitions: {} }));
    f.partitions[key] = p;
  }
  return tables;
}

/** A read-only view of one partition's record, for the (pure) planner. */
export type PartitionEvidence = Readonly<Record<string, Readonly<ReplicaRecord>>>;

export class RunMemory {
  private file: EvidenceFile;
  private pending: Promise<void> | undefined;
  /** Tables changed since the last write. */
  private dirty = new Set<string>();
  /** The partitions' keys of each table in the record. */
  private readonly byTable = new Map<string, Set<string>>();

  constructor(private readonly store?: EvidenceStore) {
    this.file = store?.read() ?? { version: 1, partitions: {} };
    for (const key of Object.keys(this.file.partitions)) this.index(key);
  }

  private index(key: string): void {
    const t = evidenceTable(key);
    let keys = this.byTable.get(t);
    if (!keys) this.byTable.set(t, (keys = new Set()));
    keys.add(key);
  }

  private touch(key: string): void {
    this.dirty.add(evidenceTable(key));
  }

  partition(key: string): PartitionEvidence {
    return this.file.partitions[key]?.replicas ?? {};
  }

  private replica(key: string, endpoint: string): ReplicaRecord {
    let p = this.file.partitions[key];
    if (!p) {
      p = this.file.partitions[key] = { since: Date.now(), replicas: {} };
      this.index(key);
    }
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
        const key = partitionKey(t.db, t.name, p.pid);
        if (!keys.has(key)) continue;
        this.observeFlags(key, p.replicas);
        for (const r of p.replicas) {
          const rec = this.replica(key, r.endpoint);
          if (r.loaded === undefined && r.snapshot !== undefined && rec.snapshot === undefined && rec.load === undefined) {
            rec.snapshot = { ...r.snapshot };
            this.touch(key);
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
      this.touch(key);
    }
  }

  noteLoadSent(key: string, endpoint: string, load: { mode: TableMode; storageMode: StorageMode }): void {
    this.replica(key, endpoint).load = { sentAt: Date.now(), ...load };
    this.touch(key);
  }

  noteLoadSeen(key: string, endpoint: string): void {
    const rec = this.replica(key, endpoint);
    if (rec.load && !rec.load.seen) {
      rec.load.seen = true;
      this.touch(key);
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
    this.touch(key);
  }

  noteUnreadable(key: string, endpoint: string, reason: string): void {
    this.replica(key, endpoint).unreadable = { reason, at: Date.now() };
    this.touch(key);
  }

  /** The partitions a run has worked on and that were not served again since (keys as `partitionKey`). */
  keys(): string[] {
    return Object.keys(this.file.partitions);
  }

  /** The partitions are served again: nothing of theirs needs remembering. */
  forget(keys: Iterable<string>): void {
    for (const k of keys) {
      if (this.file.partitions[k] !== undefined) {
        delete this.file.partitions[k];
        const t = evidenceTable(k);
        this.byTable.get(t)?.delete(k);
        if (this.byTable.get(t)?.size === 0) this.byTable.delete(t);
        this.dirty.add(t);
      }
    }
  }

  /**
   * Write what changed; every caller that changed something before this write started is
   * covered when it resolves (one write of the changed tables for many concurrent changes).
   */
  save(): Promise<void> {
    if (!this.store || this.dirty.size === 0) return this.pending ?? Promise.resolve();
    this.pending ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.pending = undefined;
        const tables = this.dirty;
        this.dirty = new Set();
        const failed = (err: unknown) => {
          for (const t of tables) this.dirty.add(t);
          reject(err);
        };
        try {
          Promise.resolve(this.store?.write(this.tablesOf(tables))).then(() => resolve(), failed);
        } catch (err) {
          failed(err);
        }
      });
    });
    return this.pending;
  }

  private tablesOf(tables: Iterable<string>): Map<string, EvidenceFile> {
    const out = new Map<string, EvidenceFile>();
    for (const t of tables) {
      const partitions: Record<string, PartitionRecord> = {};
      for (const key of this.byTable.get(t) ?? []) {
        const p = this.file.partitions[key];
        if (p) partitions[key] = p;
      }
      out.set(t, { version: 1, partitions });
    }
    return out;
  }
}
