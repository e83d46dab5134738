// A dry run shows the whole procedure: the probe it would start with, what follows once the
// replicas are read (the leader cannot be named before), auto_failover off and back on; and
// with --detailed-exitcode it says by its exit code whether anything would change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { report } from '../helpers/report.js';
import { recoverCli, withSim } from '../helpers/sim.js';

describe('--dry-run', () => {
  it('shows the probe, the steps after it and auto_failover off and on; exit 6 under --detailed-exitcode, 0 once nothing is left; nothing changed', async () => {
    await withSim(['--no-system-tables', '--scenario', 'full-restart', '--tables', '1', '--partitions', '2', '--storage', 'memory'], async (sim) => {
      const text = await recoverCli(sim, ['recover', '--dry-run']);
      assert.equal(text.code, 0, text.stderr);
      const block = text.stdout.split('\n');
      const pid0 = block.findIndex((l) => /^demo_db\.t0 pid 0: /.test(l));
      assert.ok(pid0 >= 0, text.stdout);
      const steps = block.slice(pid0 + 1).filter((l) => l.startsWith('    '));
      assert.match(steps.join('\n'), /updatetablealive t0 0 \S+ no/);
      assert.match(steps.join('\n'), /loadtable t0 \d+ 0 144000 \d+ false/);
      assert.match(steps.join('\n'), /then, once every replica serves as a follower: the leader is the replica holding the most entries of \S+, \S+, \S+ \(the offset each reads/);
      assert.match(steps.join('\n'), /then: .*changeleader t0 0 ENDPOINT.*recovertable t0 0 ENDPOINT/);
      assert.match(steps.join('\n'), /then: updatetablealive t0 0 ENDPOINT yes/);
      assert.match(text.stdout, /auto_failover: true -> false during the run \(confset auto_failover false\) -> true \(confset auto_failover true\); the dry run changed nothing/);

      const detailed = await recoverCli(sim, ['recover', '--dry-run', '--detailed-exitcode', '--json']);
      assert.equal(detailed.code, 6, detailed.stderr);
      const rep = report(detailed);
      assert.equal(rep.exitCode, 6);
      assert.equal(rep.ok, false);
      assert.equal(rep.totals.planned, 2);
      assert.deepEqual(await sim.mutations(), [], 'the dry runs changed nothing');

      assert.equal((await recoverCli(sim, ['recover'])).code, 0);
      const after = await recoverCli(sim, ['recover', '--dry-run', '--detailed-exitcode']);
      assert.equal(after.code, 0, 'nothing left to do');
      assert.match(after.stdout, /auto_failover: true \(untouched\)/);
    });
  });
});
