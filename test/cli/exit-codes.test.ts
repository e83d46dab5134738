// Bad input gets one line, a documented exit code, and changes nothing; the JSON report
// validates against docs/report.schema.json; status is fit for a monitoring check.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { report, statusDoc } from '../helpers/report.js';
import { RECOVER_BIN, type Sim, recoverCli, runNode, startSim } from '../helpers/sim.js';

describe('exit codes, bad input, report schema, status', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--scenario', 'full-restart', '--tables', '1', '--partitions', '2', '--storage', 'memory']);
  });
  after(() => sim.down());

  const oneLine = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('openmldb-recover:'));

  it('2 for usage errors: unknown flag, invalid values, malformed addresses, unknown table', async () => {
    for (const args of [
      ['recover', '--no-such-flag'],
      ['recover', '--concurrency', '0'],
      ['recover', '--load-timeout', 'soon'],
      ['recover', '--table', 'nodot'],
      ['recover', '--zk_cluster', 'not-an-address'],
      ['recover', '--table', 'demo_db.nope'],
      ['status', '--db', 'nope'],
      ['--cmd=scalein'],
      [],
    ]) {
      const r = await recoverCli(sim, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(oneLine(r.stderr).length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    }
    assert.deepEqual(await sim.mutations(), [], 'nothing changed');
  });

  it('3 when the cluster cannot be reached or the binary is missing', async () => {
    const cases: Array<[string[], Record<string, string>]> = [
      [['status'], { OPENMLDB_ZK_CLUSTER: '127.0.0.1:1' }],
      [['recover'], { OPENMLDB_ZK_ROOT_PATH: '/wrong_root' }],
      [['recover'], { OPENMLDB_BIN: join(tmpdir(), 'no-such-openmldb') }],
    ];
    const notExec = join(tmpdir(), `openmldb-not-exec-${process.pid}`);
    writeFileSync(notExec, '#!/bin/sh\n');
    chmodSync(notExec, 0o644);
    cases.push([['recover'], { OPENMLDB_BIN: notExec }]);
    for (const [args, env] of cases) {
      const started = Date.now();
      const r = await recoverCli(sim, args, env);
      assert.equal(r.code, 3, `${JSON.stringify(env)}: ${r.stderr}`);
      assert.equal(oneLine(r.stderr).length, 1, r.stderr);
      assert.ok(Date.now() - started < 30000, 'fails fast, no spinning');
    }
    assert.deepEqual(await sim.mutations(), []);
  });

  it('3 on output it does not understand, naming the command and showing the text', async () => {
    const fake = join(tmpdir(), `openmldb-garbled-${process.pid}`);
    writeFileSync(fake, `#!/bin/sh\necho "ns leader: 127.0.0.1:1"\necho "this is not a table"\n`);
    chmodSync(fake, 0o755);
    const r = await recoverCli(sim, ['status'], { OPENMLDB_BIN: fake });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /showns|showtablet|confget|showtable/);
  });

  it('status: 1 when unhealthy, with problems per table; --json has the documented shape', async () => {
    const r = await recoverCli(sim, ['status', '--json']);
    assert.equal(r.code, 1);
    const s = statusDoc(r);
    assert.equal((s as unknown as { schema: string }).schema, 'openmldb-recover/status@1');
    assert.equal(s.healthy, false);
    const t0 = s.tables.find((t) => t.db === 'demo_db' && t.name === 't0');
    assert.ok(t0 && !t0.healthy && t0.problems.length > 0);
    assert.ok(t0.partitions.every((p) => p.replicas.length === 3));
    // In text: the first problem and where the rest are; asked for the table alone, each of them.
    assert.ok(t0.problems.length > 1, 'several problems');
    const text = await recoverCli(sim, ['status']);
    assert.match(text.stdout, new RegExp(`\\(\\+${t0.problems.length - 1} more: status --table demo_db\\.t0 lists each\\)`));
    const one = await recoverCli(sim, ['status', '--table', 'demo_db.t0']);
    assert.equal(one.code, 1);
    for (const p of t0.problems) assert.ok(one.stdout.includes(p), `listed: ${p}`);
    assert.deepEqual(await sim.mutations(), [], 'status is read-only');
  });

  it('recover: the JSON report validates against its schema; then status says healthy (exit 0)', async () => {
    const r = await recoverCli(sim, ['recover', '--json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    // --quiet: no progress, only the final line (the outcome, the run id, where its record is).
    const rep = report(r);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] ?? '', new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ run (\\S+) ended: OK \\(exit 0\\); result: ${rep.totals.partitions} partitions in ${rep.totals.tables} tables: .*; openmldb-recover history show \\1$`));
    const s = await recoverCli(sim, ['status']);
    assert.equal(s.code, 0, s.stdout);
    assert.match(s.stdout, /cluster HEALTHY/);
    const j = await recoverCli(sim, ['status', '--json']);
    assert.equal(j.code, 0);
    assert.equal(statusDoc(j).healthy, true);
  });

  it('--help and --version answer without a cluster', async () => {
    const h = await runNode(RECOVER_BIN, ['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /recover/);
    const v = await runNode(RECOVER_BIN, ['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /\d+\.\d+\.\d+/);
  });
});
