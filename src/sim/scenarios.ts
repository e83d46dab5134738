// Cluster states to start from. A healthy cluster is created as OpenMLDB's CreateTable
// leaves it; then a working history is played on it with the simulator's own primitives
// (client writes, replication, the nameserver's status poll, snapshots, binlog fsyncs,
// metadata rewrites), and the damaged scenarios are produced by running the simulation
// itself (tablets stop, power fails, auto_failover reacts, ops run). So the metadata, the
// disks and the op lists are what OpenMLDB's own logic leaves behind, including what it
// gets wrong: metadata offsets persisted hours before the incident (or never), followers
// holding more than the replica flagged leader after a power loss, and an old leader's
// unreplicated tail diverging from the new leader's entries.
import type { SimCluster } from './cluster.js';
import type { DiskPartition, LoadedPartition, PartitionMeta, StorageMode, TableMeta } from './model.js';
import { partitionKey } from './model.js';
import { isServing } from './tablet.js';
import { setTimeout as sleep } from 'node:timers/promises';

export const SCENARIOS = ['healthy', 'full-restart', 'full-restart-after-failover', 'node-down', 'partition-lost'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioOptions {
  scenario: ScenarioName;
  /** User tables (besides the system tables). */
  tables: number;
  partitions: number;
  replicas: number;
  /** Average entries per partition (drives load time). */
  entries: number;
  storage: 'memory' | 'disk' | 'mixed';
  /** auto_failover when the incident begins. */
  autoFailover: boolean;
  /** User databases. */
  databases: string[];
  /** Create the system tables of the internal databases (single replica each). */
  systemTables: boolean;
  /** Full-restart scenarios: the machines lost power, so unsynced binlog tails are gone. */
  powerLoss?: boolean;
  /** full-restart-after-failover: partitions whose dead leader kept unreplicated entries (default: 0 or 1 by seed). */
  divergedTails?: number;
  /** full-restart with the power lost: partitions whose replica holding the most made a snapshot just before (it comes back short). */
  shortSnapshots?: number;
}

export const DEFAULT_SCENARIO: ScenarioOptions = {
  scenario: 'healthy',
  tables: 3,
  partitions: 4,
  replicas: 3,
  entries: 2000,
  storage: 'mixed',
  autoFailover: true,
  databases: ['demo_db'],
  systemTables: true,
  powerLoss: true,
};

const SYSTEM_TABLES: Array<[string, string]> = [
  ['__INTERNAL_DB', 'JOB_INFO'],
  ['__INTERNAL_DB', 'PRE_AGG_META_INFO'],
  ['__INTERNAL_DB', 'USER'],
  ['INFORMATION_SCHEMA', 'GLOBAL_VARIABLES'],
  ['INFORMATION_SCHEMA', 'DEPLOY_RESPONSE_TIME'],
  ['__PRE_AGG_DB', 'pre_demo_db_w1_sum_c1'],
];

/** Wait until no op is queued or running and no load is in flight. */
export async function settle(c: SimCluster, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busyOps = c.opEngine.ops.some((o) => o.status === 'kInited' || o.status === 'kDoing');
    const loading = c.tablets().some((t) => [...t.loaded.values()].some((p) => !isServing(p)));
    if (!busyOps && !loading && c.leaderEndpoint !== undefined) {
      // Settled includes the nameserver having seen it: one status poll, under its lock as
      // every poll (UpdateTableStatus), so showtable's offsets are the loaded ones, not the
      // 0 a replica reported while a recovery op was still loading it.
      await c.withMetadata(() => c.pollTick());
      return;
    }
    if (Date.now() > deadline) throw new Error('simulator did not settle in time');
    await sleep(25);
  }
}

/** Create every table as CreateTable does: loaded everywhere, empty, its node written to ZooKeeper. */
export function buildHealthy(c: SimCluster, o: ScenarioOptions): void {
  const tablets = c.tablets().map((t) => t.endpoint);
  const replicas = Math.max(1, Math.min(o.replicas, tablets.length));
  for (const db of ['__INTERNAL_DB', 'INFORMATION_SCHEMA', '__PRE_AGG_DB', ...o.databases]) c.databases.add(db);
  // System tables: one partition, one replica (system_table_replica_num = 1).
  if (o.systemTables !== false) for (const [db, name] of SYSTEM_TABLES) addTable(c, { db, name, storageMode: 'kMemory', partitions: 1, replicas: 1 });
  for (let i = 0; i < o.tables; i++) {
    const db = o.databases[i % o.databases.length] ?? 'demo_db';
    const storageMode: StorageMode =
      o.storage === 'memory' ? 'kMemory' : o.storage === 'disk' ? (i % 2 === 0 ? 'kSSD' : 'kHDD') : i % 3 === 2 ? (i % 2 === 0 ? 'kSSD' : 'kHDD') : 'kMemory';
    addTable(c, { db, name: `t${i}`, storageMode, partitions: o.partitions, replicas });
  }
  c.autoFailover = o.autoFailover;
}

/**
 * name_server_impl.cc CreateTable: round-robin placement, leader first; the term pair
 * (term_, 0); the leader's table_meta carries the term, the followers' none (0); the
 * leader replicates to the followers from the start. The node is written to ZooKeeper now,
 * before any offset was polled: a table whose node is never rewritten shows `-` after a
 * restart.
 */
function addTable(c: SimCluster, spec: { db: string; name: string; storageMode: StorageMode; partitions: number; replicas: number }): TableMeta {
  const tablets = c.tablets().map((t) => t.endpoint);
  const tid = c.nextTid++;
  const term = c.nsTerm;
  const table: TableMeta = {
    tid,
    name: spec.name,
    db: spec.db,
    storageMode: spec.storageMode,
    segCnt: 8,
    partitionNum: spec.partitions,
    replicaNum: spec.replicas,
    partitions: [],
  };
  for (let pid = 0; pid < spec.partitions; pid++) {
    const first = (tid + pid) % tablets.length;
    const eps = Array.from({ length: spec.replicas }, (_, k) => tablets[(first + k) % tablets.length] as string);
    const part: PartitionMeta = { pid, replicas: [], termOffset: [{ term, offset: 0 }] };
    eps.forEach((endpoint, k) => {
      const leader = k === 0;
      const tablet = c.tablet(endpoint);
      if (!tablet) return;
      const disk: DiskPartition = {
        tid,
        pid,
        name: spec.name,
        db: spec.db,
        storageMode: spec.storageMode,
        segCnt: 8,
        log: { segments: [], end: 0 },
        snapshotOffset: 0,
        snapshotTerm: 0,
        syncedOffset: 0,
        metaTerm: leader ? term : 0,
        metaMode: leader ? 'kTableLeader' : 'kTableFollower',
      };
      tablet.disk.set(partitionKey(tid, pid), disk);
      const loaded: LoadedPartition = {
        tid,
        pid,
        name: spec.name,
        storageMode: spec.storageMode,
        mode: disk.metaMode,
        state: 'kTableNormal',
        offset: 0,
        term: leader ? term : 0,
        epoch: leader ? c.nextEpoch() : 0,
        segCnt: 8,
        followers: leader ? eps.slice(1) : [],
      };
      if (tablet.running) tablet.loaded.set(partitionKey(tid, pid), loaded);
      part.replicas.push({ endpoint, isLeader: leader, isAlive: true, tabletHasPartition: true });
    });
    table.partitions.push(part);
  }
  c.tables.push(table);
  c.persistTable(table);
  return table;
}

const isSystem = (t: TableMeta) => t.db.startsWith('__') || t.db === 'INFORMATION_SCHEMA';
const userTables = (c: SimCluster) => c.tables.filter((t) => !isSystem(t));

interface History {
  rounds: number;
  /** Entries per partition over the whole history, on average. */
  entries: number;
  /** Tables whose node is never rewritten after creation (their offsets read `-`). */
  neverPersisted?: Set<number>;
}

/**
 * Some hours of normal work, played synchronously (no clock runs in between, so a seed
 * gives the same result on any machine). Each round: client writes, the followers catch up,
 * a few more writes they have not received yet, the nameserver's poll (memory only), and
 * at random: a metadata change rewriting a table's node (an UpdateTTL, say: name_server_
 * impl.cc UpdateTTL -> UpdateZkTableNodeWithoutNotify), a snapshot, a binlog fsync.
 */
function playHistory(c: SimCluster, h: History): void {
  for (let round = 0; round < h.rounds; round++) {
    for (const table of c.tables) {
      for (const part of table.partitions) {
        const share = round === 0 ? 0.6 : 0.4 / Math.max(1, h.rounds - 1);
        const scale = isSystem(table) ? 0.1 : 1;
        const n = Math.max(1, Math.round(h.entries * share * scale * (0.5 + c.rng.next())));
        c.write(table.db, table.name, n, [part.pid]);
      }
    }
    c.tabletService.replicate(c.tablets());
    for (const t of c.tablets()) {
      for (const disk of t.disk.values()) {
        // Only a running tablet makes snapshots, of what it has loaded, stamped with its
        // replicator's term (tablet_impl.cc MakeSnapshot). The dice are thrown either way,
        // so a seed plays the same history.
        const snapshot = c.rng.chance(0.25);
        const loaded = t.running ? t.loaded.get(partitionKey(disk.tid, disk.pid)) : undefined;
        if (snapshot && loaded && isServing(loaded)) {
          disk.snapshotOffset = disk.log.end;
          disk.snapshotTerm = loaded.term;
        }
        if (c.rng.chance(0.9)) disk.syncedOffset = disk.log.end;
      }
    }
    // The last seconds: writes the followers have not received and nobody fsynced yet.
    for (const table of c.tables) {
      for (const part of table.partitions) if (c.rng.chance(0.3)) c.write(table.db, table.name, c.rng.int(1, 8), [part.pid]);
    }
    c.pollTick();
    // Metadata changes are rare: the last round (the hour before the incident) had none.
    for (const table of c.tables) {
      if (h.neverPersisted?.has(table.tid) || round === h.rounds - 1) continue;
      if (c.rng.chance(0.4)) c.persistTable(table);
    }
  }
}

/** One user table whose node is never rewritten: after a restart `showtable` prints `-` for its offsets. */
function pickNeverPersisted(c: SimCluster): Set<number> {
  const users = userTables(c);
  return new Set(users.length > 1 ? [c.rng.pick(users).tid] : []);
}

/**
 * Before a power loss: on one multi-replica partition the leader's last writes reached a
 * follower, which fsynced them, while the leader had not: after the restart that follower
 * holds more than the replica flagged leader (the entries are the same lineage's).
 */
function leaderUnsyncedTail(c: SimCluster): void {
  const candidates = userTables(c).flatMap((t) => t.partitions.filter((p) => p.replicas.length > 1).map((p) => ({ t, p })));
  if (candidates.length === 0) return;
  const { t, p } = c.rng.pick(candidates);
  const leader = p.replicas.find((r) => r.isLeader && r.isAlive);
  if (!leader) return;
  const key = partitionKey(t.tid, p.pid);
  const ld = c.tablet(leader.endpoint)?.disk.get(key);
  if (!ld) return;
  ld.syncedOffset = ld.log.end;
  c.write(t.db, t.name, c.rng.int(10, 60), [p.pid]);
  c.tabletService.replicate(c.tablets());
  for (const r of p.replicas) {
    const d = c.tablet(r.endpoint)?.disk.get(key);
    if (d && r !== leader) d.syncedOffset = d.log.end;
  }
}

/**
 * In `count` partitions the replica holding the most made a snapshot of everything it
 * holds right before the power went (as SchedMakeSnapshot or an operator's makesnapshot
 * may): its data file is not on the disk yet, its MANIFEST is (losePower).
 */
function snapshotsJustBefore(c: SimCluster, count: number): void {
  const candidates = userTables(c).flatMap((t) => t.partitions.filter((p) => p.replicas.length > 1).map((p) => ({ t, p })));
  for (let i = 0; i < count && candidates.length > 0; i++) {
    const { t, p } = candidates.splice(c.rng.int(0, candidates.length - 1), 1)[0] as (typeof candidates)[number];
    const key = partitionKey(t.tid, p.pid);
    const held = p.replicas
      .map((r) => ({ r, loaded: c.tablet(r.endpoint)?.loaded.get(key), disk: c.tablet(r.endpoint)?.disk.get(key) }))
      .filter((x) => x.loaded && x.disk && x.loaded.offset > x.disk.snapshotOffset)
      .sort((a, b) => (b.loaded?.offset ?? 0) - (a.loaded?.offset ?? 0) || Number(b.r.isLeader) - Number(a.r.isLeader));
    const top = held[0];
    if (!top?.loaded || !top.disk) continue;
    top.disk.snapshotMade = { at: Date.now(), previous: top.disk.snapshotOffset };
    top.disk.snapshotOffset = top.loaded.offset;
    top.disk.snapshotTerm = top.loaded.term;
  }
}

/** Run the chosen scenario on a started cluster (nameservers elected, clocks running). */
export async function applyScenario(c: SimCluster, o: ScenarioOptions): Promise<void> {
  const realTiming = { ...c.timing };
  // Damage is produced at high speed; the cluster then runs at its configured pace. The
  // incident lies in the past: the stopped tablets' sessions have long expired.
  // The incident's nameserver starts lost the auto_failover start race (their Init ended
  // before they won), so auto_failover is as stored; tests of the race restart one later.
  Object.assign(c.timing, { heartbeatTimeoutMs: 150, taskMs: Math.min(c.timing.taskMs, 10), zkSessionTimeoutMs: 0, nsInitMs: 0 });
  c.settleStarts();
  try {
    await settle(c);
    const neverPersisted = pickNeverPersisted(c);
    switch (o.scenario) {
      case 'healthy':
        playHistory(c, { rounds: 3, entries: o.entries, neverPersisted });
        c.tabletService.replicate(c.tablets());
        c.beginIncident(o.autoFailover);
        break;
      case 'full-restart':
        playHistory(c, { rounds: 5, entries: o.entries, neverPersisted });
        if (o.powerLoss !== false) leaderUnsyncedTail(c);
        if (o.powerLoss !== false) snapshotsJustBefore(c, o.shortSnapshots ?? 0);
        c.stopAll(o.powerLoss !== false);
        c.beginIncident(o.autoFailover);
        c.startAll();
        break;
      case 'full-restart-after-failover':
        await fullRestartAfterFailover(c, o, neverPersisted);
        break;
      case 'node-down':
        playHistory(c, { rounds: 2, entries: o.entries, neverPersisted });
        c.tabletService.replicate(c.tablets());
        await nodeDown(c, o);
        break;
      case 'partition-lost':
        playHistory(c, { rounds: 2, entries: o.entries, neverPersisted });
        c.tabletService.replicate(c.tablets());
        await partitionLost(c, o);
        break;
    }
  } finally {
    Object.assign(c.timing, realTiming);
  }
}

async function waitFor(cond: () => boolean, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('scenario: condition not reached in time');
    await sleep(20);
  }
}

async function offlineProcessed(c: SimCluster, endpoints: string[]): Promise<void> {
  await waitFor(() => endpoints.every((e) => c.tabletViews().get(e)?.offlineProcessed === true));
  await settle(c);
}

/**
 * A tablet died with auto_failover on: after the heartbeat timeout its replicas were
 * marked not alive and its partitions got new leaders (kChangeLeaderOP: FollowOfNoOne,
 * ChangeRole, UpdateLeaderInfo with a new term). On some seeds one of its partitions had
 * entries its followers never received: that old leader's tail and the new leader's
 * entries now sit at the same offsets. Writes went on; then the machines lost power and
 * everything restarted.
 */
async function fullRestartAfterFailover(c: SimCluster, o: ScenarioOptions, neverPersisted: Set<number>): Promise<void> {
  c.autoFailover = true;
  playHistory(c, { rounds: 4, entries: o.entries, neverPersisted });
  c.tabletService.replicate(c.tablets());
  const victim = c.tablets()[0]?.endpoint ?? '';
  const led = userTables(c).flatMap((t) => t.partitions.filter((p) => p.replicas.length > 1 && p.replicas.some((r) => r.isLeader && r.isAlive && r.endpoint === victim)).map((p) => ({ t, p })));
  const tails = Math.min(led.length, o.divergedTails ?? (c.rng.chance(0.6) ? 1 : 0));
  for (const { t, p } of c.rng.shuffle(led).slice(0, tails)) {
    c.write(t.db, t.name, c.rng.int(5, 40), [p.pid]); // never replicated: the victim dies first
    const d = c.tablet(victim)?.disk.get(partitionKey(t.tid, p.pid));
    if (d) d.syncedOffset = d.log.end;
  }
  c.pollTick();
  c.stopTablet(victim);
  c.pollTick(); // the victim's replicas are no longer reported (tablet_has_partition false)
  await offlineProcessed(c, [victim]);
  playHistory(c, { rounds: 2, entries: o.entries / 4, neverPersisted });
  if (o.powerLoss !== false) leaderUnsyncedTail(c);
  c.autoFailover = o.autoFailover;
  c.stopAll(o.powerLoss !== false);
  c.beginIncident(o.autoFailover);
  c.startAll();
}

/** One tablet is down. With auto_failover on, the nameserver already reacted. */
async function nodeDown(c: SimCluster, o: ScenarioOptions): Promise<void> {
  const victim = c.tablets()[c.tablets().length - 1]?.endpoint ?? '';
  c.autoFailover = o.autoFailover;
  c.beginIncident(o.autoFailover);
  c.pollTick();
  c.stopTablet(victim);
  c.pollTick();
  if (o.autoFailover) await offlineProcessed(c, [victim]);
  else await waitFor(() => c.tabletViews().get(victim)?.state === 'kOffline');
}

/**
 * Every tablet holding some partitions died (auto_failover on moved what it could) and
 * came back: those partitions have no loaded replica, metadata marks all but one replica
 * not alive, and the nameserver's recovery ops for them failed.
 */
async function partitionLost(c: SimCluster, o: ScenarioOptions): Promise<void> {
  const first = userTables(c)[0]?.partitions[0];
  const victims = first ? first.replicas.map((r) => r.endpoint) : [];
  c.autoFailover = true;
  c.beginIncident(o.autoFailover);
  c.pollTick();
  for (const v of victims) c.stopTablet(v);
  c.pollTick();
  await offlineProcessed(c, victims);
  for (const v of victims) c.startTablet(v);
  await settle(c);
  c.autoFailover = o.autoFailover;
  if (c.incident) c.incident.autoFailoverBefore = o.autoFailover;
}
