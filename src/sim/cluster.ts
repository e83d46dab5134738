// The simulated cluster: nameservers, tablets, the ZooKeeper stand-in, and the clocks
// that drive heartbeats, status polling and replication. RPC semantics live in
// nameserver.ts, tablet.ts and ops.ts; this class owns the state they act on and the
// node lifecycle (stop, start, full restart).
import { MetadataLock } from './metadata-lock.js';
import { EventEmitter } from 'node:events';
import type {
  Dialect,
  Incident,
  LedgerEntry,
  NameserverNode,
  Op,
  SimTiming,
  TableMeta,
  TabletNode,
  TabletView,
  TaskSpec,
} from './model.js';
import { DEFAULT_TIMING, cloneTable, partitionKey } from './model.js';
import { criticalPath } from './bound.js';
import { type Log, distinct, minus, overtaken, union } from './log.js';
import { Faults, type RpcFault } from './faults.js';
import { NameserverService } from './nameserver.js';
import { DEFAULT_CONCURRENCY, OpEngine } from './ops.js';
import { Rng } from './rng.js';
import { WriteLedger } from './write-ledger.js';
import type { Traffic } from './traffic.js';
import { type LoadFault, TabletService, losePower, recordCount } from './tablet.js';

export interface SimOptions {
  rootPath: string;
  dialect: Dialect;
  useName: boolean;
  seed: number;
  nameservers: number;
  tablets: number;
  timing: SimTiming;
  /** Server version string, as `GET /version` returns it. */
  version: string;
  /** The nameservers' FLAGS_auto_failover (true in the shipped template), applied at the end of NameServerImpl::Init. */
  autoFailoverFlag: boolean;
}

export const DEFAULT_OPTIONS: SimOptions = {
  rootPath: '/openmldb',
  dialect: 'modern',
  useName: false,
  seed: 1,
  nameservers: 2,
  tablets: 3,
  timing: DEFAULT_TIMING,
  version: '0.9.3-sim',
  autoFailoverFlag: true,
};

export interface MutationRecord {
  seq: number;
  at: string;
  server: string;
  method: string;
  body: unknown;
  /** Who sent it: the stand-in `openmldb` binary, or a direct HTTP call. */
  via: 'binary' | 'http';
  code?: number;
  msg?: string;
  fault?: string;
}

/** RPC methods that change something; every call of one is logged. */
export const MUTATING_METHODS = new Set([
  'ConfSet',
  'UpdateTableAliveStatus',
  'RecoverTable',
  'ChangeLeader',
  'OfflineEndpoint',
  'RecoverEndpoint',
  'CancelOP',
  'DeleteOP',
  'LoadTable',
  'ChangeRole',
  'MakeSnapshot',
  'AddReplica',
  'Migrate',
  'AddReplicaNS',
  'DelReplicaNS',
]);

const pad10 = (n: number) => String(n).padStart(10, '0');

/** The election, when ZooKeeper runs it (zk-coordinator.ts). */
export interface ElectionHost {
  nameserverStarted(n: NameserverNode): void;
  nameserverStopped(n: NameserverNode): void;
  /** ZkClient::SetNodeValue of config/auto_failover in the leader's own session: false when it failed. */
  setAutoFailover(leader: string, value: boolean): Promise<boolean>;
  /** The same for a table's node (table/db_table_data/TID). */
  setTableNode(leader: string, tid: number, value: string): Promise<boolean>;
}

/** A tablet started inside its old ZooKeeper session's window: it could not register and exited. */
/** An op's node in ZooKeeper (its OPData, a few hundred bytes of protobuf). */
const OP_NODE_BYTES = 512;

export class TabletRegisterFailed extends Error {
  constructor(
    readonly endpoint: string,
    readonly remainingMs: number,
  ) {
    super(`tablet ${endpoint} exited: Fail to register zk (its previous session lives ${(remainingMs / 1000).toFixed(1)} s more, until zk_session_timeout expires it)`);
  }
}

export class SimCluster extends EventEmitter {
  readonly options: SimOptions;
  readonly timing: SimTiming;
  readonly rng: Rng;
  readonly faults: Faults;
  readonly tabletService: TabletService;
  readonly opEngine: OpEngine;
  readonly ns: NameserverService;

  /** The leader nameserver's auto_failover_ in memory: what ConfGet answers and what it acts on. */
  private autoFailoverValue = true;
  /** config/auto_failover as stored (ZooKeeper): what a nameserver reads when it wins the election. */
  private storedValue = true;
  /**
   * With the simulator on ZooKeeper, the election is ZooKeeper's (zk-coordinator.ts): it
   * is told of nameservers starting and stopping and calls takeLeadership/loseLeadership.
   * Without, elect() stands in for it in process.
   */
  election: ElectionHost | undefined;
  /** The leader nameserver's metadata in memory (polled offsets included). */
  tables: TableMeta[] = [];
  /**
   * The table nodes as last written to ZooKeeper (UpdateZkTableNode): what a nameserver
   * that becomes leader loads. The status poll never writes here.
   */
  zkTables = new Map<number, TableMeta>();
  /** The nameserver's term counter (ZooKeeper `table/term`). */
  nsTerm = 1;
  private epochs = 0;
  databases = new Set<string>();
  nameservers: NameserverNode[] = [];
  tabletNodes = new Map<string, TabletNode>();
  /** Each running nameserver's view of the tablets, keyed by nameserver endpoint. */
  views = new Map<string, Map<string, TabletView>>();
  leaderEndpoint: string | undefined;
  private epoch = 0;
  private electionTimer: NodeJS.Timeout | undefined;
  private nextSeq = 1;
  nextTid = 1;
  incident: Incident | undefined;
  mutations: MutationRecord[] = [];
  /** Client writes the tablets applied, and those the clients saw acknowledged (traffic.ts). */
  writes = new WriteLedger();
  /** The clients writing, when the servers attached them (SimServers.attachTraffic). */
  traffic: Traffic | undefined;
  loadFaults = new Map<string, LoadFault>();
  private timers: NodeJS.Timeout[] = [];

  constructor(options: Partial<SimOptions> = {}) {
    super();
    this.options = { ...DEFAULT_OPTIONS, ...options, timing: { ...DEFAULT_TIMING, ...(options.timing ?? {}) } };
    this.timing = this.options.timing;
    this.rng = new Rng(this.options.seed);
    this.faults = new Faults(new Rng(this.options.seed ^ 0x5bd1e995));
    this.tabletService = new TabletService(this);
    this.opEngine = new OpEngine(this);
    this.ns = new NameserverService(this);
  }

  get dialect(): Dialect {
    return this.options.dialect;
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
    if (changed) this.emit('auto-failover', value);
  }

  /** `config/auto_failover` as stored: differs from the leader's memory after the start race (takeLeadership). */
  get storedAutoFailover(): boolean {
    return this.storedValue;
  }

  /**
   * ConfSet's write of config/auto_failover: on ZooKeeper it must land there before the
   * nameserver answers (name_server_impl.cc ConfSet: SetNodeValue first, `set zk failed`
   * and nothing changed when it fails). The embedded registry reads the value in memory.
   */
  async writeAutoFailover(value: boolean): Promise<boolean> {
    if (this.election) {
      const leader = this.leaderEndpoint;
      if (leader === undefined || !(await this.election.setAutoFailover(leader, value))) return false;
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
    if (this.election) {
      const leader = this.leaderEndpoint;
      if (leader === undefined || !(await this.election.setTableNode(leader, table.tid, node))) return false;
    }
    await this.zkWritten(node.length);
    // Written: what ZooKeeper holds, with no queued write after it (a node someone removed
    // meanwhile stays removed, as for OpenMLDB).
    this.zkTables.set(table.tid, copy);
    return true;
  }

  /**
   * The nameserver's metadata mutex (mu_, metadata-lock.ts): one holder at a time, across a
   * change and its ZooKeeper write, so no write can carry a copy that misses another's
   * change; reads, op creation and the status poll wait their turn behind the writes.
   */
  readonly metadata = new MetadataLock(() => this.timing);

  withMetadata<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.metadata.hold(fn);
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
    return this.metadata.write(bytes, this.election === undefined);
  }

  // ---- node identity -----------------------------------------------------------------

  /** Create the nodes (not yet running); ports are assigned by the server layer. */
  addTablet(port: number, index: number): TabletNode {
    const address = `127.0.0.1:${port}`;
    const endpoint = this.options.useName ? `tablet-${index}` : address;
    const t: TabletNode = { endpoint, address, port, running: false, startedAt: 0, disk: new Map(), loaded: new Map(), recycle: [] };
    this.tabletNodes.set(endpoint, t);
    return t;
  }

  addNameserver(port: number, index: number): NameserverNode {
    const address = `127.0.0.1:${port}`;
    const endpoint = this.options.useName ? `ns-${index}` : address;
    const n: NameserverNode = { endpoint, address, port, running: false, seq: 0, startedAt: 0 };
    this.nameservers.push(n);
    return n;
  }

  tablet(endpoint: string): TabletNode | undefined {
    return this.tabletNodes.get(endpoint);
  }

  tablets(): TabletNode[] {
    return [...this.tabletNodes.values()];
  }

  realEndpoint(endpoint: string): string | undefined {
    if (!this.options.useName) return undefined;
    return this.tabletNodes.get(endpoint)?.address ?? this.nameservers.find((n) => n.endpoint === endpoint)?.address;
  }

  tableByName(db: string, name: string): TableMeta | undefined {
    return this.tables.find((t) => t.db === db && t.name === name);
  }

  // ---- leadership ----------------------------------------------------------------------

  isLeader(nsEndpoint: string): boolean {
    return this.leaderEndpoint === nsEndpoint;
  }

  leaderEpoch(): number | undefined {
    return this.leaderEndpoint === undefined ? undefined : this.epoch;
  }

  /** The running nameserver first in the election order. */
  private candidate(): NameserverNode | undefined {
    return this.nameservers.filter((n) => n.running).sort((a, b) => a.seq - b.seq)[0];
  }

  private elect(): void {
    const next = this.candidate();
    if (next?.endpoint === this.leaderEndpoint && next !== undefined) return;
    this.leaderEndpoint = undefined;
    if (this.electionTimer) clearTimeout(this.electionTimer);
    if (!next) return;
    // A standby takes a moment to notice and win the election.
    this.electionTimer = setTimeout(() => {
      this.electionTimer = undefined;
      const now = this.candidate();
      if (!now) return;
      this.takeLeadership(now.endpoint, [...this.zkTables.values()]);
    }, this.timing.electionMs);
  }

  /**
   * A nameserver won the election (OnLocked): it loads the metadata from ZooKeeper
   * (name_server_impl.cc RecoverTableInfo): flags as last written, offsets as last
   * persisted, never what the old leader polled since.
   */
  takeLeadership(endpoint: string, zkTables: TableMeta[], storedAutoFailover: boolean = this.storedValue): void {
    this.leaderEndpoint = endpoint;
    this.epoch++;
    this.tables = [...zkTables].sort((a, b) => a.tid - b.tid).map(cloneTable);
    // Recover (from OnLocked) reads config/auto_failover into memory...
    this.storedValue = storedAutoFailover;
    this.autoFailoverValue = storedAutoFailover;
    // ...but NameServerImpl::Init, which started the election (dist_lock_->Lock()), then
    // reads every table itself and only at its end runs
    // `auto_failover_.store(FLAGS_auto_failover)`. A nameserver that wins while its own Init
    // still runs (it started with no leader to wait behind) ends with the flag in memory,
    // whatever ZooKeeper says, until the next confset.
    const n = this.nameservers.find((x) => x.endpoint === endpoint);
    const initLeft = n?.initEndsAt !== undefined ? n.initEndsAt - Date.now() : -1;
    if (initLeft >= 0 && this.options.autoFailoverFlag !== storedAutoFailover) {
      const epoch = this.epoch;
      const flag = this.options.autoFailoverFlag;
      if (this.raceTimer) clearTimeout(this.raceTimer);
      this.raceTimer = setTimeout(() => {
        if (this.leaderEndpoint !== endpoint || this.epoch !== epoch) return;
        this.autoFailoverValue = flag;
        this.emit('changed');
      }, initLeft);
      this.raceTimer.unref();
    }
    this.opEngine.onLeaderChange();
    this.emit('changed');
  }

  /**
   * Every running nameserver's start is long over (a scenario's cluster has been running,
   * configured): none stores its flag from now on, and the leader holds the stored value.
   */
  settleStarts(): void {
    const now = Date.now();
    this.autoFailoverValue = this.storedValue;
    for (const n of this.nameservers) if (n.running && (n.initEndsAt ?? 0) > now) n.initEndsAt = now;
    if (this.raceTimer) clearTimeout(this.raceTimer);
    this.raceTimer = undefined;
  }

  /** The leader lost its election node (OnLostLock): it stops answering as leader. */
  loseLeadership(endpoint: string): void {
    if (this.leaderEndpoint !== endpoint) return;
    this.leaderEndpoint = undefined;
    this.emit('changed');
  }

  tabletViews(): Map<string, TabletView> {
    return (this.leaderEndpoint !== undefined ? this.views.get(this.leaderEndpoint) : undefined) ?? new Map();
  }

  /** As the leader nameserver believes: a stopped tablet whose session lives is still kHealthy (its calls then fail). */
  tabletHealthy(endpoint: string): boolean {
    return this.tabletViews().get(endpoint)?.state === 'kHealthy';
  }

  // ---- lifecycle -----------------------------------------------------------------------

  startNameserver(endpoint: string): void {
    const n = this.nameservers.find((x) => x.endpoint === endpoint);
    if (!n || n.running) return;
    n.running = true;
    n.seq = this.nextSeq++;
    n.startedAt = Date.now();
    n.initEndsAt = n.startedAt + this.timing.nsInitMs;
    // A fresh nameserver process knows only the tablets registered now.
    const view = new Map<string, TabletView>();
    for (const t of this.tablets()) {
      // Registered: running, or stopped with its session not expired yet (its node is there).
      if (t.running || this.sessionRemainingMs(t.endpoint) > 0) view.set(t.endpoint, { endpoint: t.endpoint, state: 'kHealthy', changedAt: Date.now(), offlineProcessed: false });
    }
    this.views.set(n.endpoint, view);
    this.emit('node', { kind: 'nameserver', endpoint: n.endpoint, running: true });
    if (this.election) this.election.nameserverStarted(n);
    else this.elect();
  }

  stopNameserver(endpoint: string): void {
    const n = this.nameservers.find((x) => x.endpoint === endpoint);
    if (!n || !n.running) return;
    n.running = false;
    this.views.delete(n.endpoint);
    this.emit('node', { kind: 'nameserver', endpoint: n.endpoint, running: false });
    if (this.election) {
      this.loseLeadership(n.endpoint);
      this.election.nameserverStopped(n);
    } else if (this.leaderEndpoint === n.endpoint || this.leaderEndpoint === undefined) this.elect();
  }

  /**
   * Tablets stopped whose ZooKeeper session still lives, and when it expires. OpenMLDB's
   * tablet never closes its session: cmd/openmldb.cc StartTablet adds TabletImpl with
   * SERVER_DOESNT_OWN_SERVICE and never deletes it, so ~ZkClient (zookeeper_close) does not
   * run, on a plain kill as on a crash. Its ephemeral node under nodes/ stays until the
   * session expires, and the nameserver keeps listing the tablet kHealthy meanwhile.
   */
  private lingering = new Map<string, { expiresAt: number; timer: NodeJS.Timeout }>();
  /** The end of the leader's Init, storing its flag (takeLeadership). */
  private raceTimer: NodeJS.Timeout | undefined;

  /** How long `endpoint`'s old session still lives (0: none; a start would register). */
  sessionRemainingMs(endpoint: string): number {
    const l = this.lingering.get(endpoint);
    return l ? Math.max(0, l.expiresAt - Date.now()) : 0;
  }

  /** The stopped tablet's session expires: its node goes, and the nameservers list it kOffline. */
  expireSession(endpoint: string): void {
    const l = this.lingering.get(endpoint);
    if (!l) return;
    clearTimeout(l.timer);
    this.lingering.delete(endpoint);
    if (this.tabletNodes.get(endpoint)?.running) return;
    this.markOffline(endpoint);
    this.emit('tablet-session', { endpoint, live: false });
    this.emit('changed');
  }

  /**
   * A tablet process starts. Inside its old session's window it cannot register
   * (ZkClient::Register: zoo_create of the ephemeral node fails with ZNODEEXISTS) and
   * exits (cmd/openmldb.cc StartTablet: "Fail to register zk", exit(1)): it stays down.
   */
  startTablet(endpoint: string): void {
    const t = this.tabletNodes.get(endpoint);
    if (!t || t.running) return;
    const remaining = this.sessionRemainingMs(endpoint);
    if (remaining > 0) throw new TabletRegisterFailed(endpoint, remaining);
    this.expireSession(endpoint); // due, its timer not run yet: it expires first
    t.running = true;
    t.startedAt = Date.now();
    t.loaded.clear(); // a restarted tablet has nothing loaded
    this.emit('node', { kind: 'tablet', endpoint, running: true });
    for (const [nsEndpoint, view] of this.views) {
      const before = view.get(endpoint);
      view.set(endpoint, { endpoint, state: 'kHealthy', changedAt: Date.now(), offlineProcessed: false });
      if (nsEndpoint === this.leaderEndpoint && before?.state === 'kOffline' && this.autoFailover) {
        // OnTabletOnline after a process restart: finish the offline step, then recover.
        if (!before.offlineProcessed) this.processOffline(endpoint);
        this.ns.recoverEndpointInternal(endpoint, false, DEFAULT_CONCURRENCY);
      }
    }
    this.emit('changed');
  }

  stopTablet(endpoint: string): void {
    const t = this.tabletNodes.get(endpoint);
    if (!t || !t.running) return;
    t.running = false;
    t.loaded.clear();
    this.tabletService.onStop(endpoint);
    this.emit('node', { kind: 'tablet', endpoint, running: false });
    // Its session lives on for zk_session_timeout (0: it expires now, the same way).
    const ms = this.timing.zkSessionTimeoutMs;
    const older = this.lingering.get(endpoint);
    if (older) clearTimeout(older.timer);
    const timer = setTimeout(() => this.expireSession(endpoint), ms);
    timer.unref();
    this.lingering.set(endpoint, { expiresAt: Date.now() + ms, timer });
    if (ms <= 0) this.expireSession(endpoint);
    this.emit('changed');
  }

  /** The nameservers' watch on nodes/ fires: the tablet is kOffline from now on. */
  private markOffline(endpoint: string): void {
    for (const view of this.views.values()) {
      const v = view.get(endpoint);
      if (v) Object.assign(v, { state: 'kOffline', changedAt: Date.now(), offlineSince: Date.now(), offlineProcessed: false });
    }
  }

  /** Everything stops; tablets start first, then nameservers (the documented order). */
  fullRestart(powerLoss = false): void {
    this.stopAll(powerLoss);
    this.startAll();
  }

  /**
   * Every process stops. With `powerLoss` the machines lost power too: each binlog keeps
   * only what was fsynced (SchedSyncDisk runs every binlog_sync_to_disk_interval).
   */
  stopAll(powerLoss = false): void {
    for (const n of this.nameservers) this.stopNameserver(n.endpoint);
    for (const t of this.tablets()) this.stopTablet(t.endpoint);
    if (powerLoss) for (const t of this.tablets()) for (const d of t.disk.values()) losePower(d, this.timing.snapshotFlushMs);
  }

  /** Tablets start, then nameservers; unfinished ops resume from ZooKeeper, finished ones are forgotten. */
  startAll(): void {
    this.opEngine.onLeaderChange();
    // A whole cluster comes back after its old sessions expired (a restart inside the
    // window would leave the tablets down; see startTablet).
    for (const t of this.tablets()) this.expireSession(t.endpoint);
    for (const t of this.tablets()) this.startTablet(t.endpoint);
    for (const n of this.nameservers) this.startNameserver(n.endpoint);
  }

  private processOffline(endpoint: string): void {
    const v = this.tabletViews().get(endpoint);
    if (v) v.offlineProcessed = true;
    this.ns.updateEndpointTableAlive(endpoint, false);
    this.ns.offlineEndpointInternal(endpoint, DEFAULT_CONCURRENCY);
  }

  // ---- clocks --------------------------------------------------------------------------

  startClocks(): void {
    // The first status poll at once (the nameserver's UpdateTableStatus runs from its start):
    // a reader right after the start sees polled offsets, whichever of its read and the first
    // queued poll takes the metadata lock first.
    this.pollTick();
    this.timers.push(setInterval(() => this.heartbeatTick(), 100));
    this.timers.push(setInterval(() => this.pollTickLocked(), this.timing.statusPollMs));
    this.timers.push(setInterval(() => this.tabletService.replicate(this.tablets()), 50));
    this.timers.push(setInterval(() => this.syncBinlogs(), this.timing.binlogSyncMs));
    this.timers.push(setInterval(() => this.tabletService.deleteBinlogs(this.tablets()), this.timing.binlogDeleteMs));
  }

  /** SchedSyncDisk: running tablets fsync the binlogs of what they have loaded. */
  syncBinlogs(): void {
    for (const t of this.tablets()) {
      if (!t.running) continue;
      for (const p of t.loaded.values()) {
        const d = t.disk.get(partitionKey(p.tid, p.pid));
        if (d) d.syncedOffset = d.log.end;
      }
    }
  }

  stopClocks(): void {
    this.traffic?.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const l of this.lingering.values()) clearTimeout(l.timer);
    if (this.raceTimer) clearTimeout(this.raceTimer);
    if (this.electionTimer) clearTimeout(this.electionTimer);
  }

  /** OnTabletOffline: after the heartbeat timeout, with auto_failover on, move leaders away. */
  private heartbeatTick(): void {
    if (this.leaderEndpoint === undefined) return;
    const now = Date.now();
    for (const v of this.tabletViews().values()) {
      if (v.state !== 'kOffline' || v.offlineSince === undefined || v.offlineProcessed) continue;
      if (now - v.offlineSince < this.timing.heartbeatTimeoutMs) continue;
      if (this.autoFailover) {
        this.processOffline(v.endpoint);
      } else {
        v.offlineSince = undefined; // checked once, with auto_failover off: nothing happens
      }
    }
  }

  /**
   * UpdateTableStatus (name_server_impl.cc UpdateTableStatusFun): the leader asks every
   * healthy tablet for everything it has loaded, loading partitions included (they report
   * offset 0), and sets the replicas' offsets in MEMORY only; ZooKeeper sees them only
   * when the table's node is next rewritten for another reason.
   */
  private pollQueued = false;

  /** The status poll takes the metadata lock (UpdateTableStatus locks mu_); one waits at a time. */
  private pollTickLocked(): void {
    if (this.pollQueued) return;
    this.pollQueued = true;
    void this.withMetadata(() => {
      this.pollQueued = false;
      this.pollTick();
    });
  }

  pollTick(): void {
    if (this.leaderEndpoint === undefined) return;
    const reported = new Map<string, { offset: number; recordCnt: number; bytes: number; disk: number }>();
    for (const [endpoint, view] of this.tabletViews()) {
      const t = this.tabletNodes.get(endpoint);
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
    for (const table of this.tables) {
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

  // ---- hosts' callbacks ----------------------------------------------------------------

  loadFault(endpoint: string, tid: number, pid: number): LoadFault | undefined {
    return this.loadFaults.get(`${endpoint}|${partitionKey(tid, pid)}`);
  }

  /**
   * A leader's AppendEntries to this follower fails (`ctl fail --method AppendEntries
   * --endpoint FOLLOWER`): the network between them, or a busy follower. Only faults naming
   * the method hit it: replication is not one of the calls the tool makes.
   */
  appendBlocked(follower: string): boolean {
    return this.faults.matchRpc(follower, 'AppendEntries', true) !== undefined;
  }

  takeOpFault(op: Op, task: TaskSpec): string | undefined {
    return this.faults.matchOp(op, task);
  }

  persist(): void {
    this.emit('persist');
  }

  /** UpdateZkTableNode: the table's node now holds the in-memory metadata, polled offsets included. */
  persistTable(table: TableMeta): void {
    this.zkTables.set(table.tid, cloneTable(table));
    this.emit('persist-table', table.tid);
  }

  /** SelectLeader's terms: FollowOfNoOne gets `term_ + 1`, the new leader `term_ + 2`. */
  takeTerms(): number {
    const cur = this.nsTerm + 1;
    this.nsTerm += 2;
    return cur;
  }

  nextEpoch(): number {
    return ++this.epochs;
  }

  changed(): void {
    this.emit('changed');
  }

  // ---- registry (ZooKeeper stand-in) ----------------------------------------------------

  zkChildren(path: string): string[] | undefined {
    const root = this.options.rootPath.replace(/\/+$/, '');
    if (path === `${root}/leader`) {
      return this.nameservers.filter((n) => n.running).sort((a, b) => a.seq - b.seq).map((n) => `ns_${pad10(n.seq)}`);
    }
    if (path === `${root}/nodes`) return this.tablets().filter((t) => t.running || this.sessionRemainingMs(t.endpoint) > 0).map((t) => t.endpoint).sort();
    if (path === `${root}/map/names` && this.options.useName) {
      return [...this.nameservers.map((n) => n.endpoint), ...this.tablets().map((t) => t.endpoint)].sort();
    }
    if (path === root) return ['leader', 'nodes', 'config', 'table', 'op', 'db', ...(this.options.useName ? ['map'] : [])];
    if (path === `${root}/config`) return ['auto_failover'];
    if (path === `${root}/db`) return [...this.databases].sort();
    return undefined;
  }

  zkGet(path: string): string | undefined {
    const root = this.options.rootPath.replace(/\/+$/, '');
    const leaderChild = path.match(/^(.*)\/leader\/ns_(\d+)$/);
    if (leaderChild && leaderChild[1] === root) {
      const seq = Number(leaderChild[2]);
      return this.nameservers.find((n) => n.running && n.seq === seq)?.endpoint;
    }
    if (path.startsWith(`${root}/nodes/`)) {
      const t = this.tabletNodes.get(path.slice(`${root}/nodes/`.length));
      return t && (t.running || this.sessionRemainingMs(t.endpoint) > 0) ? `startup_${t.endpoint}` : undefined;
    }
    if (path.startsWith(`${root}/map/names/`) && this.options.useName) {
      return this.realEndpoint(path.slice(`${root}/map/names/`.length));
    }
    if (path === `${root}/config/auto_failover`) return String(this.storedAutoFailover);
    return undefined;
  }

  // ---- data ----------------------------------------------------------------------------

  /**
   * Client writes: routed by the metadata (the alive leader), appended by that tablet if it
   * serves the partition as leader; followers catch up on the replication clock.
   */
  write(db: string, name: string, entries: number, pids?: number[]): number {
    const table = this.tableByName(db, name);
    if (!table) return 0;
    let written = 0;
    for (const part of table.partitions) {
      if (pids !== undefined && !pids.includes(part.pid)) continue;
      const leader = part.replicas.find((r) => r.isLeader && r.isAlive);
      const t = leader ? this.tabletNodes.get(leader.endpoint) : undefined;
      const p = t?.running ? t.loaded.get(partitionKey(table.tid, part.pid)) : undefined;
      if (!t || !p || p.mode !== 'kTableLeader' || p.state !== 'kTableNormal') continue;
      this.tabletService.writeOnLeader(t, p, entries);
      written += entries;
    }
    return written;
  }

  /** Mark the start of an incident: the ledger's baseline and auto_failover's value. */
  beginIncident(autoFailoverBefore = this.autoFailover): Incident {
    const ledger: LedgerEntry[] = [];
    for (const table of this.tables) {
      // The metadata as a restarted nameserver finds it: the table's node in ZooKeeper.
      const meta = this.zkTables.get(table.tid) ?? table;
      for (const part of table.partitions) {
        const pmeta = meta.partitions.find((p) => p.pid === part.pid) ?? part;
        let best = 0;
        let bestEndpoint = '';
        const logs: Log[] = [];
        const alive: Log[] = [];
        const dead: Log[] = [];
        for (const r of part.replicas) {
          const disk = this.tabletNodes.get(r.endpoint)?.disk.get(partitionKey(table.tid, part.pid));
          if (!disk) continue;
          logs.push(disk.log);
          const isAlive = pmeta.replicas.find((x) => x.endpoint === r.endpoint)?.isAlive ?? r.isAlive;
          (isAlive ? alive : dead).push(disk.log);
          if (disk.log.end >= best) {
            best = disk.log.end;
            bestEndpoint = r.endpoint;
          }
        }
        // An entry an alive replica also holds is not orphaned: the cluster kept serving it.
        const orphaned = minus(distinct(dead.flatMap((l) => overtaken(l, pmeta.termOffset))), union(alive));
        ledger.push({ db: table.db, name: table.name, tid: table.tid, pid: part.pid, bestBefore: best, bestEndpoint, entries: union(logs), orphaned });
      }
    }
    this.incident = { startedAt: Date.now(), autoFailoverBefore, opIdBaseline: this.opEngine.nextOpId - 1, ledger, bound: criticalPath(this) };
    return this.incident;
  }

  recordMutation(rec: Omit<MutationRecord, 'seq' | 'at'>): void {
    this.mutations.push({ seq: this.mutations.length + 1, at: new Date().toISOString(), ...rec });
  }

  matchFault(endpoint: string, method: string): RpcFault | undefined {
    return this.faults.matchRpc(endpoint, method);
  }
}
