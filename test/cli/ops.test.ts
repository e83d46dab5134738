// `openmldb-recover ops`: the op list, and `--wait` on running, done and failed ops
// (bounded by --timeout). Ops are started with the stand-in binary, as an operator would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorLines, opsDoc } from '../helpers/report.js';
import { type Sim, recoverCli, startSim } from '../helpers/sim.js';

interface State {
  ops: Array<{ opId: number; opType: string; name: string; pid: number; status: string }>;
}

describe('ops', () => {
  let sim: Sim;
  // Each op task takes 5 s: a changeleader op (3 tasks, at least 11 s) surely outlasts
  // starting the tool and its 0.5 s --timeout, even on a loaded machine.
  before(async () => {
    sim = await startSim(['--no-system-tables', '--scenario', 'healthy', '--tables', '1', '--partitions', '2', '--task-ms', '5000']);
    assert.match((await sim.ns('confset auto_failover false')).stdout, /ok/);
  });
  after(() => sim.down());

  const ops = async () => (await sim.ctl<State>('state')).ops;
  const ops$ = async (args: string[]) => {
    const r = await recoverCli(sim, ['ops', '--json', ...args]);
    return { code: r.code, stderr: r.stderr, rep: opsDoc(r) };
  };

  it('lists nothing on a quiet cluster; bad names are usage errors', async () => {
    const { code, rep } = await ops$([]);
    assert.equal(code, 0);
    assert.deepEqual(rep.ops, []);
    for (const args of [['--table', 'demo_db.nope'], ['--db', 'nope'], ['--status', 'kWeird'], ['--table', 'nodot']]) {
      const r = await recoverCli(sim, ['ops', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(errorLines(r.stderr).length, 1);
    }
  });

  it('--wait on a running op: exit 1 when --timeout passes first, 0 once it is done', async () => {
    assert.match((await sim.ns('changeleader t0 0 auto', 'demo_db')).stdout, /change leader ok/);
    const [op] = await ops();
    assert.ok(op && (op.status === 'kInited' || op.status === 'kDoing'), 'the op runs');

    const short = await ops$(['--wait', '--timeout', '0.5']);
    assert.equal(short.code, 1, short.stderr);
    assert.equal(short.rep.timedOut, true);
    assert.equal(short.rep.unfinished, 1);

    const full = await ops$(['--wait', '--table', 'demo_db.t0']);
    assert.equal(full.code, 0, full.stderr);
    assert.equal(full.rep.timedOut, false);
    assert.deepEqual(full.rep.ops.map((o) => [o.opId, o.opType, o.db, o.table, o.pid, o.status]), [[op.opId, 'kChangeLeaderOP', 'demo_db', 't0', 0, 'kDone']]);
  });

  it('--wait when everything is done returns at once; text output', async () => {
    const started = Date.now();
    const r = await recoverCli(sim, ['ops', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kChangeLeaderOP/);
    assert.match(r.stdout, /1 ops: 0 unfinished, 0 failed: none running/);
    assert.ok(Date.now() - started < 30000);
  });

  it('--wait exits 1 when an op ends kFailed; --status and --since narrow the list', async () => {
    await sim.ctl('fail-op', { opType: 'kChangeLeaderOP', task: 'kChangeLeader' });
    assert.match((await sim.ns('changeleader t0 1 auto', 'demo_db')).stdout, /change leader ok/);
    const failing = (await ops()).at(-1)!;

    const r = await ops$(['--wait', '--db', 'demo_db']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.rep.failed, 1);
    assert.equal(r.rep.unfinished, 0);

    const onlyFailed = await ops$(['--status', 'kFailed']);
    assert.equal(onlyFailed.code, 0, 'listing without --wait');
    assert.deepEqual(onlyFailed.rep.ops.map((o) => [o.opId, o.status, o.task]), [[failing.opId, 'kFailed', 'kChangeLeader']]);

    const since = await ops$(['--wait', '--since', String(failing.opId)]);
    assert.equal(since.code, 0, 'nothing after the failed op');
    assert.deepEqual(since.rep.ops, []);
    assert.deepEqual((await sim.mutations()).filter((m) => !['ConfSet', 'ChangeLeader'].includes(m.method)), [], 'ops changes nothing');
  });
});
