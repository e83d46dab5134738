// A ZooKeeper server that goes silent (SIGSTOP: the connection stays open, nothing answers)
// while a run holds its lock there. The client library never reports a disconnect then,
// and used to wait on the run's evidence write for ever, with auto_failover off. Every
// request now has a deadline and the lock checks its session's liveness, so the run stops
// changing the cluster and ends (exit 5: the restore is owed, or 3) within the session
// timeout and a few seconds; with ZooKeeper answering again, the next run restores
// auto_failover and converges, nothing lost.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import { startZooKeeper } from '../../src/zk/server.js';
import { slowLoads, startRecover } from '../helpers/runs.js';
import { recoverCli, startSim } from '../helpers/sim.js';
import { zooKeeperTierSkip } from '../helpers/zookeeper.js';

const skip = zooKeeperTierSkip();
const FULL_RESTART = ['--no-system-tables', '--scenario', 'full-restart', '--no-power-loss', '--tables', '1', '--partitions', '2', '--storage', 'memory', '--load-base-ms', '800'];
const SESSION_S = 2;

describe('a frozen ZooKeeper', { skip, timeout: 300000 }, () => {
  it('the run holding the lock there ends within the session timeout and a few seconds; the next run restores auto_failover and converges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openmldb-zk-frozen-'));
    const server = await startZooKeeper({ dir });
    const sim = await startSim(['--zookeeper', server.address, '--zk-root-path', '/frozen', ...FULL_RESTART]);
    let frozen = false;
    try {
      await slowLoads(sim, 10000);
      const run = startRecover(sim, ['--lock', 'zk', '--lock-session-timeout', String(SESSION_S)]);
      await sim.waitFor('a load in flight', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 120000);
      process.kill(server.pid, 'SIGSTOP');
      frozen = true;
      const at = Date.now();
      const r = await run.done;
      const took = Date.now() - at;
      console.log(`frozen ZooKeeper: the run ended ${took} ms after the freeze`);
      assert.ok(took < SESSION_S * 1000 + 20000, `ended ${took} ms after the freeze`);
      assert.ok(r.code === 5 || r.code === 3, `exit ${r.code}: ${r.stderr.slice(-2000)}`);
      const report = JSON.parse(r.stdout) as Report;
      assert.ok(report.lock?.lost, 'the report says the lock was lost');
      assert.match(report.lock?.lost ?? '', /ZooKeeper .*stopped answering|lost contact/);
      process.kill(server.pid, 'SIGCONT');
      frozen = false;
      // Once a nameserver leads again and the dead session's lock is gone, a rerun finishes the job.
      let rerun = await recoverCli(sim, ['recover', '--json', '--lock', 'zk', '--lock-session-timeout', String(SESSION_S)]);
      for (let i = 0; i < 60 && (rerun.code === 4 || rerun.code === 3); i++) {
        await new Promise((res) => setTimeout(res, 500));
        rerun = await recoverCli(sim, ['recover', '--json', '--lock', 'zk', '--lock-session-timeout', String(SESSION_S)]);
      }
      assert.equal(rerun.code, 0, rerun.stderr.slice(-2000));
      const after = JSON.parse(rerun.stdout) as Report;
      assert.equal(after.autoFailover.after, true);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
    } catch (err) {
      if (existsSync(join(sim.dir, 'daemon.log'))) console.log(readFileSync(join(sim.dir, 'daemon.log'), 'utf8').slice(-4000));
      throw err;
    } finally {
      if (frozen) process.kill(server.pid, 'SIGCONT');
      await sim.down();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // No new step after the signal; the restore alone waits, at most the session timeout, to
  // learn whether the lock is still this run's (putting auto_failover back under another
  // host's run would hand its half-done recovery to the nameserver).
  it('SIGTERM while ZooKeeper is frozen: no new step, the run ends within the session timeout and a few seconds, exit 143 or 5 (restore owed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openmldb-zk-frozen-term-'));
    const server = await startZooKeeper({ dir });
    const sim = await startSim(['--zookeeper', server.address, '--zk-root-path', '/frozen-term', ...FULL_RESTART]);
    let frozen = false;
    try {
      await slowLoads(sim, 10000);
      const run = startRecover(sim, ['--lock', 'zk', '--lock-session-timeout', '6']);
      await sim.waitFor('a load in flight', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 120000);
      process.kill(server.pid, 'SIGSTOP');
      frozen = true;
      await new Promise((r) => setTimeout(r, 1000));
      const at = Date.now();
      run.child.kill('SIGTERM');
      const r = await run.done;
      const took = Date.now() - at;
      console.log(`frozen ZooKeeper: SIGTERM ended the run in ${took} ms`);
      assert.ok(r.code === 143 || r.code === 5, `exit ${r.code}: ${r.stderr.slice(-2000)}`);
      assert.ok(took < 6000 + 20000, `ended ${took} ms after SIGTERM`);
      const sent = (await sim.mutations()).filter((m) => m.method !== 'ConfSet');
      // A call sent before the signal is logged when it ends: one that waited on the frozen
      // ZooKeeper ends after it, failed (`set zk failed`), having changed nothing.
      const after = sent.filter((m) => Date.parse(String(m.at ?? '')) > at && (m.code ?? 0) === 0);
      assert.deepEqual(after.map((m) => m.method), [], 'no change sent after the signal');
      assert.match(r.stderr, /SIGTERM: no new steps/);
      process.kill(server.pid, 'SIGCONT');
      frozen = false;
      let rerun = await recoverCli(sim, ['recover', '--json', '--lock', 'zk', '--lock-session-timeout', '6']);
      for (let i = 0; i < 120 && (rerun.code === 4 || rerun.code === 3); i++) {
        await new Promise((res) => setTimeout(res, 500));
        rerun = await recoverCli(sim, ['recover', '--json', '--lock', 'zk', '--lock-session-timeout', '6']);
      }
      assert.equal(rerun.code, 0, rerun.stderr.slice(-2000));
      assert.equal((JSON.parse(rerun.stdout) as Report).autoFailover.after, true);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
    } finally {
      if (frozen) process.kill(server.pid, 'SIGCONT');
      await sim.down();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
