// The cluster's processes: nameservers and tablets, their ZooKeeper sessions, each
// nameserver's view of the tablets, and the election of the leader nameserver. A node's
// start or stop sets off what OpenMLDB's watches do (OnTabletOffline, OnTabletOnline,
// OnLocked, OnLostLock); what those do to tables lives in nameserver.ts and ops.ts.
import type { ElectionHost, NameserverNode, SimTiming, TableMeta, TabletNode, TabletView } from './model.js';
import type { NameserverMetadata } from './ns-metadata.js';
import { losePower } from './tablet.js';

/** The options the nodes follow (SimOptions'). */
export interface NodeOptions {
  /** Endpoints are server names (use_name=true), not `ip:port`. */
  useName: boolean;
  timing: SimTiming;
  /** The nameservers' FLAGS_auto_failover, applied at the end of NameServerImpl::Init. */
  autoFailoverFlag: boolean;
}

/** What a node's start or stop sets off in the rest of the cluster. */
export interface NodeEffects {
  emit(event: string, ...args: unknown[]): boolean;
  /** A new leader, or a whole restart: unfinished ops resume from ZooKeeper (OpEngine.onLeaderChange). */
  leaderChanged(): void;
  /** A tablet process stopped: its loads end with it (TabletService.onStop). */
  tabletStopped(endpoint: string): void;
  /** OnTabletOffline's steps for the endpoint: its replicas marked not alive, its leaders moved away. */
  offline(endpoint: string): void;
  /** OnTabletOnline after a process restart: the endpoint's replicas recovered. */
  recover(endpoint: string): void;
}

/** A tablet started inside its old ZooKeeper session's window: it could not register and exited. */
export class TabletRegisterFailed extends Error {
  constructor(
    readonly endpoint: string,
    readonly remainingMs: number,
  ) {
    super(`tablet ${endpoint} exited: Fail to register zk (its previous session lives ${(remainingMs / 1000).toFixed(1)} s more, until zk_session_timeout expires it)`);
  }
}

export class SimNodes {
  /**
   * With the simulator on ZooKeeper, the election is ZooKeeper's (zk-coordinator.ts): it
   * is told of nameservers starting and stopping and calls takeLeadership/loseLeadership.
   * Without, elect() stands in for it in process.
   */
  election: ElectionHost | undefined;
  nameservers: NameserverNode[] = [];
  tabletNodes = new Map<string, TabletNode>();
  /** Each running nameserver's view of the tablets, keyed by nameserver endpoint. */
  views = new Map<string, Map<string, TabletView>>();
  leaderEndpoint: string | undefined;
  private epoch = 0;
  private electionTimer: NodeJS.Timeout | undefined;
  private nextSeq = 1;
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

  constructor(
    private readonly options: NodeOptions,
    private readonly meta: NameserverMetadata,
    private readonly effects: NodeEffects,
  ) {}

  private get timing(): SimTiming {
    return this.options.timing;
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
      this.takeLeadership(now.endpoint, [...this.meta.zkTables.values()]);
    }, this.timing.electionMs);
  }

  /**
   * A nameserver won the election (OnLocked): it loads the metadata from ZooKeeper
   * (name_server_impl.cc RecoverTableInfo): flags as last written, offsets as last
   * persisted, never what the old leader polled since.
   */
  takeLeadership(endpoint: string, zkTables: TableMeta[], storedAutoFailover: boolean = this.meta.storedAutoFailover): void {
    this.leaderEndpoint = endpoint;
    this.epoch++;
    // Recover (from OnLocked) reads config/auto_failover into memory...
    this.meta.load(zkTables, storedAutoFailover);
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
        this.meta.holdAutoFailover(flag);
        this.effects.emit('changed');
      }, initLeft);
      this.raceTimer.unref();
    }
    this.effects.leaderChanged();
    this.effects.emit('changed');
  }

  /**
   * Every running nameserver's start is long over (a scenario's cluster has been running,
   * configured): none stores its flag from now on, and the leader holds the stored value.
   */
  settleStarts(): void {
    const now = Date.now();
    this.meta.holdAutoFailover(this.meta.storedAutoFailover);
    for (const n of this.nameservers) if (n.running && (n.initEndsAt ?? 0) > now) n.initEndsAt = now;
    if (this.raceTimer) clearTimeout(this.raceTimer);
    this.raceTimer = undefined;
  }

  /** The leader lost its election node (OnLostLock): it stops answering as leader. */
  loseLeadership(endpoint: string): void {
    if (this.leaderEndpoint !== endpoint) return;
    this.leaderEndpoint = undefined;
    this.effects.emit('changed');
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
    this.effects.emit('node', { kind: 'nameserver', endpoint: n.endpoint, running: true });
    if (this.election) this.election.nameserverStarted(n);
    else this.elect();
  }

  stopNameserver(endpoint: string): void {
    const n = this.nameservers.find((x) => x.endpoint === endpoint);
    if (!n || !n.running) return;
    n.running = false;
    this.views.delete(n.endpoint);
    this.effects.emit('node', { kind: 'nameserver', endpoint: n.endpoint, running: false });
    if (this.election) {
      this.loseLeadership(n.endpoint);
      this.election.nameserverStopped(n);
    } else if (this.leaderEndpoint === n.endpoint || this.leaderEndpoint === undefined) this.elect();
  }

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
    this.effects.emit('tablet-session', { endpoint, live: false });
    this.effects.emit('changed');
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
    this.effects.emit('node', { kind: 'tablet', endpoint, running: true });
    for (const [nsEndpoint, view] of this.views) {
      const before = view.get(endpoint);
      view.set(endpoint, { endpoint, state: 'kHealthy', changedAt: Date.now(), offlineProcessed: false });
      if (nsEndpoint === this.leaderEndpoint && before?.state === 'kOffline' && this.meta.autoFailover) {
        // OnTabletOnline after a process restart: finish the offline step, then recover.
        if (!before.offlineProcessed) this.processOffline(endpoint);
        this.effects.recover(endpoint);
      }
    }
    this.effects.emit('changed');
  }

  stopTablet(endpoint: string): void {
    const t = this.tabletNodes.get(endpoint);
    if (!t || !t.running) return;
    t.running = false;
    t.loaded.clear();
    this.effects.tabletStopped(endpoint);
    this.effects.emit('node', { kind: 'tablet', endpoint, running: false });
    // Its session lives on for zk_session_timeout (0: it expires now, the same way).
    const ms = this.timing.zkSessionTimeoutMs;
    const older = this.lingering.get(endpoint);
    if (older) clearTimeout(older.timer);
    const timer = setTimeout(() => this.expireSession(endpoint), ms);
    timer.unref();
    this.lingering.set(endpoint, { expiresAt: Date.now() + ms, timer });
    if (ms <= 0) this.expireSession(endpoint);
    this.effects.emit('changed');
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
    this.effects.leaderChanged();
    // A whole cluster comes back after its old sessions expired (a restart inside the
    // window would leave the tablets down; see startTablet).
    for (const t of this.tablets()) this.expireSession(t.endpoint);
    for (const t of this.tablets()) this.startTablet(t.endpoint);
    for (const n of this.nameservers) this.startNameserver(n.endpoint);
  }

  private processOffline(endpoint: string): void {
    const v = this.tabletViews().get(endpoint);
    if (v) v.offlineProcessed = true;
    this.effects.offline(endpoint);
  }

  /** OnTabletOffline: after the heartbeat timeout, with auto_failover on, move leaders away. */
  heartbeatTick(): void {
    if (this.leaderEndpoint === undefined) return;
    const now = Date.now();
    for (const v of this.tabletViews().values()) {
      if (v.state !== 'kOffline' || v.offlineSince === undefined || v.offlineProcessed) continue;
      if (now - v.offlineSince < this.timing.heartbeatTimeoutMs) continue;
      if (this.meta.autoFailover) {
        this.processOffline(v.endpoint);
      } else {
        v.offlineSince = undefined; // checked once, with auto_failover off: nothing happens
      }
    }
  }

  /** The clocks stop: no session expires, no election or Init ends from now on. */
  stopTimers(): void {
    for (const l of this.lingering.values()) clearTimeout(l.timer);
    if (this.raceTimer) clearTimeout(this.raceTimer);
    if (this.electionTimer) clearTimeout(this.electionTimer);
  }
}
