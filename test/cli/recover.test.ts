// `openmldb-recover recover` end to end on the simulator: every scenario ends fully served
// with no entry lost, transient faults included; nothing is changed when nothing is needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Report } from '../../src/workflow/report.js';
import { type Sim, recoverCli, startSim } from '../helpers/sim.js';

async function withSim<T>(args: string[], fn: (sim: Sim) => Promise<T>): Promise<T> {
  const sim = await startSim(args);
  try {
    return await fn(sim);
  } finally {
    await sim.down();
  }
}

const SMALL = ['--tables', '2', '--partitions', '2'];

async function recoverJson(sim: Sim, args: string[] = []): Promise<{ code: number; report: Report; stderr: string }> {
  const r = await recoverCli(sim, ['recover', '--json', ...args]);
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`no JSON report (exit ${r.code}): ${r.stderr}\n${r.stdout}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

describe('recover', () => {
  it('full-restart-after-failover with transient faults: served, nothing lost, the fuller follower wins', async () => {
    await withSim(['--scenario', 'full-restart-after-failover', ...SMALL, '--seed', '21'], async (sim) => {
      await sim.ctl('fail', { method: 'RecoverTable', kind: 'refused', count: 2 });
      await sim.ctl('fail', { method: 'ShowTable', kind: 'not-leader', fraction: 0.1 });
      await sim.ctl('fail', { method: 'UpdateTableAliveStatus', kind: 'timeout-after-apply', count: 1, delayMs: 100 });
      const { code, report, stderr } = await recoverJson(sim);
      assert.equal(code, 0, stderr);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
      assert.equal(check.autoFailover, true);
      const promoted = report.tables.flatMap((t) => t.partitions).filter((p) => p.leader && !p.leader.flaggedLeader);
      assert.equal(promoted.length, 1, 'the follower holding more data than the flagged leader was chosen');
      assert.ok(promoted[0]?.actions.some((a) => a.step === 'change-leader' && a.result === 'ok'));
      const state = await sim.ctl<{ faults: { firedByKind: Record<string, number> } }>('state');
      assert.ok((state.faults.firedByKind['refused'] ?? 0) >= 2, 'the faults did fire');
    });
  });

  it('changes nothing on a healthy cluster', async () => {
    await withSim(['--scenario', 'healthy', ...SMALL], async (sim) => {
      const { code, report } = await recoverJson(sim);
      assert.equal(code, 0);
      assert.equal(report.totals.healthy, report.totals.partitions);
      assert.equal(report.autoFailover.switchedOff, false);
      assert.deepEqual(await sim.mutations(), [], 'no mutating call at all');
    });
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    await withSim(['--scenario', 'full-restart', ...SMALL], async (sim) => {
      const r = await recoverCli(sim, ['recover', '--dry-run']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /updatetablealive t0 0 \S+ no/);
      assert.match(r.stdout, /loadtable t0 \d+ 0 144000 8/);
      assert.match(r.stdout, /recovertable t0 0 \S+/);
      assert.deepEqual(await sim.mutations(), []);
      assert.equal((await sim.check()).ok, false, 'still not served');
    });
  });

  it('recovers disk tables over HTTP, in the 2018 output dialect too', async () => {
    await withSim(['--scenario', 'full-restart', ...SMALL, '--storage', 'disk', '--dialect', '2018'], async (sim) => {
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

  it('partition-lost: brings the lost partitions back', async () => {
    await withSim(['--scenario', 'partition-lost', '--replicas', '2', '--tablets', '3', '--partitions', '3', '--tables', '2'], async (sim) => {
      const { code, stderr } = await recoverJson(sim);
      assert.equal(code, 0, stderr);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
    });
  });

  it('works as a drop-in for openmldb_ops.py --cmd=recoverdata', async () => {
    await withSim(['--scenario', 'full-restart', '--tables', '1', '--partitions', '1', '--storage', 'memory'], async (sim) => {
      const r = await recoverCli(sim, [
        '--cmd=recoverdata',
        `--openmldb_bin_path=${sim.info.bin}`,
        `--zk_cluster=${sim.info.zkCluster}`,
        `--zk_root_path=${sim.info.zkRootPath}`,
      ], { OPENMLDB_BIN: '', OPENMLDB_ZK_CLUSTER: '', OPENMLDB_ZK_ROOT_PATH: '' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await sim.check()).ok, true);
    });
  });
});
