// --metrics-file: how the last unattended run went, for node_exporter's textfile collector,
// written whatever the exit code; the last success carried over by the runs that fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
import { recoverCli, withSim } from '../helpers/sim.js';

function gauges(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of parsePrometheus(readFileSync(path, 'utf8'))) {
    for (const m of f.metrics) {
      const { zk_cluster: _c, zk_root_path: _r, command: _m, ...rest } = m.labels ?? {};
      const key = Object.keys(rest).length === 0 ? f.name : `${f.name}{${Object.entries(rest).map(([k, v]) => `${k}=${v}`).join(',')}}`;
      out.set(key, Number(m.value));
    }
  }
  return out;
}

describe('--metrics-file', () => {
  it('a recovery writes its outcome; a run that cannot reach the cluster writes exit 3 and keeps the last success', async () => {
    await withSim(['--no-system-tables', '--scenario', 'full-restart', '--tables', '2', '--partitions', '2', '--storage', 'memory'], async (sim) => {
      const file = join(sim.dir, 'openmldb-recover.prom');
      const before = Date.now() / 1000;
      const ok = await recoverCli(sim, ['recover', '--metrics-file', file]);
      assert.equal(ok.code, 0, ok.stderr);
      const g = gauges(file);
      assert.equal(g.get('openmldb_recover_run_exit_code'), 0);
      const success = g.get('openmldb_recover_run_last_success_timestamp_seconds') ?? 0;
      assert.ok(success >= before && success <= Date.now() / 1000, `last success ${success}`);
      assert.equal(g.get('openmldb_recover_run_partitions{outcome=recovered}'), 4);
      assert.equal(g.get('openmldb_recover_run_partitions{outcome=refused}'), 0);
      assert.equal(g.get('openmldb_recover_run_entries_at_stake'), 0);
      assert.equal(g.get('openmldb_recover_run_auto_failover_restored'), 1);
      assert.ok((g.get('openmldb_recover_run_duration_seconds') ?? 0) > 0);
      assert.match(readFileSync(file, 'utf8'), /command="recover"/);
      const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
      if (promtool) {
        const checked = spawnSync(promtool, ['check', 'metrics'], { input: readFileSync(file, 'utf8'), encoding: 'utf8' });
        assert.equal(checked.status, 0, `${checked.stdout}${checked.stderr}`);
      }

      const down = await recoverCli(sim, ['recover', '--metrics-file', file], { OPENMLDB_ZK_CLUSTER: '127.0.0.1:1' });
      assert.equal(down.code, 3, down.stderr);
      const g3 = gauges(file);
      assert.equal(g3.get('openmldb_recover_run_exit_code'), 3);
      assert.equal(g3.get('openmldb_recover_run_last_success_timestamp_seconds'), success, 'the last success carried over');
      assert.equal(g3.get('openmldb_recover_run_partitions{outcome=recovered}'), undefined, 'no outcome without a report');
      assert.match(readFileSync(file, 'utf8'), /zk_cluster="127\.0\.0\.1:1"/, 'the cluster it was given');
      assert.deepEqual(readdirSync(sim.dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');

      // A dry run is a look, not a run: it writes none.
      const before3 = readFileSync(file, 'utf8');
      assert.equal((await recoverCli(sim, ['recover', '--dry-run', '--metrics-file', file])).code, 0);
      assert.equal(readFileSync(file, 'utf8'), before3);

      // A file that cannot be written is a warning; the run's own result stands.
      const nowhere = await recoverCli(sim, ['recover', '--metrics-file', join(sim.dir, 'no-such-dir', 'x.prom')]);
      assert.equal(nowhere.code, 0, nowhere.stderr);
      assert.match(nowhere.stderr, /WARN --metrics-file \S+x\.prom could not be written \(ENOENT\)/);
    });
  });
});
