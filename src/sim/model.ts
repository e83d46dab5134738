// The simulated cluster's state. Each replica has three layers that can disagree, as in
// a real OpenMLDB cluster (docs/architecture.md):
//   1. the nameserver's metadata (ReplicaMeta: is_leader, is_alive, last polled offset),
//      in the leader nameserver's memory and, as last written, in ZooKeeper,
//   2. the data on its tablet's disk (DiskPartition: the log of entries, snapshot offset),
//   3. the tablet's runtime state (LoadedPartition: mode, TableState, current offset, term).
import { MEASURED_ZK_WRITE } from './metadata-lock.js';
import type { Log, Run } from './log.js';

export type StorageMode = 'kMemory' | 'kSSD' | 'kHDD';
export type TableMode = 'kTableLeader' | 'kTableFollower';
export type TableState =
  | 'kTableUndefined'
  | 'kTableNormal'
  | 'kTableLoading'
  | 'kMakingSnapshot'
  | 'kSnapshotPaused';
export type OpStatus = 'kInited' | 'kDoing' | 'kDone' | 'kFailed' | 'kCanceled';
export type Dialect = 'modern' | '2018';

export type OpType =
  | 'kChangeLeaderOP'
  | 'kOfflineReplicaOP'
  | 'kReAddReplicaOP'
  | 'kReAddReplicaNoSendOP'
  | 'kReAddReplicaWithDropOP'
  | 'kReAddReplicaSimplifyOP'
  | 'kReLoadTableOP'
  | 'kUpdatePartitionStatusOP'
  | 'kRecoverTableOP';

export type TaskType =
  | 'kPauseSnapshot'
  | 'kRecoverSnapshot'
  | 'kSendSnapshot'
  | 'kLoadTable'
  | 'kAddReplica'
  | 'kDelReplica'
  | 'kChangeLeader'
  | 'kUpdatePartitionStatus'
  | 'kDropTable'
  | 'kSelectLeader'
  | 'kUpdateLeaderInfo'
  | 'kRecoverTable'
  | 'kCheckBinlogSyncProgress';

/** Nameserver metadata of one replica (`PartitionMeta` in name_server.proto). */
export interface ReplicaMeta {
  endpoint: string;
  isLeader: boolean;
  isAlive: boolean;
  /** Last value polled from the tablet; undefined = never reported. Stale after a restart. */
  offset?: number;
  recordCnt?: number;
  recordByteSize?: number;
  diskused?: number;
  tabletHasPartition: boolean;
}

export interface TermOffset {
  term: number;
  offset: number;
}

export interface PartitionMeta {
  pid: number;
  replicas: ReplicaMeta[];
  termOffset: TermOffset[];
}

export interface TableMeta {
  tid: number;
  name: string;
  db: string;
  storageMode: StorageMode;
  segCnt: number;
  partitionNum: number;
  replicaNum: number;
  partitions: PartitionMeta[];
}

/** A partition's files on one tablet's disk. Survives restarts. */
export interface DiskPartition {
  tid: number;
  pid: number;
  name: string;
  db: string;
  storageMode: StorageMode;
  segCnt: number;
  /** Every entry the snapshot and the binlog hold: `log.end` is the replica's true offset. */
  log: Log;
  /** Offset covered by the snapshot (MANIFEST); its term is the entry's term there. */
  snapshotOffset: number;
  /**
   * The last makesnapshot: when it was written and the offset of the snapshot before it.
   * MemTableSnapshot::MakeSnapshot fsyncs only the MANIFEST (Snapshot::GenManifest), not the
   * data file: a power loss while its pages are still unwritten leaves the MANIFEST's
   * offset and count over a short file, and loading it only logs a warning
   * (RecoverFromSnapshot "expect cnt ... but succ_cnt").
   */
  snapshotMade?: { at: number; previous: number };
  /**
   * Term in the snapshot's MANIFEST: the replicator's term when the snapshot was made
   * (tablet_impl.cc MakeSnapshot passes replicator->GetLeaderTerm()), not the term of the
   * entry at the snapshot's offset. A follower's replicator takes its leader's term at the
   * first sync (tablet_impl.cc AppendEntries -> SetLeaderTerm), before it has received any
   * entry of that term. GetTermPair reports it for a replica that is not loaded.
   */
  snapshotTerm: number;
  /** Entries up to here are fsynced; a power loss cuts the binlog back to it (binlog_sync_to_disk_interval). */
  syncedOffset: number;
  /**
   * The first offset the binlog still holds: LogReplicator::DeleteBinlog unlinked the parts
   * before it (their entries are in the snapshot). Undefined: 1, nothing deleted.
   */
  binlogStart?: number;
  /**
   * First offsets of binlog parts opened by a load: LogReplicator::Init leaves its writer
   * unset, so the first entry appended after each load opens a new part (RollWLogFile),
   * however little the part before holds. Parts also roll every binlogPartEntries.
   */
  partStarts?: number[];
  /** Term in table_meta.txt: set when the table was created, not rewritten by ChangeRole. */
  metaTerm: number;
  /** Role written in table_meta.txt at the last load; not rewritten on role changes. */
  metaMode: TableMode;
  /**
   * A second LoadDiskTableInternal ran after the first had finished: `data` was renamed to
   * `old_data` and replaced by the snapshot checkpoint. Every later disk load fails at the
   * rename (old_data exists) until an operator cleans up (tablet_impl.cc LoadDiskTableInternal).
   */
  oldData?: boolean;
}

/** A partition directory moved to the tablet's recycle bin (recycle_bin_enabled, the default). */
export interface RecycledPartition {
  key: string;
  /** What moved it: a failed load, DropTable, DeleteBinlog. */
  reason: string;
  at: number;
  log: Log;
}

/** A partition loaded in a tablet process. Lost when the tablet stops. */
export interface LoadedPartition {
  tid: number;
  pid: number;
  name: string;
  storageMode: StorageMode;
  mode: TableMode;
  state: TableState;
  /** The replicator's offset: 0 until the load ends (LoadTableInternal sets it last). */
  offset: number;
  /** The replicator's term: table_meta's for a leader, 0 for a follower until a leader or FollowOfNoOne sets it. */
  term: number;
  /** Leadership instance writing new entries (leaders only); see log.ts. */
  epoch: number;
  segCnt: number;
  /** Endpoints this leader replicates to (its replicator list). */
  followers: string[];
  /** What the replicator last sent each follower (ReplicateNode's position), by endpoint. */
  synced?: Record<string, number>;
  /**
   * Puts a leader accepted before its load ran (kTableUndefined): the replicator numbered
   * them from its offset 0 (1, 2, ...) in a new binlog part with the highest index
   * (log_replicator.cc AppendEntry, RollWLogFile). The load then replays from that part only.
   */
  early?: { epoch: number; term: number; count: number };
}

/** A client write the tablet acknowledged: which entry it became (log.ts identity). */
export interface AcknowledgedWrite {
  tid: number;
  pid: number;
  epoch: number;
  term: number;
  offset: number;
}

export interface TabletNode {
  /** Identity in metadata: the server name with use_name=true, else `ip:port`. */
  endpoint: string;
  /** Where it listens (`127.0.0.1:port`): the real endpoint. */
  address: string;
  port: number;
  running: boolean;
  startedAt: number;
  disk: Map<string, DiskPartition>;
  loaded: Map<string, LoadedPartition>;
  recycle: RecycledPartition[];
}

export interface NameserverNode {
  /** Identity: the server name with use_name=true, else `ip:port`. */
  endpoint: string;
  address: string;
  port: number;
  running: boolean;
  /** Election sequence number of its current registration (smallest running = leader). */
  seq: number;
  startedAt: number;
  /** When its NameServerImpl::Init ends (startedAt + nsInitMs as it started): it stores FLAGS_auto_failover then. */
  initEndsAt?: number;
}

/** The election, when ZooKeeper runs it (zk-coordinator.ts). */
export interface ElectionHost {
  nameserverStarted(n: NameserverNode): void;
  nameserverStopped(n: NameserverNode): void;
  /** ZkClient::SetNodeValue of config/auto_failover in the leader's own session: false when it failed. */
  setAutoFailover(leader: string, value: boolean): Promise<boolean>;
  /** The same for a table's node (table/db_table_data/TID). */
  setTableNode(leader: string, tid: number, value: string): Promise<boolean>;
}

/** A nameserver's view of one tablet (`showtablet`). */
export interface TabletView {
  endpoint: string;
  state: 'kHealthy' | 'kOffline';
  changedAt: number;
  /** Set while the tablet is absent, for the heartbeat timeout. */
  offlineSince?: number;
  /** The heartbeat-timeout offline step ran for this absence. */
  offlineProcessed: boolean;
}

export interface TaskSpec {
  type: TaskType;
  /** Tablet the task talks to, when it has one. */
  endpoint?: string;
  /** Free-form task arguments (target mode, candidate, ...). */
  args?: Record<string, string | number | boolean>;
}

export interface Op {
  opId: number;
  opType: OpType;
  db: string;
  name: string;
  pid: number;
  status: OpStatus;
  /** Seconds since the epoch; 0 = not started / not ended. */
  startTime: number;
  endTime: number;
  tasks: TaskSpec[];
  taskIndex: number;
  /** Task that failed or was current when cancelled, for `cur_task`. */
  failedTask?: TaskType;
  parentId?: number;
  queue: number;
  /** Replica endpoint the op works on. */
  endpoint: string;
  createdAt: number;
  error?: string;
}

export interface LedgerEntry {
  db: string;
  name: string;
  tid: number;
  pid: number;
  /** Highest on-disk offset of any replica when the incident began. */
  bestBefore: number;
  bestEndpoint: string;
  /** Every distinct entry (writer, offset) some replica held when the incident began. */
  entries: Run[];
  /**
   * Of those, the entries orphaned at a failover before the incident: held only by replicas
   * not alive in the metadata, at offsets where a newer term had begun (term_offset) than
   * the one they were written in, so not in that term's lineage. OpenMLDB gave them up
   * then: no automatic path serves them again (name_server_impl.cc OnTabletOnline ->
   * RecoverEndpointTable: DeleteBinlog, or MatchTermOffset -> kReAddReplicaWithDropOP).
   */
  orphaned: Run[];
}

/** The critical-path lower bound of a recovery (bound.ts computes it). */
export interface CriticalPath {
  /** The lower bound (ms): the longest of loadMs, opMs, chainMs and metadataMs. */
  ms: number;
  /** The fewest serialized metadata writes (one per table and endpoint recovered) and their time (ms). */
  metadataWrites: number;
  metadataMs: number;
  /** The busiest tablet's loads over its load slots (ms). */
  loadMs: number;
  /** The busiest op queue's tasks (ms). */
  opMs: number;
  /** The longest single partition's load, then its leader-change tasks (ms). */
  chainMs: number;
  /** Replica loads the incident needs. */
  loads: number;
  /** Partitions whose replica flagged leader must give way to a fuller one. */
  leaderChanges: number;
  opTasks: number;
  loadSlots: number;
  opQueues: number;
  tablets: Array<{ endpoint: string; loads: number; loadMs: number }>;
}

export interface Incident {
  startedAt: number;
  autoFailoverBefore: boolean;
  /** Ops with an id above this were created during the incident. */
  opIdBaseline: number;
  ledger: LedgerEntry[];
  /** The critical-path lower bound of the recovery, as the incident began (bound.ts). */
  bound: CriticalPath;
}

export interface SimTiming {
  /** Duration of one op task (ms). */
  taskMs: number;
  /** Fixed part of a partition load (ms). */
  loadBaseMs: number;
  /** Per-entry part of a partition load (ms per 1000 entries). */
  loadMsPer1000: number;
  /** Concurrent loads per tablet; more wait in a queue. */
  maxConcurrentLoads: number;
  /** How long a tablet may be absent before auto_failover acts (real: 5 min). */
  heartbeatTimeoutMs: number;
  /** Nameserver's table status polling interval (real: 2 s). */
  statusPollMs: number;
  /** How long a standby nameserver takes to take over (ms). */
  electionMs: number;
  /** Snapshot transfer speed (ms per 1000 entries). */
  sendMsPer1000: number;
  /** How often tablets fsync their binlogs (real binlog_sync_to_disk_interval: 5 s). */
  binlogSyncMs: number;
  /**
   * How long a new snapshot's data file may sit in the page cache (the kernel's
   * dirty_expire_centisecs, 30 s, plus its writeback interval): a power loss within it
   * leaves the snapshot short.
   */
  snapshotFlushMs: number;
  /** MakeSnapshot writes one only this many entries past the last (the tablet flag make_snapshot_threshold_offset). */
  makeSnapshotThresholdOffset: number;
  /** Entries in one binlog part (binlog_single_file_max_size: 2048 MB, at about 124 bytes an entry). */
  binlogPartEntries: number;
  /** How often tablets delete binlog parts no one needs (binlog_delete_interval; real: 60 s). */
  binlogDeleteMs: number;
  /**
   * How long a stopped tablet's ZooKeeper session outlives it (the tablet's zk_session_timeout:
   * 10 s in the shipped template). Its node stays and the nameserver lists it healthy
   * meanwhile; a restart inside that window cannot register. 0: the node goes at once.
   */
  zkSessionTimeoutMs: number;
  /**
   * How long a starting nameserver's Init runs after it joined the election (reading every
   * table node itself). One that wins within it ends with FLAGS_auto_failover in memory
   * (the start race, SimNodes.takeLeadership). Grows with the tables in a real cluster.
   */
  nsInitMs: number;
  /** One ZooKeeper write by the nameserver, under its metadata mutex: fixed part (ms; metadata-lock.ts). */
  zkWriteBaseMs: number;
  /** ... and per KB of the node written (ms). */
  zkWritePerKbMs: number;
}

export const DEFAULT_TIMING: SimTiming = {
  taskMs: 40,
  loadBaseMs: 150,
  loadMsPer1000: 100,
  maxConcurrentLoads: 3,
  heartbeatTimeoutMs: 3000,
  statusPollMs: 300,
  electionMs: 300,
  sendMsPer1000: 60,
  binlogSyncMs: 1000,
  snapshotFlushMs: 35000,
  makeSnapshotThresholdOffset: 100000,
  binlogPartEntries: Math.floor((2048 * 1024 * 1024) / 124),
  binlogDeleteMs: 1000,
  zkSessionTimeoutMs: 10000,
  nsInitMs: 1000,
  zkWriteBaseMs: MEASURED_ZK_WRITE.zkWriteBaseMs,
  zkWritePerKbMs: MEASURED_ZK_WRITE.zkWritePerKbMs,
};

export { INTERNAL_DBS } from '../openmldb/internal-dbs.js';

export const partitionKey = (tid: number, pid: number): string => `${tid}_${pid}`;

/** Bytes of memory one record takes in the simulated tables (for memused). */
export const BYTES_PER_RECORD = 124;

/** A deep copy of a table's metadata (what ZooKeeper holds is a serialized copy). */
export function cloneTable(t: TableMeta): TableMeta {
  return {
    ...t,
    partitions: t.partitions.map((p) => ({ pid: p.pid, replicas: p.replicas.map((r) => ({ ...r })), termOffset: p.termOffset.map((x) => ({ ...x })) })),
  };
}
