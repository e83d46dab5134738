// Under --json automation never gets an empty stdout: every command, whatever its exit code,
// prints one JSON document valid against its schema in docs/. A command that stops on an
// error (usage 2, unreachable 3, lock held 4) prints the error report (report.schema.json)
// saying where it stopped; a command that ran prints its own document.
//
// Here: 2 and 3 from every command, 4 from every command that takes the lock, and 129 from
// the run holding it. The other codes are checked against the same schemas where their cases
// are made: 0 (exit-codes, failover, ops), 1 (data-loss, failover, ops, exit-codes for
// status), 5 (ways-out), 130 and 143 (crash-safety).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { report } from '../helpers/report.js';
import { atWork, autoFailover, lockAndJournal, slowLoads, startRecover } from '../helpers/runs.js';
import { recoverCli, withSim } from '../helpers/sim.js';

const SMALL = ['--no-system-tables', '--scenario', 'full-restart', '--tables', '1', '--partitions', '2', '--storage', 'memory', '--load-base-ms', '300'];

/** Every command that changes the cluster, with arguments that name something real. */
function mutating(endpoint: string): string[][] {
  return [
    ['recover'],
    ['--cmd=recoverdata'],
    ['recover-table', 'demo_db.t0'],
    ['offline-endpoint', endpoint],
    ['recover-endpoint', endpoint],
    ['change-leader', 'demo_db.t0', '0'],
    ['failover', 'off'],
  ];
}

/** And the read-only ones. */
const READ_ONLY = [['status'], ['failover'], ['ops'], ['history', 'list']];

describe('under --json, every exit prints a schema-valid document', { concurrency: true }, () => {
  it('2 (usage) and 3 (unreachable) from every command: the error report, nothing changed', async () => {
    await withSim(SMALL, async (sim) => {
      const ep = sim.info.tablets[0]?.endpoint ?? '';
      const all = [...mutating(ep), ...READ_ONLY];
      const usage = await Promise.all(all.map((args) => recoverCli(sim, [...args, '--json', '--bogus-flag'])));
      const remote = all.filter((a) => a[0] !== 'history');
      const unreachable = await Promise.all(remote.map((args) => recoverCli(sim, [...args, '--json'], { OPENMLDB_ZK_CLUSTER: '127.0.0.1:1' })));
      // history reads only the state directory: its own usage errors.
      const history = await recoverCli(sim, ['history', 'show', 'no-such-run', '--json']);
      for (const [i, r] of usage.entries()) {
        const rep = report(r);
        assert.equal(r.code, 2, `${all[i]?.join(' ')}: ${r.stderr}`);
        assert.equal(rep.exitCode, 2);
        assert.equal(rep.stoppedIn, 'usage');
        assert.match(rep.errors[0] ?? '', /Unknown argument: bogus-flag/);
      }
      for (const [i, r] of unreachable.entries()) {
        const rep = report(r);
        assert.equal(r.code, 3, `${remote[i]?.join(' ')}: ${r.stderr}`);
        assert.equal(rep.exitCode, 3);
        assert.equal(rep.ok, false);
        assert.ok(rep.errors.length > 0);
      }
      assert.equal(history.code, 2, history.stderr);
      assert.equal(report(history).exitCode, 2);
      assert.deepEqual(await sim.mutations(), [], 'none of them changed anything');
    });
  });

  it('the error report names the cluster the command was given (a flag in either form, or --config), not the environment\'s', async () => {
    await withSim(SMALL, async (sim) => {
      const cfg = join(sim.dir, 'other-cluster.json');
      writeFileSync(cfg, JSON.stringify({ zk_cluster: '127.0.0.1:2', zk_root_path: '/from_file' }));
      const [spaced, fromFile, usage] = await Promise.all([
        recoverCli(sim, ['status', '--json', '--zk_cluster', '127.0.0.1:1', '--zk-root-path', '/spaced']),
        recoverCli(sim, ['recover', '--json', '--config', cfg]),
        recoverCli(sim, ['recover', '--json', '--zk_root_path', '/typed', '--bogus-flag']),
      ]);
      assert.equal(spaced.code, 3, spaced.stderr);
      assert.deepEqual(report(spaced).cluster, { zkCluster: '127.0.0.1:1', zkRootPath: '/spaced' });
      assert.equal(fromFile.code, 3, fromFile.stderr);
      assert.deepEqual(report(fromFile).cluster, { zkCluster: '127.0.0.1:2', zkRootPath: '/from_file' });
      // Stopped before yargs parsed the line: read as typed, the rest from the environment.
      assert.equal(usage.code, 2, usage.stderr);
      assert.deepEqual(report(usage).cluster, { zkCluster: sim.info.zkCluster, zkRootPath: '/typed' });
      assert.deepEqual(await sim.mutations(), []);
    });
  });

  it('4 from every command that takes the lock while a run holds it; 129 from that run', async () => {
    await withSim(SMALL, async (sim) => {
      await slowLoads(sim);
      const holder = startRecover(sim);
      await atWork(sim);
      const ep = sim.info.tablets[0]?.endpoint ?? '';
      const cmds = mutating(ep);
      const refused = await Promise.all(cmds.map((args) => recoverCli(sim, [...args, '--json'])));
      for (const [i, r] of refused.entries()) {
        const rep = report(r);
        assert.equal(r.code, 4, `${cmds[i]?.join(' ')}: ${r.stderr}`);
        assert.equal(rep.stoppedIn, 'lock');
        assert.match(rep.errors[0] ?? '', /another run holds the cluster lock/);
      }
      holder.child.kill('SIGHUP');
      const held = await holder.done;
      assert.equal(held.code, 129, held.stderr.slice(-2000));
      assert.equal(report(held).exitCode, 129);
      assert.equal(await autoFailover(sim), true);
      assert.deepEqual(lockAndJournal(sim), []);
    });
  });

  it('a state directory it cannot use: 2 with the error report, before any cluster call', async () => {
    await withSim(SMALL, async (sim) => {
      const r = await recoverCli(sim, ['recover', '--json', '--state-dir', '/proc/openmldb-recover']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(report(r).errors[0] ?? '', /state director/);
      assert.deepEqual(await sim.mutations(), []);
    });
  });
});
