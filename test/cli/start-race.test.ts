// The nameserver start race during a run: every nameserver restarts while the run holds
// auto_failover off, and the one that wins during its own start applies its flag (true)
// over the `false` it read from ZooKeeper (NameServerImpl::Init). The run must not work on
// under a nameserver with auto_failover on: it switches it off again, finishes, and puts
// back the value from before it (true). Nothing acknowledged is lost.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import { atWork, autoFailover, slowLoads, startRecover } from '../helpers/runs.js';
import { type Sim, withSim } from '../helpers/sim.js';

const SIM = ['--scenario', 'full-restart', '--tables', '2', '--partitions', '2', '--replicas', '2', '--tablets', '3', '--no-system-tables', '--storage', 'memory', '--traffic', '100', '--seed', '6'];

async function restartNameservers(sim: Sim): Promise<void> {
  for (const n of sim.info.nameservers) await sim.ctl('nameserver', { action: 'stop', endpoint: n.endpoint });
  await sim.ctl('nameserver', { action: 'start', endpoint: sim.info.nameservers[0]!.endpoint });
  for (const n of sim.info.nameservers.slice(1)) await sim.ctl('nameserver', { action: 'start', endpoint: n.endpoint });
}

describe('the nameserver start race during a run', () => {
  it('recover switches auto_failover off again, serves everything, and leaves it on as before', async () => {
    await withSim(SIM, async (sim) => {
      await slowLoads(sim, 4000);
      const run = startRecover(sim);
      await atWork(sim);
      assert.equal(await autoFailover(sim), false, 'the run switched it off');
      await restartNameservers(sim);

      const done = await run.done;
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stderr, /auto_failover is on again during this run/);
      const report = JSON.parse(done.stdout) as Report;
      assert.equal(report.autoFailover.after, true);
      const confsets = (await sim.mutations()).filter((m) => m.method === 'ConfSet').map((m) => JSON.stringify(m.body));
      assert.ok(confsets.filter((b) => b.includes('"false"')).length >= 2, `switched off twice: ${confsets.join(' ')}`);

      await sim.ctl('traffic', { rate: 0 });
      await sim.ctl('settle');
      await sim.waitFor('the followers at their leaders\' offsets', async () => !(await sim.check()).problems.some((p) => /is at offset \d+, leader at/.test(p)));
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.acknowledgedLost, 0);
      assert.equal(check.entriesLost, 0);
    });
  });
});
