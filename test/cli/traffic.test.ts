// Recovery under client traffic (openmldb-sim --traffic: clients writing as the SDK does,
// to the leader flagged alive). A memory table whose LoadTable was accepted but whose load
// has not run yet takes writes in leader mode (tablet_impl.cc Put accepts kTableUndefined)
// and the load then replays only the binlog part they went to: the binlog after the
// snapshot and those acknowledged writes are lost. Loading a single-replica table as
// leader while its metadata still says alive is exactly that hazard; `recover` marks it
// not alive first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckReport } from '../../src/sim/check.js';
import { recoverJson } from '../helpers/report.js';
import { type Sim, recoverCli, withSim } from '../helpers/sim.js';

interface State {
  tables: Array<{ tid: number; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string }> }> }>;
  tablets: Array<{ endpoint: string; address: string; disk: Array<{ tid: number; pid: number; snapshotOffset: number; binlogOffset: number }>; loaded: Array<{ tid: number; pid: number; state: string; earlyWrites?: number }> }>;
  traffic: { acknowledged: number } | null;
}

// One tablet, single replicas, one load at a time, slow loads: a second load waits its turn
// in kTableUndefined. Restarted under traffic: the metadata still says every leader alive.
const ARGS = ['--scenario', 'healthy', '--tablets', '1', '--replicas', '1', '--tables', '1', '--partitions', '4', '--no-system-tables', '--storage', 'memory', '--max-concurrent-loads', '1', '--load-base-ms', '2500', '--seed', '3', '--traffic', '200'];

async function restartedUnderTraffic(sim: Sim): Promise<State> {
  await sim.ctl('full-restart');
  await sim.ctl('incident', { autoFailoverBefore: true });
  const s = await sim.ctl<State>('state');
  const acked = s.traffic?.acknowledged ?? 0;
  // The clients keep trying: none is acknowledged while nothing is loaded.
  await sim.waitFor('the clients retrying', async () => ((await sim.ctl<State>('state')).traffic?.acknowledged ?? 0) === acked);
  return s;
}

const lostOf = (c: CheckReport) => c.ledger.filter((l) => l.acknowledgedLost > 0).map((l) => `${l.table}:${l.pid}`);

describe('recovery under client traffic', { concurrency: true }, () => {
  it('the hazard is real: loadtable as leader while the metadata says alive loses acknowledged writes', async () => {
    await withSim(ARGS, async (sim) => {
      const s = await restartedUnderTraffic(sim);
      const t = s.tables[0]!;
      const tablet = s.tablets[0]!;
      const disk = (pid: number) => tablet.disk.find((d) => d.tid === t.tid && d.pid === pid)!;
      // The victim has a snapshot (its early writes are numbered below it, so skipped); another partition holds the tablet's one load slot.
      const victim = t.partitions.map((p) => p.pid).find((pid) => disk(pid).snapshotOffset > 0 && disk(pid).binlogOffset > disk(pid).snapshotOffset);
      assert.ok(victim !== undefined, 'a partition with a snapshot and a binlog beyond it');
      const holder = t.partitions.map((p) => p.pid).find((pid) => pid !== victim)!;
      const load = (pid: number) => sim.tablet(tablet.address, `loadtable ${t.name} ${t.tid} ${pid} 144000 8`);
      // Long enough that the victim's loadtable (a binary run, slow on a busy machine) surely arrives while it holds.
      await sim.ctl('load', { table: `demo_db.${t.name}`, pid: holder, endpoint: tablet.endpoint, extraMs: 5000 });
      assert.match((await load(holder)).stdout, /LoadTable ok/);
      assert.match((await load(victim)).stdout, /LoadTable ok/);
      // The holder keeps the tablet's one load slot for 7.5 s: meanwhile the clients write into
      // the victim, accepted but not loaded (a look at that window, polled, may miss it on a
      // busy machine; the lost writes below are what counts).
      await sim.waitFor('the victim served', async () => (await sim.ctl<State>('state')).tablets[0]!.loaded.find((x) => x.tid === t.tid && x.pid === victim)?.state === 'kTableNormal');
      const check = await sim.check();
      assert.deepEqual(lostOf(check), [`${t.name}:${victim}`], JSON.stringify(check.ledger));
      assert.ok(check.acknowledgedLost > 0);
      assert.ok(check.problems.some((p) => /acknowledged client writes are lost/.test(p)));
      assert.equal(check.ok, false);
    });
  });

  it('recover marks a single replica not alive before loading it: every partition served, no acknowledged write lost', async () => {
    await withSim(ARGS, async (sim) => {
      await restartedUnderTraffic(sim);
      const { code, report, stderr } = await recoverJson(sim);
      assert.equal(code, 0, stderr);
      const p = report.tables[0]!.partitions[0]!;
      assert.deepEqual(p.actions.map((a) => a.step), ['set-alive', 'load', 'wait-loaded', 'set-alive']);
      // Writes go on once the leaders serve again.
      const acked = (await sim.ctl<State>('state')).traffic?.acknowledged ?? 0;
      await sim.waitFor('writes acknowledged again', async () => ((await sim.ctl<State>('state')).traffic?.acknowledged ?? 0) > acked + 50);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.acknowledgedLost, 0);
      assert.equal(check.entriesLost, 0);
      assert.ok(check.acknowledgedWrites > 0);
    });
  });

  // Each tablet is read at its own moment: under traffic a follower read after its leader
  // holds what the leader took meanwhile. That is no follower "ahead of its leader".
  it('a follower read after its leader while clients write is not "ahead": status and recover call the cluster served', async () => {
    await withSim(['--scenario', 'healthy', '--no-system-tables', '--tables', '2', '--partitions', '2', '--storage', 'memory', '--seed', '5', '--traffic', '400'], async (sim) => {
      const s = await sim.ctl<{ tables: Array<{ partitions: Array<{ replicas: Array<{ endpoint: string; isLeader: boolean }> }> }> }>('state');
      const follower = s.tables[0]!.partitions[0]!.replicas.find((r) => !r.isLeader)!.endpoint;
      // Its tablet answers gettablestatus 500 ms late, with what it holds by then.
      await sim.ctl('fail', { method: 'GetTableStatus', kind: 'slow', delayMs: 500, endpoint: follower });
      const status = await recoverCli(sim, ['status']);
      assert.equal(status.code, 0, status.stdout);
      assert.doesNotMatch(status.stdout, /ahead of leader/);
      const recover = await recoverCli(sim, ['recover']);
      assert.equal(recover.code, 0, recover.stdout);
    });
  });
});
