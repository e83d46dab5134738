// Benchmark: time a full-restart recovery on the simulator at a given size.
//   npx tsx scripts/bench-recover.ts [--tables 4] [--partitions 8] [--replicas 3] [--concurrency 4]
// Prints wall time, partitions per second, and the mutating calls the cluster received.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    tables: { type: 'string', default: '4' },
    partitions: { type: 'string', default: '8' },
    replicas: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    scenario: { type: 'string', default: 'full-restart' },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'openmldb-bench-'));
const sim = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'dist/sim/cli/openmldb-sim.js'), ...args, '--dir', dir], { encoding: 'utf8' });
try {
  const up = sim(['up', '--scenario', String(values.scenario), '--tables', String(values.tables), '--partitions', String(values.partitions), '--replicas', String(values.replicas)]);
  if (up.status !== 0) throw new Error(up.stderr);
  const info = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as { zkCluster: string; zkRootPath: string; bin: string };
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(REPO, 'dist/cli/openmldb-recover.js'), 'recover', '--json', '--quiet', '--concurrency', String(values.concurrency)], {
    encoding: 'utf8',
    env: { ...process.env, OPENMLDB_ZK_CLUSTER: info.zkCluster, OPENMLDB_ZK_ROOT_PATH: info.zkRootPath, OPENMLDB_BIN: info.bin, XDG_STATE_HOME: join(dir, 'state') },
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (Date.now() - started) / 1000;
  const report = JSON.parse(r.stdout) as { totals: { partitions: number; recovered: number } };
  const check = JSON.parse(sim(['check', '--json']).stdout) as { ok: boolean; entriesLost: number };
  const mutations = (JSON.parse(sim(['mutations']).stdout) as { mutations: Array<{ method: string }> }).mutations;
  const byMethod: Record<string, number> = {};
  for (const m of mutations) byMethod[m.method] = (byMethod[m.method] ?? 0) + 1;
  console.log(`recover: exit ${r.status}, ${report.totals.recovered}/${report.totals.partitions} partitions recovered in ${seconds.toFixed(1)} s (${(report.totals.partitions / seconds).toFixed(2)} partitions/s, concurrency ${values.concurrency})`);
  console.log(`check: ${check.ok ? 'fully served' : 'NOT served'}, ${check.entriesLost} entries lost`);
  console.log(`mutating calls: ${Object.entries(byMethod).map(([k, v]) => `${k} ${v}`).join(', ')}`);
} finally {
  sim(['down']);
  rmSync(dir, { recursive: true, force: true });
}
