// Every way out puts auto_failover back and says what happened: a transient failure while
// observing, a rerun after a kill whose first observation fails, a reader that closes the
// pipe, SIGHUP under nohup, SIGINT while the restore itself keeps failing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { report as checkedReport } from '../helpers/report.js';
import { atWork, autoFailover, lockAndJournal, slowLoads, startRecover, stateFiles } from '../helpers/runs.js';
import { RECOVER_BIN, type Sim, recoverCli, withSim } from '../helpers/sim.js';

const SMALL = ['--no-system-tables', '--scenario', 'full-restart', '--tables', '1', '--partitions', '2', '--storage', 'memory', '--load-base-ms', '300'];

/** A recover run from a shell pipeline, so the test can shape its stdout and stderr. */
function shell(sim: Sim, pipeline: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', pipeline], { env: { ...process.env, ...sim.env, XDG_STATE_HOME: sim.stateHome, RECOVER: `${process.execPath} ${RECOVER_BIN}` }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

describe('every way out', { concurrency: true }, () => {
  it('a transient failure while observing is retried and counted; a lasting one still prints a JSON report (exit 3)', async () => {
    await withSim(SMALL, async (sim) => {
      // "Not leader" (an election settling): not a dropped connection a read tries again
      // itself, so the look is retried.
      await sim.ctl('fail', { method: 'ShowTable', kind: 'not-leader', count: 2 });
      const ok = await recoverCli(sim, ['recover', '--json']);
      assert.equal(ok.code, 0, ok.stderr);
      const r = checkedReport(ok);
      assert.ok((r.retries?.observe ?? 0) >= 1, 'the retries are in the report');

      await sim.ctl('fail', { method: 'ShowTable', kind: 'refused', count: 100000 });
      // A lasting refusal is waited out for --leader-wait (a nameserver election may be settling).
      const down = await recoverCli(sim, ['recover', '--json', '--leader-wait', '3']);
      assert.equal(down.code, 3, down.stderr);
      const e = checkedReport(down);
      assert.equal(e.exitCode, 3);
      assert.equal(e.stoppedIn, 'observe');
      assert.match(e.errors[0] ?? '', /ShowTable|showtable/);
      assert.equal(down.stderr.trim().split('\n').filter((l) => l.startsWith('openmldb-recover:')).length, 1, 'and one line on stderr');
    });
  });

  it('a rerun after kill -9 that cannot observe still puts auto_failover back', async () => {
    await withSim(SMALL, async (sim) => {
      await slowLoads(sim);
      const first = startRecover(sim);
      await atWork(sim);
      first.child.kill('SIGKILL');
      await first.done;
      assert.equal(await autoFailover(sim), false, 'the dead run left it off');
      // The rerun cannot observe at all (every ShowTable refused): it cannot do the job, but
      // the dead run's restore is still paid.
      await sim.ctl('fail', { method: 'ShowTable', kind: 'refused', count: 100000 });
      const rerun = await recoverCli(sim, ['recover', '--json', '--leader-wait', '3']);
      assert.equal(rerun.code, 3, rerun.stderr);
      assert.match(rerun.stderr, /did not finish; auto_failover was true before it: this run finishes the job and leaves it true/);
      assert.equal(await autoFailover(sim), true, 'restored');
      assert.deepEqual(lockAndJournal(sim), [], 'journal cleared, lock released');
    });
  });

  it('stderr to a pipe that closes: the run goes on, restores auto_failover and finishes', async () => {
    await withSim(SMALL, async (sim) => {
      const r = await shell(sim, '$RECOVER recover 2>&1 >/dev/null | head -2; echo "pipeline done"');
      assert.match(r.stdout, /pipeline done/);
      // `head` is gone; the run itself ends in the background: wait for its lock to go.
      await sim.waitFor('the run to end', async () => stateFiles(sim).every((f) => !f.endsWith('.lock')), 240000);
      assert.equal(await autoFailover(sim), true);
      const check = await sim.check();
      assert.deepEqual(check.problems, [], 'recovered to the end although nobody read its progress');
    });
  });

  it('SIGHUP: exit 129 after putting auto_failover back, with the report', async () => {
    await withSim(SMALL, async (sim) => {
      await slowLoads(sim);
      const run = startRecover(sim);
      await atWork(sim);
      run.child.kill('SIGHUP');
      const r = await run.done;
      assert.equal(r.code, 129, r.stderr);
      assert.equal(checkedReport(r).exitCode, 129);
      assert.equal(await autoFailover(sim), true);
      assert.deepEqual(lockAndJournal(sim), []);
    });
  });

  it('SIGHUP under nohup (ignored when Node starts, which resets it): the run\'s own handler answers, exit 129 with its report', async () => {
    await withSim(SMALL, async (sim) => {
      await slowLoads(sim);
      const out = join(sim.dir, 'nohup-report.json');
      const pidFile = join(sim.dir, 'nohup.pid');
      const nohup = shell(sim, `nohup $RECOVER recover --json > ${out} 2>/dev/null & echo $! > ${pidFile}; wait $!; echo "exit $?"`);
      await atWork(sim);
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGHUP');
      assert.match((await nohup).stdout, /exit 129\n/);
      // A plain kill by the signal would print no report: this one is the handler's.
      const report = JSON.parse(readFileSync(out, 'utf8')) as { exitCode: number };
      assert.equal(report.exitCode, 129);
      assert.equal(await autoFailover(sim), true);
      assert.deepEqual(lockAndJournal(sim), []);
    });
  });

  it('SIGINT while the restore keeps failing: exit 5, the journal stays and says what to run; the next run restores first', async () => {
    await withSim(SMALL, async (sim) => {
      await slowLoads(sim);
      const run = startRecover(sim);
      await atWork(sim);
      await sim.ctl('fail', { method: 'ConfSet', kind: 'refused', count: 100000 });
      run.child.kill('SIGINT');
      const r = await run.done;
      assert.equal(r.code, 5, r.stderr.slice(-2000));
      const rep = checkedReport(r);
      assert.equal(rep.autoFailover.owed, true);
      assert.match(rep.errors.join('\n'), /auto_failover is still false.*openmldb-recover failover on/);
      assert.equal(await autoFailover(sim), false);
      assert.ok(lockAndJournal(sim).some((f) => f.endsWith('.journal.json')), 'the journal stays');
      await sim.ctl('clear-faults');
      const next = await recoverCli(sim, ['recover', '--dry-run', '--json']);
      assert.equal(await autoFailover(sim), false, 'a dry run changes nothing, not even that');
      assert.notEqual(next.code, 5);
      const fixed = await recoverCli(sim, ['failover', 'on']);
      assert.equal(fixed.code, 0, fixed.stderr);
      assert.equal(await autoFailover(sim), true);
      assert.deepEqual(lockAndJournal(sim), []);
    });
  });
});
