/**
 * Observe: one read-only pass over the cluster producing a ClusterSnapshot. It sends no
 * mutating command. Independent calls run concurrently, bounded.
 *
 * A snapshot must not guess: leader choice depends on every replica's offsets, so a
 * healthy tablet that cannot be asked is an error (transient, for the caller to
 * retry), never "nothing loaded".
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { INTERNAL_DBS, type OpenMLDBClient, rowsOf, type ShowTableRow, type TableInfo, type TabletTableStatus } from './client.js';
import { UnknownTable } from './errors.js';
import { type ClusterSnapshot, type LoadedReplica, type Op, type Partition, type Replica, SERVING_STATES, type Table, type Tablet } from './types.js';
import type { ClusterWatch } from './watch.js';

export interface ObserveFilter {
  /** Whole databases to observe. */
  dbs?: string[];
  /** Single tables to observe. */
  tables?: Array<{ db: string; name: string }>;
}

export interface ObserveOptions {
  /** Calls in flight at once (default 8). */
  concurrency?: number;
}

const key = (tid: number, pid: number): string => `${tid}/${pid}`;

/** One raw look, no retries: a failure is the caller's to retry (engine/observe.ts observe). */
export async function observeOnce(client: OpenMLDBClient, filter?: ObserveFilter, options: ObserveOptions = {}): Promise<ClusterSnapshot> {
  const takenAt = new Date().toISOString();
  const limit = pLimit(Math.max(1, options.concurrency ?? 8));
  const filtered = filter !== undefined && (filter.dbs !== undefined || filter.tables !== undefined);

  // showns reads ZooKeeper only: it fails fast (ClusterUnreachable) when there is no
  // cluster to talk to, before anything else is started.
  const ns = await client.showNs();

  const [tablets, changes, autoFailover, userDbs, allOps] = await Promise.all([
    limit(() => client.showTablet()),
    // Over HTTP, ShowTablet has the exact ages already.
    client.mode === 'http' ? Promise.resolve(new Map<string, number>()) : limit(() => client.tabletChanges()),
    limit(() => client.confGet()),
    limit(() => client.showDb()),
    limit(() => client.showOpStatus()),
  ]);
  // The exact moment each tablet last changed state, where the nameserver's HTTP says it.
  for (const t of tablets) {
    const at = changes.get(t.endpoint);
    if (at !== undefined) t.changedAfter = at;
  }

  // showdb hides the system databases; they hold ordinary tables that need recovery too.
  const knownDbs = [...INTERNAL_DBS, ...userDbs.filter((d) => !(INTERNAL_DBS as readonly string[]).includes(d))];
  const wanted = new Set<string>();
  if (filtered) {
    for (const db of [...(filter.dbs ?? []), ...(filter.tables ?? []).map((t) => t.db)]) {
      if (!knownDbs.includes(db)) throw new UnknownTable(db, undefined, userDbs);
      wanted.add(db);
    }
  }
  const scanDbs = filtered ? knownDbs.filter((d) => wanted.has(d)) : knownDbs;

  // Per database: replica flags from the CLI, table attributes over HTTP; plus, for a
  // filtered run, the database's own op list (the all-databases list does not say
  // which database an op belongs to).
  const perDb = await Promise.all(
    scanDbs.map(async (db) => {
      const [rows, infos, ops] = await Promise.all([
        // Over HTTP, one ShowTable answers both (rowsOf); the binary prints what operators read.
        client.mode === 'http' ? Promise.resolve(undefined) : limit(() => client.showTable(db)),
        limit(() => client.tableInfo(db)),
        filtered ? limit(() => client.showOpStatus(db)) : Promise.resolve(undefined),
      ]);
      return { db, rows: rows ?? rowsOf(infos), infos, ops };
    }),
  );

  const tabletByEndpoint = new Map(tablets.map((t) => [t.endpoint, t]));
  const tables: Table[] = [];
  const seenTids = new Set<number>();
  for (const { db, rows, infos } of perDb) {
    for (const info of infos) {
      // The nameserver adds tables of the legacy default database "" to every answer.
      if (info.db !== db && info.db !== '') continue;
      if (seenTids.has(info.tid)) continue;
      seenTids.add(info.tid);
      tables.push(buildTable(info, rows.filter((r) => r.tid === info.tid)));
    }
  }
  tables.sort((a, b) => (a.db === b.db ? cmp(a.name, b.name) : cmp(a.db, b.db)));

  if (filter?.tables !== undefined) {
    for (const t of filter.tables) {
      if (!tables.some((x) => x.db === t.db && x.name === t.name)) {
        throw new UnknownTable(
          t.db,
          t.name,
          tables.filter((x) => x.db === t.db).map((x) => x.name),
        );
      }
    }
  }
  const selected = filtered
    ? tables.filter((t) => (filter.dbs ?? []).includes(t.db) || (filter.tables ?? []).some((x) => x.db === t.db && x.name === t.name))
    : tables;

  // What each healthy tablet runs: one gettablestatus per tablet that holds a replica.
  const hosting = new Set(selected.flatMap((t) => t.partitions.flatMap((p) => p.replicas.map((r) => r.endpoint))));
  const asked = tablets.filter((t) => t.state === 'healthy' && hosting.has(t.endpoint));
  const statuses = new Map<string, Map<string, TabletTableStatus>>();
  await Promise.all(
    asked.map(async (t) => {
      const rows = await limit(() => client.getTableStatus(t.address));
      statuses.set(t.endpoint, new Map(rows.map((r) => [key(r.tid, r.pid), r])));
    }),
  );

  // Fill in tablet state and loaded state; read the snapshot MANIFEST of unloaded replicas
  // on healthy tablets (GetTermPair is read-only), and each serving leader's follower list.
  const probes: Array<Promise<void>> = [];
  for (const table of selected) {
    for (const part of table.partitions) {
      for (const replica of part.replicas) {
        const tablet = tabletByEndpoint.get(replica.endpoint);
        const status = statuses.get(replica.endpoint)?.get(key(table.tid, part.pid));
        probes.push(fillReplica(client, table, part.pid, replica, tablet, status, limit));
      }
    }
  }
  await Promise.all(probes);
  await Promise.all(selected.flatMap((t) => t.partitions.map((p) => rereadLeaderBehind(client, t, p, tabletByEndpoint, limit))));

  return {
    takenAt,
    nameservers: ns.nameservers,
    leader: ns.leader,
    tablets,
    autoFailover,
    tables: selected,
    ops: attachDbs(allOps, tables, filtered ? perDb : undefined),
  };
}

/**
 * One replica's tablet state and load state (`status`: what its tablet's gettablestatus said,
 * undefined = not loaded); for an unloaded replica on a healthy tablet its snapshot's term and
 * offset (GetTermPair, read-only); for a serving leader its replicator's followers.
 */
async function fillReplica(client: OpenMLDBClient, table: Table, pid: number, replica: Replica, tablet: Tablet | undefined, status: TabletTableStatus | undefined, limit: LimitFunction): Promise<void> {
  replica.tablet = tablet === undefined ? 'unknown' : tablet.state;
  if (status !== undefined) {
    replica.loaded = toLoaded(status, table);
    if (replica.loaded.mode === 'kTableLeader' && SERVING_STATES.has(replica.loaded.state) && tablet?.state === 'healthy') {
      replica.followers = (await limit(() => client.getTableFollower(tablet.address, table.tid, pid))).followers;
    }
  } else if (tablet !== undefined && tablet.state === 'healthy') {
    const tp = await limit(() => client.getTermPair(tablet.address, table.tid, pid, table.storageMode));
    // has_table: it was loaded after gettablestatus ran; its term/offset are the replicator's.
    if (!tp.hasTable) replica.snapshot = { term: tp.term, offset: tp.offset };
  }
}

/**
 * A write reaches the leader before its followers, but each tablet is read at its own
 * moment: while clients write, a follower read after its leader can show a higher offset
 * than the leader did. Its leader is read again, after it: a follower that only replicates
 * from that leader is then at or below it; one that holds more (entries the leader lacks)
 * stays ahead, and the verdict names it.
 */
async function rereadLeaderBehind(client: OpenMLDBClient, table: Table, part: Table['partitions'][number], tablets: Map<string, Tablet>, limit: LimitFunction): Promise<void> {
  const leader = part.replicas.find((r) => r.isLeader && r.loaded?.mode === 'kTableLeader');
  const lo = leader?.loaded?.offset;
  if (leader === undefined || lo === undefined || !part.replicas.some((r) => r !== leader && (r.loaded?.offset ?? 0) > lo)) return;
  const tablet = tablets.get(leader.endpoint);
  if (tablet?.state !== 'healthy') return;
  const [fresh] = await limit(() => client.getTableStatus(tablet.address, table.tid, part.pid));
  if (fresh !== undefined) leader.loaded = toLoaded(fresh, table);
}

/**
 * Some partitions of one table as they are now, read through the run's shared reads
 * (watch.ts): a snapshot holding those partitions alone, with its table's ops and the
 * tablets as they are now; the nameservers and auto_failover as `base` found them.
 * Partitions planned from it go on without waiting for a look at the whole cluster.
 */
export async function observePartitions(watch: ClusterWatch, base: ClusterSnapshot, db: string, name: string, pids: readonly number[]): Promise<ClusterSnapshot> {
  const client = watch.client;
  const takenAt = new Date().toISOString();
  const [info, rows, tablets, ops] = await Promise.all([
    watch.tableInfo(db, name),
    client.mode === 'http' ? Promise.resolve(undefined) : watch.tableRows(db, name),
    watch.tablets(),
    watch.tableOps(db, name),
  ]);
  if (info === undefined) throw new UnknownTable(db, name, []);
  const table = buildTable(info, (rows ?? rowsOf([info])).filter((r) => r.tid === info.tid));
  const wanted = new Set(pids);
  table.partitions = table.partitions.filter((p) => wanted.has(p.pid));
  const byEndpoint = new Map(tablets.map((t) => [t.endpoint, t]));
  const limit = pLimit(8);
  await Promise.all(
    table.partitions.flatMap((part) =>
      part.replicas.map(async (r) => {
        const tablet = byEndpoint.get(r.endpoint);
        const status = tablet?.state === 'healthy' ? await watch.loaded(r.endpoint, table.tid, part.pid) : undefined;
        await fillReplica(client, table, part.pid, r, tablet, status, limit);
      }),
    ),
  );
  await Promise.all(table.partitions.map((p) => rereadLeaderBehind(client, table, p, byEndpoint, limit)));
  return { ...base, takenAt, tablets, tables: [table], ops: ops.map((op) => (op.db === undefined ? { ...op, db } : op)) };
}

function buildTable(info: TableInfo, rows: ShowTableRow[]): Table {
  const pids = [...new Set([...info.partitions.map((p) => p.pid), ...rows.map((r) => r.pid)])].sort((a, b) => a - b);
  const partitions: Partition[] = pids.map((pid) => {
    const cli = rows.filter((r) => r.pid === pid);
    const http = info.partitions.find((p) => p.pid === pid);
    // The CLI's view is the one the docs and operators read; the HTTP list only
    // stands in when the table changed between the two calls.
    const replicas: Replica[] =
      cli.length > 0
        ? cli.map((r) => replica(r.endpoint, r.role === 'leader', r.isAlive, r.offset))
        : (http?.replicas ?? []).map((r) => replica(r.endpoint, r.isLeader, r.isAlive, r.offset));
    return { pid, replicas, ...(http && http.terms.length > 0 ? { terms: http.terms } : {}) };
  });
  return { db: info.db, name: info.name, tid: info.tid, storageMode: info.storageMode, segCnt: info.segCnt, partitions, ...(info.expires ? { expires: true } : {}) };
}

function replica(endpoint: string, isLeader: boolean, isAlive: boolean, offset: number | undefined): Replica {
  return { endpoint, isLeader, isAlive, ...(offset !== undefined ? { metaOffset: offset } : {}), tablet: 'unknown' };
}

/**
 * Only a memory table's record count is kept, and only where records never expire: a
 * disk table's is RocksDB's estimate, and expiry moves counts on each replica by itself.
 */
function toLoaded(s: TabletTableStatus, table: Table): LoadedReplica {
  const counted = s.recordCnt !== undefined && table.storageMode === 'kMemory' && table.expires !== true;
  return { mode: s.mode, state: s.state, offset: s.offset, ...(counted ? { recordCnt: s.recordCnt } : {}) };
}

/**
 * The all-databases op list does not name databases. Filtered runs asked each scanned
 * database for its ops; otherwise a table name found in exactly one database decides
 * (ambiguous names leave `db` unset rather than guess).
 */
function attachDbs(ops: Op[], tables: Table[], perDb: Array<{ db: string; ops: Op[] | undefined }> | undefined): Op[] {
  const byId = new Map<number, string>();
  for (const d of perDb ?? []) for (const op of d.ops ?? []) byId.set(op.opId, d.db);
  const dbsOf = new Map<string, Set<string>>();
  for (const t of tables) {
    const s = dbsOf.get(t.name) ?? new Set<string>();
    s.add(t.db);
    dbsOf.set(t.name, s);
  }
  return ops.map((op) => {
    let db = byId.get(op.opId);
    if (db === undefined && perDb === undefined && op.table !== undefined) {
      const candidates = dbsOf.get(op.table);
      if (candidates?.size === 1) db = [...candidates][0];
    }
    return db === undefined ? op : { ...op, db };
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

