// The chaos suite's short version (the full one: npm run chaos). Random transient faults,
// op failures, tablet crashes, nameserver failover and a SIGKILL of the tool with a rerun:
// every run ends fully served with nothing lost, or with a non-zero exit naming exactly
// the partitions not served; auto_failover always ends at its value before the incident.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chaosRun, summarize } from '../src/chaos/chaos.js';

describe('chaos (short)', () => {
  for (const [scenario, seed] of [
    ['full-restart-after-failover', 2],
    ['partition-lost', 1],
  ] as const) {
    it(`${scenario}, seed ${seed}`, async () => {
      const run = await chaosRun(scenario, seed);
      console.log(summarize([run]));
      assert.deepEqual(run.violations, []);
    });
  }
});
