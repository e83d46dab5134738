// The manual procedures' planning: pure functions of a snapshot and of what the run has
// done so far (which cluster-wide command ran, which partitions finished).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterSnapshot, Replica } from '../../src/cluster/types.js';
import { Refused, UsageError } from '../../src/exit-codes.js';
import { describeStep } from '../../src/engine/procedure.js';
import { changeLeaderProcedure } from '../../src/workflow/procedures/change-leader.js';
import { offlineEndpointProcedure, offlineVerdict, planOfflinePartition } from '../../src/workflow/procedures/offline-endpoint.js';
import { recoverEndpointProcedure } from '../../src/workflow/procedures/recover-endpoint.js';
import { recoverTableProcedure } from '../../src/workflow/procedures/recover-table.js';
import type { Round } from '../../src/engine/procedure.js';
import { A, B, C, asFollower, asLeader, oneTable, op, rep, servedPartition, snap, table } from './snapshots.js';

const round = (n: number, ran: string[] = [], done: string[] = []): Round => ({ round: n, ran: new Set(ran) as Round['ran'], done: new Set(done) });
const down = (ep: string, o: Partial<Replica> = {}) => rep(ep, { tablet: 'offline', ...o });
const one = (replicas: Replica[], ops = [op(1, 'kDone')]): ClusterSnapshot => snap([oneTable(replicas)], ops);
const commands = (p: { steps: Parameters<typeof describeStep>[0][] } & Parameters<typeof describeStep>[1]) => p.steps.map((s) => describeStep(s, p));

describe('offline-endpoint planning', () => {
  const planOne = (replicas: Replica[], ran: boolean, ops = [op(1, 'kDone')]) => {
    const s = one(replicas, ops);
    return planOfflinePartition(s.tables[0]!, s.tables[0]!.partitions[0]!, s, C, ran);
  };

  it('before the command: what offlineendpoint will do, per partition', () => {
    const leaderHere = planOne([down(C, { isLeader: true }), rep(A, { loaded: asFollower(5) }), rep(B)], false);
    assert.equal(leaderHere.action, 'recover');
    assert.deepEqual(leaderHere.via, [`offlineendpoint ${C}`]);
    assert.match(leaderHere.reason, /kChangeLeaderOP/);
    const followerHere = planOne([rep(A, { isLeader: true }), down(C)], false);
    assert.match(followerHere.reason, new RegExp(`leader ${A}'s replica set .*kOfflineReplicaOP`));
    assert.match(planOne([down(C, { isLeader: true })], false).reason, /single replica.*kUpdatePartitionStatusOP/);
    assert.equal(planOne([rep(A, { isLeader: true }), down(C, { isAlive: false })], false).action, 'none', 'already out of service');
    assert.equal(planOne([rep(A, { isLeader: true }), down(C)], false, [op(9, 'kDoing')]).action, 'wait');
  });

  it('after the command: each partition still not out of service is finished on its own', () => {
    const noLeader = planOne([down(C, { isLeader: true }), rep(A), rep(B)], true);
    assert.deepEqual(commands(noLeader), [`changeleader t1 0 auto (away from ${C})`, 'showopstatus t1 0 until no op is kInited or kDoing', `updatetablealive t1 0 ${C} no`]);
    assert.deepEqual(commands(planOne([rep(A, { isLeader: true }), down(C)], true)), [`updatetablealive t1 0 ${C} no`]);
    assert.deepEqual(commands(planOne([down(C, { isLeader: true })], true)), [`updatetablealive t1 0 ${C} no`]);
    const stuck = planOne([down(C, { isLeader: true }), down(A)], true);
    assert.equal(stuck.action, 'blocked');
    assert.match(stuck.reason, /no alive follower on a healthy tablet/);
  });

  it('the verdict: not alive there, an alive serving leader elsewhere', () => {
    const s = one([rep(A, { isLeader: true, loaded: asLeader(9) }), down(C, { isAlive: false })]);
    assert.deepEqual(offlineVerdict(s.tables[0]!, s.tables[0]!.partitions[0]!, s, C), { healthy: true, problems: [], warnings: [] });
    const bad = one([rep(A, { isLeader: true }), down(C)]);
    assert.deepEqual(offlineVerdict(bad.tables[0]!, bad.tables[0]!.partitions[0]!, bad, C).problems, [
      `pid 0: replica ${C} is still alive in the metadata`,
      `pid 0: leader ${A} does not serve it as leader (not loaded)`,
    ]);
    const single = one([down(C, { isLeader: true, isAlive: false })]);
    assert.match(offlineVerdict(single.tables[0]!, single.tables[0]!.partitions[0]!, single, C).warnings[0]!, /only replica/);
  });

  it('refuses a healthy or unknown tablet; the command runs once, not while an op is in flight', () => {
    const healthy = one([rep(A, { isLeader: true }), rep(C)]);
    assert.throws(() => offlineEndpointProcedure({ endpoint: C })(healthy), Refused);
    assert.throws(() => offlineEndpointProcedure({ endpoint: '10.0.0.1:1' })(healthy), UsageError);
    const s = snap([table('t1', [{ pid: 0, replicas: [down(C, { isLeader: true }), rep(A)] }, { pid: 1, replicas: [rep(A, { isLeader: true }), down(C)] }])]);
    const proc = offlineEndpointProcedure({ endpoint: C, concurrency: 3 })(s);
    assert.deepEqual(proc.plan(s, round(1)).cluster, [{ kind: 'offline-endpoint', endpoint: C, concurrency: 3 }]);
    assert.deepEqual(proc.plan(s, round(2, ['offline-endpoint'])).cluster, []);
    const busy = { ...s, ops: [op(4, 'kDoing', { pid: 1 })] };
    assert.deepEqual(proc.plan(busy, round(1)).cluster, [], 'an op in flight: wait for it first');
  });
});

describe('recover-endpoint planning', () => {
  it('refuses a tablet that is not healthy, or was never offlined; nothing to do when all is served', () => {
    assert.throws(() => recoverEndpointProcedure({ endpoint: C, needRestore: false })(one([rep(A, { isLeader: true }), down(C, { isAlive: false })])), Refused);
    const never = one([rep(A, { isLeader: true, loaded: asLeader(5) }), rep(C)]);
    assert.throws(() => recoverEndpointProcedure({ endpoint: C, needRestore: false })(never), /never taken offline/);
    const served = snap([oneTable(servedPartition(0).replicas)]);
    const proc = recoverEndpointProcedure({ endpoint: C, needRestore: false })(served);
    assert.deepEqual(proc.plan(served, round(1)), { partitions: [proc.plan(served, round(1)).partitions[0]!], cluster: [] });
    assert.equal(proc.plan(served, round(1)).partitions[0]!.action, 'none');
  });

  it('recoverendpoint first, then recovertable for what did not come back', () => {
    const s = one([rep(A, { isLeader: true, loaded: asLeader(9) }), rep(C, { isAlive: false })]);
    const proc = recoverEndpointProcedure({ endpoint: C, needRestore: true })(s);
    const first = proc.plan(s, round(1));
    assert.deepEqual(first.cluster, [{ kind: 'recover-endpoint', endpoint: C, needRestore: true }]);
    assert.deepEqual(first.partitions[0]!.via, [`recoverendpoint ${C} true`]);
    assert.deepEqual(commands(proc.plan(s, round(2, ['recover-endpoint'])).partitions[0]!), [`recovertable t1 0 ${C}`, 'showopstatus t1 0 until no op is kInited or kDoing']);
    const noLeader = one([rep(A, { isLeader: true }), rep(C, { isAlive: false })]);
    assert.equal(proc.plan(noLeader, round(1)).partitions[0]!.action, 'blocked');
  });
});

describe('change-leader planning', () => {
  const s = snap([oneTable([rep(A, { isLeader: true, loaded: asLeader(9) }), rep(B, { loaded: asFollower(9) }), rep(C, { isAlive: false })])]);

  it('auto moves the leadership away from the leader found at the start', () => {
    const proc = changeLeaderProcedure({ db: 'demo_db', name: 't1', pid: 0, to: 'auto' })(s);
    const p = proc.plan(s, round(1)).partitions[0]!;
    assert.deepEqual(p.steps[0], { kind: 'change-leader', endpoint: 'auto', from: A });
    const moved = snap([oneTable([rep(A, { isLeader: true, isAlive: false }), rep(B, { isLeader: true, loaded: asLeader(9) }), rep(C, { isAlive: false })])]);
    assert.equal(proc.plan(moved, round(2)).partitions[0]!.action, 'none');
    const v = proc.verdict?.(moved.tables[0]!, moved.tables[0]!.partitions[0]!, moved, {});
    assert.deepEqual(v?.problems, []);
    assert.match(v?.warnings[0] ?? '', new RegExp(`old leader ${A} is not alive now`));
  });

  it('a named follower: done when it leads; refused when it is not alive; unknown names are usage errors', () => {
    const toB = changeLeaderProcedure({ db: 'demo_db', name: 't1', pid: 0, to: B })(s);
    assert.deepEqual(toB.plan(s, round(1)).partitions[0]!.steps[0], { kind: 'change-leader', endpoint: B });
    const toA = changeLeaderProcedure({ db: 'demo_db', name: 't1', pid: 0, to: A })(s);
    assert.equal(toA.plan(s, round(1)).partitions[0]!.action, 'none');
    const toC = changeLeaderProcedure({ db: 'demo_db', name: 't1', pid: 0, to: C })(s);
    assert.equal(toC.plan(s, round(1)).partitions[0]!.action, 'refused');
    assert.throws(() => changeLeaderProcedure({ db: 'demo_db', name: 't1', pid: 3, to: 'auto' })(s), UsageError);
    assert.throws(() => changeLeaderProcedure({ db: 'demo_db', name: 't1', pid: 0, to: '10.0.0.1:1' })(s), UsageError);
  });
});

describe('recover-table planning', () => {
  const s = snap([table('t1', [servedPartition(0), { pid: 1, replicas: [rep(A, { isLeader: true, metaOffset: 9 }), rep(B, { metaOffset: 9 })] }])]);

  it('plans served partitions too, until their procedure ran once; --pid narrows', () => {
    const proc = recoverTableProcedure({ db: 'demo_db', name: 't1', leaders: new Map(), acceptDataLoss: false })(s);
    const scoped = proc.scope?.(s) ?? s;
    // the served one rebuilds its followers; the other reads its replicas before choosing
    assert.deepEqual(proc.plan(scoped, round(1)).partitions.map((p) => p.action), ['recover', 'probe']);
    assert.deepEqual(proc.plan(scoped, round(2, [], ['demo_db.t1:0'])).partitions.map((p) => p.action), ['none', 'probe'], 'a finished one is not forced again');
    const only1 = recoverTableProcedure({ db: 'demo_db', name: 't1', pids: [1], leaders: new Map(), acceptDataLoss: false })(s);
    assert.deepEqual(only1.scope?.(s).tables[0]!.partitions.map((p) => p.pid), [1]);
  });

  it('unknown pid or --leader endpoint: usage errors; a named leader reaches the plan', () => {
    assert.throws(() => recoverTableProcedure({ db: 'demo_db', name: 't1', pids: [4], leaders: new Map(), acceptDataLoss: false })(s), /has no partition 4/);
    assert.throws(() => recoverTableProcedure({ db: 'demo_db', name: 't1', leaders: new Map([[1, C]]), acceptDataLoss: false })(s), /is not a replica/);
    const named = recoverTableProcedure({ db: 'demo_db', name: 't1', leaders: new Map([[1, B]]), acceptDataLoss: false })(s);
    // once both replicas are read (loaded), the named one leads even though A holds as much
    const read = snap([table('t1', [servedPartition(0), { pid: 1, replicas: [rep(A, { isLeader: true, isAlive: false, loaded: asFollower(9) }), rep(B, { isAlive: false, loaded: asFollower(9) })] }])]);
    assert.equal(named.plan(read, round(1)).partitions[1]!.leader?.endpoint, B);
  });
});
