// The reviewed-plan sweep: `full-restart-after-failover` over many seeds. Per seed, on two
// fresh simulators of that seed:
//   1. `recover`: the leaders it chooses;
//   2. `plan --out FILE`, then `apply FILE` with no edits, then `verify FILE`: each must exit
//      0, `openmldb-sim check` must be ok (nothing lost), and every partition must be led
//      by the replica (named by its tablet's place: the ports differ) recover chose.
//
//   npx tsx scripts/sweep-plan.ts                       # seeds 1-10, 6 tables x 4 partitions x 3 replicas, 4 tablets
//   npx tsx scripts/sweep-plan.ts --first-seed 7 --seeds 1
// Uses the build (npm run build first). Exit 0 when every seed holds.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CheckReport } from '../src/sim/check.js';
import type { SimInfo } from '../src/sim/daemon.js';
import { type Proc, RECOVER, SIM, run } from './sweep-runs.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    'first-seed': { type: 'string', default: '1' },
    tables: { type: 'string', default: '6' },
    partitions: { type: 'string', default: '4' },
  },
});

interface Status {
  tables: Array<{ db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; role: string; alive: boolean; loaded?: { mode: string; state: string } }> }> }>;
}

/** A fresh simulator of `seed`: the tool run against it, its check, each partition's serving leader by tablet place. */
async function withSim<T>(seed: number, fn: (tool: (args: string[]) => Promise<Proc>, check: () => Promise<CheckReport>, leaders: () => Promise<string>, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'openmldb-sweep-plan-'));
  try {
    const up = await run(process.execPath, [SIM, 'up', '--dir', dir, '--scenario', 'full-restart-after-failover', '--seed', String(seed), '--tables', String(values.tables), '--partitions', String(values.partitions), '--replicas', '3', '--tablets', '4']);
    if (up.code !== 0) throw new Error(`sim up: ${up.stderr}`);
    const info = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as SimInfo;
    const env = { OPENMLDB_ZK_CLUSTER: info.zkCluster, OPENMLDB_ZK_ROOT_PATH: info.zkRootPath, OPENMLDB_BIN: info.bin, XDG_STATE_HOME: join(dir, 'state'), HOME: dir };
    const tool = (args: string[]) => run(process.execPath, [RECOVER, ...args], env);
    const check = async () => JSON.parse((await run(process.execPath, [SIM, 'check', '--dir', dir, '--json'])).stdout) as CheckReport;
    const leaders = async () => {
      const state = (await (await fetch(`http://127.0.0.1:${info.controlPort}/ctl/state`, { method: 'POST', body: '{}' })).json()) as { tablets: Array<{ endpoint: string }> };
      const order = state.tablets.map((t) => t.endpoint);
      const status = JSON.parse((await tool(['status', '--json'])).stdout) as Status;
      return JSON.stringify(
        status.tables.flatMap((t) =>
          t.partitions.map((p) => {
            const l = p.replicas.find((r) => r.role === 'leader' && r.alive && r.loaded?.mode === 'kTableLeader' && r.loaded.state === 'kTableNormal');
            return `${t.db}.${t.name}:${p.pid}=${l ? order.indexOf(l.endpoint) : '-'}`;
          }),
        ),
      );
    };
    return await fn(tool, check, leaders, dir);
  } finally {
    await run(process.execPath, [SIM, 'down', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

const first = Number(values['first-seed']);
const count = Number(values.seeds);
const started = Date.now();
let failed = 0;
for (let seed = first; seed < first + count; seed++) {
  const t0 = Date.now();
  const problems: string[] = [];
  const chosen = await withSim(seed, async (tool, check, leaders) => {
    const r = await tool(['recover', '--json', '--quiet']);
    if (r.code !== 0) problems.push(`recover exit ${r.code}`);
    if (!(await check()).ok) problems.push('recover: check not ok');
    return leaders();
  });
  let partitions = 0;
  await withSim(seed, async (tool, check, leaders, dir) => {
    const file = join(dir, 'plan.json');
    const plan = await tool(['plan', '--out', file, '--quiet']);
    if (plan.code !== 0) problems.push(`plan exit ${plan.code}: ${plan.stderr.trim().split('\n').at(-1) ?? ''}`);
    partitions = (JSON.parse(readFileSync(file, 'utf8')) as { partitions: unknown[] }).partitions.length;
    const apply = await tool(['apply', file, '--quiet']);
    if (apply.code !== 0) problems.push(`apply exit ${apply.code}: ${apply.stderr.trim().split('\n').at(-1) ?? ''}`);
    const verify = await tool(['verify', file]);
    if (verify.code !== 0) problems.push(`verify exit ${verify.code}`);
    const c = await check();
    if (!c.ok) problems.push(`check: ${c.problems.slice(0, 3).join('; ')}`);
    if ((await leaders()) !== chosen) problems.push('leaders differ from recover');
  });
  if (problems.length > 0) failed++;
  console.log(`seed ${seed}: ${problems.length === 0 ? 'ok' : 'FAIL'} (${partitions} partitions planned, ${((Date.now() - t0) / 1000).toFixed(1)} s)${problems.length ? `: ${problems.join('; ')}` : ''}`);
}
console.log(`${count - failed}/${count} seeds ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed === 0 ? 0 : 1);
