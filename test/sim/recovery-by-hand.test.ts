// The simulator's contract: a full-restart recovery done by hand, exactly as the runbook
// says and over nothing but OpenMLDB's own interfaces, leaves `openmldb-sim check`
// passing with no data lost; choosing the wrong leader shows the loss in the ledger.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverByHand } from '../../scripts/runbook-by-hand.js';
import { startSim } from '../helpers/sim.js';

const SIZE = ['--tables', '2', '--partitions', '3', '--seed', '11'];

describe('full-restart recovery by hand over HTTP', () => {
  it('serves every partition with no entry lost when the leader is the highest offset', async () => {
    const sim = await startSim(['--scenario', 'full-restart-after-failover', ...SIZE]);
    try {
      const before = await sim.check();
      assert.equal(before.ok, false);
      await recoverByHand(sim, 'highest-offset');
      const after = await sim.check();
      assert.deepEqual(after.problems, []);
      assert.equal(after.ok, true);
      assert.equal(after.entriesLost, 0);
      assert.equal(after.autoFailover, true, 'auto_failover restored');
    } finally {
      await sim.down();
    }
  });

  it('shows entries lost in the ledger when the last flagged leader is taken instead', async () => {
    const sim = await startSim(['--scenario', 'full-restart-after-failover', ...SIZE]);
    try {
      await recoverByHand(sim, 'last-flagged-leader');
      const after = await sim.check();
      assert.equal(after.ok, true, `served, but with the wrong data: ${after.problems.join('; ')}`);
      assert.ok(after.entriesLost > 0, 'the ledger shows the loss');
      const lossy = after.ledger.filter((l) => l.lost > 0);
      assert.ok(lossy.length >= 1);
      for (const l of lossy) assert.equal(l.lost, l.bestBefore - (l.served ?? 0));
    } finally {
      await sim.down();
    }
  });
});
