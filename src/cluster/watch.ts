/**
 * Fresh reads of the cluster, shared by everyone who asks at the same time. While a
 * recovery works on hundreds of partitions at once, each step looks at the cluster before
 * it acts and each wait polls; asking once per step would send one command per partition
 * per poll. Here every asker of the same question (one table's metadata, one table's ops,
 * one replica's load state) waits for ONE call, and that call always starts after the
 * question was asked: an answer never predates a change the asker just made.
 *
 * Most questions are small (one table, one partition on one tablet) and do not grow with
 * the size of the cluster, so a recovery's cost per partition stays flat as it grows. Three
 * are asked once per tablet or once per run: what a whole tablet runs (`statuses`), whether
 * a tablet answers, and the whole cluster's alive leaders (`aliveLeaders`, before the
 * restore).
 */
import type { OpenMLDBClient, ShowTableRow, TableInfo, TabletTableStatus } from './client.js';
import { INTERNAL_DBS, rowsOf } from './client.js';
import type { Op, Tablet } from './types.js';

/**
 * One question asked of the cluster: concurrent askers share a call; an asker arriving
 * while a call runs gets the next one, which starts when that one ends.
 */
export class SharedRead<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;

  constructor(
    private readonly fetch: () => Promise<T>,
    private readonly onIdle: () => void = () => {},
  ) {}

  read(): Promise<T> {
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
    const p = this.fetch();
    this.running = p;
    p.then(noop, noop).then(() => {
      if (this.running === p) this.running = undefined;
      if (!this.running && !this.queued) this.onIdle();
    });
    return p;
  }
}

const noop = (): void => {};

export class ClusterWatch {
  private readonly reads = new Map<string, SharedRead<unknown>>();

  constructor(readonly client: OpenMLDBClient) {}

  private read<T>(key: string, fetch: () => Promise<T>): Promise<T> {
    let r = this.reads.get(key) as SharedRead<T> | undefined;
    if (!r) {
      r = new SharedRead(fetch, () => this.reads.delete(key));
      this.reads.set(key, r as SharedRead<unknown>);
    }
    return r.read();
  }

  /** One table as the nameserver holds it now (HTTP ShowTable): flags, offsets, term history; undefined if it is gone. */
  async tableInfo(db: string, name: string): Promise<TableInfo | undefined> {
    const infos = await this.read(`info ${db}.${name}`, () => this.client.tableInfo(db, name));
    return infos.find((t) => t.name === name && (t.db === db || t.db === ''));
  }

  /** One table's replicas as `showtable TABLE` lists them now (over HTTP, from the same call as tableInfo). */
  async tableRows(db: string, name: string): Promise<ShowTableRow[]> {
    if (this.client.mode === 'http') {
      const info = await this.tableInfo(db, name);
      return info ? rowsOf([info]) : [];
    }
    const rows = await this.read(`rows ${db}.${name}`, () => this.client.showTable(db, name));
    return rows.filter((r) => r.name === name);
  }

  /** The ops the nameserver lists now for one table's partitions. */
  tableOps(db: string, name: string): Promise<Op[]> {
    return this.read(`ops ${db}.${name}`, () => this.client.showOpStatus(db, name));
  }

  /** How a tablet runs one partition now; undefined when it does not (not loaded, or not visible yet). */
  async loaded(endpoint: string, tid: number, pid: number): Promise<TabletTableStatus | undefined> {
    const rows = await this.read(`status ${endpoint} ${tid}/${pid}`, () => this.client.getTableStatus(endpoint, tid, pid));
    return rows[0];
  }

  /** Every partition a tablet runs now (one `gettablestatus`). */
  statuses(endpoint: string): Promise<TabletTableStatus[]> {
    return this.read(`statuses ${endpoint}`, () => this.client.getTableStatus(endpoint));
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
    });
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
