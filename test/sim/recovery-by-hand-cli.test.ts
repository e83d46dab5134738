// The runbook's full-restart recovery typed through the stand-in `openmldb` binary, one
// command at a time, as an operator (or OpenMLDB's own tools) would, choosing each leader
// on the offsets its replicas report once loaded: check passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverByHandCli } from '../helpers/runbook-by-hand.js';
import { withSim } from '../helpers/sim.js';

describe('full-restart recovery by hand through the openmldb binary', () => {
  it('serves every partition with no entry lost, memory and disk tables alike', async () => {
    await withSim(['--scenario', 'full-restart-after-failover', '--diverged-tails', '0', '--tables', '3', '--partitions', '2', '--seed', '4'], async (sim) => {
      await recoverByHandCli(sim.info.bin, sim.info.zkCluster, sim.info.zkRootPath, sim);
      const after = await sim.check();
      assert.deepEqual(after.problems, []);
      assert.equal(after.entriesLost, 0);
      const methods = new Set((await sim.mutations()).map((m) => m.method));
      for (const m of ['ConfSet', 'UpdateTableAliveStatus', 'LoadTable', 'RecoverTable', 'ChangeRole']) assert.ok(methods.has(m), `${m} was used`);
    });
  });
});
