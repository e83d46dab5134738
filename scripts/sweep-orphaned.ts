// The orphaned-tail sweep: `full-restart-after-failover` over many seeds (a tablet died with
// auto_failover on, its partitions got new leaders in a newer term, some with an old
// leader's unreplicated tail; then a full restart). Per seed, on two fresh simulators:
//   1. `recover`: must exit 0 with `openmldb-sim check` ok (nothing lost; the orphaned tails
//      counted apart), and report exactly the tails check counts orphaned;
//   2. `recover --refuse-orphaned`: the partitions with a tail are refused, the others
//      served; each command a refusal prints, pasted into a shell, must proceed, and then
//      check must be ok again.
//
//   npx tsx scripts/sweep-orphaned.ts                      # seeds 1-40, 6 tables x 4 partitions x 3 replicas, 4 tablets
//   npx tsx scripts/sweep-orphaned.ts --first-seed 7 --seeds 1 --jobs 1
// Uses the build (npm run build first). Exit 0 when every seed holds.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CheckReport } from '../src/sim/check.js';
import type { SimInfo } from '../src/sim/daemon.js';
import type { Report } from '../src/engine/report.js';
import { RECOVER, SIM, run } from './sweep-runs.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '40' },
    'first-seed': { type: 'string', default: '1' },
    jobs: { type: 'string', default: '2' },
    tables: { type: 'string', default: '6' },
    partitions: { type: 'string', default: '4' },
  },
});

const bin = mkdtempSync(join(tmpdir(), 'openmldb-sweep-bin-'));
writeFileSync(join(bin, 'openmldb-recover'), `#!/bin/sh\nexec "${process.execPath}" "${RECOVER}" "$@"\n`);
chmodSync(join(bin, 'openmldb-recover'), 0o755);

/** A fresh simulator for `seed`; fn gets the environment a shell on it would have. */
async function withSim<T>(seed: number, fn: (env: Record<string, string>, check: () => Promise<CheckReport>) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'openmldb-sweep-'));
  try {
    const up = await run(process.execPath, [SIM, 'up', '--dir', dir, '--scenario', 'full-restart-after-failover', '--seed', String(seed), '--tables', String(values.tables), '--partitions', String(values.partitions), '--replicas', '3', '--tablets', '4']);
    if (up.code !== 0) throw new Error(`sim up: ${up.stderr}`);
    const info = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as SimInfo;
    const env = { OPENMLDB_ZK_CLUSTER: info.zkCluster, OPENMLDB_ZK_ROOT_PATH: info.zkRootPath, OPENMLDB_BIN: info.bin, XDG_STATE_HOME: join(dir, 'state'), HOME: dir, PATH: `${bin}:${process.env['PATH'] ?? ''}` };
    const check = async () => JSON.parse((await run(process.execPath, [SIM, 'check', '--dir', dir, '--json'])).stdout) as CheckReport;
    return await fn(env, check);
  } finally {
    await run(process.execPath, [SIM, 'down', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

const parts = (r: Report) => r.tables.flatMap((t) => t.partitions.map((p) => ({ ...p, key: `${t.db}.${t.name}:${p.pid}` })));
const orphanedOf = (r: Report) => new Map(parts(r).filter((p) => (p.orphaned ?? []).length > 0).map((p) => [p.key, p.orphaned!.reduce((n, o) => n + o.entries, 0)]));
const orphanedIn = (c: CheckReport) => new Map(c.ledger.filter((l) => l.orphaned > 0).map((l) => [`${l.db}.${l.table}:${l.pid}`, l.orphaned]));
const same = (a: Map<string, number>, b: Map<string, number>) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

interface Row {
  seed: number;
  tails: number;
  orphaned: number;
  problems: string[];
  seconds: number;
}

async function sweep(seed: number): Promise<Row> {
  const started = Date.now();
  const problems: string[] = [];
  // 1. The default: served, nothing lost, the tails reported as check counts them.
  const first = await withSim(seed, async (env, check) => {
    const p = await run(process.execPath, [RECOVER, 'recover', '--json', '--quiet'], env);
    const report = JSON.parse(p.stdout) as Report;
    const c = await check();
    if (p.code !== 0) problems.push(`recover exit ${p.code}: ${parts(report).filter((x) => x.status !== 'recovered' && x.status !== 'healthy').map((x) => `${x.key} ${x.status}: ${x.reason}`).join('; ')}`);
    if (!c.ok) problems.push(`check after recover: ${c.problems.join('; ')}`);
    if (!same(orphanedOf(report), orphanedIn(c))) problems.push(`report's orphaned ${JSON.stringify([...orphanedOf(report)])} != check's ${JSON.stringify([...orphanedIn(c)])}`);
    return { tails: orphanedOf(report).size, orphaned: c.entriesOrphaned };
  });
  // 2. --refuse-orphaned: exactly those partitions refused; each printed command proceeds.
  await withSim(seed, async (env, check) => {
    const p = await run(process.execPath, [RECOVER, 'recover', '--json', '--quiet', '--refuse-orphaned'], env);
    const report = JSON.parse(p.stdout) as Report;
    const refused = parts(report).filter((x) => x.status === 'refused');
    if ((p.code === 0) !== (first.tails === 0)) problems.push(`--refuse-orphaned exit ${p.code} with ${first.tails} tails`);
    if (refused.length !== first.tails || refused.some((x) => (x.orphaned ?? []).length === 0)) problems.push(`--refuse-orphaned refused ${refused.map((x) => `${x.key} (${x.reason})`).join('; ')}; ${first.tails} tails`);
    for (const x of refused) {
      for (const w of x.proceed ?? []) {
        const pasted = await run('bash', ['-c', w.command], env);
        if (pasted.code !== 0) problems.push(`pasted '${w.command}': exit ${pasted.code}: ${pasted.stdout.slice(-500)}`);
      }
    }
    const c = await check();
    if (!c.ok) problems.push(`check after the printed commands: ${c.problems.join('; ')}`);
  });
  return { seed, tails: first.tails, orphaned: first.orphaned, problems, seconds: (Date.now() - started) / 1000 };
}

const seeds = Number(values.seeds);
const firstSeed = Number(values['first-seed']);
const todo = Array.from({ length: seeds }, (_, i) => firstSeed + i);
const rows: Row[] = [];
const started = Date.now();
const worker = async () => {
  for (let seed = todo.shift(); seed !== undefined; seed = todo.shift()) {
    const row = await sweep(seed);
    rows.push(row);
    console.log(`${row.problems.length === 0 ? 'ok  ' : 'FAIL'} seed ${seed}: ${row.tails} partitions with an orphaned tail, ${row.orphaned} entries orphaned (${row.seconds.toFixed(0)} s)${row.problems.map((x) => `\n     ${x}`).join('')}`);
  }
};
await Promise.all(Array.from({ length: Math.max(1, Number(values.jobs)) }, worker));
rmSync(bin, { recursive: true, force: true });
const bad = rows.filter((r) => r.problems.length > 0);
console.log(`sweep: ${rows.length} seeds, ${rows.length - bad.length} ok; ${rows.filter((r) => r.tails > 0).length} with an orphaned tail (${rows.reduce((n, r) => n + r.orphaned, 0)} entries); ${values.tables} tables x ${values.partitions} partitions x 3 replicas, 4 tablets; ${((Date.now() - started) / 60000).toFixed(1)} min`);
process.exitCode = bad.length === 0 ? 0 : 1;
