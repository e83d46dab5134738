// The recovery plan: leader choice by evidence, refusals, the runbook's steps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Op, Replica, Table } from '../../src/cluster/types.js';
import {
  describeStep,
  gatherEvidence,
  type PartitionPlan,
  type PlanOptions,
  partitionKey,
  planRecovery,
  type Step,
} from '../../src/workflow/plan.js';
import { A, asFollower, asLeader, B, C, oneTable, op, rep, servedPartition, snap, table } from './snapshots.js';

const SAFE: PlanOptions = { acceptDataLoss: false };
const LOSSY: PlanOptions = { acceptDataLoss: true };

/** Plan the single partition of a one-table snapshot. */
function plan1(replicas: Replica[], options: PlanOptions = SAFE, ops: Op[] = [], t: Partial<Table> = {}): PartitionPlan {
  const p = planRecovery(snap([oneTable(replicas, 0, t)], ops), options).partitions;
  assert.equal(p.length, 1);
  return p[0]!;
}

/** Steps as the runbook commands they stand for. */
const commands = (p: PartitionPlan): string[] => p.steps.map((s) => describeStep(s, p));

const offline = (ep: string, offset: number, o: Partial<Replica> = {}) => rep(ep, { tablet: 'offline', metaOffset: offset, ...o });

describe('planRecovery', () => {
  it('a served partition: nothing to do', () => {
    const p = plan1(servedPartition(0).replicas);
    assert.equal(p.action, 'none');
    assert.equal(p.reason, 'healthy');
    assert.deepEqual(p.steps, []);
    assert.equal(p.leader, undefined);
    assert.deepEqual(p.evidence.map((e) => [e.endpoint, e.offset, e.source]), [[A, 100, 'loaded'], [B, 100, 'loaded'], [C, 100, 'loaded']]);
  });

  it('full restart: the flagged leader holds the most data -> the whole manual procedure', () => {
    const p = plan1([
      rep(A, { isLeader: true, metaOffset: 2153 }),
      rep(B, { metaOffset: 2100 }),
      rep(C, { metaOffset: 2000 }),
    ]);
    assert.equal(p.action, 'recover');
    assert.deepEqual(p.leader, { endpoint: A, offset: 2153, source: 'metadata', flaggedLeader: true, why: 'highest offset 2153 (metadata)' });
    assert.equal(p.atStake, 0);
    assert.deepEqual(p.left, []);
    assert.deepEqual(commands(p), [
      `updatetablealive t1 0 ${B} no`,
      `updatetablealive t1 0 ${C} no`,
      `loadtable t1 3 0 144000 8 (on ${A})`,
      `gettablestatus 3 0 on ${A} until it serves (kTableNormal)`,
      `recovertable t1 0 ${B}`,
      `recovertable t1 0 ${C}`,
      'showopstatus t1 0 until no op is kInited or kDoing',
    ]);
  });

  it('a follower with more data than the flagged leader wins: load as follower, then changeleader', () => {
    const p = plan1([
      rep(A, { isLeader: true, metaOffset: 2100 }),
      rep(B, { metaOffset: 2153, isAlive: false }),
      rep(C, { metaOffset: 2000 }),
    ]);
    assert.equal(p.action, 'recover');
    assert.equal(p.leader?.endpoint, B);
    assert.equal(p.leader?.flaggedLeader, false);
    assert.equal(p.leader?.why, `highest offset 2153 (metadata); flagged leader ${A} has 2100`);
    assert.equal(p.atStake, 0);
    assert.deepEqual(p.steps, [
      { kind: 'set-alive', endpoint: A, alive: false },
      { kind: 'set-alive', endpoint: C, alive: false },
      { kind: 'load', endpoint: B, mode: 'kTableFollower' },
      { kind: 'wait-loaded', endpoint: B },
      { kind: 'set-alive', endpoint: B, alive: true },
      { kind: 'change-leader', endpoint: B },
      { kind: 'wait-ops' },
      { kind: 'recover-replica', endpoint: A },
      { kind: 'recover-replica', endpoint: C },
      { kind: 'wait-ops' },
    ] satisfies Step[]);
    assert.equal(describeStep(p.steps[2]!, p), `loadtable t1 3 0 144000 8 false (on ${B})`);
    assert.equal(describeStep(p.steps[5]!, p), `changeleader t1 0 ${B}`);
  });

  it('two replicas flagged leader: the higher offset wins, whichever comes last', () => {
    // After a failover: the old leader A keeps is_leader with is_alive no, but holds more.
    const old = rep(A, { isLeader: true, isAlive: false, metaOffset: 1000 });
    const newer = rep(B, { isLeader: true, metaOffset: 900 });
    for (const order of [[old, newer, rep(C, { metaOffset: 800 })], [rep(C, { metaOffset: 800 }), newer, old]]) {
      const p = plan1(order);
      assert.equal(p.leader?.endpoint, A);
      assert.equal(p.leader?.why, `highest offset 1000 (metadata); flagged leader ${B} has 900`);
      const s = p.steps;
      // The second flagged leader is stopped first; the winner is marked alive after loading.
      assert.ok(s.some((x) => x.kind === 'set-alive' && x.endpoint === B && !x.alive));
      assert.deepEqual(
        s.filter((x) => 'endpoint' in x && x.endpoint === A),
        [
          { kind: 'load', endpoint: A, mode: 'kTableLeader' },
          { kind: 'wait-loaded', endpoint: A },
          { kind: 'set-alive', endpoint: A, alive: true },
        ],
      );
      assert.ok(!s.some((x) => x.kind === 'change-leader'));
    }
  });

  it('stale metadata loses to a loaded offset; a serving load is the truth even below the metadata', () => {
    const p = plan1([
      rep(A, { isLeader: true, metaOffset: 2000 }),
      rep(B, { metaOffset: 100, loaded: asFollower(3000) }),
    ]);
    assert.equal(p.leader?.endpoint, B);
    assert.equal(p.leader?.source, 'loaded');
    assert.deepEqual(p.evidence[1], {
      endpoint: B, offset: 3000, source: 'loaded', loadedOffset: 3000, metaOffset: 100,
      tablet: 'healthy', flaggedLeader: false, alive: true,
    });
    // Already loaded as a serving follower: no load, straight to changeleader.
    assert.deepEqual(p.steps.map((s) => s.kind), ['set-alive', 'change-leader', 'wait-ops', 'recover-replica', 'wait-ops']);

    const e = gatherEvidence(rep(A, { metaOffset: 2000, snapshotOffset: 1900, loaded: asLeader(1500) }));
    assert.equal(e.offset, 1500);
    assert.equal(e.source, 'loaded');
  });

  it('a load still in progress is a lower bound like the others', () => {
    assert.deepEqual(
      [gatherEvidence(rep(A, { metaOffset: 10, loaded: asLeader(50, 'kTableLoading') }))].map((e) => [e.offset, e.source]),
      [[50, 'loaded']],
    );
    assert.deepEqual(
      [gatherEvidence(rep(A, { metaOffset: 60, loaded: asLeader(50, 'kTableLoading') }))].map((e) => [e.offset, e.source]),
      [[60, 'metadata']],
    );
  });

  it('snapshot-offset-only evidence decides; metadata vs snapshot takes the max', () => {
    const p = plan1([rep(A, { isLeader: true, snapshotOffset: 10 }), rep(B, { snapshotOffset: 50 })]);
    assert.equal(p.leader?.endpoint, B);
    assert.equal(p.leader?.source, 'snapshot');
    assert.equal(p.leader?.why, `highest offset 50 (snapshot); flagged leader ${A} has 10`);

    const e = gatherEvidence(rep(A, { metaOffset: 40, snapshotOffset: 60 }));
    assert.deepEqual([e.offset, e.source, e.metaOffset, e.snapshotOffset], [60, 'snapshot', 40, 60]);
    const m = gatherEvidence(rep(A, { metaOffset: 70, snapshotOffset: 60 }));
    assert.deepEqual([m.offset, m.source], [70, 'metadata']);
    const none = gatherEvidence(rep(A));
    assert.deepEqual([none.offset, none.source], [0, 'none']);
  });

  it('best replica on an offline tablet: refused without acceptDataLoss, with the exact loss', () => {
    const reps = [offline(A, 2153, { isLeader: true }), rep(B, { metaOffset: 2100 }), rep(C, { metaOffset: 2000 })];
    const p = plan1(reps);
    assert.equal(p.action, 'refused');
    assert.equal(p.atStake, 53);
    assert.deepEqual(p.steps, []);
    assert.match(p.reason, new RegExp(`${A} on a tablet that is offline holds offset 2153`));
    assert.match(p.reason, /53 entries at stake/);
    assert.equal(p.leader?.endpoint, B);
  });

  it('best replica on an offline tablet: with acceptDataLoss, recovered from the best healthy replica', () => {
    const reps = [offline(A, 2153, { isLeader: true }), rep(B, { metaOffset: 2100 }), rep(C, { metaOffset: 2000 })];
    const p = plan1(reps, LOSSY);
    assert.equal(p.action, 'recover');
    assert.equal(p.atStake, 53);
    assert.equal(p.leader?.endpoint, B);
    assert.equal(p.leader?.why, `best on a healthy tablet: offset 2100 (metadata); ${A} (tablet offline) has 2153`);
    assert.deepEqual(p.left, [{ endpoint: A, why: 'tablet offline: a later run or recoverendpoint brings it back' }]);
    assert.match(p.reason, /53 entries accepted as lost/);
    assert.match(p.reason, /partial/);
    assert.deepEqual(commands(p), [
      `updatetablealive t1 0 ${A} no`,
      `updatetablealive t1 0 ${C} no`,
      `loadtable t1 3 0 144000 8 false (on ${B})`,
      `gettablestatus 3 0 on ${B} until it serves (kTableNormal)`,
      `changeleader t1 0 ${B}`,
      'showopstatus t1 0 until no op is kInited or kDoing',
      `recovertable t1 0 ${C}`,
      'showopstatus t1 0 until no op is kInited or kDoing',
    ]);
  });

  it('an unhealthy replica tied with the best healthy one costs nothing', () => {
    const p = plan1([offline(A, 2100, { isLeader: true }), rep(B, { metaOffset: 2100 })]);
    assert.equal(p.action, 'recover');
    assert.equal(p.atStake, 0);
    assert.equal(p.leader?.endpoint, B);
    assert.equal(p.leader?.why, `highest offset 2100 (metadata); flagged leader ${A} has 2100`);
  });

  it('a replica on a tablet the nameserver does not know is left, and not edited', () => {
    const p = plan1([rep(A, { isLeader: true, metaOffset: 10 }), rep(B, { tablet: 'unknown', metaOffset: 5 })]);
    assert.equal(p.action, 'recover');
    assert.deepEqual(p.steps.map((s) => s.kind), ['load', 'wait-loaded']);
    assert.equal(p.left.length, 1);
    assert.match(p.left[0]!.why, /tablet unknown.*stays marked alive/);
  });

  it('no replica on a healthy tablet: blocked', () => {
    const p = plan1([offline(A, 10, { isLeader: true }), rep(B, { tablet: 'unknown', metaOffset: 9 })], LOSSY);
    assert.equal(p.action, 'blocked');
    assert.equal(p.reason, `no replica sits on a healthy tablet (${A} offline, ${B} unknown)`);
    assert.deepEqual(p.steps, []);
  });

  it('ops in flight: wait only, whatever else is wrong', () => {
    const reps = [rep(A, { isLeader: true, metaOffset: 10 }), rep(B, { metaOffset: 20 })];
    const ops = [op(17, 'kDoing', { task: 'kLoadTable' }), op(18, 'kFailed'), op(19, 'kDoing', { pid: 1 })];
    const p = plan1(reps, { acceptDataLoss: false, force: true }, ops);
    assert.equal(p.action, 'wait');
    assert.deepEqual(p.steps, [{ kind: 'wait-ops' }]);
    assert.match(p.reason, /op 17 kRecoverTableOP is kDoing/);
    assert.doesNotMatch(p.reason, /op 19/);
    // An op of another partition does not hold this one back.
    assert.equal(plan1(reps, SAFE, [op(19, 'kDoing', { pid: 1 })]).action, 'recover');
  });

  it('an operator-named leader with less data: refused, or accepted with the flag', () => {
    const reps = [rep(A, { isLeader: true, metaOffset: 2100 }), rep(B, { metaOffset: 2153 }), rep(C, { metaOffset: 2000 })];
    const leaders = new Map([[partitionKey('demo_db', 't1', 0), A]]);
    const refused = plan1(reps, { acceptDataLoss: false, leaders });
    assert.equal(refused.action, 'refused');
    assert.equal(refused.atStake, 53);
    assert.match(refused.reason, new RegExp(`${B} holds offset 2153 .* leader ${A} has 2100`));

    const p = plan1(reps, { acceptDataLoss: true, leaders });
    assert.equal(p.action, 'recover');
    assert.equal(p.atStake, 53);
    assert.equal(p.leader?.endpoint, A);
    assert.equal(p.leader?.why, 'named by the operator; offset 2100 (metadata)');
    assert.ok(!p.steps.some((s) => s.kind === 'change-leader'));
    assert.deepEqual(p.steps.filter((s) => s.kind === 'recover-replica').map((s) => s.endpoint), [B, C]);
  });

  it('an operator-named leader that is no replica, or on an offline tablet: refused even accepting loss', () => {
    const reps = [rep(A, { isLeader: true, metaOffset: 10 }), offline(B, 5)];
    const stranger = plan1(reps, { acceptDataLoss: true, leaders: new Map([['demo_db.t1:0', C]]) });
    assert.equal(stranger.action, 'refused');
    assert.match(stranger.reason, new RegExp(`named leader ${C} is not a replica`));
    const down = plan1(reps, { acceptDataLoss: true, leaders: new Map([['demo_db.t1:0', B]]) });
    assert.equal(down.action, 'refused');
    assert.match(down.reason, /offline/);
    // A name for another partition changes nothing here.
    assert.equal(plan1(reps, { acceptDataLoss: false, leaders: new Map([['demo_db.t1:1', B]]) }).leader?.endpoint, A);
  });

  it('single-replica system tables: load as leader, mark alive', () => {
    const sys = { db: '__INTERNAL_DB', name: 'JOB_INFO', tid: 1 };
    const alive = plan1([rep(A, { isLeader: true, metaOffset: 4 })], SAFE, [], sys);
    assert.equal(alive.action, 'recover');
    assert.deepEqual(commands(alive), [`loadtable JOB_INFO 1 0 144000 8 (on ${A})`, `gettablestatus 1 0 on ${A} until it serves (kTableNormal)`]);
    const dead = plan1([rep(A, { isLeader: true, isAlive: false })], SAFE, [], sys);
    assert.deepEqual(commands(dead).slice(2), [`updatetablealive JOB_INFO 0 ${A} yes`]);
    assert.equal(plan1([rep(A, { isLeader: true, isAlive: false, loaded: asLeader(4) })], SAFE, [], sys).steps.length, 1);
  });

  it('single replica not flagged leader, or only on an offline tablet: blocked', () => {
    assert.equal(plan1([rep(A, { metaOffset: 4 })]).action, 'blocked');
    assert.equal(plan1([offline(A, 4, { isLeader: true })], LOSSY).action, 'blocked');
  });

  it('leader already loaded and serving: no load step', () => {
    const p = plan1([rep(A, { isLeader: true, metaOffset: 90, loaded: asLeader(100) }), rep(B, { metaOffset: 100 }), rep(C, { isAlive: false })]);
    assert.equal(p.leader?.endpoint, A);
    assert.deepEqual(commands(p), [
      `updatetablealive t1 0 ${B} no`,
      `recovertable t1 0 ${B}`,
      `recovertable t1 0 ${C}`,
      'showopstatus t1 0 until no op is kInited or kDoing',
    ]);
  });

  it('leader still loading: wait for it, do not load twice', () => {
    const p = plan1([rep(A, { isLeader: true, metaOffset: 100, loaded: asLeader(20, 'kTableLoading') }), rep(B, { metaOffset: 100 })]);
    assert.equal(p.leader?.endpoint, A);
    assert.deepEqual(p.steps.slice(0, 2), [
      { kind: 'set-alive', endpoint: B, alive: false },
      { kind: 'wait-loaded', endpoint: A },
    ]);
    assert.ok(!p.steps.some((s) => s.kind === 'load'));
  });

  it('a flagged leader its tablet runs as follower: blocked', () => {
    const p = plan1([rep(A, { isLeader: true, loaded: asFollower(100) }), rep(B, { metaOffset: 90 })]);
    assert.equal(p.action, 'blocked');
    assert.match(p.reason, /runs the partition as kTableFollower/);
  });

  it('ties: a serving leader, then a flagged alive leader, then a flagged leader, then metadata order', () => {
    const tie = (reps: Replica[]) => plan1(reps, { acceptDataLoss: false, force: true }).leader;
    assert.equal(tie([rep(A, { isLeader: true, metaOffset: 5 }), rep(B, { loaded: asLeader(5) })])?.endpoint, B);
    const l = tie([rep(A, { isLeader: true, isAlive: false, metaOffset: 5 }), rep(B, { isLeader: true, metaOffset: 5 })]);
    assert.equal(l?.endpoint, B);
    assert.equal(l?.why, `highest offset 5 (metadata); tied with ${A}; preferred as flagged alive leader; flagged leader ${A} has 5`);
    assert.equal(tie([rep(A, { metaOffset: 5 }), rep(B, { isLeader: true, isAlive: false, metaOffset: 5 })])?.endpoint, B);
    assert.equal(tie([rep(A, { metaOffset: 5 }), rep(B, { metaOffset: 5 })])?.endpoint, A);
  });

  it('force plans a healthy partition (recover-table) from its serving leader', () => {
    const p = plan1(servedPartition(0).replicas, { acceptDataLoss: false, force: true });
    assert.equal(p.action, 'recover');
    assert.equal(p.leader?.endpoint, A);
    assert.equal(p.leader?.why, `highest offset 100 (loaded); tied with ${B}, ${C}; preferred as already serving as leader`);
    assert.deepEqual(commands(p), [
      `updatetablealive t1 0 ${B} no`,
      `updatetablealive t1 0 ${C} no`,
      `recovertable t1 0 ${B}`,
      `recovertable t1 0 ${C}`,
      'showopstatus t1 0 until no op is kInited or kDoing',
    ]);
  });

  it('deterministic order: tables as given, partitions by pid', () => {
    const t2 = table('t2', [servedPartition(2), servedPartition(0), servedPartition(1)], { tid: 5 });
    const t1 = table('t1', [servedPartition(1), servedPartition(0)]);
    const plan = planRecovery(snap([t2, t1], [], { autoFailover: true }), SAFE);
    assert.equal(plan.autoFailover, true);
    assert.deepEqual(plan.partitions.map((p) => `${p.table}:${p.pid}`), ['t2:0', 't2:1', 't2:2', 't1:0', 't1:1']);
  });
});

describe('describeStep', () => {
  it('disk tables load over HTTP with their storage mode', () => {
    const p = plan1([rep(A, { isLeader: true, metaOffset: 3 }), rep(B, { metaOffset: 9 })], SAFE, [], { storageMode: 'kSSD', segCnt: 4 });
    const load = p.steps.find((s) => s.kind === 'load')!;
    assert.equal(describeStep(load, p), `LoadTable over HTTP (kSSD, kTableFollower) on ${B}`);
    assert.equal(p.segCnt, 4);
    assert.equal(describeStep({ kind: 'load', endpoint: A, mode: 'kTableLeader' }, { ...p, storageMode: 'kMemory' }), `loadtable t1 3 0 144000 4 (on ${A})`);
  });
});
