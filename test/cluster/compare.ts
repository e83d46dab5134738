// Compare an observed ClusterSnapshot with the simulator's true state (`ctl state`).
import assert from 'node:assert/strict';
import type { Sim } from '../helpers/sim.js';
import { OpenMLDBClient } from '../../src/cluster/client.js';
import type { ClusterSnapshot, Partition } from '../../src/cluster/types.js';
import type { TransportMode } from '../../src/cluster/transport.js';

export interface SimReplica {
  endpoint: string;
  isLeader: boolean;
  isAlive: boolean;
  offset?: number;
}

export interface SimState {
  autoFailover: boolean;
  leader: string | null;
  dialect: string;
  nameservers: Array<{ endpoint: string; address: string; running: boolean; seq: number }>;
  tablets: Array<{
    endpoint: string;
    address: string;
    running: boolean;
    view: string | null;
    loaded: Array<{ tid: number; pid: number; mode: string; state: string; offset: number; followers?: string[] }>;
    disk: Array<{ tid: number; pid: number; storageMode: string; snapshotOffset: number; binlogOffset: number; snapshotTerm: number }>;
  }>;
  tables: Array<{ tid: number; db: string; name: string; storageMode: string; segCnt: number; partitions: Array<{ pid: number; replicas: SimReplica[] }> }>;
  ops: Array<{ opId: number; opType: string; db: string; name: string; pid: number; status: string; failedTask?: string }>;
}

export const simState = (sim: Sim): Promise<SimState> => sim.ctl<SimState>('state');

export function clientFor(sim: Sim, extra: { timeoutMs?: number; transport?: TransportMode } = {}): OpenMLDBClient {
  return new OpenMLDBClient({ bin: sim.info.bin, zkCluster: sim.info.zkCluster, zkRootPath: sim.info.zkRootPath, ...extra });
}

/** Every field of the snapshot that the simulator also knows must agree with it. */
export function assertMatchesState(snap: ClusterSnapshot, s: SimState, opts: { tables?: Array<{ db: string; name: string }> } = {}): void {
  assert.equal(snap.autoFailover, s.autoFailover, 'auto_failover');
  assert.equal(snap.leader, s.leader, 'leader');
  const running = s.nameservers.filter((n) => n.running).sort((a, b) => a.seq - b.seq);
  assert.deepEqual(
    snap.nameservers.map((n) => n.endpoint).sort(),
    running.map((n) => n.endpoint).sort(),
    'nameservers',
  );
  assert.equal(snap.nameservers.find((n) => n.role === 'leader')?.endpoint, s.leader);

  const viewed = s.tablets.filter((t) => t.view !== null);
  assert.deepEqual(
    snap.tablets.map((t) => ({ endpoint: t.endpoint, address: t.address, state: t.state })).sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1)),
    viewed.map((t) => ({ endpoint: t.endpoint, address: t.address, state: t.view === 'kHealthy' ? 'healthy' : 'offline' })).sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1)),
    'tablets',
  );

  const wanted = opts.tables === undefined ? s.tables : s.tables.filter((t) => opts.tables?.some((x) => x.db === t.db && x.name === t.name));
  assert.deepEqual(
    snap.tables.map((t) => `${t.db}.${t.name}`).sort(),
    wanted.map((t) => `${t.db}.${t.name}`).sort(),
    'tables',
  );
  for (const st of wanted) {
    const t = snap.tables.find((x) => x.db === st.db && x.name === st.name);
    assert.ok(t);
    const where = `${st.db}.${st.name}`;
    assert.equal(t.tid, st.tid, `${where} tid`);
    assert.equal(t.storageMode, st.storageMode, `${where} storage mode`);
    assert.equal(t.segCnt, st.segCnt, `${where} seg_cnt`);
    assert.deepEqual(t.partitions.map((p) => p.pid), st.partitions.map((p) => p.pid), `${where} pids`);
    for (const sp of st.partitions) {
      const p: Partition | undefined = t.partitions.find((x) => x.pid === sp.pid);
      assert.ok(p);
      assert.equal(p.replicas.length, sp.replicas.length, `${where}/${sp.pid} replica count`);
      sp.replicas.forEach((sr, i) => {
        const r = p.replicas[i];
        const rw = `${where}/${sp.pid}@${sr.endpoint}`;
        assert.ok(r, rw);
        assert.equal(r.endpoint, sr.endpoint, `${rw} endpoint`);
        assert.equal(r.isLeader, sr.isLeader, `${rw} is_leader`);
        assert.equal(r.isAlive, sr.isAlive, `${rw} is_alive`);
        assert.equal(r.metaOffset, sr.offset, `${rw} metadata offset`);
        const tablet = s.tablets.find((x) => x.endpoint === sr.endpoint);
        const view = tablet?.view ?? null;
        assert.equal(r.tablet, view === null ? 'unknown' : view === 'kHealthy' ? 'healthy' : 'offline', `${rw} tablet`);
        const healthy = view === 'kHealthy' && tablet?.running === true;
        const loaded = healthy ? tablet?.loaded.find((l) => l.tid === st.tid && l.pid === sp.pid) : undefined;
        // The record count (memory tables over HTTP) is at most the offset: one entry, one record.
        const { recordCnt, ...seen } = r.loaded ?? { recordCnt: undefined };
        if (recordCnt !== undefined) assert.ok(recordCnt <= (r.loaded?.offset ?? 0), `${rw} records ${recordCnt} within its offset`);
        assert.deepEqual(r.loaded === undefined ? undefined : seen, loaded === undefined ? undefined : { mode: loaded.mode, state: loaded.state, offset: loaded.offset }, `${rw} loaded`);
        if (healthy && loaded === undefined) {
          // GetTermPair of an unloaded replica: the snapshot MANIFEST's term and offset, never the binlog tail.
          const disk = tablet?.disk.find((d) => d.tid === st.tid && d.pid === sp.pid && d.storageMode === st.storageMode);
          assert.deepEqual(r.snapshot, { term: disk?.snapshotTerm ?? 0, offset: disk?.snapshotOffset ?? 0 }, `${rw} snapshot`);
        } else {
          assert.equal(r.snapshot, undefined, `${rw} snapshot`);
        }
        if (loaded?.mode === 'kTableLeader' && loaded.state === 'kTableNormal') {
          // A serving leader's follower list is what its replicator holds.
          assert.deepEqual(r.followers?.map((f) => f.endpoint).sort(), [...(loaded.followers ?? [])].sort(), `${rw} followers`);
        }
      });
    }
  }

  assert.deepEqual(
    snap.ops.map((o) => ({ opId: o.opId, opType: o.opType, status: o.status, table: o.table, pid: o.pid })),
    [...s.ops].sort((a, b) => a.opId - b.opId).map((o) => ({ opId: o.opId, opType: o.opType, status: o.status, table: o.name, pid: o.pid })),
    'ops',
  );
  for (const o of snap.ops) {
    if (o.db !== undefined) assert.equal(o.db, s.ops.find((x) => x.opId === o.opId)?.db, `op ${o.opId} db`);
  }
}

/**
 * Wait until the nameserver's metadata offsets have caught up with what the running tablets
 * serve (followers synced, then a status poll): before that, a look and a later `ctl state`
 * may straddle a poll and differ by its update.
 */
export async function settled(sim: Sim): Promise<void> {
  await sim.waitFor('metadata offsets polled from the tablets', async () => {
    const s = await simState(sim);
    return s.tables.every((t) =>
      t.partitions.every((p) =>
        p.replicas.every((r) => {
          const tablet = s.tablets.find((x) => x.endpoint === r.endpoint);
          const loaded = tablet?.running ? tablet.loaded.find((l) => l.tid === t.tid && l.pid === p.pid) : undefined;
          return loaded === undefined || loaded.offset === r.offset;
        }),
      ),
    );
  });
}
