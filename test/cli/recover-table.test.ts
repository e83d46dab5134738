// `openmldb-recover recover-table` end to end on the `partition-lost` scenario: the lost
// partitions come back with nothing lost, also after the run is SIGKILLed; a named
// leader that would discard entries is refused unless the loss is accepted.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { errorLines, report } from '../helpers/report.js';
import { RECOVER_BIN, type Sim, recoverCli, startSim } from '../helpers/sim.js';

interface State {
  autoFailover: boolean;
  tablets: Array<{ endpoint: string; running: boolean; loaded: Array<{ tid: number; pid: number; mode: string; state: string; offset: number }> }>;
  tables: Array<{ tid: number; db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean; offset?: number }> }> }>;
}

const LOST = ['--no-system-tables', '--scenario', 'partition-lost', '--replicas', '2', '--tablets', '3', '--tables', '1', '--partitions', '2'];

const state = (sim: Sim) => sim.ctl<State>('state');
const t0 = (s: State) => s.tables.find((t) => t.db === 'demo_db' && t.name === 't0')!;
const lastSeq = async (sim: Sim) => (await sim.mutations()).at(-1)?.seq ?? 0;

function spawnCli(sim: Sim, args: string[]): { child: ChildProcess; stderr: () => string; exited: Promise<string | null> } {
  const child = spawn(process.execPath, [RECOVER_BIN, ...args], { env: { ...process.env, ...sim.env, XDG_STATE_HOME: sim.stateHome }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  return { child, stderr: () => stderr, exited };
}

// Two simulators at once: the file stays within its time budget on a busy machine.
describe('recover-table', { concurrency: true }, () => {
  // Its tests share one simulator: one after the other (the parent's concurrency is inherited).
  describe('on partition-lost', { concurrency: 1 }, () => {
    let sim: Sim;
    before(async () => {
      sim = await startSim(LOST);
    });
    after(() => sim.down());

    it('bad names get one line and exit 2, --dry-run plans; nothing is changed', async () => {
      for (const args of [
        ['recover-table', 'demo_db.nope'],
        ['recover-table', 'nodot'],
        ['recover-table', 'demo_db.t0', '--pid', '7'],
        ['recover-table', 'demo_db.t0', '--leader', '0=127.0.0.1:1'],
        ['recover-table', 'demo_db.t0', '--leader', 'zero'],
      ]) {
        const r = await recoverCli(sim, args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(errorLines(r.stderr).length, 1, r.stderr);
      }
      const dry = await recoverCli(sim, ['recover-table', 'demo_db.t0', '--dry-run', '--json']);
      assert.equal(dry.code, 0, dry.stderr);
      const plan = report(dry);
      assert.equal(plan.command, 'recover-table');
      assert.deepEqual(plan.tables.map((t) => `${t.db}.${t.name}`), ['demo_db.t0']);
      // Every partition is planned, served or not.
      assert.ok(plan.tables[0]!.partitions.every((p) => p.status === 'planned'));
      // A lost one: first every replica is read (loaded as a follower), to choose its leader.
      const lost = plan.tables[0]!.partitions.find((p) => p.plan.some((s) => s.startsWith('loadtable t0')));
      assert.ok(lost, 'a lost partition gets its replicas loaded');
      assert.match(lost.reason, /reading every replica's offset before choosing the leader/);
      assert.equal(lost.plan.filter((s) => /^loadtable t0 \d+ \d+ 144000 8 false/.test(s)).length, 2, 'both replicas, as followers');
      // A served one keeps its leader; its followers are rebuilt.
      const served = plan.tables[0]!.partitions.find((p) => p !== lost);
      assert.ok(served?.plan.some((s) => /^recovertable t0 \d+ \S+$/.test(s)));
      assert.deepEqual(await sim.mutations(), [], 'nothing changed');
    });

    it('brings the lost partitions back, nothing lost, each runbook step shown as it runs', async () => {
      const r = await recoverCli(sim, ['recover-table', 'demo_db.t0', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const rep = report(r);
      assert.equal(rep.autoFailover.before, true);
      assert.equal(rep.autoFailover.after, true);
      assert.match(r.stderr, /confset auto_failover false/);
      for (const step of ['updatetablealive t0 \\d+ \\S+ no', 'loadtable t0', 'gettablestatus', 'updatetablealive t0 \\d+ \\S+ yes', 'recovertable t0', 'showopstatus t0']) {
        assert.match(r.stderr, new RegExp(`running: ${step}`), `progress shows ${step}`);
      }
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
      assert.equal(check.autoFailover, true);
    });

    it('--leader naming the replica with less data: refused without --accept-data-loss, done with it', async () => {
      // One replica falls behind (its tablet misses 50 writes), then the leader dies too: the
      // partition is lost again, and only the old leader's disk holds the last 50 entries.
      const s0 = await state(sim);
      const table = t0(s0);
      const part = table.partitions[0]!;
      const leader = part.replicas.find((x) => x.isLeader)!.endpoint;
      const behind = part.replicas.find((x) => !x.isLeader)!.endpoint;
      assert.equal((await recoverCli(sim, ['failover', 'off'])).code, 0);
      await sim.ctl('tablet', { action: 'stop', endpoint: behind });
      await sim.ctl('write', { table: 'demo_db.t0', entries: 50 });
      await sim.waitFor('the nameserver to poll the new offset', async () => {
        const s = await state(sim);
        const served = s.tablets.find((t) => t.endpoint === leader)!.loaded.find((l) => l.tid === table.tid && l.pid === part.pid)!.offset;
        return t0(s).partitions[0]!.replicas.find((x) => x.endpoint === leader)!.offset === served;
      });
      await sim.ctl('tablet', { action: 'stop', endpoint: leader });
      await sim.ctl('tablet', { action: 'start', endpoint: behind, wait: true });
      await sim.ctl('tablet', { action: 'start', endpoint: leader, wait: true });
      await sim.ctl('incident', { autoFailoverBefore: true });
      const mark = await lastSeq(sim);

      const pid = String(part.pid);
      const refused = await recoverCli(sim, ['recover-table', 'demo_db.t0', '--pid', pid, '--leader', `${pid}=${behind}`, '--json']);
      assert.equal(refused.code, 1, refused.stderr);
      const p1 = report(refused).tables[0]!.partitions.find((p) => p.pid === part.pid)!;
      assert.equal(p1.status, 'refused');
      assert.equal(p1.atStake, 50);
      assert.match(p1.reason, new RegExp(`${leader} holds 50 entries ${behind} may lack`));
      // To know what was at stake it read both replicas (marked them not alive, loaded them
      // as followers); it changed nothing else.
      const changes = (await sim.mutations(mark)).filter((m) => m.method !== 'ConfSet');
      assert.deepEqual([...new Set(changes.map((m) => m.method))].sort(), ['LoadTable', 'UpdateTableAliveStatus']);
      assert.ok(changes.every((m) => m.method !== 'UpdateTableAliveStatus' || (m.body as { is_alive?: boolean }).is_alive === false));
      assert.ok(changes.every((m) => m.method !== 'LoadTable' || (m.body as { table_meta: { mode: string } }).table_meta.mode === 'kTableFollower'));

      const accepted = await recoverCli(sim, ['recover-table', 'demo_db.t0', '--pid', pid, '--leader', `${pid}=${behind}`, '--accept-data-loss', '--json']);
      assert.equal(accepted.code, 0, accepted.stderr);
      const p2 = report(accepted).tables[0]!.partitions.find((p) => p.pid === part.pid)!;
      assert.equal(p2.status, 'recovered');
      assert.equal(p2.leader?.endpoint, behind);
      assert.equal(p2.atStake, 50);
      const after = t0(await state(sim)).partitions[0]!.replicas;
      assert.ok(after.find((x) => x.endpoint === behind)?.isLeader && after.find((x) => x.endpoint === behind)?.isAlive, 'the named replica leads');

      // The two restarted tablets' other partitions are left to the one-click recovery.
      const check = await sim.check();
      assert.deepEqual(check.problems.filter((x) => x.startsWith(`demo_db.t0 pid ${pid}:`)), []);
      assert.equal(check.ledger.find((l) => l.table === 't0' && l.pid === part.pid)?.lost, 50, 'exactly the entries accepted as lost');
    });
  });

  describe('killed mid-run', { concurrency: 1 }, () => {
    it('SIGKILL once its first step runs: the rerun converges and puts auto_failover back; SIGINT: put back at once', async () => {
      const sim = await startSim([...LOST, '--load-base-ms', '800']);
      try {
        const run = spawnCli(sim, ['recover-table', 'demo_db.t0']);
        await sim.waitFor('the first runbook step', async () => /: running: /.test(run.stderr()), 240000);
        run.child.kill('SIGKILL');
        assert.equal(await run.exited, 'SIGKILL');
        assert.equal((await state(sim)).autoFailover, false, 'the killed run could not restore auto_failover');

        // The rerun restores the value from before the killed run, read from the run journal
        // it left (issue 5); without a journal it could only leave auto_failover as found.
        const rerun = await recoverCli(sim, ['recover-table', 'demo_db.t0', '--json']);
        assert.equal(rerun.code, 0, rerun.stderr);
        const rep = report(rerun);
        assert.equal(rep.autoFailover.before, true, 'the value before the killed run, not the false it left');
        assert.equal(rep.autoFailover.after, true);
        const check = await sim.check();
        assert.deepEqual(check.problems, []);
        assert.equal(check.entriesLost, 0);
        assert.equal(check.autoFailover, true);

        // SIGINT mid-run: it stops starting steps, puts auto_failover back itself, exits 130.
        const interrupted = spawnCli(sim, ['recover-table', 'demo_db.t0']);
        await sim.waitFor('the first runbook step', async () => /: running: /.test(interrupted.stderr()), 240000);
        interrupted.child.kill('SIGINT');
        assert.equal(await interrupted.exited, null);
        assert.equal(interrupted.child.exitCode, 130, interrupted.stderr());
        assert.match(interrupted.stderr(), /auto_failover restored to true/);
        assert.equal((await state(sim)).autoFailover, true);
      } finally {
        await sim.down();
      }
    });
  });
});
