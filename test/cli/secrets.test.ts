// The password never leaves the process, on any path: a server error whose text quotes the
// credential it refused reaches the one-line error, the --json report's errors and the
// progress lines; all of them are scrubbed (the run records and --verbose always were).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Sim, recoverCli, startSim } from '../helpers/sim.js';

// A quote and a backslash: JSON writes them escaped, and that form is scrubbed too.
const PW = 's3cr"et\\pw';

describe('secrets on the error path', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--no-system-tables', '--scenario', 'healthy', '--tables', '1', '--partitions', '1']);
  });
  after(() => sim.down());

  for (const args of [['status'], ['status', '--json'], ['recover'], ['recover', '--json'], ['recover', '--dry-run'], ['recover', '--dry-run', '--json', '--verbose']]) {
    it(`${args.join(' ')}: a refusal that quotes the password is printed without it`, async () => {
      await sim.ctl('fail', { method: 'ShowTable', kind: 'error', code: 500, msg: `access denied for root:${PW}`, fraction: 1 });
      try {
        const r = await recoverCli(sim, [...args, '--leader-wait', '1', ...(args[0] === 'status' ? [] : ['--retries', '0'])], { OPENMLDB_PASSWORD: PW });
        assert.notEqual(r.code, 0);
        const out = `${r.stdout}${r.stderr}`;
        assert.match(out, /access denied for root:\[redacted\]/, out.slice(-1500));
        for (const form of [PW, JSON.stringify(PW).slice(1, -1)]) assert.ok(!out.includes(form), `the password (${form}) is printed:\n${out.slice(-1500)}`);
      } finally {
        await sim.ctl('clear-faults');
      }
    });
  }

  // A password that is also a number or a word of the document: the JSON and the metrics
  // stay whole (scrubbed string by string, not cut into), and the refusal still is scrubbed.
  for (const pw of ['1', 'true']) {
    it(`password ${JSON.stringify(pw)}: --json and the Prometheus text stay whole`, async () => {
      const status = await recoverCli(sim, ['status', '--json'], { OPENMLDB_PASSWORD: pw });
      // (A password that also occurs in a name is scrubbed there too, e.g. `demo` in `[redacted]_db`.)
      const report = JSON.parse(status.stdout) as { tables: Array<{ db: string; partitions: unknown[] }> };
      assert.ok(report.tables.length > 0 && report.tables.every((t) => Array.isArray(t.partitions)), 'the whole document');
      const metrics = await recoverCli(sim, ['status', '--format', 'prometheus'], { OPENMLDB_PASSWORD: pw });
      assert.equal(metrics.code, 0, metrics.stderr);
      for (const line of metrics.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) assert.match(line, /^[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+$/, `a metric line: ${line}`);
      const recover = await recoverCli(sim, ['recover', '--json', '--dry-run'], { OPENMLDB_PASSWORD: pw });
      assert.doesNotThrow(() => JSON.parse(recover.stdout), recover.stdout.slice(0, 500));
    });
  }
});
