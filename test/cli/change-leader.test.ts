// `openmldb-recover change-leader` end to end on a healthy cluster with auto_failover on:
// the leader moves (to a named follower, or auto), the new leader serves, auto_failover
// is back on; a repeat changes nothing; --dry-run and bad names change nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorLines, report } from '../helpers/report.js';
import { type Sim, recoverCli, startSim } from '../helpers/sim.js';

interface State {
  autoFailover: boolean;
  tablets: Array<{ endpoint: string; loaded: Array<{ tid: number; pid: number; mode: string; state: string }> }>;
  tables: Array<{ tid: number; db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }> }> }>;
}

describe('change-leader', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--no-system-tables', '--scenario', 'healthy', '--tables', '1', '--partitions', '2']);
  });
  after(() => sim.down());

  const partition = async (pid: number) => {
    const s = await sim.ctl<State>('state');
    const t = s.tables.find((x) => x.db === 'demo_db' && x.name === 't0')!;
    const p = t.partitions.find((x) => x.pid === pid)!;
    const leader = p.replicas.find((r) => r.isLeader && r.isAlive)!;
    const servesAsLeader = (ep: string) => s.tablets.find((x) => x.endpoint === ep)!.loaded.some((l) => l.tid === t.tid && l.pid === pid && l.mode === 'kTableLeader' && l.state === 'kTableNormal');
    return { s, p, leader: leader.endpoint, followers: p.replicas.filter((r) => !r.isLeader).map((r) => r.endpoint), servesAsLeader };
  };

  it('bad names (exit 2) and --dry-run change nothing', async () => {
    for (const args of [
      ['change-leader', 'demo_db.t0', '5'],
      ['change-leader', 'demo_db.t0', '0', '--to', '127.0.0.1:1'],
      ['change-leader', 'demo_db.t0', 'x'],
    ]) {
      const r = await recoverCli(sim, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    }
    const dry = await recoverCli(sim, ['change-leader', 'demo_db.t0', '0', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /changeleader t0 0 auto/);
    assert.deepEqual(await sim.mutations(), []);
  });

  it('--to a follower: it leads and serves as leader; auto_failover back on; a repeat changes nothing', async () => {
    const before = await partition(0);
    const to = before.followers[0]!;
    const r = await recoverCli(sim, ['change-leader', 'demo_db.t0', '0', '--to', to, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = report(r);
    const p = rep.tables[0]!.partitions[0]!;
    assert.equal(p.status, 'recovered');
    assert.deepEqual(p.problems, []);
    assert.deepEqual(rep.autoFailover, { before: true, after: true, switchedOff: true });
    const now = await partition(0);
    assert.equal(now.leader, to);
    assert.ok(now.servesAsLeader(to));
    assert.equal(now.s.autoFailover, true);
    // changeleader leaves the old leader not alive: the report says how to bring it back.
    assert.ok(p.warnings?.some((w) => w.includes(`old leader ${before.leader}`)), JSON.stringify(p));

    const mark = (await sim.mutations()).at(-1)?.seq ?? 0;
    const again = await recoverCli(sim, ['change-leader', 'demo_db.t0', '0', '--to', to]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to do/);
    assert.deepEqual(await sim.mutations(mark), []);
  });

  it('auto: the nameserver picks a follower; recover then brings the old leaders back', async () => {
    const before = await partition(1);
    const r = await recoverCli(sim, ['change-leader', 'demo_db.t0', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /leader changed/);
    const now = await partition(1);
    assert.notEqual(now.leader, before.leader);
    assert.ok(now.servesAsLeader(now.leader));

    assert.equal((await recoverCli(sim, ['recover', '--table', 'demo_db.t0'])).code, 0);
    const check = await sim.check();
    assert.deepEqual(check.problems, []);
    assert.equal(check.entriesLost, 0);
  });
});
