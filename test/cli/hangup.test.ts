// A terminal that closes under a run (an ssh session dropped, no nohup): the run exits
// with the code it chose, not 134 from Node aborting at exit on the hung-up terminal.
// `script` (util-linux) gives the run a terminal; killing it hangs that terminal up. A
// shell around the run, immune to the hangup, writes down how the run ended.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { autoFailover, slowLoads } from '../helpers/runs.js';
import { RECOVER_BIN, type Sim, withSim } from '../helpers/sim.js';

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** `recover` on a terminal of its own; returns a way to hang that terminal up and the run's exit status, once written. */
function onTerminal(sim: Sim) {
  const status = join(sim.dir, 'exit-status');
  // Node resets SIGHUP to its default at start: the shell's immunity is not the run's.
  const inner = `trap '' HUP; ${quote(process.execPath)} ${quote(RECOVER_BIN)} recover; echo $? > ${quote(status)}`;
  // `script` runs `$SHELL -c`, and that shell leads the terminal's session. It must be the
  // shell above, immune and waiting: a shell that died of the hangup would have the kernel
  // send SIGHUP on to the run (its process group). SHELL is pinned, since it differs by machine.
  const env = { ...process.env, ...sim.env, XDG_STATE_HOME: sim.stateHome, SHELL: '/bin/sh' };
  const term = spawn('script', ['-qfec', inner, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let seen = '';
  term.stdout.on('data', (d: Buffer) => (seen += d.toString()));
  return {
    hangUp: () => term.kill('SIGKILL'),
    exitStatus: async () => {
      await sim.waitFor('the run to end', async () => existsSync(status) && readFileSync(status, 'utf8').trim() !== '', 180000);
      return readFileSync(status, 'utf8').trim();
    },
    seen: () => seen.slice(-2000),
  };
}

/** The pid of the run holding the cluster lock (its lock file names it). */
function lockHolderPid(sim: Sim): number {
  const dir = join(sim.stateHome, 'openmldb-recover');
  const lock = readdirSync(dir).find((f) => f.endsWith('.lock'));
  assert.ok(lock, 'the run holds its lock');
  return (JSON.parse(readFileSync(join(dir, lock), 'utf8')) as { pid: number }).pid;
}

const SIM = ['--no-system-tables', '--scenario', 'full-restart', '--tables', '1', '--partitions', '2', '--storage', 'memory', '--load-base-ms', '300'];

/** `script` (util-linux) gives a run a terminal; without it there is none to hang up. */
const noScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).error !== undefined ? 'util-linux `script` is not installed: no terminal to hang up' : false;

describe('a hung-up terminal', { concurrency: true, skip: noScript }, () => {
  it('the terminal closes and the run gets SIGHUP (it leads the session): auto_failover restored, exit 129, no abort', async () => {
    await withSim(SIM, async (sim) => {
      await slowLoads(sim, 20000);
      const t = onTerminal(sim);
      await sim.waitFor('the run at work', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 120000);
      assert.equal(await autoFailover(sim), false);
      const pid = lockHolderPid(sim);
      t.hangUp();
      // What the kernel sends a session leader whose terminal hangs up.
      process.kill(pid, 'SIGHUP');
      assert.equal(await t.exitStatus(), '129', `the run's own exit code (134: Node aborted on the hung-up terminal); it printed:\n${t.seen()}`);
      assert.equal(await autoFailover(sim), true, 'auto_failover restored');
    });
  });

  it('the terminal closes and no signal comes (another process leads the session): the run finishes, exit 0, no abort', async () => {
    await withSim(SIM, async (sim) => {
      await slowLoads(sim, 3000);
      const t = onTerminal(sim);
      await sim.waitFor('the run at work', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 120000);
      t.hangUp();
      assert.equal(await t.exitStatus(), '0', `it printed:\n${t.seen()}`);
      assert.equal(await autoFailover(sim), true);
      assert.deepEqual((await sim.check()).problems, []);
    });
  });
});
