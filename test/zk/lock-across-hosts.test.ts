// The cluster-wide lock and journal across operations hosts (each run here has its own
// state directory, as another host would): the second run exits 4 naming the first; after
// kill -9 of the first, the second run, once the dead session has expired, restores
// auto_failover to its value before the first run and converges. ZooKeeper lost mid-run:
// the run stops changing the cluster and exits 5 (restore owed); the journal survives in ZooKeeper and
// the next run restores auto_failover and converges.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import { startZooKeeper } from '../../src/zk/server.js';
import { ZkSession } from '../../src/zk/session.js';
import { RECOVER_BIN, type RunResult, type Sim, recoverCli, startSim } from '../helpers/sim.js';
import { autoFailover, slowLoads } from '../helpers/runs.js';
import { sharedZooKeeper, zooKeeperTierSkip } from '../helpers/zookeeper.js';

const skip = zooKeeperTierSkip();
const zk = sharedZooKeeper(skip);

const FULL_RESTART = ['--no-system-tables', '--scenario', 'full-restart', '--no-power-loss', '--tables', '1', '--partitions', '2', '--storage', 'memory', '--load-base-ms', '800'];
/** Short sessions: a killed run's lock goes two seconds after it died. */
const TOOL = ['--json', '--lock', 'zk', '--lock-session-timeout', '2'];

/** A run as from another operations host: its own state directory. */
function host(sim: Sim, name: string): Record<string, string> {
  return { XDG_STATE_HOME: join(sim.dir, `host-${name}`) };
}

function spawnRecover(sim: Sim, env: Record<string, string>) {
  const child = spawn(process.execPath, [RECOVER_BIN, 'recover', ...TOOL], { env: { ...process.env, ...sim.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((r) => child.on('exit', (code, signal) => r({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Rerun while the lock is held (exit 4), as cron would; returns the first other result and the refusals seen. */
async function rerunUntilLockFree(sim: Sim, env: Record<string, string>): Promise<{ result: RunResult; refusals: string[] }> {
  const refusals: string[] = [];
  const deadline = Date.now() + 60000;
  for (;;) {
    const result = await recoverCli(sim, ['recover', ...TOOL], env);
    if (result.code !== 4 || Date.now() > deadline) return { result, refusals };
    refusals.push(result.stderr);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function zkChildren(address: string, path: string): Promise<string[]> {
  const s = await ZkSession.connect(address, { sessionTimeoutMs: 4000 });
  try {
    return (await s.exists(path)) ? (await s.children(path)).sort() : [];
  } finally {
    await s.close();
  }
}

describe('lock and journal across hosts, in ZooKeeper', { skip, concurrency: true, timeout: 480000 }, () => {
  it('host B exits 4 naming host A; after kill -9 of A, B restores auto_failover and converges', async () => {
    const sim = await startSim(['--zookeeper', zk.server().address, '--zk-root-path', zk.root('hosts'), ...FULL_RESTART]);
    try {
      await slowLoads(sim, 8000);
      const a = spawnRecover(sim, host(sim, 'a'));
      await sim.waitFor('host A to switch auto_failover off and start loading', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 120000);

      const b = await recoverCli(sim, ['recover', ...TOOL], host(sim, 'b'));
      assert.equal(b.code, 4, b.stderr);
      assert.match(b.stderr, new RegExp(`another run holds the cluster lock in ZooKeeper: pid ${a.child.pid} on \\S+, started \\S+, running \`openmldb-recover recover\``));

      a.child.kill('SIGKILL');
      assert.equal((await a.done).signal, 'SIGKILL');
      assert.equal(await autoFailover(sim), false, 'the dead run left auto_failover off');
      assert.ok((await zkChildren(zk.server().address, `${sim.info.zkRootPath}/openmldb-recover`)).includes('journal'), 'its journal is in ZooKeeper');

      const { result, refusals } = await rerunUntilLockFree(sim, host(sim, 'b'));
      assert.equal(result.code, 0, result.stderr);
      for (const r of refusals) assert.match(r, new RegExp(`pid ${a.child.pid}`), 'until its session expired, the dead run was named');
      assert.match(result.stderr, /did not finish; auto_failover was true before it/);
      assert.equal(result.stderr.match(/did not finish/g)?.length, 1, 'the journal, once settled, is not found again');
      assert.match(result.stderr, /the unfinished run had sent \d+ changing commands; the last: `\S+/, 'and what it had sent');
      const report = JSON.parse(result.stdout) as Report;
      assert.equal(report.autoFailover.before, true, 'the value before the first run, not the false it left');
      assert.equal(report.autoFailover.after, true);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
      assert.deepEqual(await zkChildren(zk.server().address, `${sim.info.zkRootPath}/openmldb-recover`), [], 'lock released, journal cleared');
    } finally {
      await sim.down();
    }
  });

  it('ZooKeeper lost mid-run: exit 5 (restore owed), nothing lost; with ZooKeeper back the next run restores auto_failover and converges', async () => {
    // Its own server: this test stops it.
    const dir = mkdtempSync(join(tmpdir(), 'openmldb-zk-outage-'));
    let server = await startZooKeeper({ dir });
    const sim = await startSim(['--zookeeper', server.address, '--zk-root-path', '/outage', ...FULL_RESTART]);
    try {
      await slowLoads(sim, 10000);
      const a = spawnRecover(sim, host(sim, 'a'));
      await sim.waitFor('a load in flight', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 120000);
      await server.stop();
      const stoppedAt = Date.now();
      const r = await a.done;
      console.log(`ZooKeeper outage: the run ended ${Date.now() - stoppedAt} ms after the server stopped`);
      // 5, not 3: the run had switched auto_failover off and could not put it back (the
      // nameserver cannot be found without ZooKeeper), so a restore is owed.
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /lost contact with ZooKeeper .* no more changes to the cluster/);
      const report = JSON.parse(r.stdout) as Report;
      assert.equal(report.exitCode, 5);
      assert.equal(report.autoFailover.owed, true);
      assert.ok(report.lock?.lost, 'the report says the lock was lost');
      assert.ok(report.errors.some((e) => /journal stays at \/outage\/openmldb-recover\/journal/.test(e)));
      // Until its session timeout the run cannot know; from then on it changes nothing (it
      // would put auto_failover back, but the nameserver cannot be found without ZooKeeper).
      const late = (await sim.mutations()).filter((m) => Date.parse(m.at) > stoppedAt + 3000 && m.method !== 'ConfSet');
      assert.deepEqual(late.map((m) => m.method), [], 'no change once the lock was known lost');

      server = await startZooKeeper({ dir });
      // The nameservers gave up leadership when ZooKeeper went; an operator reruns once one leads again.
      // One call that lists the tablets: a leader found in ZooKeeper answered as leader.
      await sim.waitFor('a nameserver to lead again', async () => /ns leader: [\s\S]*endpoint\s+real_endpoint\s+state/.test((await sim.ns('showtablet')).stdout), 120000);
      const { result } = await rerunUntilLockFree(sim, host(sim, 'b'));
      assert.equal(result.code, 0, result.stderr);
      const rerun = JSON.parse(result.stdout) as Report;
      assert.equal(rerun.autoFailover.before, true, 'restored from the journal kept in ZooKeeper');
      assert.equal(rerun.autoFailover.after, true);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
    } catch (err) {
      // What the simulated nameservers did through the outage.
      console.log(readFileSync(join(sim.dir, 'daemon.log'), 'utf8'));
      // And what it printed (a crash would show here, not in its log).
      if (existsSync(join(sim.dir, 'daemon.out'))) console.log(readFileSync(join(sim.dir, 'daemon.out'), 'utf8'));
      throw err;
    } finally {
      await sim.down();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
