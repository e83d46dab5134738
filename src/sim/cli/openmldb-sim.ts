#!/usr/bin/env node
// `openmldb-sim`: start, steer, judge and stop a simulated OpenMLDB cluster.
//   up     start a cluster in the background (scenario, sizes, seed)
//   ctl    inject faults and events (stop a tablet, fail calls, ...)
//   check  exit 0 when the cluster is fully served; report the data ledger
//   down   stop it
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { CheckReport } from '../check.js';
import { DEFAULT_OPTIONS, type SimOptions } from '../cluster.js';
import { SimNotRunning, ctl, isAlive, readInfo } from '../client.js';
import { type SimZooKeeperConfig, serve } from '../daemon.js';
import { startZooKeeper, stopZooKeeperIn, zooKeeperProblem } from '../../zk/server.js';
import { type CriticalPath, DEFAULT_TIMING, type Dialect } from '../model.js';
import { RPC_FAULT_KINDS } from '../faults.js';
import { DEFAULT_SCENARIO, SCENARIOS, type ScenarioName, type ScenarioOptions } from '../scenarios.js';

const EXIT = { ok: 0, unhealthy: 1, usage: 2, notRunning: 3 } as const;

class UsageError extends Error {}

interface UpArgs {
  dir: string;
  scenario: string;
  tables: number;
  partitions: number;
  replicas: number;
  tablets: number;
  nameservers: number;
  entries: number;
  storage: string;
  'auto-failover': boolean;
  seed: number;
  dialect: string;
  'use-name': boolean;
  databases: string[];
  'system-tables': boolean;
  'task-ms': number;
  'load-base-ms': number;
  'load-ms-per-1000': number;
  'max-concurrent-loads': number;
  'binlog-part-entries': number;
  'make-snapshot-threshold-offset': number;
  'heartbeat-timeout-ms': number;
  'zk-session-timeout-ms': number;
  'ns-init-ms': number;
  'zk-write-ms': number;
  'zk-write-ms-per-kb': number;
  'ns-auto-failover-flag': boolean;
  'status-poll-ms': number;
  'power-loss': boolean;
  'diverged-tails'?: number;
  'short-snapshots'?: number;
  traffic: number;
  zookeeper?: string;
  'zk-root-path': string;
}

function upOptions(y: Argv) {
  return y
    .option('scenario', { choices: SCENARIOS as unknown as string[], default: 'healthy', describe: 'state to start in' })
    .option('tables', { type: 'number', default: DEFAULT_SCENARIO.tables, describe: 'user tables' })
    .option('partitions', { type: 'number', default: DEFAULT_SCENARIO.partitions, describe: 'partitions per user table' })
    .option('replicas', { type: 'number', default: DEFAULT_SCENARIO.replicas, describe: 'replicas per partition' })
    .option('tablets', { type: 'number', default: DEFAULT_OPTIONS.tablets })
    .option('nameservers', { type: 'number', default: DEFAULT_OPTIONS.nameservers })
    .option('entries', { type: 'number', default: DEFAULT_SCENARIO.entries, describe: 'average entries per partition (drives load time)' })
    .option('storage', { choices: ['memory', 'disk', 'mixed'], default: DEFAULT_SCENARIO.storage })
    .option('auto-failover', { type: 'boolean', default: true, describe: 'auto_failover when the incident begins' })
    .option('seed', { type: 'number', default: 1 })
    .option('dialect', { type: 'string', choices: ['modern', '2018'], default: 'modern', describe: 'output of current OpenMLDB or the 2018-era docs' })
    .option('use-name', { type: 'boolean', default: false, describe: 'servers register with names (use_name=true)' })
    .option('databases', { type: 'array', string: true, default: DEFAULT_SCENARIO.databases })
    .option('system-tables', { type: 'boolean', default: true, describe: 'create the internal databases\' system tables (--no-system-tables for a smaller cluster)' })
    .option('task-ms', { type: 'number', default: DEFAULT_TIMING.taskMs, describe: 'duration of one op task' })
    .option('load-base-ms', { type: 'number', default: DEFAULT_TIMING.loadBaseMs })
    .option('load-ms-per-1000', { type: 'number', default: DEFAULT_TIMING.loadMsPer1000, describe: 'load time per 1000 entries' })
    .option('max-concurrent-loads', { type: 'number', default: DEFAULT_TIMING.maxConcurrentLoads, describe: 'per tablet' })
    .option('make-snapshot-threshold-offset', { type: 'number', default: DEFAULT_TIMING.makeSnapshotThresholdOffset, describe: "the tablets' make_snapshot_threshold_offset: makesnapshot writes one only this many entries past the last" })
    .option('binlog-part-entries', { type: 'number', default: DEFAULT_TIMING.binlogPartEntries, describe: 'entries in one binlog part (binlog_single_file_max_size: 2048 MB); parts before the snapshot and the followers are deleted' })
    .option('heartbeat-timeout-ms', { type: 'number', default: DEFAULT_TIMING.heartbeatTimeoutMs })
    .option('ns-init-ms', { type: 'number', default: DEFAULT_TIMING.nsInitMs, describe: "how long a starting nameserver's Init runs: one that wins the election within it ends with --ns-auto-failover-flag in memory, whatever ZooKeeper says (0: never)" })
    .option('zk-write-ms', { type: 'number', default: DEFAULT_TIMING.zkWriteBaseMs, describe: "one ZooKeeper write by the nameserver (a table's node, an op's node), made under its metadata mutex: fixed part in ms (measured: scripts/measure-zk-writes.ts)" })
    .option('zk-write-ms-per-kb', { type: 'number', default: DEFAULT_TIMING.zkWritePerKbMs, describe: 'the same write: ms per KB of the node' })
    .option('ns-auto-failover-flag', { type: 'boolean', default: true, describe: "the nameservers' auto_failover flag (the template's: true)" })
    .option('zk-session-timeout-ms', { type: 'number', default: DEFAULT_TIMING.zkSessionTimeoutMs, describe: "the tablets' zk_session_timeout: a stopped tablet stays listed healthy this long, and cannot start again inside it (0: it is listed offline at once)" })
    .option('status-poll-ms', { type: 'number', default: DEFAULT_TIMING.statusPollMs })
    .option('power-loss', { type: 'boolean', default: true, describe: 'full-restart scenarios: the machines lost power (unsynced binlog tails are gone); --no-power-loss for a clean stop' })
    .option('zookeeper', {
      type: 'string',
      describe: "keep the cluster's ZooKeeper state in a real ZooKeeper: HOST:PORT[,HOST:PORT], or `start` for a private server in DIR/zookeeper (Debian's zookeeper package), stopped by down",
    })
    .option('zk-root-path', { type: 'string', default: DEFAULT_OPTIONS.rootPath, describe: 'the cluster root path in ZooKeeper' })
    .option('traffic', { type: 'number', default: 0, describe: 'clients writing as the SDK does: Puts per second over the user tables, to each partition\'s alive leader (0: none; ctl traffic changes it)' })
    .option('diverged-tails', { type: 'number', describe: 'full-restart-after-failover: partitions whose dead leader kept entries its followers never got (default: 0 or 1, by seed)' })
    .option('short-snapshots', { type: 'number', describe: "full-restart with the power lost: partitions whose replica holding the most made a snapshot just before; its data file never reached the disk (only the MANIFEST is fsynced), so it comes back holding fewer entries than its offset says (default 0)" });
}

function toConfig(a: UpArgs): { options: Partial<SimOptions>; scenario: ScenarioOptions; traffic: number } {
  for (const [k, v] of Object.entries({ tables: a.tables, partitions: a.partitions, replicas: a.replicas, tablets: a.tablets, nameservers: a.nameservers })) {
    if (!Number.isInteger(v) || v < (k === 'tables' ? 0 : 1)) throw new UsageError(`--${k} must be a whole number >= ${k === 'tables' ? 0 : 1} (got ${v})`);
  }
  if (!Number.isFinite(a.seed)) throw new UsageError(`--seed must be a number`);
  if (!Number.isInteger(a['ns-init-ms']) || a['ns-init-ms'] < 0) throw new UsageError(`--ns-init-ms must be a whole number >= 0 (got ${a['ns-init-ms']})`);
  if (!Number.isInteger(a['zk-session-timeout-ms']) || a['zk-session-timeout-ms'] < 0) throw new UsageError(`--zk-session-timeout-ms must be a whole number >= 0 (got ${a['zk-session-timeout-ms']})`);
  for (const k of ['zk-write-ms', 'zk-write-ms-per-kb'] as const) if (!Number.isFinite(a[k]) || a[k] < 0) throw new UsageError(`--${k} must be a number >= 0 (got ${a[k]})`);
  if (!Number.isInteger(a['binlog-part-entries']) || a['binlog-part-entries'] < 1) throw new UsageError(`--binlog-part-entries must be a whole number >= 1 (got ${a['binlog-part-entries']})`);
  const root = a['zk-root-path'];
  if (!/^\/[A-Za-z0-9_.\/-]*[A-Za-z0-9_.-]$/.test(root) || root.includes('//')) throw new UsageError(`--zk-root-path must be an absolute path such as /openmldb (got '${root}')`);
  return {
    options: {
      rootPath: root,
      dialect: a.dialect as Dialect,
      useName: a['use-name'],
      autoFailoverFlag: a['ns-auto-failover-flag'],
      seed: a.seed,
      nameservers: a.nameservers,
      tablets: a.tablets,
      timing: {
        ...DEFAULT_TIMING,
        taskMs: a['task-ms'],
        loadBaseMs: a['load-base-ms'],
        loadMsPer1000: a['load-ms-per-1000'],
        maxConcurrentLoads: a['max-concurrent-loads'],
        makeSnapshotThresholdOffset: a['make-snapshot-threshold-offset'],
        binlogPartEntries: a['binlog-part-entries'],
        heartbeatTimeoutMs: a['heartbeat-timeout-ms'],
        zkSessionTimeoutMs: a['zk-session-timeout-ms'],
        nsInitMs: a['ns-init-ms'],
        zkWriteBaseMs: a['zk-write-ms'],
        zkWritePerKbMs: a['zk-write-ms-per-kb'],
        statusPollMs: a['status-poll-ms'],
      },
    },
    scenario: {
      scenario: a.scenario as ScenarioName,
      tables: a.tables,
      partitions: a.partitions,
      replicas: a.replicas,
      entries: a.entries,
      storage: a.storage as ScenarioOptions['storage'],
      autoFailover: a['auto-failover'],
      databases: a.databases.map(String),
      systemTables: a['system-tables'],
      powerLoss: a['power-loss'],
      ...(a['diverged-tails'] !== undefined ? { divergedTails: a['diverged-tails'] } : {}),
      ...(a['short-snapshots'] !== undefined ? { shortSnapshots: a['short-snapshots'] } : {}),
    },
    traffic: a.traffic,
  };
}

/** `--zookeeper`: an address, or `start` for a private server in DIR/zookeeper. */
async function zookeeperFor(a: UpArgs, dir: string): Promise<SimZooKeeperConfig | undefined> {
  const z = a.zookeeper?.trim();
  if (z === undefined || z === '') return undefined;
  if (z === 'start') {
    const problem = zooKeeperProblem();
    if (problem) throw new UsageError(`--zookeeper start: ${problem}`);
    const server = await startZooKeeper({ dir: join(dir, 'zookeeper'), detached: true });
    return { address: server.address, managed: true };
  }
  for (const host of z.split(',')) {
    if (!/^[A-Za-z0-9_.-]+:\d{1,5}$/.test(host)) throw new UsageError(`--zookeeper takes HOST:PORT[,HOST:PORT] or start (got '${host}')`);
  }
  return { address: z, managed: false };
}

async function up(a: UpArgs): Promise<void> {
  const dir = dirOf(a);
  const config: ReturnType<typeof toConfig> & { zookeeper?: SimZooKeeperConfig } = toConfig(a);
  mkdirSync(dir, { recursive: true });
  if (existsSync(join(dir, 'sim.json'))) {
    const info = readInfo(dir);
    if (isAlive(info.pid)) throw new UsageError(`a simulator already runs in ${dir} (pid ${info.pid}); stop it with: openmldb-sim down --dir ${dir}`);
  }
  for (const f of ['sim.json', 'env']) rmSync(join(dir, f), { force: true });
  const zookeeper = await zookeeperFor(a, dir);
  if (zookeeper) config.zookeeper = zookeeper;
  const out = openSync(join(dir, 'daemon.out'), 'w');
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'serve', '--dir', dir, '--config', JSON.stringify(config)], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + 120000;
  while (!existsSync(join(dir, 'sim.json')) || !existsSync(join(dir, 'env'))) {
    if (exited !== null || Date.now() > deadline) {
      const tail = existsSync(join(dir, 'daemon.out')) ? readFileSync(join(dir, 'daemon.out'), 'utf8').trim().split('\n').slice(-5).join('\n') : '';
      if (exited === null) child.kill('SIGKILL');
      if (zookeeper?.managed) await stopZooKeeperIn(join(dir, 'zookeeper'));
      throw new Error(`the simulator did not start${tail ? `:\n${tail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const info = readInfo(dir);
  console.log(`openmldb-sim: ${config.scenario.scenario} cluster up in ${dir} (pid ${info.pid})`);
  console.log(`  zk_cluster=${info.zkCluster} zk_root_path=${info.zkRootPath}${info.zookeeper ? ` (ZooKeeper${info.zookeeper.managed ? `, private server in ${join(dir, 'zookeeper')}` : ''})` : ' (embedded stand-in for ZooKeeper)'}`);
  console.log(`  nameservers: ${info.nameservers.map((n) => n.endpoint).join(', ')}`);
  console.log(`  tablets:     ${info.tablets.map((t) => t.endpoint).join(', ')}`);
  console.log(`  . ${join(dir, 'env')}   # sets OPENMLDB_ZK_CLUSTER, OPENMLDB_ZK_ROOT_PATH, OPENMLDB_BIN`);
}

async function down(dir: string): Promise<void> {
  const info = readInfo(dir);
  if (isAlive(info.pid)) {
    try {
      await ctl(dir, 'shutdown');
    } catch {
      process.kill(info.pid, 'SIGTERM');
    }
    const deadline = Date.now() + 5000;
    while (isAlive(info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (isAlive(info.pid)) process.kill(info.pid, 'SIGKILL');
  }
  if (info.zookeeper?.managed) await stopZooKeeperIn(join(dir, 'zookeeper'));
  for (const f of ['sim.json', 'env']) rmSync(join(dir, f), { force: true });
  console.log(`openmldb-sim: stopped the simulator in ${dir}`);
}

function printCheck(r: CheckReport): void {
  console.log(r.ok ? 'cluster fully served' : 'cluster NOT fully served');
  console.log(`  partitions served: ${r.partitionsServed}/${r.partitions}`);
  console.log(`  auto_failover: ${r.autoFailover}${r.autoFailoverBefore !== undefined ? ` (before the incident: ${r.autoFailoverBefore})` : ''}`);
  for (const p of r.problems) console.log(`  problem: ${p}`);
  for (const n of r.notes) console.log(`  note: ${n}`);
  const lossy = r.ledger.filter((l) => l.lost > 0);
  console.log(`  entries lost: ${r.entriesLost}${lossy.length ? '' : ' (every entry any replica held when the incident began is still served, or still on a disk of a partition not served)'}`);
  const now = (l: (typeof r.ledger)[number]) => (l.served !== undefined ? `now serving offset ${l.served}` : 'not served');
  for (const l of lossy) {
    console.log(`    ${l.db}.${l.table} pid ${l.pid}: ${l.entriesBefore} distinct entries before (best replica ${l.bestEndpoint} at ${l.bestBefore}), ${now(l)}: ${l.lost} lost (${(l.lostRuns ?? []).join('; ')})`);
  }
  if (r.acknowledgedWrites > 0 || r.acknowledgedLost > 0) console.log(`  client writes acknowledged: ${r.acknowledgedWrites}, lost: ${r.acknowledgedLost}`);
  for (const l of r.ledger.filter((x) => x.acknowledgedLost > 0)) console.log(`    ${l.db}.${l.table} pid ${l.pid}: ${now(l)}: ${l.acknowledgedLost} of ${l.acknowledged} acknowledged writes lost (${(l.acknowledgedLostRuns ?? []).join('; ')})`);
  const orphaned = r.ledger.filter((l) => l.orphaned > 0);
  if (orphaned.length > 0) console.log(`  entries orphaned at a failover before the incident (given up by OpenMLDB then, not counted as lost): ${r.entriesOrphaned}`);
  for (const l of orphaned) console.log(`    ${l.db}.${l.table} pid ${l.pid}: ${now(l)}: ${l.orphaned} orphaned (${(l.orphanedRuns ?? []).join('; ')})`);
}

function printBound(b: CriticalPath): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(`critical-path lower bound: ${s(b.ms)}`);
  console.log(`  loads: ${b.loads} replica loads, ${b.loadSlots} at a time per tablet: ${s(b.loadMs)} on the busiest tablet`);
  console.log(`  ops: ${b.leaderChanges} leader changes, ${b.opTasks} tasks over ${b.opQueues} queues: ${s(b.opMs)}; longest single chain ${s(b.chainMs)}`);
}

const print = (x: unknown) => console.log(JSON.stringify(x, null, 2));
const dirOf = (a: object) => resolve(String((a as { dir?: unknown }).dir ?? '.sim'));

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName('openmldb-sim')
    .usage('$0 <command> --dir DIR [options]')
    .option('dir', { type: 'string', default: '.sim', describe: "the simulator's home: state, logs, env, bin/openmldb", global: true })
    .command('up', 'start a simulated cluster in the background', upOptions, (a) => up(a as unknown as UpArgs))
    .command('down', 'stop the simulator', {}, (a) => down(dirOf(a)))
    .command(
      'serve',
      false,
      (y) => y.option('config', { type: 'string', demandOption: true }),
      async (a) => {
        const cfg = JSON.parse(a.config) as { options: Partial<SimOptions>; scenario: ScenarioOptions; zookeeper?: SimZooKeeperConfig; traffic?: number };
        await serve(dirOf(a), cfg.options, cfg.scenario, cfg.zookeeper, cfg.traffic ?? 0);
      },
    )
    .command(
      'check',
      'exit 0 when the cluster is fully served, else 1 with what is wrong; shows the data ledger',
      (y) =>
        y
          .option('json', { type: 'boolean', default: false })
          .option('max-lag', { type: 'number', default: 0, describe: 'a follower this many entries behind its leader (holding its entries up to its own offset) counts as served: replication in flight under client traffic' }),
      async (a) => {
        const r = await ctl<CheckReport>(dirOf(a), 'check', { maxLag: a['max-lag'] });
        if (a.json) print(r);
        else printCheck(r);
        process.exitCode = r.ok ? EXIT.ok : EXIT.unhealthy;
      },
    )
    .command(
      'bound',
      "the recovery's critical-path lower bound, from the simulator's own timing, as the incident began",
      (y) => y.option('json', { type: 'boolean', default: false }),
      async (a) => {
        const b = await ctl<CriticalPath>(dirOf(a), 'bound');
        if (a.json) print(b);
        else printBound(b);
      },
    )
    .command('state', 'print the full simulated state as JSON', {}, async (a) => print(await ctl(dirOf(a), 'state')))
    .command(
      'mutations',
      'print the mutating calls the cluster received (JSON)',
      (y) => y.option('since', { type: 'number', default: 0 }),
      async (a) => print(await ctl(dirOf(a), 'mutations', { since: a.since })),
    )
    .command('ctl', 'inject faults and events', (y) =>
      y
        .command(
          'tablet <action> [endpoint]',
          'stop or start a tablet (endpoint, or --index N)',
          (z) =>
            z
              .positional('action', { choices: ['stop', 'start'] })
              .positional('endpoint', { type: 'string' })
              .option('index', { type: 'number' })
              .option('wait', { type: 'boolean', default: false, describe: 'start: wait until its old ZooKeeper session expired (a start inside that window fails, as OpenMLDB\'s does)' }),
          async (a) => print(await ctl(dirOf(a), 'tablet', { action: a.action, endpoint: a.endpoint, index: a.index, ...(a.wait ? { wait: true } : {}) })),
        )
        .command(
          'nameserver <action> [endpoint]',
          'stop or start a nameserver (default: the leader; a standby takes over)',
          (z) => z.positional('action', { choices: ['stop', 'start'] }).positional('endpoint', { type: 'string', default: 'leader' }),
          async (a) => print(await ctl(dirOf(a), 'nameserver', { action: a.action, endpoint: a.endpoint })),
        )
        .command('full-restart', 'stop everything, start tablets then nameservers', {}, async (a) => print(await ctl(dirOf(a), 'full-restart')))
        .command(
          'incident',
          'mark the start of an incident (ledger baseline, auto_failover to restore)',
          {},
          async (a) => print(await ctl(dirOf(a), 'incident')),
        )
        .command(
          'fail',
          'fail calls: the next --count calls, or a --fraction of them',
          (z) =>
            z
              .option('method', { type: 'string', describe: 'RPC method or openmldb command (recovertable, LoadTable, ...; AppendEntries: a leader\'s replication to --endpoint); default any' })
              .option('kind', { choices: [...RPC_FAULT_KINDS], default: 'refused' })
              .option('code', { type: 'number', describe: '--kind error: the code answered (default 307)' })
              .option('msg', { type: 'string', describe: '--kind error: the message answered (default "invalid parameter")' })
              .option('count', { type: 'number' })
              .option('fraction', { type: 'number' })
              .option('endpoint', { type: 'string' })
              .option('delay-ms', { type: 'number', default: 300 }),
          async (a) =>
            print(
              await ctl(dirOf(a), 'fail', {
                method: a.method,
                kind: a.kind,
                count: a.count,
                fraction: a.fraction,
                endpoint: a.endpoint,
                delayMs: a['delay-ms'],
                code: a.code,
                msg: a.msg,
              }),
            ),
        )
        .command(
          'fail-op',
          'fail the next matching op task',
          (z) => z.option('op-type', { type: 'string' }).option('task', { type: 'string' }).option('count', { type: 'number', default: 1 }).option('message', { type: 'string' }),
          async (a) => print(await ctl(dirOf(a), 'fail-op', { opType: a['op-type'], task: a.task, count: a.count, message: a.message })),
        )
        .command(
          'load <table> <pid> <endpoint>',
          'slow down (--extra-ms) or fail (--fail N) the load of one replica',
          (z) =>
            z
              .positional('table', { type: 'string', describe: 'DB.TABLE' })
              .positional('pid', { type: 'number' })
              .positional('endpoint', { type: 'string' })
              .option('fail', { type: 'number', default: 0 })
              .option('extra-ms', { type: 'number', default: 0 }),
          async (a) =>
            print(await ctl(dirOf(a), 'load', { table: a.table, pid: a.pid, endpoint: a.endpoint, failCount: a.fail, extraMs: a['extra-ms'] })),
        )
        .command('clear-faults', 'remove every injected fault', {}, async (a) => print(await ctl(dirOf(a), 'clear-faults')))
        .command(
          'traffic',
          'clients writing as the SDK does: --rate Puts per second over the user tables (0 stops)',
          (z) => z.option('rate', { type: 'number', demandOption: true }),
          async (a) => print(await ctl(dirOf(a), 'traffic', { rate: a.rate })),
        )
        .command(
          'write <table> <entries>',
          'client writes to every partition of DB.TABLE',
          (z) => z.positional('table', { type: 'string' }).positional('entries', { type: 'number' }),
          async (a) => print(await ctl(dirOf(a), 'write', { table: a.table, entries: a.entries })),
        )
        .command(
          'settle',
          'wait until no op or load is in flight',
          (z) => z.option('timeout-ms', { type: 'number', default: 30000 }),
          async (a) => print(await ctl(dirOf(a), 'settle', { timeoutMs: a['timeout-ms'] })),
        )
        .demandCommand(1, 'name a ctl action'),
    )
    .demandCommand(1, 'name a command: up, down, ctl, check, bound, state, mutations')
    .strict()
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    })
    .help()
    .parseAsync();
}

main().catch((err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  console.error(`openmldb-sim: ${msg}`);
  process.exitCode = err instanceof UsageError ? EXIT.usage : err instanceof SimNotRunning ? EXIT.notRunning : EXIT.usage;
});
