// --lock on the embedded simulator, whose ZooKeeper stand-in is not a ZooKeeper server:
// auto falls back to the local lock at once and says why; zk refuses (exit 3, saying how to
// go on); bad values are usage errors. (The ZooKeeper lock itself: test/zk/.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverCli, withSim } from '../helpers/sim.js';
import { report as checkedReport } from '../helpers/report.js';

describe('--lock on the embedded simulator', () => {
  it('auto: the local lock, with the reason in the report; zk: exit 3; bad values: exit 2', async () => {
    await withSim(['--no-system-tables', '--scenario', 'healthy', '--tables', '1', '--partitions', '1'], async (sim) => {
      const auto = await recoverCli(sim, ['recover', '--json']);
      assert.equal(auto.code, 0, auto.stderr);
      const report = checkedReport(auto);
      assert.equal(report.lock?.kind, 'local');
      // `not-zookeeper`: the server answered and was told apart (a probe that had waited for
      // its timeout would say `unreachable`). No wall-clock bound: CI machines are slow.
      assert.match(report.lock?.why ?? '', /no ZooKeeper server answers at \S+ \(not-zookeeper\)/);

      const zk = await recoverCli(sim, ['recover', '--lock', 'zk']);
      assert.equal(zk.code, 3, zk.stderr);
      assert.match(zk.stderr, /cannot connect to ZooKeeper .*--lock zk: .*use --lock local/);

      for (const args of [['--lock', 'nfs'], ['--lock', 'zk', '--lock-path', 'relative/lock'], ['--lock', 'zk', '--lock-session-timeout', '0']]) {
        const r = await recoverCli(sim, ['recover', ...args]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      }
      assert.deepEqual(await sim.mutations(), [], 'none of them changed anything');
    });
  });
});
