// openmldb_ops.py's command line: its read commands run as this tool's `ops` and `status`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromOpsPy } from '../../src/commands/ops-py.js';
import { UsageError } from '../../src/exit-codes.js';
import { errorLines, parseJson } from '../helpers/report.js';
import { recoverCli, withSim } from '../helpers/sim.js';

describe("openmldb_ops.py's read commands", () => {
  it('are spelled as ops and status, their flags carried over; anything else is left as typed', () => {
    assert.deepEqual(fromOpsPy(['--cmd=showopstatus', '--zk_cluster', 'zk:2181', '--filter', 'kFailed', '--db', 'demo_db']), ['ops', '--zk_cluster', 'zk:2181', '--status', 'kFailed', '--db', 'demo_db']);
    assert.deepEqual(fromOpsPy(['--cmd', 'showtablestatus', '--zk_root_path=/openmldb']), ['status', '--zk_root_path=/openmldb']);
    assert.deepEqual(fromOpsPy(['--cmd=recoverdata', '--zk_cluster=zk:2181']), ['--cmd=recoverdata', '--zk_cluster=zk:2181']);
    assert.deepEqual(fromOpsPy(['ops', '--cmd=showopstatus']), ['ops', '--cmd=showopstatus']);
    assert.throws(() => fromOpsPy(['--cmd=showtablestatus', '--filter=t%']), (e: unknown) => e instanceof UsageError && /--filter is not supported/.test(e.message));
  });

  it('run against a cluster: the ops list and the status, as the tool prints them', async () => {
    await withSim(['--no-system-tables', '--scenario', 'partition-lost', '--tables', '2', '--partitions', '2'], async (sim) => {
      const ops = await recoverCli(sim, ['--cmd=showopstatus', '--filter', 'kFailed', '--json']);
      assert.equal(ops.code, 0, ops.stderr);
      const listed = parseJson<{ ops: Array<{ status: string }> }>(ops).ops;
      assert.ok(listed.length > 0 && listed.every((o) => o.status === 'kFailed'), JSON.stringify(listed).slice(0, 300));
      const status = await recoverCli(sim, ['--cmd=showtablestatus']);
      assert.equal(status.code, 1, status.stderr);
      assert.match(status.stdout, /^cluster UNHEALTHY/);
      const bad = await recoverCli(sim, ['--cmd=scalein']);
      assert.equal(bad.code, 2);
      assert.match(errorLines(bad.stderr)[0] ?? '', /unsupported --cmd=scalein: openmldb_ops\.py's recoverdata, showopstatus and showtablestatus are supported/);
    });
  });
});
