// The simulator on a real ZooKeeper (`openmldb-sim up --zookeeper`): what OpenMLDB keeps in
// ZooKeeper is kept there, in OpenMLDB's layout under the root path (name_server_impl.cc
// Init and the zk_path_ members; reference section 5.1):
//
//   leader/lock_request<seq>   EPHEMERAL_SEQUENTIAL, one per running nameserver, value = its
//                              endpoint, each in that nameserver's own session (DistLock);
//                              the smallest leads
//   nodes/<endpoint>           EPHEMERAL, one per running tablet, in the tablet's own session,
//                              value startup_<endpoint>
//   map/names/<name>           real endpoint (use_name)
//   config/auto_failover       "true" | "false"
//   table/db_table_data/<tid>  table metadata; table/term; table/table_index
//   op/op_data/<op_id>         unfinished ops; op/op_index
//   db/<name>
//
// Real OpenMLDB stores serialized protobuf (TableInfo, OPInfo) in the table and op nodes;
// the simulator stores the same information as JSON (nothing but the simulator reads it).
// The nameserver that wins the election reads the tables and auto_failover back from
// ZooKeeper before it serves. Tablets' data stay in the simulator's memory.
import type { SimCluster } from './cluster.js';
import type { ElectionHost, NameserverNode, TableMeta } from './model.js';
import { ZkError, ZkSession, zkJoin } from '../zk/session.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Marks a root path as the simulator's own: only such a root is wiped at start. */
const MARKER = 'openmldb-sim';
const SESSION_MS = 4000;
/** How often a nameserver checks its ZooKeeper connection (FLAGS_zk_keep_alive_check_interval, shortened). */
const KEEP_ALIVE_CHECK_MS = 1000;
/**
 * A ZooKeeper request unanswered this long gives its session up (node-zookeeper-client keeps
 * a request queued through reconnects with no end; in CI a nameserver never re-joined the
 * election after an outage): the owner opens another, as after an expiry. A nameserver so
 * cut off gives up leadership first, as OpenMLDB's does on a dead connection
 * (name_server_impl.cc CheckZkClient -> OnLostLock, then Reconnect): never kinder.
 */
const STUCK_CALL_MS = 3 * SESSION_MS;

export class ZkRootTaken extends Error {
  override readonly name = 'ZkRootTaken';
}

/** A session that is re-opened whenever it expires, until closed. */
class LiveSession {
  session: ZkSession | undefined;
  private closing = false;

  constructor(
    readonly hosts: string,
    private readonly onExpired: () => void = () => undefined,
    private readonly log: (line: string) => void = () => undefined,
    private readonly name = 'session',
  ) {}

  private connecting: Promise<ZkSession> | undefined;

  /** The live session, or a new one; callers at the same time share one connect (one session). */
  get(): Promise<ZkSession> {
    if (this.session && !this.session.isClosed && !this.closing) return Promise.resolve(this.session);
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<ZkSession> {
    for (let failures = 0; ; failures++) {
      if (this.closing) throw new ZkError('SESSION_EXPIRED', 'connect', this.hosts, 'closed');
      if (this.session && !this.session.isClosed) return this.session;
      if (failures > 0 && failures % 10 === 0) this.log(`${this.name}: still no ZooKeeper session after ${failures} tries`);
      try {
        const s = await ZkSession.connect(this.hosts, { sessionTimeoutMs: SESSION_MS, connectTimeoutMs: 2000, requestTimeoutMs: STUCK_CALL_MS });
        if (this.closing) {
          await s.close();
          continue;
        }
        s.on('expired', () => {
          if (this.session === s) this.session = undefined;
          this.onExpired();
        });
        this.session = s;
        return s;
      } catch {
        await sleep(200);
      }
    }
  }

  /** Run fn, retrying through connection losses and expiries, until it succeeds or we close. */
  async run<T>(fn: (s: ZkSession) => Promise<T>): Promise<T> {
    for (let other = 0; ; ) {
      const s = await this.get();
      try {
        return await fn(s);
      } catch (err) {
        if (!(err instanceof ZkError) || this.closing) throw err;
        // Connection trouble is waited out; anything else is tried a few times only.
        if (err.code !== 'CONNECTION_LOSS' && err.code !== 'SESSION_EXPIRED' && (err.code !== 'OTHER' || ++other > 5)) throw err;
        await sleep(200);
      }
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }
}

/** One nameserver's session and election node (OpenMLDB's DistLock). */
class NameserverSeat {
  private live: LiveSession | undefined;
  node: string | undefined;
  private takeover: NodeJS.Timeout | undefined;
  /** A takeover is scheduled or under way. */
  private taking = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly zk: SimZooKeeper,
    private readonly n: NameserverNode,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    const live = new LiveSession(this.zk.hosts, () => this.lostSession('its ZooKeeper session expired (or was given up: a request unanswered)'), this.zk.log, `nameserver ${this.n.endpoint}`);
    this.live = live;
    const path = await live.run((s) => s.create(zkJoin(this.zk.root, 'leader', 'lock_request'), this.n.endpoint, 'ephemeral-sequential'));
    if (this.stopped) return;
    this.node = path.slice(path.lastIndexOf('/') + 1);
    this.zk.log(`nameserver ${this.n.endpoint}: in the election as ${this.node}`);
    this.n.seq = Number(this.node.replace(/^\D+/, ''));
    this.keepAlive = setInterval(() => {
      // CheckZkClient: a nameserver cut off from ZooKeeper gives up leadership and reconnects.
      if (live.session && !live.session.connected && !live.session.isClosed) this.lostSession('it lost its ZooKeeper connection');
      else void this.watch(false);
    }, KEEP_ALIVE_CHECK_MS);
    await this.watch();
  }

  private lostSession(why: string): void {
    if (this.stopped) return;
    this.zk.log(`nameserver ${this.n.endpoint}: ${why}; gives up leadership and re-joins the election`);
    this.zk.cluster.loseLeadership(this.n.endpoint);
    void this.restart();
  }

  private async restart(): Promise<void> {
    await this.stop();
    if (!this.n.running) return;
    await this.start().catch((err: unknown) => this.zk.log(`nameserver ${this.n.endpoint}: re-joining the election failed: ${String(err)}`));
  }

  /**
   * Watch the election's children, and poll them too (a watch is lost with a session, and a
   * node of a session that died in an outage lingers until the server expires it): the
   * smallest node's owner takes over after a moment; a leader whose node is no longer the
   * smallest steps down.
   */
  private async watch(rearm = true): Promise<void> {
    const live = this.live;
    if (!live || this.stopped) return;
    let children: string[];
    try {
      const s = await live.get();
      const path = zkJoin(this.zk.root, 'leader');
      children = rearm ? await s.children(path, () => void this.watch()) : await s.children(path);
    } catch {
      if (!this.stopped && rearm) setTimeout(() => void this.watch(), 200);
      return;
    }
    if (this.stopped) return;
    const first = [...children].sort()[0];
    const leading = this.zk.cluster.isLeader(this.n.endpoint);
    if (first !== this.node && leading) {
      this.zk.log(`nameserver ${this.n.endpoint}: its election node is no longer the first; steps down`);
      this.zk.cluster.loseLeadership(this.n.endpoint);
    } else if (first === this.node && !leading && !this.takeover && !this.taking) {
      this.taking = true;
      this.takeover = setTimeout(() => {
        this.takeover = undefined;
        if (live !== this.live) {
          this.taking = false;
          return;
        }
        this.zk
          .takeOver(this.n, live, () => !this.stopped && this.node === first)
          .catch((err: unknown) => this.zk.log(`nameserver ${this.n.endpoint}: taking over failed (${err instanceof Error ? err.message : String(err)}); it tries again`))
          .finally(() => (this.taking = false));
      }, this.zk.cluster.timing.electionMs);
    }
  }

  /**
   * ZkClient::SetNodeValue in this nameserver's own session (a synchronous zoo_set): it
   * fails at once without a connection, and fails on a missing node.
   */
  async setNodeValue(path: string, value: string): Promise<boolean> {
    const s = this.live?.session;
    if (this.stopped || !s || s.isClosed || !s.connected) return false;
    try {
      await s.set(path, value);
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.takeover) clearTimeout(this.takeover);
    this.taking = false;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.takeover = undefined;
    this.keepAlive = undefined;
    this.node = undefined;
    const live = this.live;
    this.live = undefined;
    await live?.close();
  }
}

export class SimZooKeeper implements ElectionHost {
  readonly root: string;
  /** Persistent metadata is written through one session, in order. */
  private readonly store: LiveSession;
  private queue: Promise<void> = Promise.resolve();
  private readonly seats = new Map<string, NameserverSeat>();
  private readonly seatChains = new Map<string, Promise<void>>();
  private readonly tablets = new Map<string, LiveSession>();
  private readonly tabletChains = new Map<string, Promise<void>>();
  private readonly opNodes = new Set<number>();
  private closed = false;

  constructor(
    readonly cluster: SimCluster,
    readonly hosts: string,
    readonly log: (line: string) => void = () => undefined,
  ) {
    this.root = cluster.options.rootPath.replace(/\/+$/, '');
    this.store = new LiveSession(hosts, () => log('metadata session expired; opening another'), log, 'metadata store');
  }

  private path(...parts: string[]): string {
    return zkJoin(this.root, ...parts);
  }

  /**
   * Lay out the root path (wiping an earlier simulator's), write the current state, and
   * take over the election and the registrations. Call before nameservers start.
   */
  async attach(): Promise<void> {
    const s = await ZkSession.connect(this.hosts, { sessionTimeoutMs: SESSION_MS, connectTimeoutMs: 10000 }).catch((err: unknown) => {
      throw new Error(`cannot reach ZooKeeper at ${this.hosts}: ${err instanceof Error ? err.message : String(err)}`);
    });
    try {
      if (await s.exists(this.root)) {
        if (!(await s.exists(this.path(MARKER)))) {
          throw new ZkRootTaken(`the root path ${this.root} already exists in ZooKeeper at ${this.hosts} and is not a simulator's: choose another --zk-root-path`);
        }
        await removeTree(s, this.root);
      }
      await s.mkdirp(this.root);
      await s.create(this.path(MARKER), 'a simulated OpenMLDB cluster (openmldb-sim); removed and rewritten at each start');
      for (const dir of ['leader', 'nodes', 'config', 'table', 'table/db_table_data', 'table/table_data', 'op', 'op/op_data', 'db']) await s.create(this.path(dir), '');
      await s.create(this.path('config', 'auto_failover'), String(this.cluster.storedAutoFailover));
      await s.create(this.path('table', 'term'), String(this.cluster.nsTerm));
      await s.create(this.path('table', 'table_index'), String(this.cluster.nextTid));
      await s.create(this.path('op', 'op_index'), String(this.cluster.opEngine.nextOpId - 1));
      for (const db of this.cluster.databases) await s.create(this.path('db', db), '');
      for (const t of this.cluster.zkTables.values()) await s.create(this.path('table', 'db_table_data', String(t.tid)), JSON.stringify(t));
      if (this.cluster.options.useName) {
        await s.mkdirp(this.path('map', 'names'));
        for (const n of this.cluster.nameservers) await s.create(this.path('map', 'names', n.endpoint), n.address);
        for (const t of this.cluster.tablets()) await s.create(this.path('map', 'names', t.endpoint), t.address);
      }
    } finally {
      await s.close();
    }
    const c = this.cluster;
    c.on('persist-table', (tid: number) => this.write(() => this.putTable(tid)));
    // The changes ConfSet did not write itself (setAutoFailover; it does not announce its
    // own): `ctl autofailover`, a scenario's setting. A set, not a put: a node someone
    // removed stays removed, as it would for OpenMLDB.
    c.on('auto-failover', () => this.write((z) => z.set(this.path('config', 'auto_failover'), String(c.storedAutoFailover))));
    c.on('persist', () => this.write((z) => this.putOpsAndTerm(z)));
    // A stopped tablet's node stays until its session expires (SimNodes.expireSession).
    c.on('node', (e: { kind: string; endpoint: string; running: boolean }) => {
      if (e.kind === 'tablet' && e.running) this.tabletChanged(e.endpoint, true);
    });
    c.on('tablet-session', (e: { endpoint: string; live: boolean }) => {
      if (!e.live) this.tabletChanged(e.endpoint, false);
    });
    for (const t of c.tablets()) if (t.running) this.tabletChanged(t.endpoint, true);
    c.election = this;
  }

  /** Queue a metadata write; it retries through ZooKeeper outages, in order. */
  private write(fn: (s: ZkSession) => Promise<unknown>): void {
    this.queue = this.queue
      .then(() => (this.closed ? undefined : this.store.run(fn)))
      .then(
        () => undefined,
        (err: unknown) => this.log(`ZooKeeper write failed: ${err instanceof Error ? err.message : String(err)}`),
      );
  }

  /** Every metadata write queued so far has reached ZooKeeper. */
  flush(): Promise<void> {
    return this.queue;
  }

  private async putTable(tid: number): Promise<void> {
    const t = this.cluster.zkTables.get(tid);
    const s = await this.store.get();
    if (t) await s.put(this.path('table', 'db_table_data', String(tid)), JSON.stringify(t));
    else await s.remove(this.path('table', 'db_table_data', String(tid)));
  }

  private async putOpsAndTerm(s: ZkSession): Promise<void> {
    await s.put(this.path('table', 'term'), String(this.cluster.nsTerm));
    await s.put(this.path('op', 'op_index'), String(this.cluster.opEngine.nextOpId - 1));
    // Unfinished ops live in op_data until they end (done ops are dropped from ZooKeeper).
    const live = new Set<number>();
    for (const op of this.cluster.opEngine.ops) {
      if (op.status === 'kDone' || op.status === 'kCanceled') continue;
      live.add(op.opId);
      await s.put(this.path('op', 'op_data', String(op.opId)), JSON.stringify(op));
    }
    for (const id of [...this.opNodes]) {
      if (live.has(id)) continue;
      await s.remove(this.path('op', 'op_data', String(id)));
      this.opNodes.delete(id);
    }
    for (const id of live) this.opNodes.add(id);
  }

  /** OnLocked: read what ZooKeeper holds, then serve as leader. */
  async takeOver(n: NameserverNode, own: LiveSession, stillFirst: () => boolean): Promise<void> {
    const flushed = await Promise.race([this.flush().then(() => true), sleep(10000).then(() => false)]);
    if (!flushed) this.log(`nameserver ${n.endpoint}: metadata writes still pending after 10 s; taking over with what ZooKeeper holds`);
    this.log(`nameserver ${n.endpoint}: its election node is the first; reading the metadata`);
    // Read through the nameserver's own session, as OpenMLDB's RecoverTableInfo does.
    const { tables, autoFailover } = await own.run(async (s) => ({ tables: await this.readTables(s), autoFailover: await s.get(this.path('config', 'auto_failover')) }));
    if (!stillFirst() || !n.running || this.closed) return;
    this.cluster.takeLeadership(n.endpoint, tables, autoFailover === undefined ? undefined : autoFailover === 'true');
    this.log(`nameserver ${n.endpoint} won the election in ZooKeeper (${tables.length} tables read back)`);
  }

  private async readTables(s: ZkSession): Promise<TableMeta[]> {
    const dir = this.path('table', 'db_table_data');
    const tables: TableMeta[] = [];
    for (const tid of await s.children(dir)) {
      const raw = await s.get(`${dir}/${tid}`);
      if (raw) tables.push(JSON.parse(raw) as TableMeta);
    }
    return tables;
  }

  setAutoFailover(leader: string, value: boolean): Promise<boolean> {
    return this.seats.get(leader)?.setNodeValue(this.path('config', 'auto_failover'), String(value)) ?? Promise.resolve(false);
  }

  /** A table's node, written through the leader's session (a set: a node someone removed stays removed). */
  setTableNode(leader: string, tid: number, value: string): Promise<boolean> {
    return this.seats.get(leader)?.setNodeValue(this.path('table', 'db_table_data', String(tid)), value) ?? Promise.resolve(false);
  }

  nameserverStarted(n: NameserverNode): void {
    this.chainSeat(n.endpoint, async () => {
      const seat = new NameserverSeat(this, n);
      this.seats.set(n.endpoint, seat);
      await seat.start();
    });
  }

  nameserverStopped(n: NameserverNode): void {
    this.chainSeat(n.endpoint, async () => {
      const seat = this.seats.get(n.endpoint);
      this.seats.delete(n.endpoint);
      await seat?.stop();
    });
  }

  private chainSeat(endpoint: string, fn: () => Promise<void>): void {
    const next = (this.seatChains.get(endpoint) ?? Promise.resolve()).then(fn).catch((err: unknown) => this.log(`nameserver ${endpoint}: ${String(err)}`));
    this.seatChains.set(endpoint, next);
  }

  /** A tablet registers an ephemeral node in its own session (ZkClient::Register); the session's expiry removes it. */
  private tabletChanged(endpoint: string, running: boolean): void {
    const next = (this.tabletChains.get(endpoint) ?? Promise.resolve())
      .then(async () => {
        const old = this.tablets.get(endpoint);
        this.tablets.delete(endpoint);
        await old?.close();
        if (!running || this.closed) return;
        const register = async (live: LiveSession) => {
          await live.run((s) => s.create(this.path('nodes', endpoint), `startup_${endpoint}`, 'ephemeral')).catch((err: unknown) => {
            if (!(err instanceof ZkError && err.code === 'NODE_EXISTS')) throw err;
          });
        };
        // After an expiry the tablet registers again (as the real one does on reconnect).
        const live: LiveSession = new LiveSession(this.hosts, () => {
          if (this.tablets.get(endpoint) === live) void register(live).catch(() => undefined);
        });
        this.tablets.set(endpoint, live);
        await register(live);
      })
      .catch((err: unknown) => this.log(`tablet ${endpoint}: ${String(err)}`));
    this.tabletChains.set(endpoint, next);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.seats.values()].map((s) => s.stop()));
    await Promise.all([...this.tablets.values()].map((t) => t.close()));
    await this.store.close();
  }
}

async function removeTree(s: ZkSession, path: string): Promise<void> {
  for (const child of await s.children(path)) await removeTree(s, `${path}/${child}`);
  await s.remove(path);
}
