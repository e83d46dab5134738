// One lock per cluster however its address is spelled, and a rerun spelled otherwise
// still finds what a dead run owes; the health verdict asks each leader who it replicates to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atWork, autoFailover, lockAndJournal, startRecover } from '../helpers/runs.js';
import { recoverCli, withSim } from '../helpers/sim.js';

const SMALL = ['--no-system-tables', '--scenario', 'full-restart', '--tables', '1', '--partitions', '2', '--storage', 'memory', '--load-base-ms', '300'];

describe('one lock per cluster', { concurrency: true }, () => {
  it('127.0.0.1:P, localhost:P and a repeated host are one cluster: the second run exits 4; a rerun spelled otherwise restores what the dead run owes', async () => {
    // Loads of 15 s: the first run is surely still at work while the others try.
    await withSim([...SMALL.filter((a) => a !== '300'), '15000'], async (sim) => {
      const port = sim.info.zkCluster.split(':')[1];
      const first = startRecover(sim, [`--zk_cluster=127.0.0.1:${port}`]);
      await atWork(sim);
      for (const spelling of [`localhost:${port}`, `127.0.0.1:${port},127.0.0.1:${port}`]) {
        const second = await recoverCli(sim, ['recover', `--zk_cluster=${spelling}`]);
        assert.equal(second.code, 4, `${spelling}: ${second.stderr}`);
        assert.match(second.stderr, /another run holds the cluster lock: pid \d+/);
      }
      first.child.kill('SIGKILL');
      await first.done;
      assert.equal(await autoFailover(sim), false);
      await sim.ctl('clear-faults');
      const rerun = await recoverCli(sim, ['recover', `--zk_cluster=localhost:${port}`]);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.match(rerun.stderr, /did not finish; auto_failover was true before it/);
      assert.equal(await autoFailover(sim), true);
      assert.deepEqual(lockAndJournal(sim), []);
      assert.deepEqual((await sim.check()).problems, []);
    });
  });

  it('a follower missing from its leader\'s replica set is not healthy, whatever the metadata says; recover puts it back', async () => {
    await withSim(['--no-system-tables', '--scenario', 'healthy', '--tables', '1', '--partitions', '1', '--storage', 'memory'], async (sim) => {
      const s = await sim.ctl<{ tables: Array<{ tid: number; partitions: Array<{ replicas: Array<{ endpoint: string; isLeader: boolean }> }> }>; tablets: Array<{ endpoint: string; address: string }> }>('state');
      const t = s.tables[0]!;
      const leader = t.partitions[0]!.replicas.find((r) => r.isLeader)!.endpoint;
      const address = s.tablets.find((x) => x.endpoint === leader)!.address;
      // The leader's tablet drops its followers (steps down and leads again with none).
      await sim.tabletRpc(address, 'ChangeRole', { tid: t.tid, pid: 0, mode: 'kTableFollower' });
      await sim.tabletRpc(address, 'ChangeRole', { tid: t.tid, pid: 0, mode: 'kTableLeader', term: 1, replicas: [] });
      const status = await recoverCli(sim, ['status']);
      assert.equal(status.code, 1, status.stdout);
      assert.match(status.stdout, /not in leader \S+'s replica set/);
      const fixed = await recoverCli(sim, ['recover']);
      assert.equal(fixed.code, 0, fixed.stderr);
      assert.deepEqual((await sim.check()).problems, []);
    });
  });
});
