// `openmldb-recover recover` end to end on the simulator: every scenario ends fully served
// with no entry lost, transient faults included; nothing is changed when nothing is needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverJson } from '../helpers/report.js';
import { withSim } from '../helpers/sim.js';

const SMALL = ['--tables', '2', '--partitions', '2'];

describe('recover', () => {
  it('full-restart-after-failover with transient faults: served, nothing lost, every leader the replica holding the most', async () => {
    await withSim(['--scenario', 'full-restart-after-failover', '--diverged-tails', '0', ...SMALL, '--seed', '21'], async (sim) => {
      await sim.ctl('fail', { method: 'RecoverTable', kind: 'refused', count: 2 });
      await sim.ctl('fail', { method: 'ShowTable', kind: 'not-leader', fraction: 0.1 });
      await sim.ctl('fail', { method: 'UpdateTableAliveStatus', kind: 'timeout-after-apply', count: 1, delayMs: 100 });
      const { code, report, stderr } = await recoverJson(sim);
      assert.equal(code, 0, stderr);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
      assert.equal(check.autoFailover, true);
      for (const p of report.tables.flatMap((t) => t.partitions).filter((x) => x.evidence.length > 1)) {
        const most = Math.max(...p.evidence.map((e) => e.offset ?? 0));
        assert.equal(p.leader?.offset, most, `pid ${p.pid}: leader ${p.leader?.endpoint} holds the most (${p.evidence.map((e) => `${e.endpoint}=${e.offset}`).join(' ')})`);
        assert.ok(p.evidence.every((e) => e.source === 'loaded'), 'chosen on offsets read from the replicas');
      }
      const state = await sim.ctl<{ faults: { firedByKind: Record<string, number> } }>('state');
      assert.ok((state.faults.firedByKind['refused'] ?? 0) >= 2, 'the faults did fire');
    });
  });

  it('partition-lost: brings the lost partitions back', async () => {
    await withSim(['--scenario', 'partition-lost', '--replicas', '2', '--tablets', '3', '--partitions', '3', '--tables', '2'], async (sim) => {
      const { code, stderr } = await recoverJson(sim);
      assert.equal(code, 0, stderr);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
    });
  });
});
