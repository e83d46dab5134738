// Benchmark: a full-restart recovery on the simulator, at several sizes, against the
// simulator's own critical-path lower bound (`openmldb-sim bound`, src/sim/bound.ts).
//   npm run bench                                   # 10, 50, 100, 200 tables x 8 partitions x 3 replicas, 4 tablets
//   npx tsx scripts/bench-recover.ts --tables 10,25 --transport cli
//   npx tsx scripts/bench-recover.ts --tool DIR     # another build of the tool (DIR/dist), e.g. an older commit
//   npx tsx scripts/bench-recover.ts --tables 25 -- --concurrency 4   # after --: options for recover
//   npx tsx scripts/bench-recover.ts --tables 200 --profile /tmp/prof --keep   # the tool's CPU profile; keep the cluster's dir
// Per size it prints: the load average when it began, how long the simulator took to start
// the incident, the bound, the measured time and their ratio, partitions per second,
// commands sent per partition (HTTP calls and binary runs), the tool's peak memory, and
// where the CPU went (the simulator, the tool, the stand-in binaries it spawned).
// Timing goals live here, never in the test suite.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = resolve(import.meta.dirname, '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tables: { type: 'string', default: '10,50,100,200' },
    partitions: { type: 'string', default: '8' },
    replicas: { type: 'string', default: '3' },
    tablets: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    scenario: { type: 'string', default: 'full-restart' },
    transport: { type: 'string' },
    // Tables named with --priority, as a share of the user tables (every 10th by default; 0: none).
    'priority-share': { type: 'string', default: '0.1' },
    tool: { type: 'string', default: REPO },
    // A V8 CPU profile of the tool (node --cpu-prof) written into this directory.
    profile: { type: 'string' },
    // Keep the simulator's directory (its state home holds the run record) and print where it is.
    keep: { type: 'boolean', default: false },
  },
});

interface Row {
  tables: number;
  partitions: number;
  load: number;
  upS: number;
  boundS: number;
  seconds: number;
  exit: number | null;
  served: boolean;
  lost: number;
  recovered: number;
  cli: number;
  http: number;
  peakMb: number;
  simCpuS: number;
  toolCpuS: number;
  binCpuS: number;
  /** Size of the run's record. */
  recordMb: number;
  /** The nameserver's ZooKeeper writes during the recovery, and the time its metadata lock was held. */
  metadataWrites: number;
  metadataHeldS: number;
  /** The bound's serialized metadata writes (s). */
  boundMetadataS: number;
  /** When partitions were served (s): p50, p90, all. */
  servedAt: { p50: number; p90: number; all: number };
  /** The --priority tables: when their first, median and last partition was served (ms). */
  priority: { firstMs: number; medianMs: number; lastMs: number } | undefined;
}

/** When the partitions were served (s after the run began): p50, p90, the last. */
function servedTimes(report: { tables: Array<{ partitions: Array<{ servedMs?: number }> }> }): { p50: number; p90: number; all: number } {
  const ms = report.tables.flatMap((t) => t.partitions.flatMap((p) => (p.servedMs !== undefined ? [p.servedMs] : []))).sort((a, b) => a - b);
  const at = (q: number) => (ms.length === 0 ? 0 : (ms[Math.min(ms.length - 1, Math.floor(q * (ms.length - 1)))] as number) / 1000);
  return { p50: at(0.5), p90: at(0.9), all: at(1) };
}

/** The simulator's metadata lock counters (check --json). */
interface Metadata {
  writes: number;
  heldMs: number;
}

const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
/** utime+stime (s) of a process, or, for `self-children`, of this process's waited-for children. */
function cpuOf(pid: number | 'self-children'): number {
  const path = pid === 'self-children' ? '/proc/self/stat' : `/proc/${pid}/stat`;
  if (!existsSync(path)) return 0;
  const fields = readFileSync(path, 'utf8').replace(/^.*\) /, '').split(' ');
  // After "pid (comm) ": field 3 is index 0; utime 14, stime 15, cutime 16, cstime 17.
  const at = (n: number) => Number(fields[n - 3] ?? 0);
  return (pid === 'self-children' ? at(16) + at(17) : at(14) + at(15)) / ticks;
}

async function run(size: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'openmldb-bench-'));
  const sim = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'dist/sim/cli/openmldb-sim.js'), ...args, '--dir', dir], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  try {
    const load = loadavg()[0] ?? 0;
    const upStarted = Date.now();
    const up = sim(['up', '--scenario', String(values.scenario), '--tables', String(size), '--partitions', String(values.partitions), '--replicas', String(values.replicas), '--tablets', String(values.tablets), '--seed', String(values.seed)]);
    if (up.status !== 0) throw new Error(up.stderr);
    const upS = (Date.now() - upStarted) / 1000;
    const info = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as { pid: number; zkCluster: string; zkRootPath: string; bin: string };
    const bound = JSON.parse(sim(['bound', '--json']).stdout) as { ms: number; metadataMs?: number };
    const metadataBefore = (JSON.parse(sim(['check', '--json']).stdout) as { metadata?: Metadata }).metadata;
    const rusage = join(dir, 'rusage.json');
    const simBefore = cpuOf(info.pid);
    const childrenBefore = cpuOf('self-children');
    const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(values.profile)] : [];
    const args = [...profile, '--import', join(REPO, 'scripts/bench-rusage.mjs'), join(resolve(String(values.tool)), 'dist/cli/openmldb-recover.js'), 'recover', '--json', '--quiet'];
    if (values.transport) args.push('--transport', values.transport);
    const share = Number(values['priority-share']);
    const every = share > 0 ? Math.max(1, Math.round(1 / share)) : 0;
    if (every > 0) for (let i = every - 1; i < size; i += every) args.push('--priority', `demo_db.t${i}`);
    args.push(...positionals);
    const started = Date.now();
    const r = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      env: { ...process.env, OPENMLDB_ZK_CLUSTER: info.zkCluster, OPENMLDB_ZK_ROOT_PATH: info.zkRootPath, OPENMLDB_BIN: info.bin, XDG_STATE_HOME: join(dir, 'state'), BENCH_RUSAGE_FILE: rusage },
      maxBuffer: 256 * 1024 * 1024,
    });
    const seconds = (Date.now() - started) / 1000;
    const simCpuS = cpuOf(info.pid) - simBefore;
    const childrenCpuS = cpuOf('self-children') - childrenBefore;
    let report: {
      totals: { partitions: number; recovered: number };
      commands?: { cli: number; http: number };
      service?: Array<{ class: string; firstMs: number; medianMs: number; lastMs: number }>;
      tables: Array<{ partitions: Array<{ servedMs?: number }> }>;
    };
    try {
      report = JSON.parse(r.stdout) as typeof report;
    } catch {
      throw new Error(`recover printed no report (exit ${r.status}): ${r.stderr.split('\n').slice(-5).join('\n')}`);
    }
    const usage = existsSync(rusage) ? (JSON.parse(readFileSync(rusage, 'utf8')) as { maxRssKb: number; userUs: number; systemUs: number }) : undefined;
    const toolCpuS = usage ? (usage.userUs + usage.systemUs) / 1e6 : 0;
    const check = JSON.parse(sim(['check', '--json']).stdout) as { ok: boolean; entriesLost: number; metadata?: Metadata };
    const metadata = check.metadata && metadataBefore ? { writes: check.metadata.writes - metadataBefore.writes, heldMs: check.metadata.heldMs - metadataBefore.heldMs } : { writes: 0, heldMs: 0 };
    const recorded = await fromRecord(join(dir, 'state', 'openmldb-recover', 'runs'));
    const commands = report.commands ?? recorded;
    return {
      tables: size,
      partitions: report.totals.partitions,
      load,
      upS,
      boundS: bound.ms / 1000,
      seconds,
      exit: r.status,
      served: check.ok,
      lost: check.entriesLost,
      recovered: report.totals.recovered,
      cli: commands.cli,
      recordMb: recorded.recordBytes / 1024 / 1024,
      servedAt: servedTimes(report),
      priority: report.service?.find((c) => c.class === 'priority'),
      metadataWrites: metadata.writes,
      metadataHeldS: metadata.heldMs / 1000,
      boundMetadataS: (bound.metadataMs ?? 0) / 1000,
      http: commands.http,
      peakMb: usage ? usage.maxRssKb / 1024 : 0,
      simCpuS,
      toolCpuS,
      binCpuS: Math.max(0, childrenCpuS - toolCpuS),
    };
  } finally {
    sim(['down']);
    if (values.keep) console.log(`kept ${dir} (the run record under state/openmldb-recover/runs)`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Commands sent and the record's size, from the run record, read line by line (a record of
 * an older build keeps every reply and can pass what one string may hold). A change is a
 * `command` line; reads are tallied per method in `reads` lines (an older build's record:
 * every read is a `command` line too).
 */
async function fromRecord(runs: string): Promise<{ cli: number; http: number; recordBytes: number }> {
  const n = { cli: 0, http: 0, recordBytes: 0 };
  if (!existsSync(runs)) return n;
  for (const f of readdirSync(runs).filter((x) => x.endsWith('.jsonl'))) {
    n.recordBytes += statSync(join(runs, f)).size;
    for await (const line of createInterface({ input: createReadStream(join(runs, f), 'utf8'), crlfDelay: Infinity })) {
      if (line.startsWith('{"type":"command"')) {
        const kind = /"kind":"(cli|http)"/.exec(line)?.[1];
        if (kind === 'cli') n.cli++;
        else if (kind === 'http') n.http++;
      } else if (line.startsWith('{"type":"reads"')) {
        for (const g of (JSON.parse(line) as { reads: Array<{ command: string; calls: number }> }).reads) {
          if (g.command.includes('/')) n.http += g.calls;
          else n.cli += g.calls;
        }
      } else if (line.startsWith('{"type":"read-failed"')) {
        if (line.includes('"kind":"http"')) n.http++;
        else n.cli++;
      }
    }
  }
  return n;
}

const f1 = (x: number) => x.toFixed(1);
const rows: Row[] = [];
console.log(`full restart: ${values.partitions} partitions x ${values.replicas} replicas per table, ${values.tablets} tablets, seed ${values.seed}${values.transport ? `, --transport ${values.transport}` : ''}${positionals.length ? `, ${positionals.join(' ')}` : ''}`);
for (const size of String(values.tables).split(',').map(Number)) {
  const row = await run(size);
  rows.push(row);
  const cpu = row.simCpuS + row.toolCpuS + row.binCpuS;
  console.log(
    `${size} tables: exit ${row.exit}, ${row.recovered}/${row.partitions} recovered, ${row.served ? 'fully served' : 'NOT served'}, ${row.lost} entries lost; ` +
      `${f1(row.seconds)} s against a bound of ${f1(row.boundS)} s (x${(row.seconds / row.boundS).toFixed(2)}); ` +
      `CPU: simulator ${f1(row.simCpuS)} s, tool ${f1(row.toolCpuS)} s, stand-in binaries ${f1(row.binCpuS)} s (simulator ${cpu > 0 ? Math.round((100 * row.simCpuS) / cpu) : 0}%)`,
  );
}
console.log('');
console.log('| tables | partitions | load avg | sim up (s) | bound (s) | measured (s) | ratio | partitions/s | commands/partition (http + cli) | peak memory (MB) | CPU s: sim / tool / binaries | sim CPU share | record (MB) | ns metadata writes/partition | ns lock held (s) | tool CPU ms/partition | served at p50 / p90 / all (s) | --priority tables served by (s, share of the run) | served, lost |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const cpu = r.simCpuS + r.toolCpuS + r.binCpuS;
  const per = (n: number) => (n / Math.max(1, r.partitions)).toFixed(1);
  console.log(
    `| ${r.tables} | ${r.partitions} | ${r.load.toFixed(1)} | ${f1(r.upS)} | ${f1(r.boundS)} | ${f1(r.seconds)} | ${(r.seconds / r.boundS).toFixed(2)} | ${(r.partitions / r.seconds).toFixed(1)} | ${per(r.http + r.cli)} (${per(r.http)} + ${per(r.cli)}) | ${Math.round(r.peakMb)} | ${f1(r.simCpuS)} / ${f1(r.toolCpuS)} / ${f1(r.binCpuS)} | ${cpu > 0 ? Math.round((100 * r.simCpuS) / cpu) : 0}% | ${r.recordMb.toFixed(2)} | ${per(r.metadataWrites)} | ${f1(r.metadataHeldS)} | ${((1000 * r.toolCpuS) / Math.max(1, r.partitions)).toFixed(1)} | ${f1(r.servedAt.p50)} / ${f1(r.servedAt.p90)} / ${f1(r.servedAt.all)} | ${r.priority ? `${f1(r.priority.lastMs / 1000)} (${Math.round((100 * r.priority.lastMs) / 1000 / r.seconds)}%)` : '-'} | ${r.served ? 'yes' : 'NO'}, ${r.lost} |`,
  );
}
