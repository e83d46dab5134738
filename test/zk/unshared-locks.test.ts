// Runs that do not share a lock: `--lock zk` beside `--lock local` (each with its own state
// directory), in both orders. Both run; the second finds auto_failover off with no journal
// of its own explaining it, so it does not act as that value's owner (it puts it back on
// only if it switched it off itself). Whichever ends last, auto_failover ends on, and a
// rerun finds nothing lost. (One lock per cluster whatever the options was the other way;
// this one also covers two state directories on the embedded registry, where no shared
// lock exists: README, "Locks".)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import { autoFailover, slowLoads, startRecover } from '../helpers/runs.js';
import { ZkSession } from '../../src/zk/session.js';
import { recoverCli, startSim } from '../helpers/sim.js';
import { sharedZooKeeper, zooKeeperTierSkip } from '../helpers/zookeeper.js';

const skip = zooKeeperTierSkip();
const zk = sharedZooKeeper(skip);

const FULL_RESTART = ['--no-system-tables', '--scenario', 'full-restart', '--no-power-loss', '--tables', '1', '--partitions', '2', '--storage', 'memory', '--load-base-ms', '800'];

describe('runs that do not share a lock', { skip, concurrency: true, timeout: 480000 }, () => {
  for (const [firstLock, secondLock] of [['zk', 'local'], ['local', 'zk']] as const) {
    it(`--lock ${firstLock} first, --lock ${secondLock} second: both end, auto_failover ends true, nothing lost`, async () => {
      const sim = await startSim(['--zookeeper', zk.server().address, '--zk-root-path', zk.root(`unshared-${firstLock}`), ...FULL_RESTART]);
      try {
        // The first run's loads of one partition take seconds: the second starts while it works.
        await slowLoads(sim, 6000);
        const first = startRecover(sim, ['--lock', firstLock, '--lock-session-timeout', '4', '--state-dir', join(sim.dir, 'first')]);
        await sim.waitFor('the first run at work', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 120000);
        assert.equal(await autoFailover(sim), false, 'the first run switched auto_failover off');
        const second = startRecover(sim, ['--lock', secondLock, '--lock-session-timeout', '4', '--state-dir', join(sim.dir, 'second')]);
        const [a, b] = await Promise.all([first.done, second.done]);
        for (const [who, r] of [['first', a], ['second', b]] as const) {
          assert.ok(r.code !== null && r.code !== 4, `the ${who} run was not refused by a lock (they share none): ${r.stderr}`);
          assert.ok(!/Cannot read properties|TypeError/.test(r.stderr), r.stderr);
        }
        assert.match(b.stderr, /auto_failover is off and no journal of this tool explains it: .*another --state-dir, --lock or --lock-path/);
        const second_ = JSON.parse(b.stdout) as Report;
        assert.equal(second_.autoFailover.foundOff, true, JSON.stringify(second_.autoFailover));
        assert.equal(await autoFailover(sim), true, `first ${JSON.stringify(JSON.parse(a.stdout).autoFailover)}, second ${JSON.stringify(second_.autoFailover)}`);
        // What each left half done (they got in each other's way) a rerun finishes.
        await sim.ctl('clear-faults');
        const rerun = await recoverCli(sim, ['recover', '--lock', 'zk']);
        assert.equal(rerun.code, 0, rerun.stderr);
        assert.equal(await autoFailover(sim), true);
        const check = await sim.check();
        assert.deepEqual(check.problems, []);
        assert.equal(check.entriesLost, 0);
      } finally {
        await sim.down();
      }
    });
  }

  it('a journal in ZooKeeper that names another root path (two clusters sharing a --lock-path): exit 2, nothing changed', async () => {
    const sim = await startSim(['--zookeeper', zk.server().address, '--zk-root-path', zk.root('shared-path'), ...FULL_RESTART]);
    const lockPath = `${zk.root('shared-lock')}/openmldb-recover/lock`;
    const session = await ZkSession.connect(zk.server().address, { sessionTimeoutMs: 4000 });
    try {
      await session.mkdirp(lockPath.slice(0, lockPath.lastIndexOf('/')));
      await session.put(`${lockPath.slice(0, lockPath.lastIndexOf('/'))}/journal`, JSON.stringify({
        version: 1, runId: 'other', pid: 1, host: 'ops-9', command: 'openmldb-recover recover', cluster: { zkCluster: zk.server().address, zkRootPath: '/another-cluster' },
        startedAt: '2026-12-07T00:00:00Z', autoFailoverOriginal: false, autoFailoverSet: false, resumedBy: [],
      }));
      const r = await recoverCli(sim, ['recover', '--lock', 'zk', '--lock-path', lockPath]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /the run journal \S+ in ZooKeeper belongs to the cluster at root path \/another-cluster, not \S+: it is not this cluster's/);
      assert.deepEqual(await sim.mutations(), [], 'nothing sent');
      assert.deepEqual((await session.children(lockPath.slice(0, lockPath.lastIndexOf('/')))).sort(), ['journal'], 'the lock was released, the journal left for its owner');
    } finally {
      await session.close();
      await sim.down();
    }
  });
});
