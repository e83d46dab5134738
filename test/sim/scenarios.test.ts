// Each scenario starts the cluster in the state its name promises, reproducibly under a seed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Sim, withSim } from '../helpers/sim.js';

interface ReplicaState { endpoint: string; isLeader: boolean; isAlive: boolean; offset?: number }
interface Disk { tid: number; pid: number; binlogOffset: number; snapshotOffset: number; log: Array<{ start: number; term: number; writer: number }> }
interface State {
  autoFailover: boolean;
  tablets: Array<{ endpoint: string; running: boolean; view: string | null; loaded: Array<{ tid: number; pid: number; mode: string; offset: number }>; disk: Disk[] }>;
  tables: Array<{ tid: number; db: string; name: string; storageMode: string; partitions: Array<{ pid: number; replicas: ReplicaState[]; termOffset: Array<{ term: number; offset: number }> }> }>;
  ops: Array<{ opId: number; opType: string; status: string }>;
}

const state = (sim: Sim) => sim.ctl<State>('state');
const userTables = (s: State) => s.tables.filter((t) => t.db === 'demo_db');
const diskOf = (s: State, endpoint: string, tid: number, pid: number) => s.tablets.find((t) => t.endpoint === endpoint)?.disk.find((d) => d.tid === tid && d.pid === pid);
const diskOffset = (s: State, endpoint: string, tid: number, pid: number) => diskOf(s, endpoint, tid, pid)?.binlogOffset ?? -1;
/** Who wrote the entry at `offset` (the simulator's writer id; see src/sim/log.ts). */
const writerAt = (d: Disk, offset: number) => [...d.log].reverse().find((g) => g.start <= offset)?.writer;

/** The state with endpoints replaced by tablet indexes, so two runs can be compared. */
function normalized(s: State): unknown {
  const idx = new Map(s.tablets.map((t, i) => [t.endpoint, `tablet${i}`]));
  return {
    autoFailover: s.autoFailover,
    tables: s.tables.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ pid: p.pid, replicas: p.replicas.map((r) => ({ ...r, endpoint: idx.get(r.endpoint) })) })) })),
    disks: s.tablets.map((t) => t.disk),
    loaded: s.tablets.map((t) => t.loaded.map((l) => ({ tid: l.tid, pid: l.pid, mode: l.mode, offset: l.offset }))),
    ops: s.ops.map((o) => ({ type: o.opType, status: o.status })),
  };
}

describe('scenarios', () => {
  it('healthy: check passes, with mixed storage modes and the system tables', async () => {
    await withSim(['--scenario', 'healthy', '--tables', '3'], async (sim) => {
      const r = await sim.check();
      assert.equal(r.ok, true, r.problems.join('; '));
      const s = await state(sim);
      assert.deepEqual([...new Set(userTables(s).map((t) => t.storageMode))].sort(), ['kMemory', 'kSSD']);
      assert.ok(s.tables.some((t) => t.db === '__INTERNAL_DB' && t.name === 'USER'));
      assert.ok(s.tables.filter((t) => t.db !== 'demo_db').every((t) => t.partitions.every((p) => p.replicas.length === 1)), 'system tables are single-replica');
    });
  });

  it('full-restart, every seed: metadata offsets that lie in both directions, a follower fuller than the flagged leader', async () => {
    for (const seed of ['21', '22', '23']) {
      await withSim(['--scenario', 'full-restart', '--seed', seed], async (sim) => {
        const s = await state(sim);
        const parts = userTables(s).flatMap((t) => t.partitions.map((p) => ({ t, p })));
        const truth = (t: { tid: number }, p: { pid: number }, r: ReplicaState) => diskOffset(s, r.endpoint, t.tid, p.pid);
        // the nameserver reloaded what was last persisted: never polled values for a table whose node was never rewritten
        assert.ok(userTables(s).some((t) => t.partitions.every((p) => p.replicas.every((r) => r.offset === undefined))), `seed ${seed}: a table shows '-' offsets`);
        // the fuller replica shows less than another one, or nothing
        const misleading = parts.filter(({ t, p }) => {
          const fuller = [...p.replicas].sort((a, b) => truth(t, p, b) - truth(t, p, a))[0] as ReplicaState;
          return p.replicas.some((r) => r !== fuller && truth(t, p, r) < truth(t, p, fuller) && (r.offset ?? -1) >= (fuller.offset ?? -1));
        });
        assert.ok(misleading.length > 0, `seed ${seed}: metadata ranks some partition's fuller replica no higher than a poorer one`);
        const understated = parts.some(({ t, p }) => p.replicas.some((r) => r.offset !== undefined && r.offset < truth(t, p, r)));
        assert.ok(understated, `seed ${seed}: some metadata offsets are below the truth`);
        const followerAhead = parts.some(({ t, p }) => {
          const flagged = p.replicas.find((r) => r.isLeader && r.isAlive);
          return flagged && p.replicas.some((r) => !r.isLeader && truth(t, p, r) > truth(t, p, flagged));
        });
        assert.ok(followerAhead, `seed ${seed}: after the power loss a follower holds more than the flagged leader`);
        assert.ok(s.tablets.every((t) => t.running && t.loaded.length === 0), 'every tablet restarted with nothing loaded');
      });
    }
  });

  it('full-restart-after-failover: dead replicas, two flagged leaders, a new term, and a diverged tail', async () => {
    await withSim(['--scenario', 'full-restart-after-failover', '--seed', '5', '--diverged-tails', '1'], async (sim) => {
      const s = await state(sim);
      const parts = userTables(s).flatMap((t) => t.partitions.map((p) => ({ t, p })));
      assert.ok(parts.some(({ p }) => p.replicas.some((r) => !r.isAlive)), 'some replicas alive=no');
      const twoLeaders = parts.filter(({ p }) => p.replicas.filter((r) => r.isLeader).length >= 2);
      assert.ok(twoLeaders.length > 0, 'partitions with two replicas flagged leader');
      for (const { p } of twoLeaders) assert.ok(p.termOffset.length >= 2, 'each leader change recorded a term');
      // the old leader's unreplicated entries and the new leader's sit at the same offsets
      const diverged = twoLeaders.filter(({ t, p }) => {
        const [a, b] = p.replicas.filter((r) => r.isLeader).map((r) => diskOf(s, r.endpoint, t.tid, p.pid));
        return a && b && writerAt(a, Math.min(a.binlogOffset, b.binlogOffset)) !== writerAt(b, Math.min(a.binlogOffset, b.binlogOffset));
      });
      assert.equal(diverged.length, 1, 'one diverged tail');
      assert.ok(s.tablets.every((t) => t.running && t.loaded.length === 0), 'every tablet restarted with nothing loaded');
    });
  });

  it('node-down with auto_failover on: the nameserver moved the leaders away', async () => {
    await withSim(['--scenario', 'node-down', '--auto-failover'], async (sim) => {
      const s = await state(sim);
      const down = s.tablets.find((t) => !t.running);
      assert.ok(down, 'one tablet is down');
      assert.equal(down.view, 'kOffline');
      for (const t of userTables(s)) {
        for (const p of t.partitions) {
          const mine: ReplicaState | undefined = p.replicas.find((r) => r.endpoint === down.endpoint);
          if (!mine) continue;
          assert.equal(mine.isAlive, false, `${t.name}:${p.pid} replica on the dead tablet marked not alive`);
          assert.ok(p.replicas.some((r) => r.isLeader && r.isAlive && r.endpoint !== down.endpoint), `${t.name}:${p.pid} has a new leader`);
        }
      }
    });
  });

  it('node-down with auto_failover off: the metadata still says alive', async () => {
    await withSim(['--scenario', 'node-down', '--no-auto-failover'], async (sim) => {
      const s = await state(sim);
      const down = s.tablets.find((t) => !t.running);
      assert.ok(down);
      assert.equal(down.view, 'kOffline');
      assert.equal(s.autoFailover, false);
      assert.ok(userTables(s).every((t) => t.partitions.every((p) => p.replicas.every((r) => r.isAlive))));
    });
  });

  it('partition-lost: the partitions whose every node died are unloaded, with failed recovery ops', async () => {
    await withSim(['--scenario', 'partition-lost', '--replicas', '2', '--tablets', '3', '--partitions', '3'], async (sim) => {
      const s = await state(sim);
      const r = await sim.check();
      assert.equal(r.ok, false);
      assert.ok(s.tablets.every((t) => t.running), 'the nodes came back');
      const lost = userTables(s).flatMap((t) => t.partitions.filter((p) => !s.tablets.some((tb) => tb.loaded.some((l) => l.tid === t.tid && l.pid === p.pid))));
      assert.ok(lost.length > 0, 'some partitions have no loaded replica');
      for (const p of lost) assert.ok(p.replicas.filter((x) => x.isAlive).length <= 1, 'at most the last replica still alive');
      assert.ok(s.ops.some((o) => o.status === 'kFailed'), 'the automatic recovery failed for them');
      const healthyParts = userTables(s).flatMap((t) => t.partitions).length - lost.length;
      assert.ok(healthyParts > 0, 'the other partitions were recovered by auto_failover');
    });
  });

  it('is reproducible under a seed', async () => {
    const args = ['--scenario', 'full-restart-after-failover', '--seed', '42', '--tables', '2', '--partitions', '2'];
    const a = await withSim(args, async (sim) => normalized(await state(sim)));
    const b = await withSim(args, async (sim) => normalized(await state(sim)));
    assert.deepEqual(a, b);
    const c = await withSim([...args.slice(0, -5), '43', '--tables', '2', '--partitions', '2'], async (sim) => normalized(await state(sim)));
    assert.notDeepEqual(a, c, 'another seed gives another cluster');
  });
});
