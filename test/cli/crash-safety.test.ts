// Crash-safe and exclusive: SIGKILL at any point then a rerun converges and restores the
// auto_failover value from before the first run; two runs never work on one cluster at
// once; SIGINT stops cleanly, restores auto_failover and still reports.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { autoFailover, lockAndJournal, slowLoads, startRecover, stateFiles } from '../helpers/runs.js';
import { recoverCli, startSim } from '../helpers/sim.js';
import { report as checkedReport } from '../helpers/report.js';

const FULL_RESTART = ['--no-system-tables', '--scenario', 'full-restart', '--tables', '2', '--partitions', '2', '--storage', 'memory', '--load-base-ms', '600'];

describe('crash safety', () => {
  for (const phase of ['after auto_failover went off', 'during recovertable'] as const) {
    it(`SIGKILL ${phase}, then a rerun restores auto_failover=true and converges`, async () => {
      const sim = await startSim(FULL_RESTART);
      try {
        // t0 pid 0 loads for 10 s: the run is surely still at work, auto_failover off, when killed.
        await slowLoads(sim, 10000);
        const run = startRecover(sim);
        await sim.waitFor(phase, async () => {
          const m = await sim.mutations();
          return phase === 'after auto_failover went off' ? m.some((x) => x.method === 'ConfSet') : m.some((x) => x.method === 'RecoverTable' && x.code === 0);
        }, 240000);
        run.child.kill('SIGKILL');
        const killed = await run.done;
        await sim.ctl('clear-faults');
        assert.equal(killed.signal, 'SIGKILL');
        assert.equal(await autoFailover(sim), false, 'the dead run left auto_failover off');
        assert.ok(stateFiles(sim).some((f) => f.endsWith('.journal.json')), 'its journal is left behind');
        assert.ok(stateFiles(sim).some((f) => f.endsWith('.lock')), 'and its lock');

        const rerun = await recoverCli(sim, ['recover', '--json']);
        assert.equal(rerun.code, 0, rerun.stderr);
        assert.match(rerun.stderr, /took over the lock of a run that is gone/);
        assert.match(rerun.stderr, /did not finish; auto_failover was true before it/);
        const report = checkedReport(rerun);
        assert.equal(report.autoFailover.before, true, 'the original value, not the false the dead run left');
        assert.equal(report.autoFailover.after, true);
        const check = await sim.check();
        assert.deepEqual(check.problems, []);
        assert.equal(check.entriesLost, 0);
        assert.deepEqual(lockAndJournal(sim), [], 'journal cleared and lock released');
      } finally {
        await sim.down();
      }
    });
  }

  it('a stale journal does not revert the operator\'s choice: off before, the run killed, the operator switches it on; the rerun keeps it on and says so', async () => {
    const sim = await startSim([...FULL_RESTART, '--no-auto-failover']);
    try {
      await slowLoads(sim, 10000);
      const run = startRecover(sim);
      await sim.waitFor('a load in flight', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 240000);
      run.child.kill('SIGKILL');
      await run.done;
      await sim.ctl('clear-faults');
      assert.ok(stateFiles(sim).some((f) => f.endsWith('.journal.json')), 'its journal is left behind');
      assert.match((await sim.ns('confset auto_failover true')).stdout, /set auto_failover ok/);
      const rerun = await recoverCli(sim, ['recover', '--json']);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.match(rerun.stderr, /auto_failover is true, but the earlier run left it false: someone changed it since, so true stands/);
      const report = checkedReport(rerun);
      assert.deepEqual(report.autoFailover.inherited, { found: true, journal: false });
      assert.equal(report.autoFailover.before, true);
      assert.equal(report.autoFailover.after, true);
      assert.equal(await autoFailover(sim), true, 'the operator\'s choice stands');
      const check = await sim.check();
      assert.equal(check.entriesLost, 0);
      assert.equal(check.partitionsServed, check.partitions);
      assert.deepEqual(lockAndJournal(sim), []);
    } finally {
      await sim.down();
    }
  });

  it('a journal read back is escaped, counted whole and checked to be this cluster\'s', async () => {
    const sim = await startSim(FULL_RESTART);
    try {
      // A first run names the cluster in the state directory (its key files).
      assert.equal((await recoverCli(sim, ['recover'])).code, 0);
      const dir = join(sim.stateHome, 'openmldb-recover');
      const keyFile = readdirSync(dir).find((f) => /^id-[0-9a-f]+\.key$/.test(f));
      assert.ok(keyFile);
      const journal = join(dir, `${readFileSync(join(dir, keyFile), 'utf8').trim()}.journal.json`);
      const planted = (extra: Record<string, unknown>) =>
        writeFileSync(
          journal,
          JSON.stringify({
            version: 1, runId: 'dead-run', pid: 999999, host: 'ops-1', command: 'openmldb-recover recover\u001b[2J', cluster: { zkCluster: sim.info.zkCluster, zkRootPath: sim.info.zkRootPath },
            startedAt: '2026-12-07T00:00:00Z', autoFailoverOriginal: true, autoFailoverSet: false, resumedBy: [],
            sent: [{ at: '2026-12-07T00:00:01Z', runId: 'dead-run', command: 'confset auto_failover false\u001b]0;pwned\u0007', outcome: 'ok' }], sentTotal: 500, ...extra,
          }),
          { mode: 0o600 },
        );
      // A dead run as it would have left things: auto_failover off.
      assert.match((await sim.ns('confset auto_failover false')).stdout, /set auto_failover ok/);
      planted({});
      const rerun = await recoverCli(sim, ['recover']);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.ok(!/[\u001b\u0007]/.test(rerun.stderr + rerun.stdout), 'no control character from the journal reaches the terminal');
      assert.match(rerun.stderr, /an earlier run \(openmldb-recover recover\?\[2J, pid 999999 on ops-1/);
      assert.match(rerun.stderr, /the unfinished run had sent 500 changing commands; the last: `confset auto_failover false\?\]0;pwned\?`/);
      assert.equal(await autoFailover(sim), true);
      // A journal of another cluster (copied or planted): exit 2, nothing changed.
      assert.match((await sim.ns('confset auto_failover false')).stdout, /set auto_failover ok/);
      planted({ identifiers: ['zk:10.9.9.9:2181/elsewhere'], cluster: { zkCluster: '10.9.9.9:2181', zkRootPath: '/elsewhere' } });
      const since = (await sim.mutations()).length;
      const refused = await recoverCli(sim, ['recover']);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /the run journal \S+ belongs to another cluster \(10\.9\.9\.9:2181\/elsewhere; it holds auto_failover=true from before its run\), not this one: if it is this cluster's after all, run with --zk_cluster=10\.9\.9\.9:2181 --zk_root_path=\/elsewhere; else move it away/);
      assert.deepEqual((await sim.mutations()).slice(since), []);
      assert.equal(await autoFailover(sim), false, 'untouched');
    } finally {
      await sim.down();
    }
  });

  it('a rerun that puts back what a dead run left off says so, not "untouched"', async () => {
    const sim = await startSim(FULL_RESTART);
    try {
      await slowLoads(sim, 10000);
      const run = startRecover(sim);
      await sim.waitFor('auto_failover off', async () => (await sim.mutations()).some((m) => m.method === 'ConfSet'), 240000);
      run.child.kill('SIGKILL');
      await run.done;
      await sim.ctl('clear-faults');
      const rerun = await recoverCli(sim, ['recover']);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.match(rerun.stdout, /auto_failover: false as an earlier run left it -> true \(its value before that run\)/);
      assert.equal(await autoFailover(sim), true);
    } finally {
      await sim.down();
    }
  });

  it('a second run exits 4 naming the holder; SIGINT stops cleanly, restores auto_failover and reports', async () => {
    const sim = await startSim(FULL_RESTART);
    try {
      await slowLoads(sim);
      const first = startRecover(sim);
      await sim.waitFor('a load in flight', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 240000);
      const second = await recoverCli(sim, ['recover']);
      assert.equal(second.code, 4, second.stderr);
      assert.match(second.stderr, /another run holds the cluster lock: pid \d+ on \S+, started \S+, running `openmldb-recover recover`/);
      const dry = await recoverCli(sim, ['recover', '--dry-run']);
      assert.notEqual(dry.code, 4, 'a dry run takes no lock');
      const status = await recoverCli(sim, ['status']);
      assert.notEqual(status.code, 4, 'status takes no lock');

      // The restore's first ConfSet hangs 5 s, so the second SIGINT, sent once the first was
      // taken, surely reaches the run before it exits (it is ignored from the first on).
      await sim.ctl('fail', { method: 'ConfSet', kind: 'timeout', count: 1, delayMs: 5000 });
      first.child.kill('SIGINT');
      await sim.waitFor('the first SIGINT taken', async () => /SIGINT: no new steps/.test(first.stderr()));
      first.child.kill('SIGINT');
      const r = await first.done;
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /SIGINT ignored/);
      const report = checkedReport(r);
      assert.equal(report.exitCode, 130);
      assert.ok(report.totals.interrupted >= 1, 'the partition whose load was running is reported interrupted');
      assert.equal(await autoFailover(sim), true, 'auto_failover restored');
      assert.deepEqual(lockAndJournal(sim), [], 'lock released, journal cleared');
      assert.equal(stateFiles(sim).filter((f) => f.endsWith('.evidence.jsonl')).length, 1, 'what it learnt is kept for the next run');
    } finally {
      await sim.down();
    }
  });

  it('SIGTERM during a load: exit 143, auto_failover restored, the report written', async () => {
    const sim = await startSim(FULL_RESTART);
    try {
      await slowLoads(sim);
      const run = startRecover(sim);
      await sim.waitFor('a load in flight', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 240000);
      run.child.kill('SIGTERM');
      const r = await run.done;
      assert.equal(r.code, 143, r.stderr);
      assert.equal(checkedReport(r).exitCode, 143);
      assert.equal(await autoFailover(sim), true);
      assert.deepEqual(lockAndJournal(sim), []);
    } finally {
      await sim.down();
    }
  });
});
