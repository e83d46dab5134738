// `openmldb-recover recover` end to end on the simulator: every scenario ends fully served
// with no entry lost, transient faults included; nothing is changed when nothing is needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverJson } from '../helpers/report.js';
import { withSim } from '../helpers/sim.js';

const SMALL = ['--tables', '2', '--partitions', '2'];

describe('recover', () => {
  it('recovers disk tables over HTTP, in the 2018 output dialect too', async () => {
    await withSim(['--no-system-tables', '--scenario', 'full-restart', ...SMALL, '--storage', 'disk', '--dialect', '2018'], async (sim) => {
      const { code, report, stderr } = await recoverJson(sim);
      assert.equal(code, 0, stderr);
      assert.ok(report.tables.some((t) => t.storageMode === 'kSSD' || t.storageMode === 'kHDD'));
      const check = await sim.check();
      assert.equal(check.ok, true, check.problems.join('; '));
      assert.equal(check.entriesLost, 0);
      const loads = (await sim.mutations()).filter((m) => m.method === 'LoadTable');
      assert.ok(loads.some((m) => JSON.stringify(m.body).includes('kSSD') || JSON.stringify(m.body).includes('kHDD')), 'disk tables loaded with their storage mode');
    });
  });

  it('narrows the run with --table and --db', async () => {
    await withSim(['--scenario', 'full-restart', ...SMALL, '--storage', 'memory'], async (sim) => {
      const { code, report } = await recoverJson(sim, ['--table', 'demo_db.t1']);
      assert.equal(code, 0);
      assert.deepEqual(report.tables.map((t) => `${t.db}.${t.name}`), ['demo_db.t1']);
      const check = await sim.check();
      assert.ok(check.problems.some((p) => p.startsWith('demo_db.t0')), 't0 untouched');
      assert.ok(!check.problems.some((p) => p.startsWith('demo_db.t1')), 't1 served');
      const internal = await recoverJson(sim, ['--db', '__INTERNAL_DB']);
      assert.equal(internal.code, 0);
      assert.deepEqual([...new Set(internal.report.tables.map((t) => t.db))], ['__INTERNAL_DB']);
    });
  });
});
