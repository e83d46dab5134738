/**
 * Fresh reads of the cluster, shared by everyone who asks at the same time. While a
 * recovery works on hundreds of partitions at once, each step looks at the cluster before
 * it acts and each wait polls; asking once per step would send one command per partition
 * per poll. Here every asker of the same question waits for ONE call, and that call always
 * starts after the question was asked: an answer never predates a change the asker just
 * made.
 *
 * Questions are asked the widest way OpenMLDB answers in one call, so the calls a recovery
 * makes grow with its tables and tablets, not with its partitions times its polls: what a
 * tablet runs (one `gettablestatus` per tablet answers every partition on it), the ops of a
 * database (one `showopstatus` per database answers every waiter in it). Those answers grow
 * with the cluster, so the same question is asked again at most every PACE_MS (a tablet's
 * status and a database's ops at most every STATUS_PACE_MS, OPS_PACE_MS): a wait
 * learns of a change a little later, and the tool's CPU stays flat per partition. One
 * table's metadata (`showtable TABLE`) stays per table, paced too: a table's partitions
 * ask together, and one answer is small.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { OpenMLDBClient, ShowTableRow, TableInfo, TabletTableStatus } from './client.js';
import { INTERNAL_DBS, rowsOf } from './client.js';
import type { Op, Tablet } from './types.js';

/**
 * One question asked of the cluster: concurrent askers share a call; an asker arriving
 * while a call runs gets the next one, which starts when that one ends. A call starts on
 * the next turn of the event loop at the earliest (or later, held back by the pace): the
 * askers of the same moment (a table's alive flags for each endpoint, say) share it.
 */
export class SharedRead<T> {
  private running: Promise<T> | undefined;
  /** The running call while it has not started (the same turn, or the pace holds it back). */
  private pending: Promise<T> | undefined;
  private queued: Promise<T> | undefined;
  private lastStart = 0;
  /** How long the last call took, asked to answered (its reply read and parsed). */
  private lastTook = 0;
  /** The last answer, and when its call started. */
  private last: { startedAt: number; value: T } | undefined;

  constructor(
    private readonly fetch: () => Promise<T>,
    private readonly onIdle: () => void = () => {},
    /** Calls start at least this far apart (ms). */
    private readonly paceMs = 0,
    /** ... and at least this many times what the last one took. */
    private readonly paceFactor = PACE_FACTOR,
  ) {}

  /**
   * The next answer; with `since`, the last one if its call started at or after `since`
   * (an asker that knows nothing it cares about can have changed since then).
   */
  read(since?: number): Promise<T> {
    if (since !== undefined && this.last !== undefined && this.last.startedAt >= since) return Promise.resolve(this.last.value);
    if (this.pending) return this.pending;
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    const after = this.running.then(noop, noop).then(() => {
      this.queued = undefined;
      return this.start();
    });
    this.queued = after;
    return after;
  }

  private start(): Promise<T> {
    // A paced read whose answer takes long (a whole tablet of a large cluster: megabytes to
    // parse) is asked again only after PACE_FACTOR times that: its share of the tool's time
    // stays bounded as the cluster grows, where a fixed pace made it grow with the square.
    const pace = this.paceMs > 0 ? Math.min(MAX_PACE_MS, Math.max(this.paceMs, this.paceFactor * this.lastTook)) : 0;
    const wait = this.lastStart + pace - Date.now();
    const held = wait > 0 ? delay(wait) : new Promise<void>((go) => setImmediate(go));
    const p = held.then(() => {
      this.pending = undefined;
      return this.call();
    });
    this.running = p;
    this.pending = p;
    p.then(noop, noop).then(() => {
      if (this.running === p) this.running = undefined;
      if (!this.running && !this.queued) this.onIdle();
    });
    return p;
  }

  private call(): Promise<T> {
    const started = Date.now();
    this.lastStart = started;
    const p = this.fetch();
    p.then(
      (value) => {
        this.lastTook = Date.now() - started;
        if (this.last === undefined || this.last.startedAt <= started) this.last = { startedAt: started, value };
      },
      () => undefined,
    );
    return p;
  }
}

/** A shared read is asked again at most this often. */
export const PACE_MS = 200;
/** ... and at most this often for the time one took (PACE_FACTOR of it), up to MAX_PACE_MS. */
export const PACE_FACTOR = 4;
export const MAX_PACE_MS = 2000;
/**
 * A tablet's status is asked again at most this often, and no sooner than STATUS_PACE_FACTOR
 * times what the last answer took: every load in flight there waits on it, and the run keeps
 * enough loads queued on each tablet to cover twice the time between two answers
 * (engine/load-slots.ts), so noticing an end later costs no load time. A tablet of a large
 * cluster answers with megabytes: parsed every 500 ms by four tablets, they were most of the
 * tool's CPU and of the garbage its memory peaks with.
 */
export const STATUS_PACE_MS = 500;
export const STATUS_PACE_FACTOR = 20;
/** A database's ops are asked again at most this often: an op's tasks take seconds. */
export const OPS_PACE_MS = 500;

const noop = (): void => {};

/** Each `statuses` answer indexed by partition, for as long as the answer is in use. */
const byPartition = new WeakMap<readonly TabletTableStatus[], Map<string, TabletTableStatus>>();

export class ClusterWatch {
  private readonly reads = new Map<string, SharedRead<unknown>>();

  constructor(readonly client: OpenMLDBClient) {}

  /** Paced reads stay (their pace must outlive one burst of askers); the others go when idle. */
  private read<T>(key: string, fetch: () => Promise<T>, paceMs = 0, paceFactor = PACE_FACTOR, since?: number): Promise<T> {
    let r = this.reads.get(key) as SharedRead<T> | undefined;
    if (!r) {
      r = new SharedRead(fetch, paceMs > 0 ? noop : () => this.reads.delete(key), paceMs, paceFactor);
      this.reads.set(key, r as SharedRead<unknown>);
    }
    return r.read(since);
  }

  /** One table as the nameserver holds it now (HTTP ShowTable): flags, offsets, term history; undefined if it is gone. */
  async tableInfo(db: string, name: string): Promise<TableInfo | undefined> {
    const infos = await this.read(`info ${db}.${name}`, () => this.client.tableInfo(db, name), PACE_MS);
    return infos.find((t) => t.name === name && (t.db === db || t.db === ''));
  }

  /** One table's replicas as `showtable TABLE` lists them now (over HTTP, from the same call as tableInfo). */
  async tableRows(db: string, name: string): Promise<ShowTableRow[]> {
    if (this.client.mode === 'http') {
      const info = await this.tableInfo(db, name);
      return info ? rowsOf([info]) : [];
    }
    const rows = await this.read(`rows ${db}.${name}`, () => this.client.showTable(db, name), PACE_MS);
    return rows.filter((r) => r.name === name);
  }

  /** The ops the nameserver lists now (or since `since`) for one table's partitions (one `showopstatus` for its database). */
  async tableOps(db: string, name: string, since?: number): Promise<Op[]> {
    const ops = await this.read(`ops ${db}`, () => this.client.showOpStatus(db), OPS_PACE_MS, PACE_FACTOR, since);
    return ops.filter((o) => o.table === name);
  }

  /** How a tablet runs one partition now; undefined when it does not (not loaded, or not visible yet). */
  async loaded(endpoint: string, tid: number, pid: number): Promise<TabletTableStatus | undefined> {
    // One answer serves hundreds of waiters: indexed once, not searched by each.
    const rows = await this.statuses(endpoint);
    let index = byPartition.get(rows);
    if (!index) byPartition.set(rows, (index = new Map(rows.map((r) => [`${r.tid}/${r.pid}`, r]))));
    return index.get(`${tid}/${pid}`);
  }

  /** Every partition a tablet runs now (one `gettablestatus`). */
  statuses(endpoint: string): Promise<TabletTableStatus[]> {
    return this.read(`statuses ${endpoint}`, () => this.client.getTableStatus(endpoint), STATUS_PACE_MS, STATUS_PACE_FACTOR);
  }

  /** The tablets as the leader nameserver sees them now (when each last changed, to the millisecond). */
  tablets(): Promise<Tablet[]> {
    return this.read('tablets', async () => {
      const tablets = await this.client.showTablet();
      if (this.client.mode === 'http') return tablets;
      // The binary prints ages rounded to their unit; HTTP ShowTablet has them exact.
      const changes = await this.client.tabletChanges();
      return tablets.map((t) => {
        const at = changes.get(t.endpoint);
        return at === undefined ? t : { ...t, changedAfter: at };
      });
    }, PACE_MS);
  }

  /**
   * Every partition of every table (whatever a run's scope) whose leader the nameserver
   * flags alive, with its replicas' flags: showdb, then one ShowTable per database.
   */
  async aliveLeaders(): Promise<AliveLeader[]> {
    const userDbs = await this.client.showDb();
    const dbs = [...new Set([...INTERNAL_DBS, ...userDbs])];
    const perDb = await Promise.all(dbs.map(async (db) => ({ db, infos: await this.client.tableInfo(db) })));
    const seen = new Set<number>();
    const out: AliveLeader[] = [];
    for (const t of perDb.flatMap(({ db, infos }) => infos.filter((i) => i.db === db || i.db === ''))) {
      if (seen.has(t.tid)) continue; // the legacy default database "" comes with every answer
      seen.add(t.tid);
      for (const p of t.partitions) {
        const leader = p.replicas.find((r) => r.isLeader && r.isAlive);
        if (leader) out.push({ db: t.db, table: t.name, tid: t.tid, storageMode: t.storageMode, pid: p.pid, leader: leader.endpoint, replicas: p.replicas.map((r) => ({ endpoint: r.endpoint, isLeader: r.isLeader, isAlive: r.isAlive })) });
      }
    }
    return out;
  }

  /**
   * Does the tablet answer now? A tablet whose process died is still listed healthy by the
   * nameserver until its ZooKeeper session expires (zk_session_timeout): only asking it tells.
   */
  async answers(endpoint: string): Promise<boolean> {
    try {
      // The all-partitions form: old binaries print the same `gettablestatus failed` for a
      // failed call and for a partition not loaded, so asking about one partition could
      // take a dead tablet's silence for "not loaded".
      await this.statuses(endpoint);
      return true;
    } catch {
      return false;
    }
  }
}

/** A partition whose leader the nameserver flags alive (`aliveLeaders`). */
export interface AliveLeader {
  db: string;
  table: string;
  tid: number;
  storageMode: TableInfo['storageMode'];
  pid: number;
  leader: string;
  /** Every replica, with its flags. */
  replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }>;
}
