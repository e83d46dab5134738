// The chaos suite's short version with the simulator on a real ZooKeeper (the tool's lock
// there too): the same scenarios and seeds as test/chaos.test.ts, the same verdicts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chaosRun, summarize } from '../../src/chaos/chaos.js';
import { sharedZooKeeper, zooKeeperTierSkip } from '../helpers/zookeeper.js';

const skip = zooKeeperTierSkip();
const zk = sharedZooKeeper(skip);

describe('chaos (short) on ZooKeeper', { skip, concurrency: true, timeout: 480000 }, () => {
  for (const [scenario, seed] of [
    ['full-restart-after-failover', 2],
    ['partition-lost', 1],
  ] as const) {
    it(`${scenario}, seed ${seed}`, async () => {
      const run = await chaosRun(scenario, seed, { zookeeper: zk.server().address });
      console.log(summarize([run]));
      assert.deepEqual(run.violations, []);
    });
  }
});
