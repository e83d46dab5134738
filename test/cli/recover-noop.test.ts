// `openmldb-recover recover` end to end on the simulator: every scenario ends fully served
// with no entry lost, transient faults included; nothing is changed when nothing is needed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverJson } from '../helpers/report.js';
import { recoverCli, withSim } from '../helpers/sim.js';

const SMALL = ['--tables', '2', '--partitions', '2'];

describe('recover', () => {
  it('changes nothing on a healthy cluster', async () => {
    await withSim(['--no-system-tables', '--scenario', 'healthy', ...SMALL], async (sim) => {
      const { code, report } = await recoverJson(sim);
      assert.equal(code, 0);
      assert.equal(report.totals.healthy, report.totals.partitions);
      assert.equal(report.autoFailover.switchedOff, false);
      assert.deepEqual(await sim.mutations(), [], 'no mutating call at all');
    });
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    await withSim(['--no-system-tables', '--scenario', 'full-restart', ...SMALL], async (sim) => {
      const r = await recoverCli(sim, ['recover', '--dry-run']);
      assert.equal(r.code, 0, r.stderr);
      // it says which replicas it would load to read their offsets before choosing
      assert.match(r.stdout, /demo_db\.t0 pid 0: reading every replica's offset before choosing the leader/);
      assert.match(r.stdout, /updatetablealive t0 0 \S+ no/);
      assert.equal(r.stdout.match(/loadtable t0 \d+ 0 144000 8 false/g)?.length, 3, 'every replica, as a follower');
      assert.match(r.stdout, /--endpoint=\S+ --role=client --interactive=false --cmd='gettablestatus \d+ 0' {2}# again until its state is kTableNormal/);
      assert.deepEqual(await sim.mutations(), []);
      assert.equal((await sim.check()).ok, false, 'still not served');
    });
  });

  it('works as a drop-in for openmldb_ops.py --cmd=recoverdata', async () => {
    await withSim(['--no-system-tables', '--scenario', 'full-restart', '--tables', '1', '--partitions', '1', '--storage', 'memory'], async (sim) => {
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
