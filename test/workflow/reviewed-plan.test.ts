// The reviewed plan's pure parts: what its fingerprint notices, what a resumed apply
// tolerates, the decisions a file cannot mean, and the loss a decision approves.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PartitionPlan } from '../../src/engine/procedure.js';
import { applyProcedure, differences, fingerprintDigest, invalidDecisions, planFile } from '../../src/workflow/procedures/reviewed-plan.js';
import { A, B, C, asFollower, asLeader, oneTable, op, rep, snap, table } from './snapshots.js';

/** After a probe: every replica loaded as a follower, not alive; C's tablet down (unread). */
const probed = (o: { cTablet?: 'healthy' | 'offline'; bOffset?: number } = {}) =>
  snap([oneTable([rep(A, { isLeader: true, isAlive: false, loaded: asFollower(120) }), rep(B, { isAlive: false, loaded: asFollower(o.bOffset ?? 100) }), rep(C, { isAlive: true, tablet: o.cTablet ?? 'offline', snapshot: { term: 2, offset: 90 } })])]);

const decided: PartitionPlan = {
  db: 'demo_db',
  table: 't1',
  tid: 3,
  pid: 0,
  storageMode: 'kMemory',
  segCnt: 8,
  action: 'recover',
  reason: 'leader A',
  evidence: [],
  atStake: 0,
  left: [],
  steps: [{ kind: 'change-role', endpoint: A, mode: 'kTableLeader', term: 3, followers: [B] }],
  leader: { endpoint: A, offset: 120, source: 'loaded', flaggedLeader: true, why: 'highest offset' },
};

const meta = { id: 'plan-20261208-000000-abcd', createdAt: '2026-12-08T00:00:00.000Z', cluster: { zkCluster: 'zk:2181', zkRootPath: '/openmldb' }, autoFailoverBefore: true, holdUntil: '2026-12-08T01:00:00.000Z' };

describe('reviewed plan', () => {
  it('a plan of an unchanged cluster shows no difference; its digest covers the fingerprints only', () => {
    const plan = planFile(meta, probed(), [decided]);
    assert.equal(plan.partitions.length, 1);
    assert.deepEqual(differences(plan, probed(), false), []);
    assert.equal(fingerprintDigest(plan), plan.fingerprint);
    const edited = { ...plan, partitions: plan.partitions.map((p) => ({ ...p, decision: { action: 'skip' as const } })) };
    assert.equal(fingerprintDigest(edited), plan.fingerprint, 'editing a decision keeps the digest');
  });

  it('notices an offset moved, a tablet back, an op started; after a crash (resumed) only the tablet and the replica set', () => {
    const plan = planFile(meta, probed(), [decided]);
    const moved = differences(plan, probed({ bOffset: 101 }), false);
    assert.deepEqual(moved, [`demo_db.t1 pid 0: replica ${B} was kTableFollower at offset 100, now kTableFollower at offset 101`]);
    assert.deepEqual(differences(plan, probed({ bOffset: 101 }), true), [], 'an earlier apply moves offsets itself');
    const back = `demo_db.t1 pid 0: replica ${C}'s tablet was offline, now healthy`;
    assert.ok(differences(plan, probed({ cTablet: 'healthy' }), false).includes(back));
    assert.deepEqual(differences(plan, probed({ cTablet: 'healthy' }), true), [back], 'a tablet back is a reason to stop even when resuming');
    const busy = { ...probed(), ops: [op(9, 'kDoing')] };
    assert.deepEqual(differences(plan, busy, false), ['demo_db.t1 pid 0: ops of the nameserver running for it: 0 -> 1']);
    const recreated = snap([oneTable(probed().tables[0]?.partitions[0]?.replicas ?? [], 0, { tid: 4 })]);
    assert.match(differences(plan, recreated, true)[0] ?? '', /dropped and created again \(tid 3 -> 4\)/);
  });

  it("a served leader's offset is not compared: clients' writes move it", () => {
    const served = () => snap([table('t1', [{ pid: 0, replicas: [rep(A, { isLeader: true, loaded: asLeader(500) }), rep(B, { loaded: asFollower(500) }), rep(C, { isAlive: false })] }])]);
    const plan = planFile(meta, served(), [{ ...decided, reason: 'rebuild C', steps: [{ kind: 'recover-replica', endpoint: C }] }]);
    const later = served();
    const p0 = later.tables[0]?.partitions[0];
    if (p0) p0.replicas = [rep(A, { isLeader: true, loaded: asLeader(650) }), rep(B, { loaded: asFollower(640) }), rep(C, { isAlive: false })];
    assert.deepEqual(differences(plan, later, false), []);
  });

  it('decisions a file cannot mean: a leader that is no replica, a refused partition applied without a leader', () => {
    const plan = planFile(meta, probed(), [{ ...decided, action: 'refused', steps: [] }]);
    assert.deepEqual(invalidDecisions(plan), [], 'refused, skipped by default');
    const p = plan.partitions[0];
    assert.ok(p);
    p.decision = { action: 'apply' };
    assert.match(invalidDecisions(plan)[0] ?? '', /refused by the plan; to apply it, name decision\.leader/);
    p.decision = { action: 'apply', leader: '10.9.9.9:1' };
    assert.match(invalidDecisions(plan)[0] ?? '', /decision\.leader 10\.9\.9\.9:1 is not one of its replicas/);
  });

  it('apply refuses a partition whose leader would now lose more than the plan approved', () => {
    const plan = planFile(meta, probed(), [decided]);
    const p = plan.partitions[0];
    assert.ok(p);
    // B now holds more than A, the planned leader: pinned to A, the loss is one the plan never
    // showed. Even a decision that accepts loss accepts only what the plan showed (none).
    p.decision = { action: 'apply', acceptDataLoss: true };
    const now = snap([oneTable([rep(A, { isLeader: true, isAlive: false, loaded: asFollower(120) }), rep(B, { isAlive: false, loaded: asFollower(150) }), rep(C, { isAlive: false, loaded: asFollower(100) })])]);
    const proc = applyProcedure(plan, {})(now);
    const planned = proc.plan(proc.scope ? proc.scope(now) : now, { round: 1, done: new Set(), ran: new Set() }).partitions;
    assert.equal(planned.length, 1);
    assert.equal(planned[0]?.action, 'refused', planned[0]?.reason);
    assert.match(planned[0]?.reason ?? '', /the plan approved 0 entries at stake, but 127\.0\.0\.1:9520 now lacks 30 another replica holds/);
    assert.deepEqual(planned[0]?.steps, []);
  });
});
