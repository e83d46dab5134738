// The engine's one way to the cluster: the small interface it runs procedures through.
// `openmldb.ts` implements it on the OpenMLDB client (the binary or HTTP); nothing else in
// the engine knows that client, so the engine can be driven, and tested, through anything
// that answers these calls the way OpenMLDB does.
import type { LoadResult, LoadSpec, RoleChange, ShowTableRow, TabletTableStatus, TermPair } from '../cluster/client.js';
import type { ObserveFilter } from '../cluster/observe.js';
import type { AliveLeader } from '../cluster/watch.js';
import type { ClusterSnapshot, Op, StorageMode, Tablet } from '../cluster/types.js';

/**
 * Fresh reads shared by a run's steps (cluster/watch.ts): concurrent askers of one question
 * share one call, and that call starts after the question was asked.
 */
export interface SharedReads {
  /** One table's replicas as `showtable TABLE` lists them now. */
  tableRows(db: string, name: string): Promise<ShowTableRow[]>;
  /** The ops the nameserver lists now for one table; with `since`, an answer whose call began at or after it serves. */
  tableOps(db: string, name: string, since?: number): Promise<Op[]>;
  /** How a tablet runs one partition now; undefined when it does not. */
  loaded(endpoint: string, tid: number, pid: number): Promise<TabletTableStatus | undefined>;
  /** Every partition a tablet runs now. */
  statuses(endpoint: string): Promise<TabletTableStatus[]>;
  /** The tablets as the leader nameserver sees them now. */
  tablets(): Promise<Tablet[]>;
  /** `base` with some partitions of one table looked at afresh (its metadata, their replicas' tablets), those partitions alone. */
  partitions(base: ClusterSnapshot, db: string, name: string, pids: readonly number[]): Promise<ClusterSnapshot>;
  /** Every partition of the whole cluster (whatever the run's scope) whose leader is flagged alive, with its replicas' flags. */
  aliveLeaders(): Promise<AliveLeader[]>;
  /** Does the tablet answer now (the nameserver lists a dead tablet healthy until its session expires)? */
  answers(endpoint: string): Promise<boolean>;
}

export interface EngineCluster {
  /** One whole look: tables (filtered), replicas, tablets, what each tablet serves, ops, auto_failover. */
  observe(filter?: ObserveFilter): Promise<ClusterSnapshot>;
  /** A new set of shared reads, for one run. */
  reads(): SharedReads;
  /** `showopstatus`: every op the nameserver lists. */
  showOpStatus(): Promise<Op[]>;
  /** `confset auto_failover true|false`. */
  confSet(value: boolean): Promise<unknown>;
  /** `updatetablealive TABLE PID|* ENDPOINT yes|no` (`*`: every partition of the table on that endpoint, one metadata write). */
  updateTableAlive(db: string, table: string, pid: number | '*', endpoint: string, alive: boolean): Promise<unknown>;
  /** The tablet's LoadTable (`loadtable` on the tablet client, or over HTTP for disk tables). */
  loadTable(endpoint: string, spec: LoadSpec): Promise<LoadResult>;
  /** The tablet's GetTermPair: the term and offset of what it holds on disk. */
  getTermPair(endpoint: string, tid: number, pid: number, storageMode: StorageMode): Promise<TermPair>;
  /** The tablet's ChangeRole. */
  changeRole(endpoint: string, change: RoleChange): Promise<void>;
  /** `changeleader TABLE PID [ENDPOINT|auto]`. */
  changeLeader(db: string, table: string, pid: number, candidate?: string): Promise<unknown>;
  /** `recovertable TABLE PID ENDPOINT`. */
  recoverTable(db: string, table: string, pid: number, endpoint: string): Promise<unknown>;
  /** `offlineendpoint ENDPOINT [CONCURRENCY]`. */
  offlineEndpoint(endpoint: string, concurrency?: number): Promise<unknown>;
  /** `recoverendpoint ENDPOINT NEED_RESTORE [CONCURRENCY]`. */
  recoverEndpoint(endpoint: string, needRestore: boolean, concurrency?: number): Promise<unknown>;
}
