// The nameserver's metadata: the tables, databases, term counter and auto_failover the
// leader holds in memory, the same as last written to ZooKeeper, and the metadata mutex
// (metadata-lock.ts) its writes take. The RPCs that change it live in nameserver.ts and
// ops.ts; the election that loads it lives in nodes.ts.
import { MetadataLock } from './metadata-lock.js';
import type { ElectionHost, SimTiming, TableMeta } from './model.js';
import { cloneTable } from './model.js';

/** An op's node in ZooKeeper (its OPData, a few hundred bytes of protobuf). */
const OP_NODE_BYTES = 512;

/** What the metadata's writes need of the cluster: its timing, the election and its leader, and its events. */
export interface MetadataHost {
  readonly timing: SimTiming;
  readonly election: ElectionHost | undefined;
  readonly leaderEndpoint: string | undefined;
  emit(event: string, ...args: unknown[]): boolean;
}

export class NameserverMetadata {
  /** The leader nameserver's auto_failover_ in memory: what ConfGet answers and what it acts on. */
  private autoFailoverValue = true;
  /** config/auto_failover as stored (ZooKeeper): what a nameserver reads when it wins the election. */
  private storedValue = true;
  /** The leader nameserver's metadata in memory (polled offsets included). */
  tables: TableMeta[] = [];
  /**
   * The table nodes as last written to ZooKeeper (UpdateZkTableNode): what a nameserver
   * that becomes leader loads. The status poll never writes here.
   */
  zkTables = new Map<number, TableMeta>();
  /** The nameserver's term counter (ZooKeeper `table/term`). */
  nsTerm = 1;
  databases = new Set<string>();
  nextTid = 1;

  /**
   * The nameserver's metadata mutex (mu_, metadata-lock.ts): one holder at a time, across a
   * change and its ZooKeeper write, so no write can carry a copy that misses another's
   * change; reads, op creation and the status poll wait their turn behind the writes.
   */
  readonly lock: MetadataLock;

  constructor(private readonly host: MetadataHost) {
    this.lock = new MetadataLock(() => host.timing);
  }

  /** The leader's auto_failover in memory (ConfGet). */
  get autoFailover(): boolean {
    return this.autoFailoverValue;
  }

  /** Set as ConfSet does, in memory and in `config/auto_failover`; a change is announced ('auto-failover') so ZooKeeper holds it. */
  set autoFailover(value: boolean) {
    const changed = value !== this.storedValue;
    this.autoFailoverValue = value;
    this.storedValue = value;
    if (changed) this.host.emit('auto-failover', value);
  }

  /** `config/auto_failover` as stored: differs from the leader's memory after the start race (SimNodes.takeLeadership). */
  get storedAutoFailover(): boolean {
    return this.storedValue;
  }

  /** The leader's memory alone takes `value` (NameServerImpl::Init's `auto_failover_.store`), ZooKeeper keeps its own. */
  holdAutoFailover(value: boolean): void {
    this.autoFailoverValue = value;
  }

  /**
   * A nameserver won the election: it loads the metadata from ZooKeeper
   * (name_server_impl.cc RecoverTableInfo), and Recover (from OnLocked) reads
   * config/auto_failover into memory.
   */
  load(zkTables: TableMeta[], storedAutoFailover: boolean): void {
    this.tables = [...zkTables].sort((a, b) => a.tid - b.tid).map(cloneTable);
    this.storedValue = storedAutoFailover;
    this.autoFailoverValue = storedAutoFailover;
  }

  tableByName(db: string, name: string): TableMeta | undefined {
    return this.tables.find((t) => t.db === db && t.name === name);
  }

  /**
   * ConfSet's write of config/auto_failover: on ZooKeeper it must land there before the
   * nameserver answers (name_server_impl.cc ConfSet: SetNodeValue first, `set zk failed`
   * and nothing changed when it fails). The embedded registry reads the value in memory.
   */
  async writeAutoFailover(value: boolean): Promise<boolean> {
    if (this.host.election) {
      const leader = this.host.leaderEndpoint;
      if (leader === undefined || !(await this.host.election.setAutoFailover(leader, value))) return false;
      // Written: not announced, so no second, later write can put another value over it.
      this.autoFailoverValue = value;
      this.storedValue = value;
      return true;
    }
    this.autoFailover = value;
    return true;
  }

  /**
   * A table node written by a nameserver call before it answers (name_server_impl.cc
   * UpdateZkTableNode -> SetNodeValue; a failed write fails the call). On ZooKeeper through
   * the leader's own session; the embedded registry reads the metadata in memory.
   */
  async writeTableNode(table: TableMeta): Promise<boolean> {
    const copy = cloneTable(table);
    const node = JSON.stringify(copy);
    if (this.host.election) {
      const leader = this.host.leaderEndpoint;
      if (leader === undefined || !(await this.host.election.setTableNode(leader, table.tid, node))) return false;
    }
    await this.zkWritten(node.length);
    // Written: what ZooKeeper holds, with no queued write after it (a node someone removed
    // meanwhile stays removed, as for OpenMLDB).
    this.zkTables.set(table.tid, copy);
    return true;
  }

  withMetadata<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.lock.hold(fn);
  }

  /** An op's node written (AddOPData), under the lock its caller holds. */
  writeOpNode(): Promise<void> {
    return this.zkWritten(OP_NODE_BYTES);
  }

  /**
   * A nameserver write to ZooKeeper, counted: on a real ZooKeeper it took its own time;
   * without one it takes the time a measured one takes (metadata-lock.ts).
   */
  private zkWritten(bytes: number): Promise<void> {
    return this.lock.write(bytes, this.host.election === undefined);
  }

  /** UpdateZkTableNode: the table's node now holds the in-memory metadata, polled offsets included. */
  persistTable(table: TableMeta): void {
    this.zkTables.set(table.tid, cloneTable(table));
    this.host.emit('persist-table', table.tid);
  }

  /** SelectLeader's terms: FollowOfNoOne gets `term_ + 1`, the new leader `term_ + 2`. */
  takeTerms(): number {
    const cur = this.nsTerm + 1;
    this.nsTerm += 2;
    return cur;
  }
}
