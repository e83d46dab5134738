// The health verdict: every problem kind, op handling around the baseline, follower lag.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Partition, Replica, Table } from '../../src/cluster/types.js';
import { assessCluster, assessPartition, assessTable, type HealthOptions } from '../../src/engine/health.js';
import { A, asFollower, asLeader, B, C, op, rep, servedPartition, snap, table } from '../workflow/snapshots.js';

/** Verdict for one partition (pid 0 of t1 unless given) with `ops`. */
function verdict(replicas: Replica[], opts: HealthOptions = {}, ops = [op(1, 'kDone')], pid = 0) {
  const t: Table = table('t1', [{ pid, replicas }]);
  return assessPartition(t, t.partitions[0]!, snap([t], ops), opts);
}

/** The served partition with replica `i` replaced. */
function served(i: number, r: Partial<Replica>, offset = 100): Replica[] {
  const reps = servedPartition(0, offset).replicas;
  reps[i] = { ...reps[i]!, ...r };
  return reps;
}

describe('assessPartition', () => {
  it('a served partition is healthy with nothing to say', () => {
    assert.deepEqual(verdict(servedPartition(0).replicas), { healthy: true, problems: [], warnings: [] });
  });

  it("a follower the leader's replicator does not list is not followed, whatever the metadata says", () => {
    const replicas = served(0, { followers: [{ endpoint: B, offset: 100 }] });
    assert.deepEqual(verdict(replicas).problems, [`pid 0: follower ${C} is not in leader ${A}'s replica set (getfollower lists ${B})`]);
    assert.equal(verdict(served(0, { followers: [{ endpoint: B, offset: 100 }, { endpoint: C, offset: 100 }] })).healthy, true);
    assert.equal(verdict(served(0, { followers: [] })).problems.length, 2, 'an empty list: neither follows');
  });

  it('no alive leader', () => {
    const v = verdict(served(0, { isAlive: false }));
    assert.equal(v.healthy, false);
    assert.ok(v.problems.includes('pid 0: no replica is an alive leader'), v.problems.join('\n'));
  });

  it('two alive leaders', () => {
    const v = verdict(served(1, { isLeader: true }));
    assert.deepEqual(v.problems, [`pid 0: 2 replicas are alive leaders: ${A}, ${B}`]);
  });

  it('leader not loaded, loaded as follower, loading, snapshot paused; making a snapshot is fine', () => {
    assert.deepEqual(verdict(served(0, { loaded: undefined })).problems, [`pid 0: leader ${A} has not loaded the partition`]);
    assert.deepEqual(verdict(served(0, { loaded: asFollower(100) })).problems, [`pid 0: leader ${A} is loaded as kTableFollower`]);
    assert.deepEqual(verdict(served(0, { loaded: asLeader(100, 'kTableLoading') })).problems, [
      `pid 0: leader ${A} is in kTableLoading`,
    ]);
    assert.deepEqual(verdict(served(0, { loaded: asLeader(100, 'kSnapshotPaused') })).problems, [
      `pid 0: leader ${A} is in kSnapshotPaused`,
    ]);
    assert.equal(verdict(served(0, { loaded: asLeader(100, 'kMakingSnapshot') })).healthy, true);
  });

  it("leader's tablet offline or unknown", () => {
    assert.deepEqual(verdict(served(0, { tablet: 'offline', loaded: undefined })).problems, [
      `pid 0: leader ${A}'s tablet is offline`,
    ]);
    assert.deepEqual(verdict(served(0, { tablet: 'unknown', loaded: undefined })).problems, [
      `pid 0: leader ${A}'s tablet is unknown to the nameserver`,
    ]);
  });

  it('follower not alive, still flagged leader, on a bad tablet', () => {
    assert.deepEqual(verdict(served(2, { isAlive: false }), {}, [], 2).problems, [`pid 2: follower ${C} is not alive`]);
    assert.deepEqual(verdict(served(1, { isAlive: false, isLeader: true, loaded: undefined })).problems, [
      `pid 0: follower ${B} is not alive`,
      `pid 0: follower ${B} is still flagged leader`,
      `pid 0: follower ${B} has not loaded the partition`,
    ]);
    assert.deepEqual(verdict(served(2, { tablet: 'unknown', loaded: undefined })).problems, [
      `pid 0: follower ${C}'s tablet is unknown to the nameserver`,
    ]);
  });

  it('follower not loaded, loaded as leader, still loading; kSnapshotPaused serves', () => {
    assert.deepEqual(verdict(served(1, { loaded: undefined })).problems, [`pid 0: follower ${B} has not loaded the partition`]);
    assert.deepEqual(verdict(served(1, { loaded: asLeader(100) })).problems, [`pid 0: follower ${B} is loaded as kTableLeader`]);
    assert.deepEqual(verdict(served(1, { loaded: asFollower(3, 'kTableUndefined') })).problems, [
      `pid 0: follower ${B} is in kTableUndefined`,
    ]);
    assert.equal(verdict(served(1, { loaded: asFollower(100, 'kSnapshotPaused') })).healthy, true);
  });

  it('follower ahead of the leader', () => {
    assert.deepEqual(verdict(served(2, { loaded: asFollower(101) })).problems, [
      `pid 0: follower ${C} is at offset 101, ahead of leader ${A} at 100`,
    ]);
  });

  it('follower lag: up to 100000 by default, configurable', () => {
    const at = (f: number) => served(1, { loaded: asFollower(f) }, 200_000);
    assert.equal(verdict(at(100_000)).healthy, true);
    assert.deepEqual(verdict(at(99_999)).problems, [
      `pid 0: follower ${B} lags leader ${A} by 100001 entries (99999 vs 200000; max 100000)`,
    ]);
    assert.equal(verdict(at(199_990), { maxFollowerLag: 10 }).healthy, true);
    assert.equal(verdict(at(199_989), { maxFollowerLag: 10 }).healthy, false);
  });

  it('unfinished ops for the partition are problems; ops of other partitions are not', () => {
    const ops = [
      op(17, 'kDoing', { pid: 3, task: 'kLoadTable' }),
      op(18, 'kInited', { pid: 3, opType: 'kChangeLeaderOP' }),
      op(19, 'kDoing', { pid: 1 }),
      op(20, 'kDoing', { pid: 3, table: 't2' }),
      op(21, 'kDoing', { pid: 3, db: 'other_db' }),
    ];
    const v = verdict(servedPartition(3).replicas, {}, ops, 3);
    assert.deepEqual(v.problems, [
      'pid 3: op 17 kRecoverTableOP is kDoing (task kLoadTable)',
      'pid 3: op 18 kChangeLeaderOP is kInited',
    ]);
  });

  it('an op listed without a db (old showopstatus) still counts', () => {
    const v = verdict(servedPartition(0).replicas, {}, [op(5, 'kDoing', { db: undefined })]);
    assert.deepEqual(v.problems, ['pid 0: op 5 kRecoverTableOP is kDoing']);
  });

  it('failed ops: warnings without a baseline or at/below it', () => {
    const failed = [op(12, 'kFailed', { opType: 'kChangeLeaderOP', task: 'kSelectLeader' })];
    const down = served(1, { isAlive: false });
    for (const opts of [{}, { opBaseline: 12 }]) {
      const v = verdict(servedPartition(0).replicas, opts, failed);
      assert.deepEqual(v, { healthy: true, problems: [], warnings: ['pid 0: op 12 kChangeLeaderOP is kFailed (task kSelectLeader)'] });
      // Even on an unhealthy partition, an old failure is only a warning.
      assert.deepEqual(verdict(down, opts, failed).problems, [`pid 0: follower ${B} is not alive`]);
    }
  });

  it('failed ops after the baseline: a problem while the partition is not served', () => {
    const failed = [op(12, 'kFailed', { task: 'kRecoverTable' })];
    const v = verdict(served(1, { isAlive: false }), { opBaseline: 11 }, failed);
    assert.deepEqual(v.problems, [`pid 0: follower ${B} is not alive`, 'pid 0: op 12 kRecoverTableOP is kFailed (task kRecoverTable)']);
    // Retried past since: the partition is served, the failure is reported, not held against it.
    const ok = verdict(servedPartition(0).replicas, { opBaseline: 11 }, failed);
    assert.equal(ok.healthy, true);
    assert.deepEqual(ok.warnings, ['pid 0: op 12 kRecoverTableOP is kFailed (task kRecoverTable) (partition served since)']);
  });

  it('canceled and done ops say nothing', () => {
    const v = verdict(servedPartition(0).replicas, { opBaseline: 0 }, [op(3, 'kCanceled'), op(4, 'kDone')]);
    assert.deepEqual(v, { healthy: true, problems: [], warnings: [] });
  });

  it('a full restart: every replica unloaded', () => {
    const reps = [rep(A, { isLeader: true, metaOffset: 10 }), rep(B, { metaOffset: 9 })];
    assert.deepEqual(verdict(reps, {}, []).problems, [
      `pid 0: leader ${A} has not loaded the partition`,
      `pid 0: follower ${B} has not loaded the partition`,
    ]);
  });
});

describe('assessTable / assessCluster', () => {
  it('aggregates partitions by pid and tables in order', () => {
    const broken: Partition = { pid: 0, replicas: served(2, { isAlive: false }) };
    const t1 = table('t1', [servedPartition(1), broken]);
    const t2 = table('t2', [servedPartition(0)], { tid: 4 });
    const s = snap([t1, t2], [op(9, 'kFailed', { table: 't2' })]);

    const th = assessTable(t1, s);
    assert.deepEqual(th.partitions.map((p) => [p.pid, p.healthy]), [[0, false], [1, true]]);
    assert.deepEqual(th.problems, [`pid 0: follower ${C} is not alive`]);
    assert.equal(th.healthy, false);

    const c = assessCluster(s);
    assert.equal(c.healthy, false);
    assert.deepEqual(c.tables.map((t) => [t.db, t.name, t.healthy]), [['demo_db', 't1', false], ['demo_db', 't2', true]]);
    assert.deepEqual(c.tables[1]!.warnings, ['pid 0: op 9 kRecoverTableOP is kFailed']);

    assert.equal(assessCluster(snap([t2])).healthy, true);
  });
});
