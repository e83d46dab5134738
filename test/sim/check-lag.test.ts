// The simulator's verdict with a lag tolerance (checkCluster maxLag): a follower behind its
// leader but holding the leader's entries up to its own offset counts as served, as
// `status` counts it; without the tolerance it does not.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { closeAllInProcess, inProcessSim } from '../helpers/in-process.js';

describe('checkCluster maxLag', () => {
  after(closeAllInProcess);

  it('tolerates a follower a few entries behind, and only that', async () => {
    const sim = await inProcessSim({ scenario: 'healthy', tables: 1, partitions: 1 }, { seed: 5 });
    try {
      // The write lands on the leader now; followers get it on the next replication tick.
      await sim.ctl('write', { table: 'demo_db.t0', entries: 10 });
      const strict = sim.check();
      const lag = strict.problems.filter((p) => /is at offset \d+, leader at/.test(p));
      assert.ok(lag.length > 0, `a follower lags right after the write: ${strict.problems.join('; ')}`);
      assert.deepEqual(sim.check({ maxLag: 10 }).problems.filter((p) => /demo_db/.test(p)), []);
      assert.deepEqual(sim.check({ maxLag: 9 }).problems.filter((p) => /is at offset/.test(p)), lag);
    } finally {
      await sim.close();
    }
  });
});
