// The live-traffic sweep (issue "Live traffic"): each scenario a recovery faces
// (full-restart, full-restart-after-failover, node-down, partition-lost), many seeds, with
// clients writing as OpenMLDB's SDK does (`up --traffic RATE`) before, during and after the
// run. Per seed, on a fresh simulator: `recover`, the clients stopped, then `check`. A seed
// holds when no acknowledged write and no entry is lost, and the run either served every
// partition (exit 0, check ok) or exited non-zero naming exactly the partitions it did not
// serve (a tablet node-down keeps down).
//
//   npx tsx scripts/sweep-traffic.ts                          # 4 scenarios x seeds 1-20, --traffic 200
//   npx tsx scripts/sweep-traffic.ts --scenarios node-down --first-seed 3 --seeds 1 --jobs 1
// Uses the build (npm run build first). Exit 0 when every seed holds.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkUnderTraffic, namedInReport, settledCheck, unserved } from '../src/chaos/chaos.js';
import type { Report } from '../src/engine/report.js';
import type { SimInfo } from '../src/sim/daemon.js';
import { type Proc, RECOVER, SIM, run as runFile } from './sweep-runs.js';

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'full-restart,full-restart-after-failover,node-down,partition-lost' },
    seeds: { type: 'string', default: '20' },
    'first-seed': { type: 'string', default: '1' },
    jobs: { type: 'string', default: '2' },
    traffic: { type: 'string', default: '200' },
    tables: { type: 'string', default: '4' },
    partitions: { type: 'string', default: '4' },
  },
});

const run = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Proc> => runFile(process.execPath, args, env);

interface Row {
  scenario: string;
  seed: number;
  exit: number;
  acknowledged: number;
  acknowledgedLost: number;
  entriesLost: number;
  problems: string[];
  seconds: number;
}

async function sweep(scenario: string, seed: number): Promise<Row> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'openmldb-sweep-traffic-'));
  const problems: string[] = [];
  try {
    const extra = scenario === 'partition-lost' ? ['--replicas', '2', '--tablets', '3'] : [];
    const up = await run([SIM, 'up', '--dir', dir, '--scenario', scenario, '--seed', String(seed), '--tables', String(values.tables), '--partitions', String(values.partitions), '--traffic', String(values.traffic), ...extra]);
    if (up.code !== 0) throw new Error(`sim up: ${up.stderr}`);
    const info = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as SimInfo;
    const env = { OPENMLDB_ZK_CLUSTER: info.zkCluster, OPENMLDB_ZK_ROOT_PATH: info.zkRootPath, OPENMLDB_BIN: info.bin, XDG_STATE_HOME: join(dir, 'state') };
    const r = await run([RECOVER, 'recover', '--json', '--quiet'], env);
    // What the run must describe is the cluster as it left it; the clients then stop, and
    // every write they were told succeeded is looked for on a cluster at rest.
    const atExit = await checkUnderTraffic(info);
    await run([SIM, 'ctl', 'traffic', '--dir', dir, '--rate', '0']);
    const check = await settledCheck(info);
    if (r.code === 0 && !check.ok) problems.push(`at rest: ${check.problems.slice(0, 3).join('; ')}`);
    if (check.acknowledgedLost > 0) problems.push(`${check.acknowledgedLost} acknowledged writes lost: ${check.problems.filter((p) => /acknowledged/.test(p)).join('; ')}`);
    if (check.entriesLost > 0) problems.push(`${check.entriesLost} entries lost`);
    if (r.code === 0) {
      if (!atExit.ok) problems.push(`exit 0 but: ${atExit.problems.slice(0, 3).join('; ')}`);
    } else {
      let report: Report | undefined;
      try {
        report = JSON.parse(r.stdout) as Report;
      } catch {
        problems.push(`exit ${r.code} without a report: ${r.stderr.slice(-300)}`);
      }
      if (report) {
        const named = namedInReport(report);
        for (const p of unserved(atExit)) if (!named.has(p)) problems.push(`${p} not served but not named`);
      }
    }
    return { scenario, seed, exit: r.code, acknowledged: check.acknowledgedWrites, acknowledgedLost: check.acknowledgedLost, entriesLost: check.entriesLost, problems, seconds: (Date.now() - started) / 1000 };
  } finally {
    await run([SIM, 'down', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

const first = Number(values['first-seed']);
const todo = String(values.scenarios).split(',').flatMap((scenario) => Array.from({ length: Number(values.seeds) }, (_, i) => ({ scenario, seed: first + i })));
const rows: Row[] = [];
const started = Date.now();
const worker = async () => {
  for (let next = todo.shift(); next; next = todo.shift()) {
    const row = await sweep(next.scenario, next.seed).catch((err: unknown) => ({ scenario: next.scenario, seed: next.seed, exit: -1, acknowledged: 0, acknowledgedLost: 0, entriesLost: 0, problems: [String(err)], seconds: 0 }));
    rows.push(row);
    console.log(`${row.problems.length === 0 ? 'ok  ' : 'FAIL'} ${row.scenario} seed ${row.seed}: exit ${row.exit}, ${row.acknowledged} writes acknowledged, ${row.acknowledgedLost} lost, ${row.entriesLost} entries lost (${row.seconds.toFixed(0)}s)${row.problems.length ? `: ${row.problems.join('; ')}` : ''}`);
  }
};
await Promise.all(Array.from({ length: Math.max(1, Number(values.jobs)) }, worker));
const bad = rows.filter((r) => r.problems.length > 0);
console.log(
  `traffic sweep: ${rows.length} runs, ${rows.length - bad.length} ok; exit 0 in ${rows.filter((r) => r.exit === 0).length}; ${rows.reduce((s, r) => s + r.acknowledged, 0)} writes acknowledged at ${values.traffic}/s, ${rows.reduce((s, r) => s + r.acknowledgedLost, 0)} lost; ${rows.reduce((s, r) => s + r.entriesLost, 0)} entries lost; ${values.tables} tables x ${values.partitions} partitions, in ${((Date.now() - started) / 60000).toFixed(1)} min`,
);
process.exitCode = bad.length === 0 ? 0 : 1;
