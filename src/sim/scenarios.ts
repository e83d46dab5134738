// Cluster states to start from. A healthy cluster is built directly; the damaged ones are
// then produced by running the simulation itself (tablets stop, auto_failover reacts, ops
// run, tablets come back), so their metadata, disks and op lists are what the real
// nameserver would have left, not a hand-drawn picture. Only the interrupted
// change-leader of `full-restart-after-failover` is set by hand (see below).
import type { SimCluster } from './cluster.js';
import type { DiskPartition, LoadedPartition, PartitionMeta, StorageMode, TableMeta } from './model.js';
import { BYTES_PER_RECORD, partitionKey } from './model.js';
import { isServing } from './tablet.js';

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
};

const SYSTEM_TABLES: Array<[string, string]> = [
  ['__INTERNAL_DB', 'JOB_INFO'],
  ['__INTERNAL_DB', 'PRE_AGG_META_INFO'],
  ['__INTERNAL_DB', 'USER'],
  ['INFORMATION_SCHEMA', 'GLOBAL_VARIABLES'],
  ['INFORMATION_SCHEMA', 'DEPLOY_RESPONSE_TIME'],
  ['__PRE_AGG_DB', 'pre_demo_db_w1_sum_c1'],
];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wait until no op is queued or running and no load is in flight. */
export async function settle(c: SimCluster, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busyOps = c.opEngine.ops.some((o) => o.status === 'kInited' || o.status === 'kDoing');
    const loading = c.tablets().some((t) => [...t.loaded.values()].some((p) => !isServing(p)));
    if (!busyOps && !loading && c.leaderEndpoint !== undefined) return;
    if (Date.now() > deadline) throw new Error('simulator did not settle in time');
    await sleep(25);
  }
}

/** Build a healthy cluster: every table loaded, leaders and followers in agreement. */
export function buildHealthy(c: SimCluster, o: ScenarioOptions): void {
  const tablets = c.tablets().map((t) => t.endpoint);
  const replicas = Math.max(1, Math.min(o.replicas, tablets.length));
  for (const db of ['__INTERNAL_DB', 'INFORMATION_SCHEMA', '__PRE_AGG_DB', ...o.databases]) c.databases.add(db);
  // System tables: one partition, one replica (system_table_replica_num = 1).
  if (o.systemTables !== false) for (const [db, name] of SYSTEM_TABLES) addTable(c, { db, name, storageMode: 'kMemory', partitions: 1, replicas: 1, entries: Math.ceil(o.entries / 10) });
  for (let i = 0; i < o.tables; i++) {
    const db = o.databases[i % o.databases.length] ?? 'demo_db';
    const storageMode: StorageMode =
      o.storage === 'memory' ? 'kMemory' : o.storage === 'disk' ? (i % 2 === 0 ? 'kSSD' : 'kHDD') : i % 3 === 2 ? (i % 2 === 0 ? 'kSSD' : 'kHDD') : 'kMemory';
    addTable(c, { db, name: `t${i}`, storageMode, partitions: o.partitions, replicas, entries: o.entries });
  }
  c.autoFailover = o.autoFailover;
}

function addTable(c: SimCluster, spec: { db: string; name: string; storageMode: StorageMode; partitions: number; replicas: number; entries: number }): TableMeta {
  const tablets = c.tablets().map((t) => t.endpoint);
  const tid = c.nextTid++;
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
    // Round-robin placement, leader first, like the nameserver's CreateTable.
    const first = (tid + pid) % tablets.length;
    const eps = Array.from({ length: spec.replicas }, (_, k) => tablets[(first + k) % tablets.length] as string);
    const entries = Math.max(1, Math.round(spec.entries * (0.5 + c.rng.next())));
    const part: PartitionMeta = { pid, replicas: [], termOffset: [{ term: 1, offset: 0 }] };
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
        snapshotOffset: Math.max(0, entries - c.rng.int(0, Math.min(entries, 400))),
        binlogOffset: entries,
        term: 1,
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
        offset: entries,
        segCnt: 8,
        followers: leader ? eps.slice(1) : [],
      };
      if (tablet.running) tablet.loaded.set(partitionKey(tid, pid), loaded);
      part.replicas.push({
        endpoint,
        isLeader: leader,
        isAlive: true,
        offset: entries,
        recordCnt: entries,
        recordByteSize: spec.storageMode === 'kMemory' ? entries * BYTES_PER_RECORD : 0,
        diskused: entries * 64,
        tabletHasPartition: true,
      });
    });
    table.partitions.push(part);
  }
  c.tables.push(table);
  return table;
}

/** Writes that reached the tablets after the nameserver's last poll: metadata offsets go stale. */
function unpolledWrites(c: SimCluster, fraction: number): void {
  for (const table of c.tables) {
    if (table.db.startsWith('__') || table.db === 'INFORMATION_SCHEMA') continue;
    for (const part of table.partitions) {
      if (!c.rng.chance(fraction)) continue;
      const n = c.rng.int(5, 60);
      for (const r of part.replicas) {
        const t = c.tablet(r.endpoint);
        const p = t?.loaded.get(partitionKey(table.tid, part.pid));
        const d = t?.disk.get(partitionKey(table.tid, part.pid));
        if (t?.running && p && d && r.isAlive && isServing(p)) {
          p.offset += n;
          d.binlogOffset = p.offset;
        }
      }
    }
  }
}

function userTables(c: SimCluster): TableMeta[] {
  return c.tables.filter((t) => !t.db.startsWith('__') && t.db !== 'INFORMATION_SCHEMA');
}

/** Run the chosen scenario on a started cluster (nameservers elected, clocks running). */
export async function applyScenario(c: SimCluster, o: ScenarioOptions): Promise<void> {
  const realTiming = { ...c.timing };
  // Damage is produced at high speed; the cluster then runs at its configured pace.
  Object.assign(c.timing, { heartbeatTimeoutMs: 150, taskMs: Math.min(c.timing.taskMs, 10) });
  try {
    await settle(c);
    switch (o.scenario) {
      case 'healthy':
        c.beginIncident(o.autoFailover);
        break;
      case 'full-restart':
        unpolledWrites(c, 0.5);
        c.beginIncident(o.autoFailover);
        c.fullRestart();
        break;
      case 'full-restart-after-failover':
        await fullRestartAfterFailover(c, o);
        break;
      case 'node-down':
        await nodeDown(c, o);
        break;
      case 'partition-lost':
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
 * One tablet died with auto_failover on: its replicas were marked not alive and its
 * leaders moved. Writes went on to the new leaders. Then one change-leader was cut short
 * by the restart (new leader chosen and written to, metadata not updated), and finally
 * the whole cluster restarted.
 */
async function fullRestartAfterFailover(c: SimCluster, o: ScenarioOptions): Promise<void> {
  c.autoFailover = true;
  const victim = c.tablets()[0]?.endpoint ?? '';
  c.stopTablet(victim);
  await offlineProcessed(c, [victim]);
  for (const t of userTables(c)) c.write(t.db, t.name, c.rng.int(20, 200));
  // Followers receive the writes and the nameserver polls the new offsets; done here
  // rather than left to the clocks, so the result does not depend on machine load.
  c.tabletService.replicate(c.tablets());
  c.pollTick();
  interruptedChangeLeader(c);
  unpolledWrites(c, 0.3);
  c.autoFailover = o.autoFailover;
  c.beginIncident(o.autoFailover);
  c.fullRestart();
}

/**
 * kChangeLeaderOP cut short between kChangeLeader and kUpdateLeaderInfo: a follower became
 * the leader on its tablet and took writes, but the metadata still names the old leader.
 * The follower now holds more data than the replica flagged leader.
 */
function interruptedChangeLeader(c: SimCluster): void {
  for (const table of userTables(c)) {
    for (const part of table.partitions) {
      const leader = part.replicas.find((r) => r.isLeader && r.isAlive);
      const follower = part.replicas.find((r) => !r.isLeader && r.isAlive);
      if (!leader || !follower) continue;
      const key = partitionKey(table.tid, part.pid);
      const lt = c.tablet(leader.endpoint);
      const ft = c.tablet(follower.endpoint);
      const lp = lt?.loaded.get(key);
      const fp = ft?.loaded.get(key);
      const fd = ft?.disk.get(key);
      if (!lt?.running || !ft?.running || !lp || !fp || !fd) continue;
      const extra = c.rng.int(15, 80);
      fp.mode = 'kTableLeader';
      fp.offset += extra;
      fd.binlogOffset = fp.offset;
      fd.term += 1;
      lp.followers = [];
      // The nameserver polled the follower's new offset before it died.
      follower.offset = fp.offset;
      follower.recordCnt = fp.offset;
      return;
    }
  }
}

/** One tablet is down. With auto_failover on, the nameserver already reacted. */
async function nodeDown(c: SimCluster, o: ScenarioOptions): Promise<void> {
  const victim = c.tablets()[c.tablets().length - 1]?.endpoint ?? '';
  c.autoFailover = o.autoFailover;
  c.beginIncident(o.autoFailover);
  c.stopTablet(victim);
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
  for (const v of victims) c.stopTablet(v);
  await offlineProcessed(c, victims);
  for (const v of victims) c.startTablet(v);
  await settle(c);
  c.autoFailover = o.autoFailover;
  if (c.incident) c.incident.autoFailoverBefore = o.autoFailover;
}
