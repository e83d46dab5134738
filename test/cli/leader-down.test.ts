// A leader's tablet that goes down while a run works on another table: the writes its
// clients were told are written may be on it alone (replication is asynchronous). With
// auto_failover back on, the nameserver makes a follower leader as soon as that tablet
// restarts (name_server_impl.cc OnTabletOnline: a `startup_` node -> OnTabletOffline) and
// those writes are gone. The run fences such a partition before it switches auto_failover
// back on, whatever its scope, names it, and prints the command that recovers it once the
// tablet is back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import { runPasted } from '../helpers/paste.js';
import { atWork, autoFailover, slowLoads, startRecover } from '../helpers/runs.js';
import { withSim } from '../helpers/sim.js';

interface State {
  tables: Array<{ name: string; tid: number; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }> }> }>;
  tablets: Array<{ endpoint: string; loaded: Array<{ tid: number; pid: number; offset: number }> }>;
  ops: Array<{ status: string }>;
}

// demo_db.t0 lost (every replica), demo_db.t1 served and written to.
const SIM = ['--scenario', 'partition-lost', '--replicas', '2', '--tablets', '3', '--tables', '2', '--partitions', '2', '--no-system-tables', '--storage', 'memory', '--traffic', '200', '--seed', '4'];

describe('a leader\'s tablet down when the run ends', () => {
  it('recover-table on another table: the partition is fenced and named, nothing acknowledged is lost when the tablet returns, the printed command serves it', async () => {
    await withSim(SIM, async (sim) => {
      const state = await sim.ctl<State>('state');
      const t1 = state.tables.find((t) => t.name === 't1')!;
      const part = t1.partitions[0]!;
      const leader = part.replicas.find((r) => r.isLeader && r.isAlive)!.endpoint;
      const follower = part.replicas.find((r) => r.endpoint !== leader)!.endpoint;
      // Its follower gets nothing more: what the clients write from now on is on the leader alone.
      await sim.ctl('fail', { kind: 'refused', method: 'AppendEntries', endpoint: follower, fraction: 1 });
      const offsetOn = (s: State, endpoint: string) => s.tablets.find((t) => t.endpoint === endpoint)?.loaded.find((l) => l.tid === t1.tid && l.pid === part.pid)?.offset ?? 0;
      await sim.waitFor('writes on the leader alone', async () => {
        const s = await sim.ctl<State>('state');
        return offsetOn(s, leader) - offsetOn(s, follower) >= 20;
      });

      await slowLoads(sim, 3000);
      const run = startRecover(sim, ['demo_db.t0'], 'recover-table');
      await atWork(sim);
      await sim.ctl('tablet', { action: 'stop', endpoint: leader });
      const done = await run.done;
      assert.equal(await autoFailover(sim), true, 'auto_failover is back on');

      // The tablet restarts with auto_failover on: the nameserver must find no alive replica to choose.
      await sim.ctl('tablet', { action: 'start', endpoint: leader, wait: true });
      await sim.waitFor('the nameserver done with the returning tablet', async () => {
        const s = await sim.ctl<State>('state');
        return !s.ops.some((o) => o.status === 'kInited' || o.status === 'kDoing');
      });
      const between = await sim.check();
      assert.equal(between.acknowledgedLost, 0, JSON.stringify(between.ledger.filter((l) => l.acknowledgedLost > 0)));

      assert.equal(done.code, 1, done.stderr);
      const report = JSON.parse(done.stdout) as Report;
      const fenced = report.tables.find((t) => t.name === 't1')?.partitions ?? [];
      const named = fenced.find((p) => p.pid === part.pid);
      assert.ok(named, `t1 pid ${part.pid} is in the report: ${done.stdout.slice(0, 2000)}`);
      // Every partition of t1 its tablet led is there, each with its own command.
      const commands: string[] = [];
      for (const p of fenced) {
        assert.equal(p.status, 'failed');
        assert.match(p.reason, /outside this run's scope/);
        assert.ok(p.actions.every((a) => a.step === 'set-alive' && a.result === 'ok' && a.command.endsWith(' no')), JSON.stringify(p.actions));
        const command = /once that tablet is back: (openmldb-recover recover-table demo_db\.t1 --pid (\d+)\b.*)$/.exec(p.reason);
        assert.ok(command && command[2] === String(p.pid), p.reason);
        commands.push(command[1] as string);
      }

      await sim.ctl('clear-faults');
      for (const command of commands) {
        const pasted = await runPasted(command, { HOME: sim.dir, ...sim.env, XDG_STATE_HOME: sim.stateHome });
        assert.equal(pasted.code, 0, pasted.stdout + pasted.stderr);
      }
      await sim.ctl('traffic', { rate: 0 });
      await sim.ctl('settle');
      // Writes in flight when the clients stopped reach the followers on the next replication tick.
      await sim.waitFor('the followers at their leaders\' offsets', async () => !(await sim.check()).problems.some((p) => /is at offset \d+, leader at/.test(p)));
      const end = await sim.check();
      assert.equal(end.acknowledgedLost, 0, JSON.stringify(end.ledger));
      assert.equal(end.entriesLost, 0);
      assert.deepEqual(end.problems.filter((p) => /demo_db\.t1/.test(p)), []);
    });
  });
});
