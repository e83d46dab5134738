// The recovery plan: read every replica before choosing, choose on what they hold (never
// on metadata offsets), refuse where any choice could lose entries, the runbook's steps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Op, Partition, Replica, Table } from '../../src/cluster/types.js';
import { type PartitionEvidence, type ReplicaRecord, partitionKey } from '../../src/engine/run-memory.js';
import { describeStep, type PartitionPlan, type Step } from '../../src/engine/procedure.js';
import { type PlanOptions, planRecovery } from '../../src/workflow/procedures/recover-plan.js';
import { A, asFollower, asLeader, B, C, oneTable, op, rep, servedPartition, snap, table } from './snapshots.js';

const SAFE: PlanOptions = { acceptDataLoss: false };
const LOSSY: PlanOptions = { acceptDataLoss: true };

/** Plan the single partition of a one-table snapshot. */
function plan1(replicas: Replica[], options: PlanOptions = SAFE, o: { ops?: Op[]; terms?: Partition['terms']; memory?: PartitionEvidence; table?: Partial<Table>; tablets?: Parameters<typeof snap>[2] } = {}): PartitionPlan {
  const t = table('t1', [{ pid: 0, replicas, ...(o.terms ? { terms: o.terms } : {}) }], o.table);
  const p = planRecovery(snap([t], o.ops ?? [], o.tablets), options, () => o.memory ?? {}).partitions;
  assert.equal(p.length, 1);
  return p[0]!;
}

/** Steps as the runbook commands they stand for. */
const commands = (p: PartitionPlan): string[] => p.steps.map((s) => describeStep(s, p));

const TERMS_1 = [{ term: 1, offset: 0 }];
/** A leader change at offset 101: term 3's entries start there. */
const TERMS_1_3 = [{ term: 1, offset: 0 }, { term: 3, offset: 101 }];

describe('planRecovery: nothing, or wait', () => {
  it('a served partition: nothing to do', () => {
    const p = plan1(servedPartition(0).replicas);
    assert.equal(p.action, 'none');
    assert.deepEqual(p.steps, []);
    assert.deepEqual(p.evidence.map((e) => [e.endpoint, e.offset, e.source]), [[A, 100, 'loaded'], [B, 100, 'loaded'], [C, 100, 'loaded']]);
  });

  it('ops in flight are waited on, firing nothing', () => {
    const p = plan1([rep(A, { isLeader: true }), rep(B)], SAFE, { ops: [op(7, 'kDoing', { task: 'kLoadTable' })] });
    assert.equal(p.action, 'wait');
    assert.deepEqual(p.steps, [{ kind: 'wait-ops' }]);
  });
});

describe('planRecovery: probe before choosing', () => {
  it('after a full restart nothing is loaded: mark every replica not alive, load each as a follower, wait; metadata offsets are not evidence', () => {
    const p = plan1([rep(A, { isLeader: true, metaOffset: 2153 }), rep(B, { metaOffset: 2100 }), rep(C, { isAlive: false })], SAFE, { terms: TERMS_1 });
    assert.equal(p.action, 'probe');
    assert.equal(p.leader, undefined, 'no choice before the offsets are read');
    assert.deepEqual(commands(p), [
      `updatetablealive t1 0 ${A} no`,
      `updatetablealive t1 0 ${B} no`,
      `loadtable t1 3 0 144000 8 false (on ${A})`,
      `loadtable t1 3 0 144000 8 false (on ${B})`,
      `loadtable t1 3 0 144000 8 false (on ${C})`,
      `gettablestatus 3 0 on ${A} until it serves (kTableNormal)`,
      `gettablestatus 3 0 on ${B} until it serves (kTableNormal)`,
      `gettablestatus 3 0 on ${C} until it serves (kTableNormal)`,
    ]);
    assert.deepEqual(p.evidence.map((e) => [e.source, e.offset, e.metaOffset]), [['unread', undefined, 2153], ['unread', undefined, 2100], ['unread', undefined, undefined]]);
  });

  it('a replica still loading is waited for, not loaded again; disk tables load over HTTP with their mode', () => {
    const p = plan1([rep(A, { isLeader: true, isAlive: false, loaded: asFollower(0, 'kTableLoading') }), rep(B, { isAlive: false })], SAFE, { table: { storageMode: 'kSSD' } });
    assert.deepEqual(commands(p), [
      `LoadTable over HTTP (kSSD, kTableFollower) on ${B}`,
      `gettablestatus 3 0 on ${A} until it serves (kTableNormal)`,
      `gettablestatus 3 0 on ${B} until it serves (kTableNormal)`,
    ]);
  });

  it('a disk load sent earlier and never seen is not sent again: waited for, then the partition is blocked', () => {
    const memory: PartitionEvidence = { [B]: { load: { sentAt: 1_000, mode: 'kTableFollower', storageMode: 'kSSD' } } };
    const replicas = [rep(A, { isLeader: true, isAlive: false, loaded: asFollower(50) }), rep(B, { isAlive: false })];
    const waiting = plan1(replicas, { ...SAFE, now: 5_000, loadTimeoutMs: 60_000 }, { memory, table: { storageMode: 'kSSD' } });
    assert.equal(waiting.action, 'probe');
    assert.deepEqual(waiting.steps, [{ kind: 'wait-loaded', endpoint: B }]);
    const late = plan1(replicas, { ...SAFE, now: 120_000, loadTimeoutMs: 60_000 }, { memory, table: { storageMode: 'kSSD' } });
    assert.equal(late.action, 'blocked');
    assert.match(late.reason, /may still be queued.*old_data/);
    assert.deepEqual(late.steps, []);
    // The tablet restarted since: its queue died with the old process, so loading again is safe.
    const restarted = plan1(replicas, { ...SAFE, now: 120_000, loadTimeoutMs: 60_000 }, { memory, table: { storageMode: 'kSSD' }, tablets: { tablets: [{ endpoint: A, address: A, state: 'healthy' }, { endpoint: B, address: B, state: 'healthy', changedAfter: 2_000 }] } });
    assert.deepEqual(restarted.steps.map((s) => s.kind), ['load', 'wait-loaded']);
  });
});

describe('planRecovery: choosing on read offsets', () => {
  it('the flagged leader holds the most: its tablet makes it leader with the last term, the others follow it as they are', () => {
    // All three were alive before the probe marked them not alive (the run recorded it).
    const memory: PartitionEvidence = { [A]: { found: { isLeader: true, isAlive: true } }, [B]: { found: { isLeader: false, isAlive: true } }, [C]: { found: { isLeader: false, isAlive: true } } };
    const p = plan1([rep(A, { isLeader: true, isAlive: false, loaded: asFollower(2153) }), rep(B, { isAlive: false, loaded: asFollower(2100) }), rep(C, { isAlive: false, loaded: asFollower(2153) })], SAFE, { terms: TERMS_1_3, memory });
    assert.equal(p.action, 'recover');
    assert.equal(p.leader?.endpoint, A, 'a tie goes to the flagged leader');
    assert.equal(p.atStake, 0);
    assert.deepEqual(p.steps, [
      { kind: 'change-role', endpoint: A, mode: 'kTableLeader', term: 3, followers: [B, C] },
      { kind: 'set-alive', endpoint: A, alive: true },
      { kind: 'set-alive', endpoint: B, alive: true },
      { kind: 'set-alive', endpoint: C, alive: true },
    ] satisfies Step[]);
    assert.equal(describeStep(p.steps[0]!, p), `ChangeRole over HTTP on ${A}: leader, term 3, followers ${B}, ${C}`);
  });

  // The leader's binlog may no longer reach back to a follower below its snapshot
  // (LogReplicator::DeleteBinlog): attached as it is, it would never catch up.
  it('a follower below the leader\'s snapshot is rebuilt (recovertable sends the snapshot), not attached as it is', () => {
    const memory: PartitionEvidence = {
      [A]: { found: { isLeader: true, isAlive: true }, snapshot: { term: 1, offset: 2120 } },
      [B]: { found: { isLeader: false, isAlive: true }, snapshot: { term: 1, offset: 1000 } },
      [C]: { found: { isLeader: false, isAlive: true }, snapshot: { term: 1, offset: 2120 } },
    };
    const p = plan1([rep(A, { isLeader: true, isAlive: false, loaded: asFollower(2153) }), rep(B, { isAlive: false, loaded: asFollower(2100) }), rep(C, { isAlive: false, loaded: asFollower(2153) })], SAFE, { terms: TERMS_1, memory });
    assert.equal(p.leader?.endpoint, A);
    assert.equal(p.atStake, 0);
    assert.deepEqual(commands(p), [
      `ChangeRole over HTTP on ${A}: leader, term 1, followers ${C}`,
      `updatetablealive t1 0 ${A} yes`,
      `updatetablealive t1 0 ${C} yes`,
      `recovertable t1 0 ${B}`,
      'showopstatus t1 0 until no op is kInited or kDoing',
    ]);
  });

  it('a follower holding more than the flagged leader wins through changeleader; the old leader is rebuilt', () => {
    const p = plan1([rep(A, { isLeader: true, isAlive: false, metaOffset: 5000, loaded: asFollower(2100) }), rep(B, { isAlive: false, metaOffset: 10, loaded: asFollower(2153) }), rep(C, { isAlive: false, loaded: asFollower(2000) })], SAFE, { terms: TERMS_1 });
    assert.equal(p.leader?.endpoint, B);
    assert.match(p.leader?.why ?? '', /highest offset 2153/);
    assert.deepEqual(commands(p), [
      `updatetablealive t1 0 ${B} yes`,
      `updatetablealive t1 0 ${C} yes`,
      `changeleader t1 0 ${B}`,
      'showopstatus t1 0 until no op is kInited or kDoing',
      `recovertable t1 0 ${A}`,
      'showopstatus t1 0 until no op is kInited or kDoing',
    ]);
  });

  it('a rerun after the role change only finishes what is missing', () => {
    const leads = rep(A, { isLeader: true, isAlive: false, loaded: asLeader(2153), followers: [{ endpoint: B, offset: 2153 }] });
    const p = plan1([leads, rep(B, { isAlive: false, loaded: asFollower(2153) }), rep(C, { isAlive: false, loaded: asFollower(2100) })], SAFE, { terms: TERMS_1 });
    assert.deepEqual(commands(p), [
      `updatetablealive t1 0 ${A} yes`,
      `updatetablealive t1 0 ${B} yes`,
      `recovertable t1 0 ${C}`,
      'showopstatus t1 0 until no op is kInited or kDoing',
    ], 'C is not in the running leader\'s replica set: rebuilt, not just marked alive');
  });

  it('a winner that already leads on its tablet but is not flagged leader steps down before changeleader', () => {
    const p = plan1([rep(A, { isLeader: true, isAlive: false, loaded: asFollower(90) }), rep(B, { isAlive: false, loaded: asLeader(100) })], SAFE, { terms: TERMS_1 });
    assert.deepEqual(p.steps.slice(0, 3), [
      { kind: 'change-role', endpoint: B, mode: 'kTableFollower', term: 0, followers: [] },
      { kind: 'set-alive', endpoint: B, alive: true },
      { kind: 'change-leader', endpoint: B },
    ] satisfies Step[]);
  });
});

describe('planRecovery: diverged histories', () => {
  // A was the leader of term 1 and died with entries 101-120 nobody received; term 3 began
  // at 101 on B. After the restart A (not alive since the failover) holds 120 entries, B 150.
  const oldLeader = (o: Partial<Replica> = {}) => rep(A, { isLeader: true, isAlive: false, loaded: asFollower(120), ...o });
  const newLeader = () => rep(B, { isLeader: true, isAlive: false, loaded: asFollower(150) });
  const follower = () => rep(C, { isAlive: false, loaded: asFollower(150) });
  const memory: PartitionEvidence = {
    [A]: { found: { isLeader: true, isAlive: false }, snapshot: { term: 1, offset: 80 } },
    [B]: { found: { isLeader: true, isAlive: true }, snapshot: { term: 1, offset: 90 } },
    [C]: { found: { isLeader: false, isAlive: true }, snapshot: { term: 1, offset: 90 } },
  };

  it('an old leader\'s tail beyond a newer term\'s start, on a replica not alive before the incident: the newer term leads, the tail reported orphaned, not at stake', () => {
    const p = plan1([oldLeader(), newLeader(), follower()], SAFE, { terms: TERMS_1_3, memory });
    assert.equal(p.action, 'recover');
    assert.equal(p.leader?.endpoint, B);
    assert.equal(p.atStake, 0, 'OpenMLDB gave the tail up at the failover: nothing at stake in this run');
    assert.deepEqual(p.orphaned?.map(({ recycleBin, ...t }) => t), [{ endpoint: A, entries: 20, fromOffset: 101, toOffset: 120, term: 1, newerTerm: 3, newerTermOffset: 101 }]);
    assert.equal(p.orphaned?.[0]?.recycleBin, '127.0.0.1:9520 <recycle_bin_root_path>/3_0_<time> (or 3_0_binlog_<time>)');
    assert.match(p.reason, /orphaned at an earlier failover: 127\.0\.0\.1:9520 \(not alive before the incident; its snapshot of term 1\) holds 20 entries at offsets 101-120, where term 3 took over from offset 101/);
    assert.ok(p.steps.some((s) => s.kind === 'recover-replica' && s.endpoint === A), 'the old leader is rebuilt from the newer term');
    assert.equal(p.proceed, undefined);
    const a = p.evidence[0]!;
    assert.deepEqual([a.trusted, a.certainTo, a.snapshot, a.uncertainFrom], [false, 100, { term: 1, offset: 80 }, { term: 3, offset: 101 }]);
  });

  it('--refuse-orphaned: refused, and the command it prints proceeds (the leader named, orphaned tails never hold a named leader back)', () => {
    const p = plan1([oldLeader(), newLeader(), follower()], { ...SAFE, refuseOrphaned: true }, { terms: TERMS_1_3, memory });
    assert.equal(p.action, 'refused');
    assert.match(p.reason, /orphaned tail: .*--refuse-orphaned/);
    assert.equal(p.atStake, 0);
    assert.equal(p.orphaned?.[0]?.entries, 20);
    assert.deepEqual(p.proceed?.map((x) => x.args), [['recover-table', 'demo_db.t1', '--pid', '0', '--leader', `0=${B}`]]);
    const leaders = new Map([[partitionKey('demo_db', 't1', 0), B]]);
    const named = plan1([oldLeader(), newLeader(), follower()], { ...SAFE, refuseOrphaned: true, leaders }, { terms: TERMS_1_3, memory });
    assert.equal(named.action, 'recover');
    assert.equal(named.leader?.endpoint, B);
    assert.equal(named.orphaned?.[0]?.entries, 20);
  });

  it('--accept-data-loss changes nothing here: the newer term wins, the tail is orphaned, nothing at stake', () => {
    const p = plan1([oldLeader(), newLeader(), follower()], LOSSY, { terms: TERMS_1_3, memory });
    assert.equal(p.action, 'recover');
    assert.equal(p.leader?.endpoint, B);
    assert.equal(p.atStake, 0);
    assert.equal(p.orphaned?.[0]?.entries, 20);
    assert.ok(p.steps.some((s) => s.kind === 'recover-replica' && s.endpoint === A));
  });

  it('--leader names the old tail: refused while the newer term would be lost, the printed command accepts it', () => {
    const leaders = new Map([[partitionKey('demo_db', 't1', 0), A]]);
    const refused = plan1([oldLeader(), newLeader(), follower()], { ...SAFE, leaders }, { terms: TERMS_1_3, memory });
    assert.equal(refused.action, 'refused');
    assert.equal(refused.atStake, 50);
    assert.deepEqual(refused.proceed?.map((x) => x.args), [['recover-table', 'demo_db.t1', '--pid', '0', '--leader', `0=${A}`, '--accept-data-loss']]);
    const taken = plan1([oldLeader(), newLeader(), follower()], { ...LOSSY, leaders }, { terms: TERMS_1_3, memory });
    assert.equal(taken.leader?.endpoint, A);
    assert.deepEqual(taken.steps.filter((s) => s.kind === 'recover-replica').map((s) => s.endpoint), [B, C]);
  });

  it('two replicas alive before the incident diverged (a snapshot of term 1 holds an entry where term 3 had begun): refused, both printed commands proceed', () => {
    // A was marked alive again without being rebuilt: no OpenMLDB rule chose between A and B.
    const both: PartitionEvidence = { ...memory, [A]: { found: { isLeader: true, isAlive: true }, snapshot: { term: 1, offset: 110 } } };
    const p = plan1([oldLeader(), newLeader(), follower()], SAFE, { terms: TERMS_1_3, memory: both });
    assert.equal(p.action, 'refused');
    assert.match(p.reason, /diverged histories: 127\.0\.0\.1:9520 \(alive before the incident, but its snapshot at offset 110 is of term 1, where term 3 began at offset 101: it diverged there\) holds 20 entries from offset 101/);
    assert.equal(p.atStake, 20, 'not orphaned: A was alive');
    assert.equal(p.orphaned, undefined);
    assert.deepEqual(p.proceed?.map((x) => x.args), [
      ['recover-table', 'demo_db.t1', '--pid', '0', '--leader', `0=${B}`, '--accept-data-loss'],
      ['recover-table', 'demo_db.t1', '--pid', '0', '--leader', `0=${A}`, '--accept-data-loss'],
    ]);
    for (const [leader, lost] of [[B, 20], [A, 50]] as const) {
      const leaders = new Map([[partitionKey('demo_db', 't1', 0), leader]]);
      const taken = plan1([oldLeader(), newLeader(), follower()], { ...LOSSY, leaders }, { terms: TERMS_1_3, memory: both });
      assert.equal(taken.action, 'recover', `--leader 0=${leader} --accept-data-loss proceeds`);
      assert.equal(taken.atStake, lost);
    }
    const lossy = plan1([oldLeader(), newLeader(), follower()], LOSSY, { terms: TERMS_1_3, memory: both });
    assert.equal(lossy.leader?.endpoint, B, '--accept-data-loss alone: the newer term wins');
  });

  it('beyond the newer term\'s leader nothing is called orphaned: a replica not alive may hold that term\'s newest entries (its leader died with nothing alive to fail over to)', () => {
    const T = [{ term: 1, offset: 1 }, { term: 2, offset: 101 }];
    const memory: PartitionEvidence = {
      [A]: { found: { isLeader: true, isAlive: false }, snapshot: { term: 1, offset: 90 } }, // term 1's leader, with a tail
      [B]: { found: { isLeader: true, isAlive: false }, snapshot: { term: 1, offset: 90 } }, // term 2's leader, snapshot from before
      [C]: { found: { isLeader: false, isAlive: false }, snapshot: { term: 2, offset: 200 } }, // followed term 2
    };
    const replicas = [rep(A, { isLeader: true, isAlive: false, loaded: asFollower(110) }), rep(B, { isLeader: true, isAlive: false, loaded: asFollower(300) }), rep(C, { isAlive: false, loaded: asFollower(250) })];
    const p = plan1(replicas, SAFE, { terms: T, memory });
    assert.equal(p.action, 'refused', 'C leading would lose 251-300 of term 2, which only B holds');
    assert.notEqual(p.leader?.endpoint, B);
    assert.ok(p.atStake >= 50);
  });

  it('no conflict when the old leader\'s entries all precede the new term, or nobody holds the new term\'s entries', () => {
    const before = plan1([oldLeader({ loaded: asFollower(100) }), newLeader(), follower()], SAFE, { terms: TERMS_1_3, memory });
    assert.equal(before.action, 'recover');
    assert.equal(before.leader?.endpoint, B);
    assert.equal(before.atStake, 0);
    // B and C lost their tails (power): nobody contradicts A's entries beyond 100.
    const alone = plan1([oldLeader(), rep(B, { isLeader: true, isAlive: false, loaded: asFollower(100) }), rep(C, { isAlive: false, loaded: asFollower(95) })], SAFE, { terms: TERMS_1_3, memory });
    assert.equal(alone.leader?.endpoint, A);
    assert.equal(alone.atStake, 0);
  });

  it('alive as first found counts, not alive as now: after an earlier run marked everything not alive', () => {
    const trusted: PartitionEvidence = { ...memory, [A]: { ...memory[A], found: { isLeader: true, isAlive: true } } as ReplicaRecord };
    const p = plan1([oldLeader(), newLeader(), follower()], SAFE, { terms: TERMS_1_3, memory: trusted });
    assert.equal(p.action, 'recover', 'A was alive: it followed every term, its entries are the lineage\'s');
  });

  it('a snapshot already of the newer term proves the replica followed it', () => {
    const p = plan1([oldLeader(), newLeader(), follower()], SAFE, { terms: TERMS_1_3, memory: { ...memory, [A]: { found: { isLeader: true, isAlive: false }, snapshot: { term: 3, offset: 110 } } } });
    assert.equal(p.action, 'recover');
  });
});

// A snapshot cut short by a power loss: its MANIFEST's offset, fewer records (rule 6).
describe('planRecovery: a replica short of records', () => {
  const memory: PartitionEvidence = { [A]: { found: { isLeader: true, isAlive: true } }, [B]: { found: { isLeader: false, isAlive: true } }, [C]: { found: { isLeader: false, isAlive: true } } };
  const counted = (offset: number, records: number) => ({ ...asFollower(offset), recordCnt: records });

  it('at one offset the replica holding every record leads; the short one is left out, not attached or recovered as it is', () => {
    const p = plan1([rep(A, { isLeader: true, isAlive: false, loaded: counted(2000, 1200) }), rep(B, { isAlive: false, loaded: counted(2000, 2000) }), rep(C, { isAlive: false, loaded: counted(1990, 1990) })], SAFE, { terms: TERMS_1, memory });
    assert.equal(p.action, 'recover');
    assert.equal(p.leader?.endpoint, B);
    assert.equal(p.atStake, 0);
    assert.deepEqual(p.left.map((l) => l.endpoint), [A]);
    assert.match(p.left[0]!.why, /at least 800 entries fewer than its leader/);
    assert.ok(!commands(p).some((c) => c.includes(`recovertable t1 0 ${A}`) || c.includes(`${A} yes`)), commands(p).join('\n'));
  });

  it('ahead of the others but short: every leader loses entries, so it is refused with each choice and its cost', () => {
    const p = plan1([rep(A, { isLeader: true, isAlive: false, loaded: counted(2010, 1200) }), rep(B, { isAlive: false, loaded: counted(2000, 2000) })], SAFE, { terms: TERMS_1, memory });
    assert.equal(p.action, 'refused');
    assert.match(p.reason, new RegExp(`${A} serves offset 2010 but holds 1200 records, at least 790 entries fewer`));
    assert.deepEqual(p.steps, []);
    const lossy = plan1([rep(A, { isLeader: true, isAlive: false, loaded: counted(2010, 1200) }), rep(B, { isAlive: false, loaded: counted(2000, 2000) })], LOSSY, { terms: TERMS_1, memory });
    assert.equal(lossy.leader?.endpoint, B, 'accepting a loss, the fewest entries go: the 10 only the short one holds');
    assert.equal(lossy.atStake, 10);
  });

  it('counts that differ by no more than the entries between the offsets are in step (deletes, the newest writes)', () => {
    const p = plan1([rep(A, { isLeader: true, isAlive: false, loaded: counted(2010, 2005) }), rep(B, { isAlive: false, loaded: counted(2000, 2000) })], SAFE, { terms: TERMS_1, memory });
    assert.equal(p.leader?.endpoint, A);
    assert.deepEqual(p.left, []);
  });
});

describe('planRecovery: fail closed', () => {
  it('a replica on a tablet that is down: refused before anything changes, at stake unknown', () => {
    const p = plan1([rep(A, { isLeader: true, tablet: 'offline' }), rep(B), rep(C)]);
    assert.equal(p.action, 'refused');
    assert.equal(p.atStakeUnknown, true);
    assert.match(p.reason, /cannot be read.*offline/);
    assert.deepEqual(p.proceed?.map((x) => x.args), [['recover-table', 'demo_db.t1', '--pid', '0', '--accept-data-loss']]);
    assert.deepEqual(p.steps, []);
    const lossy = plan1([rep(A, { isLeader: true, tablet: 'offline' }), rep(B), rep(C)], LOSSY);
    assert.equal(lossy.action, 'probe', 'accepted: the others are read');
    assert.ok(!lossy.steps.some((s) => 'endpoint' in s && s.endpoint === A && s.kind === 'load'));
  });

  it('a replica whose load failed (recorded), or whose snapshot vanished: unreadable', () => {
    const failed = plan1([rep(A, { isLeader: true, isAlive: false }), rep(B, { isAlive: false, loaded: asFollower(10) })], SAFE, { memory: { [A]: { unreadable: { reason: 'its load failed', at: 1 } } } });
    assert.equal(failed.action, 'refused');
    assert.match(failed.reason, /its load failed/);
    const vanished = plan1([rep(A, { isLeader: true, isAlive: false, snapshot: { term: 0, offset: 0 } }), rep(B, { isAlive: false, loaded: asFollower(10) })], SAFE, { memory: { [A]: { snapshot: { term: 1, offset: 900 } } } });
    assert.equal(vanished.action, 'refused');
    assert.match(vanished.reason, /snapshot \(offset 900\) is gone/);
    // Loaded again after its failed load (the failure taken for a tablet restart): it serves
    // what is left, below the snapshot it had. Its offset 0 is not what it holds.
    const reloaded = plan1([rep(A, { isLeader: true, isAlive: false, loaded: asFollower(0) }), rep(B, { isAlive: false, loaded: asFollower(10) })], SAFE, { memory: { [A]: { snapshot: { term: 1, offset: 900 } } } });
    assert.equal(reloaded.action, 'refused');
    assert.match(reloaded.reason, /serves offset 0, below the snapshot it had before it was loaded \(offset 900\)/);
  });

  it('a named leader holding less than another replica is refused unless the loss is accepted', () => {
    const leaders = new Map([[partitionKey('demo_db', 't1', 0), B]]);
    const replicas = [rep(A, { isLeader: true, isAlive: false, loaded: asFollower(200) }), rep(B, { isAlive: false, loaded: asFollower(150) })];
    const refused = plan1(replicas, { ...SAFE, leaders }, { terms: TERMS_1 });
    assert.equal(refused.action, 'refused');
    assert.equal(refused.atStake, 50);
    assert.equal(refused.leader?.endpoint, B);
    const taken = plan1(replicas, { ...LOSSY, leaders }, { terms: TERMS_1 });
    assert.equal(taken.action, 'recover');
    assert.match(taken.reason, /50 entries accepted as lost/);
  });
});

describe('planRecovery: served partitions and single replicas', () => {
  it('a served partition with a broken follower: only that follower is rebuilt', () => {
    const p = plan1([rep(A, { isLeader: true, loaded: asLeader(100), followers: [{ endpoint: B, offset: 100 }] }), rep(B, { loaded: asFollower(100) }), rep(C)]);
    assert.equal(p.action, 'recover');
    assert.equal(p.leader?.endpoint, A);
    assert.deepEqual(commands(p), [`updatetablealive t1 0 ${C} no`, `recovertable t1 0 ${C}`, 'showopstatus t1 0 until no op is kInited or kDoing']);
  });

  it('a served partition whose follower was seen not to catch up (run memory): that follower is rebuilt, though one look finds it in step', () => {
    const replicas = [rep(A, { isLeader: true, loaded: asLeader(100), followers: [{ endpoint: B, offset: 90 }, { endpoint: C, offset: 100 }] }), rep(B, { loaded: asFollower(90) }), rep(C, { loaded: asFollower(100) })];
    assert.equal(plan1(replicas).action, 'none', 'a lag of 10 entries passes one look');
    const memory: PartitionEvidence = { [B]: { stuck: { offset: 90, target: 100, at: 1 } } };
    const p = plan1(replicas, SAFE, { memory });
    assert.equal(p.action, 'recover');
    assert.deepEqual(commands(p), [`updatetablealive t1 0 ${B} no`, `recovertable t1 0 ${B}`, 'showopstatus t1 0 until no op is kInited or kDoing']);
  });

  it('a served leader that a replica is known to exceed is not rebuilt from blindly', () => {
    const p = plan1([rep(A, { isLeader: true, loaded: asLeader(100), followers: [] }), rep(B, { isAlive: false, snapshot: { term: 1, offset: 300 } })]);
    assert.equal(p.action, 'refused');
    assert.equal(p.atStake, 200);
    assert.deepEqual(p.proceed?.map((x) => x.args), [
      ['recover-table', 'demo_db.t1', '--pid', '0', '--leader', `0=${B}`],
      ['recover-table', 'demo_db.t1', '--pid', '0', '--accept-data-loss'],
    ]);
  });

  it('a served leader of a newer term and a replica not alive before the incident holding an old leader\'s tail beyond its start: the tail is orphaned, the leader kept', () => {
    // Term 3 began at 101; the leader serves 200 of its entries; B (never read: its snapshot only) holds 130.
    const replicas = [rep(A, { isLeader: true, loaded: asLeader(200), followers: [] }), rep(B, { isAlive: false, snapshot: { term: 1, offset: 130 } })];
    const p = plan1(replicas, SAFE, { terms: TERMS_1_3 });
    assert.equal(p.action, 'recover');
    assert.equal(p.atStake, 0);
    assert.deepEqual(p.orphaned?.map((t) => [t.endpoint, t.entries, t.fromOffset, t.toOffset, t.atLeast]), [[B, 30, 101, 130, true]]);
    assert.match(p.reason, /rebuilding the other replicas from it/);
    const refused = plan1(replicas, { ...SAFE, refuseOrphaned: true }, { terms: TERMS_1_3 });
    assert.equal(refused.action, 'refused');
    assert.deepEqual(refused.proceed?.map((x) => x.args), [['recover-table', 'demo_db.t1', '--pid', '0', '--leader', `0=${A}`]]);
    const named = plan1(replicas, { ...SAFE, refuseOrphaned: true, leaders: new Map([[partitionKey('demo_db', 't1', 0), A]]) }, { terms: TERMS_1_3 });
    assert.equal(named.action, 'recover', 'the printed command proceeds');
  });

  it('a served leader of a newer term that holds less than that term\'s start: nothing proves the newer term re-used those offsets, so they are at stake', () => {
    // Below 101 B holds the lineage's entries the leader lacks; beyond, entries only B kept.
    const behind = plan1([rep(A, { isLeader: true, loaded: asLeader(90), followers: [] }), rep(B, { isAlive: false, snapshot: { term: 1, offset: 130 } })], SAFE, { terms: TERMS_1_3 });
    assert.equal(behind.action, 'refused');
    assert.equal(behind.atStake, 40);
    assert.equal(behind.orphaned, undefined);
    // B's history may not be the lineage's: leading with it needs the leader's side given up.
    assert.deepEqual(behind.proceed?.map((x) => x.args), [
      ['recover-table', 'demo_db.t1', '--pid', '0', '--leader', `0=${B}`, '--accept-data-loss'],
      ['recover-table', 'demo_db.t1', '--pid', '0', '--accept-data-loss'],
    ]);
  });

  it('an orphaned tail longer than what the newer term wrote since: the part past the newer leader\'s offset is at stake (an old tail, or newer entries only it kept)', () => {
    // A: the old leader, not alive since the failover at 101, holds 160; B and C (term 3) hold 130.
    const memory: PartitionEvidence = {
      [A]: { found: { isLeader: true, isAlive: false }, snapshot: { term: 1, offset: 80 } },
      [B]: { found: { isLeader: true, isAlive: true }, snapshot: { term: 1, offset: 90 } },
      [C]: { found: { isLeader: false, isAlive: true }, snapshot: { term: 1, offset: 90 } },
    };
    const replicas = [rep(A, { isLeader: true, isAlive: false, loaded: asFollower(160) }), rep(B, { isLeader: true, isAlive: false, loaded: asFollower(130) }), rep(C, { isAlive: false, loaded: asFollower(130) })];
    const p = plan1(replicas, SAFE, { terms: TERMS_1_3, memory });
    assert.equal(p.action, 'refused');
    assert.match(p.reason, /diverged histories/);
    assert.equal(p.atStake, 30, '131-160 only A holds');
    assert.deepEqual(p.orphaned?.map((t) => [t.fromOffset, t.toOffset]), [[101, 130]], 'where term 3 has entries of its own');
    assert.equal(p.proceed?.[0]?.args.at(-1), '--accept-data-loss');
    assert.match(p.proceed?.[0]?.effect ?? '', /the 30 entries of the other side are lost \(and 30 orphaned/);
  });

  it('a single replica is loaded as the leader, the runbook way: not alive while it loads (clients would write into it), alive once it serves', () => {
    const p = plan1([rep(A, { isLeader: true })]);
    assert.deepEqual(commands(p), [
      `updatetablealive t1 0 ${A} no`,
      `loadtable t1 3 0 144000 8 (on ${A})`,
      `gettablestatus 3 0 on ${A} until it serves (kTableNormal)`,
      `updatetablealive t1 0 ${A} yes`,
    ]);
    // A rerun after the load was sent: the rest only.
    const rerun = plan1([rep(A, { isLeader: true, isAlive: false, loaded: asLeader(0, 'kTableLoading') })]);
    assert.deepEqual(commands(rerun), [`gettablestatus 3 0 on ${A} until it serves (kTableNormal)`, `updatetablealive t1 0 ${A} yes`]);
    // Loading while the metadata still says alive (an operator's loadtable): not alive until it serves.
    const loading = plan1([rep(A, { isLeader: true, loaded: asLeader(0, 'kTableUndefined') })]);
    assert.deepEqual(commands(loading), [`updatetablealive t1 0 ${A} no`, `gettablestatus 3 0 on ${A} until it serves (kTableNormal)`, `updatetablealive t1 0 ${A} yes`]);
    const notFlagged = plan1([rep(A)]);
    assert.equal(notFlagged.action, 'blocked');
  });
});

describe('planRecovery: many partitions', () => {
  it('plans tables as given and partitions by pid', () => {
    const t = table('t1', [servedPartition(1), { pid: 0, replicas: [rep(A, { isLeader: true }), rep(B)] }]);
    const plan = planRecovery(snap([t, oneTable([rep(C, { isLeader: true })], 0, { name: 't2', tid: 4 })]), SAFE);
    assert.deepEqual(plan.partitions.map((p) => [p.table, p.pid, p.action]), [['t1', 0, 'probe'], ['t1', 1, 'none'], ['t2', 0, 'recover']]);
  });
});
