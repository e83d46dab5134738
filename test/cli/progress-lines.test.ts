// A large run in a log (cron, systemd: stderr is no terminal): the phases, a counter at most
// every 10 s, each partition's steps only for the first few; the report has every one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { report } from '../helpers/report.js';
import { recoverCli, withSim } from '../helpers/sim.js';

describe('progress in a log', () => {
  it('a recovery of many partitions prints a bounded number of lines without --verbose, and ends with where it got to', async () => {
    // 20 tables of 8 partitions and the system tables: 166 partitions, the size the issue measured at about 4,400 lines.
    await withSim(['--scenario', 'full-restart', '--tables', '20', '--partitions', '8', '--storage', 'memory', '--load-base-ms', '50'], async (sim) => {
      const r = await recoverCli(sim, ['recover', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const rep = report(r);
      assert.equal(rep.totals.partitions, 166);
      assert.ok(rep.totals.recovered >= 160, `${rep.totals.recovered} partitions recovered`);
      const lines = r.stderr.trim().split('\n');
      assert.ok(lines.length <= 40, `${lines.length} lines:\n${r.stderr}`);
      assert.match(r.stderr, /each partition's further steps are not printed: --verbose prints them/);
      assert.match(lines.filter((l) => /partitions \d+\/\d+ done/.test(l)).at(-1) ?? '', new RegExp(`partitions ${rep.totals.recovered}/${rep.totals.recovered} done`), 'the last count is the whole');
      assert.ok(lines.every((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ /.test(l)), 'every line timestamped');
      // The counter gives the work by kind and the time taken.
      const last = lines.filter((l) => /partitions \d+\/\d+ done/.test(l)).at(-1) ?? '';
      assert.match(last, /; loads (\d+)\/\1 done, 0 in flight; \d+ leaders chosen; .*\d+s elapsed/);
      // And the log ends with the outcome and the run's record.
      assert.match(lines.at(-1) ?? '', /run \S+ ended: OK \(exit 0\); result: 166 partitions in \d+ tables: .*; openmldb-recover history show \S+$/);
      // The run after it finds every partition healthy: counted in its text, not listed one by one.
      const again = await recoverCli(sim, ['recover']);
      assert.equal(again.code, 0, again.stderr);
      const listed = again.stdout.split('\n').filter((l) => /^\S+\s+\d+\s+healthy\s/.test(l)).length;
      const unlisted = Number(/\((\d+) healthy partitions not listed: --json lists every partition\)/.exec(again.stdout)?.[1]);
      assert.equal(listed + unlisted, rep.totals.recovered, again.stdout);
      assert.ok(again.stdout.split('\n').length < 20, again.stdout);
    });
  });
});
