// Both transports, end to end. By default every call with a brpc HTTP method goes over HTTP
// and the binary only finds the leader nameserver; `--transport cli` sends every command the
// binary has through it. The scenario and true-offset suites then run a second time here
// with OPENMLDB_RECOVER_TRANSPORT=cli, which every tool run they start inherits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverJson } from '../helpers/report.js';
import { withSim } from '../helpers/sim.js';

describe('transports', () => {
  for (const transport of ['http', 'cli'] as const) {
    it(`--transport ${transport}: nameserver changes go ${transport === 'http' ? 'over HTTP' : 'through the binary'}; served, nothing lost`, async () => {
      await withSim(['--scenario', 'full-restart-after-failover', '--diverged-tails', '0', '--tables', '2', '--partitions', '2', '--seed', '5'], async (sim) => {
        const { code, stderr } = await recoverJson(sim, ['--transport', transport]);
        assert.equal(code, 0, stderr);
        const check = await sim.check();
        assert.deepEqual(check.problems, []);
        assert.equal(check.entriesLost, 0);
        const ns = (await sim.mutations()).filter((m) => ['ConfSet', 'UpdateTableAliveStatus', 'RecoverTable', 'ChangeLeader'].includes(m.method));
        assert.ok(ns.some((m) => m.method === 'UpdateTableAliveStatus'), 'the run changed the nameserver');
        const want = transport === 'http' ? 'http' : 'binary';
        assert.deepEqual(ns.filter((m) => m.via !== want).map((m) => `${m.method} via ${m.via}`), []);
      });
    });
  }
});

process.env['OPENMLDB_RECOVER_TRANSPORT'] = 'cli';
await import('./recover-scenarios.test.js');
await import('./true-offsets.test.js');
