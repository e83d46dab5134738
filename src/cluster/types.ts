// The tool's picture of a cluster, as observed through the `openmldb` binary and HTTP.
// Everything here is a plain value: planning is a pure function of a ClusterSnapshot.

export type StorageMode = 'kMemory' | 'kSSD' | 'kHDD';
export type TableMode = 'kTableLeader' | 'kTableFollower';
export type OpStatus = 'kInited' | 'kDoing' | 'kDone' | 'kFailed' | 'kCanceled';

export interface Nameserver {
  endpoint: string;
  realEndpoint?: string;
  role: 'leader' | 'standby';
}

/** A tablet as the leader nameserver sees it (`showtablet`). */
export interface Tablet {
  endpoint: string;
  /** Where to connect (real endpoint when server names are used, else the endpoint). */
  address: string;
  state: 'healthy' | 'offline';
  /**
   * The tablet's last registration (or going offline) happened at or after this moment (ms
   * since the epoch; from `age`, which is rounded down to its unit). A load sent before it
   * may have died with an earlier process. Undefined when the age could not be read.
   */
  changedAfter?: number;
}

/** A partition as one tablet runs it (`gettablestatus`). */
export interface LoadedReplica {
  mode: TableMode;
  /** kTableUndefined | kTableLoading | kTableNormal | kMakingSnapshot | kSnapshotPaused */
  state: string;
  offset: number;
  /** Records it holds, where its tablet says (over HTTP; `gettablestatus` does not print it). */
  recordCnt?: number;
}

/** One replica of one partition: the three layers that can disagree. */
export interface Replica {
  endpoint: string;
  /** Nameserver metadata (`showtable`). */
  isLeader: boolean;
  isAlive: boolean;
  /** Last offset the nameserver polled; stale after a restart; undefined = never reported. */
  metaOffset?: number;
  /** Health of its tablet in the nameserver's view; 'unknown' = the nameserver does not list it. */
  tablet: 'healthy' | 'offline' | 'unknown';
  /** What its tablet runs now; undefined = not loaded (or the tablet is unreachable). */
  loaded?: LoadedReplica;
  /**
   * GetTermPair for an unloaded replica: its snapshot MANIFEST's term and offset (the binlog
   * tail is not included: only loading the replica reads it).
   */
  snapshot?: { term: number; offset: number };
  /**
   * A replica loaded as leader and serving: its replicator's follower list with the offset
   * synced to each (GetTableFollower); undefined when not asked.
   */
  followers?: Array<{ endpoint: string; offset: number }>;
}

export interface Op {
  opId: number;
  opType: string;
  db?: string;
  table?: string;
  pid?: number;
  status: OpStatus;
  /** Current task (kDoing) or the task that failed (kFailed). */
  task?: string;
}

export interface TermStart {
  term: number;
  /** First offset written in this term (the nameserver records the highest offset seen + 1). */
  offset: number;
}

export interface Partition {
  pid: number;
  replicas: Replica[];
  /** The partition's term history from the metadata (`term_offset`), oldest first. */
  terms?: TermStart[];
}

export interface Table {
  db: string;
  name: string;
  tid: number;
  storageMode: StorageMode;
  segCnt: number;
  partitions: Partition[];
  /** Records expire (a TTL on some index): record counts move by themselves. */
  expires?: boolean;
}

export interface ClusterSnapshot {
  takenAt: string;
  nameservers: Nameserver[];
  leader: string;
  tablets: Tablet[];
  autoFailover: boolean;
  tables: Table[];
  /** Every op the nameserver lists, all databases. */
  ops: Op[];
}

/** A replica serves when its tablet runs the partition in one of these states. */
export const SERVING_STATES = new Set(['kTableNormal', 'kMakingSnapshot', 'kSnapshotPaused']);
export const isUnfinished = (op: Op): boolean => op.status === 'kInited' || op.status === 'kDoing';
