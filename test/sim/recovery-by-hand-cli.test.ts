// The runbook's full-restart recovery typed through the stand-in `openmldb` binary, one
// command at a time, as an operator (or OpenMLDB's own tools) would: check passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverByHandCli } from '../../scripts/runbook-by-hand.js';
import { startSim } from '../helpers/sim.js';

describe('full-restart recovery by hand through the openmldb binary', () => {
  it('serves every partition with no entry lost, memory and disk tables alike', async () => {
    const sim = await startSim(['--scenario', 'full-restart-after-failover', '--tables', '3', '--partitions', '2', '--seed', '4']);
    try {
      await recoverByHandCli(sim.info.bin, sim.info.zkCluster, sim.info.zkRootPath, 'highest-offset', sim);
      const after = await sim.check();
      assert.deepEqual(after.problems, []);
      assert.equal(after.entriesLost, 0);
      const methods = new Set((await sim.mutations()).map((m) => m.method));
      for (const m of ['ConfSet', 'UpdateTableAliveStatus', 'LoadTable', 'RecoverTable', 'ChangeLeader']) assert.ok(methods.has(m), `${m} was used`);
    } finally {
      await sim.down();
    }
  });
});
