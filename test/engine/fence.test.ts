// The fence before auto_failover goes back on (src/engine/fence.ts): which replicas are
// marked not alive, and, in process against the simulator, the interleaving it exists for:
// the tablet of the chosen leader crashes before the leader change, the run ends, the
// nameserver gets auto_failover back and the tablet returns.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Replica } from '../../src/cluster/types.js';
import { RunMemory } from '../../src/engine/run-memory.js';
import { FailoverKeeper } from '../../src/engine/failover-keeper.js';
import { fencePlan } from '../../src/engine/fence.js';
import { Interrupt } from '../../src/engine/interrupt.js';
import { partitionKey } from '../../src/engine/run-memory.js';
import { createProgress } from '../../src/engine/progress.js';
import type { Report } from '../../src/engine/report.js';
import { BACKOFF } from '../../src/engine/retry.js';
import { runProcedure } from '../../src/engine/run.js';
import { recoveryProcedure } from '../../src/workflow/procedures/recover.js';
import type { EngineCluster } from '../../src/engine/cluster.js';
import { type InProcessSim, closeAllInProcess, inProcessSim } from '../helpers/in-process.js';
import { A, B, C, asFollower, asLeader, oneTable, op, rep, snap } from '../workflow/snapshots.js';

const K = partitionKey('demo_db', 't1', 0);
const fenced = (replicas: Replica[], worked = new Set([K])) => fencePlan(snap([oneTable(replicas)]), worked).map((f) => f.endpoint);

describe('fencePlan', () => {
  it('a worked partition with no serving leader and a replica out of reach: every alive replica, out of reach too', () => {
    // The chosen leader B crashed before the change: A (flagged leader) and C alive, holding less.
    const replicas = [rep(A, { isLeader: true, loaded: asFollower(373) }), rep(B, { tablet: 'offline' }), rep(C, { loaded: asFollower(373) })];
    assert.deepEqual(fenced(replicas), [A, B, C]);
    const [first] = fencePlan(snap([oneTable(replicas)]), new Set([K]));
    assert.match(first?.why ?? '', /127\.0\.0\.1:9521 \(tablet offline\) out of reach/);
  });

  it('the leader itself out of reach, its followers alive: fenced', () => {
    assert.deepEqual(fenced([rep(A, { isLeader: true, tablet: 'offline' }), rep(B, { loaded: asFollower(90) }), rep(C, { loaded: asFollower(90) })]), [A, B, C]);
  });

  // Clients' writes the leader acknowledged may not have reached a follower yet: with
  // auto_failover on, the nameserver would make a follower leader and lose them.
  it('a partition no run worked on whose alive leader\'s tablet went down: fenced; only a follower down: left', () => {
    assert.deepEqual(fenced([rep(A, { isLeader: true, tablet: 'offline' }), rep(B, { loaded: asFollower(90) }), rep(C, { loaded: asFollower(88) })], new Set()), [A, B, C]);
    assert.deepEqual(fenced([rep(A, { isLeader: true, loaded: asLeader(90) }), rep(B, { tablet: 'offline' }), rep(C, { loaded: asFollower(90) })], new Set()), []);
  });

  // A tablet whose process died stays listed healthy until its ZooKeeper session expires:
  // asked directly, it does not answer (`down`).
  it('a leader on a tablet listed healthy that does not answer: fenced, named as not answering; its follower down alone: left', () => {
    const replicas = [rep(A, { isLeader: true, loaded: asLeader(90) }), rep(B, { loaded: asFollower(90) })];
    assert.deepEqual(fenced(replicas, new Set()), [], 'both answer: led');
    const fences = fencePlan(snap([oneTable(replicas)]), new Set(), new Set([A]));
    assert.deepEqual(fences.map((f) => f.endpoint), [A, B]);
    assert.match(fences[0]?.why ?? '', /127\.0\.0\.1:9520 \(tablet not answering\) out of reach/);
    assert.deepEqual(fencePlan(snap([oneTable(replicas)]), new Set(), new Set([B])), [], 'a follower down: the leader still serves');
  });

  it('left alone while an op of the nameserver still runs for it', () => {
    const replicas = [rep(A, { isLeader: true }), rep(B, { tablet: 'offline' }), rep(C, { loaded: asFollower(9) })];
    const s = snap([oneTable(replicas)], [op(9, 'kDoing', { opType: 'kChangeLeaderOP' })]);
    assert.deepEqual(fencePlan(s, new Set([K])), []);
    assert.equal(fencePlan(snap([oneTable(replicas)], [op(9, 'kFailed', { opType: 'kChangeLeaderOP' })]), new Set([K])).length, 3, 'an op that ended does not count');
  });

  it('left alone: a serving leader, every tablet up, a partition no run worked on, replicas already not alive, an unknown endpoint', () => {
    const served = [rep(A, { isLeader: true, loaded: asLeader(100) }), rep(B, { tablet: 'offline' }), rep(C, { loaded: asFollower(100) })];
    assert.deepEqual(fenced(served), [], 'a serving leader on a healthy tablet: the nameserver leaves it be');
    assert.deepEqual(fenced([rep(A, { isLeader: true, loaded: asFollower(5) }), rep(B, { loaded: asFollower(9) })]), [], 'nothing out of reach');
    assert.deepEqual(fenced([rep(A, { isLeader: true }), rep(B, { tablet: 'offline' })], new Set()), [], 'not worked on by any run, its leader on a healthy tablet');
    assert.deepEqual(fenced([rep(A, { isLeader: true, isAlive: false }), rep(B, { tablet: 'offline', isAlive: false }), rep(C, { isAlive: true, tablet: 'unknown' })]), []);
  });
});

/** The engine on the in-process simulator, as `recover` runs it (fast retries), with the state a crashed run would leave. */
async function recover(sim: InProcessSim, cluster: EngineCluster, memory: RunMemory): Promise<Report> {
  const progress = createProgress({ quiet: true, stream: { write: () => true } as unknown as NodeJS.WriteStream });
  const backoff = { minTimeout: BACKOFF.minTimeout / 10, maxTimeout: BACKOFF.maxTimeout / 10 };
  const where = { zkCluster: 'in-process', zkRootPath: sim.cluster.options.rootPath };
  const keeper = new FailoverKeeper(undefined, { command: 'recover', cluster: where }, progress);
  keeper.restoreBackoff = backoff;
  return runProcedure(cluster, {
    command: 'recover',
    dryRun: false,
    procedure: () => recoveryProcedure({ acceptDataLoss: false }),
    apply: { concurrency: 64, perTablet: 3, loadTimeoutMs: 3000, opTimeoutMs: 10000, retries: 4, partitionAttempts: 3, pollMs: 10, backoff },
    progress,
    interrupt: new Interrupt(() => undefined),
    where,
    keeper,
    memory,
  });
}

describe('the fence, in process', { timeout: 120000 }, () => {
  after(() => closeAllInProcess());

  it("the chosen leader's tablet crashes before the leader change: its partition is left with no replica alive, auto_failover goes back on, and nothing is lost when the tablet returns; the next run serves it", async () => {
    // full-restart, seed 2: in some partition a follower holds more than every other replica.
    const sim = await inProcessSim({ scenario: 'full-restart', tables: 2, partitions: 4 }, { seed: 2 });
    try {
      const memory = new RunMemory();
      let crashed: { table: string; pid: number; endpoint: string } | undefined;
      const { cluster } = sim.connect();
      const crashing: EngineCluster = {
        ...cluster,
        changeLeader: async (db, table, pid, candidate) => {
          if (!crashed && candidate !== undefined && candidate !== 'auto' && (await holdsMost(cluster, db, table, pid, candidate))) {
            crashed = { table, pid, endpoint: candidate };
            await sim.ctl('tablet', { action: 'stop', endpoint: candidate });
          }
          return cluster.changeLeader(db, table, pid, candidate);
        },
      };
      const first = await recover(sim, crashing, memory);
      assert.ok(crashed, 'the scenario has a follower holding more than every other replica, which must become leader');
      const { table, pid, endpoint } = crashed;
      assert.notEqual(first.exitCode, 0);
      const part = first.tables.find((t) => t.name === table)?.partitions.find((p) => p.pid === pid);
      assert.ok(part && part.status !== 'recovered' && part.status !== 'healthy', 'the partition is reported');
      assert.equal(sim.cluster.autoFailover, true, 'auto_failover is back on');
      const meta = sim.cluster.tables.find((t) => t.name === table)?.partitions.find((p) => p.pid === pid);
      const leftAlive = meta?.replicas.filter((r) => r.isAlive).map((r) => r.endpoint);

      // The tablet comes back with auto_failover on: the nameserver runs its offline and
      // recover steps (OnTabletOnline), and has nothing to choose from.
      await sim.ctl('tablet', { action: 'start', endpoint, wait: true });
      await waitFor(async () => {
        const { ops } = (await sim.ctl('state')) as { ops: Array<{ status: string }> };
        return sim.cluster.tablets().some((t) => t.endpoint === endpoint && t.running) && !ops.some((o) => o.status === 'kInited' || o.status === 'kDoing');
      });
      assert.doesNotMatch(sim.check().problems.join('\n'), /entries held before the incident are lost/);
      assert.deepEqual(leftAlive, [], 'no replica of it was left alive');
      assert.ok(part.actions.some((a) => a.command.endsWith(' no') && /before auto_failover goes back on/.test(a.detail ?? '')), JSON.stringify(part.actions));

      const second = await recover(sim, sim.connect().cluster, memory);
      assert.equal(second.exitCode, 0, JSON.stringify(second.errors));
      const end = sim.check();
      assert.deepEqual(end.problems.filter((p) => /lost/.test(p)), []);
    } finally {
      await sim.close();
    }
  });
});

/** Does `endpoint` hold more entries than every other replica of the partition (as their tablets serve them now)? */
async function holdsMost(cluster: EngineCluster, db: string, table: string, pid: number, endpoint: string): Promise<boolean> {
  const reads = cluster.reads();
  const rows = (await reads.tableRows(db, table)).filter((r) => r.pid === pid);
  const offsets = new Map<string, number>();
  for (const r of rows) offsets.set(r.endpoint, (await reads.loaded(r.endpoint, r.tid, pid))?.offset ?? 0);
  const mine = offsets.get(endpoint) ?? 0;
  return [...offsets].every(([e, o]) => e === endpoint || o < mine);
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 20000): Promise<void> {
  for (const until = Date.now() + timeoutMs; !(await cond()); ) {
    if (Date.now() > until) throw new Error('timed out waiting for the nameserver to settle');
    await new Promise((r) => setTimeout(r, 20));
  }
}
