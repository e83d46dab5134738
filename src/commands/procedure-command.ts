// What the commands share beyond connecting: their option groups, and running a mutating
// command through the recover engine with progress, signals, the cluster lock, the run
// journal and the report.
import { resolve as resolvePath } from 'node:path';
import type { Argv } from 'yargs';
import type { ArgsOf, GlobalArgs } from './args.js';
import type { ObserveFilter } from '../cluster/observe.js';
import { Interrupt } from '../engine/interrupt.js';
import { createProgress, stamp } from '../engine/progress.js';
import type { PrepareProcedure } from '../engine/procedure.js';
import { openmldbCluster } from '../engine/openmldb.js';
import type { EngineCluster } from '../engine/cluster.js';
import type { RunMemory } from '../engine/run-memory.js';
import type { PendingPlan } from '../engine/journal-content.js';
import type { Progress } from '../engine/progress.js';
import { type RunOptions, runProcedure } from '../engine/run.js';
import { type Report, renderReport, resultLine } from '../engine/report.js';
import { noteOutcome } from './run-metrics.js';
import type { OpenMLDBClient } from '../cluster/client.js';
import { type BinaryAccess, shellWord } from '../cluster/command-line.js';
import { openClient, positive } from './common.js';
import { type ConnectionArgs, type ConnectionConfig, describeSources, leaderWaitOption, observeWaitOf, resolveConnection, seconds } from './config.js';
import { EXIT, PlanHeld, UsageError } from '../exit-codes.js';
import { Recording } from './recording.js';
import { DEFAULT_RETENTION } from '../history/retention.js';
import { type RunSafety, type StateDirArgs, checkLockOptions, lockOptions, openRunSafety, readOnlyMemory } from './run-safety.js';
import { json as jsonDocument, redactOutput, writeDocument } from './redact-output.js';

/** A command as yargs registers it; the handler resolves to the exit code. */
export interface CliCommand<A = any> {
  command: string;
  describe: string | false;
  builder: (y: Argv) => Argv<A>;
  /** Shown under Examples in the command's --help: [command line, what it does]. */
  examples: ReadonlyArray<readonly [string, string]>;
  /** Its options, typed by its builder. */
  handler: (argv: A & GlobalArgs) => Promise<number>;
}

/** A command whose handler's options are inferred from its builder. */
export function defineCommand<A>(c: CliCommand<A>): CliCommand<A> {
  return c;
}

export type OutputArgs = ArgsOf<typeof outputOptions>;
export type FilterArgs = ArgsOf<typeof filterOptions>;
export type DryRunArgs = ArgsOf<typeof dryRunOption>;
export type RunArgs = ArgsOf<typeof runOptions>;
export type ParallelArgs = ArgsOf<typeof parallelOptions>;
/** What a mutating command (recover, recover-table, the endpoint procedures, change-leader) has. */
export type ProcedureArgs = ConnectionArgs & OutputArgs & DryRunArgs & RunArgs & GlobalArgs & Partial<ParallelArgs>;

export function outputOptions<T>(y: Argv<T>) {
  return y
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable result on stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress output' });
}

export function filterOptions<T>(y: Argv<T>) {
  return y
    .option('db', { type: 'string', array: true, describe: 'only this database (repeatable)' })
    .option('table', { type: 'string', array: true, describe: 'only this table, DB.TABLE (repeatable)' });
}

export function dryRunOption<T>(y: Argv<T>) {
  return y
    .option('dry-run', { type: 'boolean', default: false, describe: 'observe and plan, print the plan, change nothing' })
    .option('detailed-exitcode', { type: 'boolean', default: false, describe: 'with --dry-run: exit 6 when the run would change something, 0 only when there is nothing to do (as terraform plan -detailed-exitcode)' });
}

/** An old leader's tail orphaned at an earlier failover: left behind as OpenMLDB did (default), or the partition refused. */
export function refuseOrphanedOption<T>(y: Argv<T>) {
  return y.option('refuse-orphaned', {
    type: 'boolean',
    default: false,
    describe: "refuse a partition rather than leave behind an old leader's tail that OpenMLDB orphaned at an earlier failover (to copy it out first); a named --leader still proceeds",
  });
}

/** Retries of one command on transient errors (every command that talks to the cluster more than once). */
export const DEFAULT_RETRIES = 4;
export function retriesOption<T>(y: Argv<T>) {
  return y.option('retries', { type: 'number', default: DEFAULT_RETRIES, describe: 'retries of a command on transient errors' });
}

/** Where a recorded run keeps its lock, journal and run record, and how many records stay. */
export function recordOptions<T>(y: Argv<T>) {
  return y
    .option('state-dir', { type: 'string', describe: 'lock, run journal and run records (default $XDG_STATE_HOME/openmldb-recover)' })
    .option('keep-runs', { type: 'number', default: DEFAULT_RETENTION.keep, describe: 'run records kept in the state directory (see history); runs that changed nothing go first, the newest that changed something never' })
    .option('keep-runs-mb', { type: 'number', default: DEFAULT_RETENTION.maxBytes / 1024 / 1024, describe: 'megabytes of run records kept in all (0: no limit)' })
    .option('keep-runs-days', { type: 'number', default: 0, describe: 'days a run record is kept (0: no limit)' })
    .option('metrics-file', { type: 'string', describe: "write the run's outcome as Prometheus gauges to this file (node_exporter textfile, *.prom), whatever the exit code" });
}

/** Bounds and retries of a mutating run. */
export function runOptions<T>(y: Argv<T>) {
  return recordOptions(retriesOption(leaderWaitOption(lockOptions(y))))
    .option('load-timeout', { type: 'number', default: 600, describe: 'seconds a partition load may take' })
    .option('op-timeout', { type: 'number', default: 1800, describe: "seconds to wait for a partition's (or the command's) ops" });
}

/** Progress for a command: plain lines under --verbose, so command output never fights a spinner. */
export function progressFor(argv: Pick<OutputArgs, 'quiet'> & GlobalArgs) {
  return createProgress({ quiet: argv['quiet'] === true, plain: argv['verbose'] === true, details: argv['verbose'] === true });
}

/** OpenMLDB's task_pool_size default: the loads one tablet runs at once. */
export const DEFAULT_LOAD_SLOTS = 3;
/** Partitions in progress at once by default: enough that waits on ops never starve the tablets' loads. */
export const DEFAULT_CONCURRENCY = 256;
/**
 * With --transport cli every look at a partition is a binary run: a few partitions at once
 * keep the processes (at most 8 at a time, transport.ts) on the work, not on polls.
 */
export const DEFAULT_CONCURRENCY_CLI = 4;

/** How many partitions recover/recover-table work on at once, and how hard each tablet is loaded. */
export function parallelOptions<T>(y: Argv<T>) {
  return y
    .option('concurrency', { type: 'number', describe: `partitions worked on at once (default ${DEFAULT_CONCURRENCY}; ${DEFAULT_CONCURRENCY_CLI} with --transport cli)` })
    .option('per-tablet', {
      type: 'number',
      default: DEFAULT_LOAD_SLOTS,
      describe: "loads one tablet runs at once (its task_pool_size); the run keeps twice that many sent to it",
    });
}

/** More retries than this, at up to 10 s apart, would outlast any sensible run: a typo, most likely. */
export const MAX_RETRIES = 100;

export function retriesOf(argv: { retries?: number | undefined }): number {
  const n = Number(argv['retries'] ?? DEFAULT_RETRIES);
  if (!Number.isInteger(n) || n < 0 || n > MAX_RETRIES) throw new UsageError(`--retries must be a whole number from 0 to ${MAX_RETRIES} (got ${String(argv['retries'])})`);
  return n;
}

/** The engine's bounds from the options (a command without --concurrency or --per-tablet gets the defaults). */
export function applySettings(argv: RunArgs & Partial<ParallelArgs> & Pick<ConnectionArgs, 'transport'>): RunOptions['apply'] {
  return {
    concurrency: argv['concurrency'] !== undefined ? positive('concurrency', argv['concurrency']) : cliTransport(argv) ? DEFAULT_CONCURRENCY_CLI : DEFAULT_CONCURRENCY,
    perTablet: argv['per-tablet'] !== undefined ? positive('per-tablet', argv['per-tablet']) : DEFAULT_LOAD_SLOTS,
    loadTimeoutMs: seconds('load-timeout', argv['load-timeout']) * 1000,
    opTimeoutMs: seconds('op-timeout', argv['op-timeout']) * 1000,
    retries: retriesOf(argv),
    partitionAttempts: 3,
  };
}

/** `DB.TABLE`, as table arguments are written everywhere. */
export function parseTableName(value: unknown, what = 'table'): { db: string; name: string } {
  const t = String(value ?? '');
  const dot = t.indexOf('.');
  const db = t.slice(0, dot);
  const name = t.slice(dot + 1);
  if (dot <= 0 || !/^[A-Za-z0-9_$-]+$/.test(db) || !/^[A-Za-z0-9_$-]+$/.test(name)) throw new UsageError(`${what} '${t}' must be DB.TABLE`);
  return { db, name };
}

/** A partition id: a whole number >= 0. */
export function parsePid(value: unknown, what = 'pid'): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${what} must be a whole number >= 0 (got ${String(value)})`);
  return n;
}

export function listOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

export interface ProcedureRun {
  command: string;
  procedure: PrepareProcedure;
  filter?: ObserveFilter;
  apply: RunOptions['apply'];
  /** A line before the report (text output only). */
  headline?: (report: Report) => string | undefined;
  /** `plan`: auto_failover stays off at the end for this plan (engine/run.ts RunOptions.hold). */
  hold?: PendingPlan;
  /** The text report on stderr (stdout carries a document: `plan --out -`). */
  reportToStderr?: boolean;
  /**
   * Under the lock, before the engine starts (nothing changed yet): a check that may refuse
   * the run (`apply`: the plan pending, the cluster as it read it). True lets the run start
   * while a plan is held (the plan's own apply).
   */
  beforeRun?: (ctx: RunContext) => Promise<{ ownsPendingPlan: boolean }>;
  /** After the engine, before the report is printed: more for the report's text and JSON (`plan`: the plan file). */
  afterRun?: (report: Report, ctx: RunContext) => Promise<{ lines: string[] } | undefined>;
}

/** What a command's hooks may use: the cluster as the engine sees it, the run's memory and progress, its safety. */
export interface RunContext {
  cluster: EngineCluster;
  memory: RunMemory;
  progress: Progress;
  safety: RunSafety | undefined;
}

/**
 * Which cluster and which run state this run used, as options: a command a refusal suggests
 * carries them, so that it works pasted into another shell. The connection as resolved
 * (from flags, the environment or --config; never the --config file itself, whose other
 * keys, a filter or dry-run, would change what the command does), the lock and state
 * directory as given, paths made absolute. A password given with --password is not
 * repeated: the pasted command finds it in OPENMLDB_PASSWORD or --password-file.
 */
export function invocationOf(argv: ProcedureArgs & Partial<StateDirArgs>, config: ConnectionConfig): string[] {
  const out = [`--zk_cluster=${config.zkCluster}`, `--zk_root_path=${config.zkRootPath}`, `--openmldb_bin_path=${resolvePath(config.bin)}`];
  const add = (flag: string, v: unknown, path = false) => {
    if (v !== undefined && v !== '') out.push(`${flag}=${path ? resolvePath(String(v)) : String(v)}`);
  };
  if (config.transport !== 'http') add('--transport', config.transport);
  if (config.user !== 'root') add('--user', config.user);
  add('--password-file', argv['password-file'], true);
  if (argv['lock'] !== undefined && argv['lock'] !== 'auto') add('--lock', argv['lock']);
  add('--lock-path', argv['lock-path']);
  add('--state-dir', argv['state-dir'], true);
  return out;
}

/** How a pasted command reaches this cluster: the binary, ZooKeeper, and where the password is kept (never the password). */
function accessOf(argv: ProcedureArgs & Partial<StateDirArgs>, config: ConnectionConfig): BinaryAccess {
  const file = argv['password-file'];
  const passwordFrom =
    config.passwordFrom === 'file' && file !== undefined ? `"$(head -n1 ${shellWord(resolvePath(String(file)))} | tr -d '\\r')"` : config.password !== '' ? '"$OPENMLDB_PASSWORD"' : undefined;
  return { bin: resolvePath(config.bin), zkCluster: config.zkCluster, zkRootPath: config.zkRootPath, user: config.user, ...(passwordFrom ? { passwordFrom } : {}) };
}

/**
 * A plan made by `plan` waits for review with auto_failover off: within its hold another run
 * would undo what a person is reading, so it does not start (exit 4); after it, it takes
 * the plan over as it takes over a dead run (auto_failover goes back at its end).
 */
function checkPendingPlan(safety: RunSafety, progress: Progress): void {
  const pending = safety.keeper.foundPlan();
  if (!pending) return;
  const until = Date.parse(pending.holdUntil);
  if (Date.now() < until) {
    throw new PlanHeld(
      `plan ${pending.id} is pending since ${pending.since} (auto_failover held off until it is applied; this hold ends ${pending.holdUntil}): apply it (openmldb-recover apply ${pending.file === '-' ? 'PLAN_FILE' : shellWord(pending.file)}), abandon it (openmldb-recover plan --abandon ${pending.id}), or run again after its hold`,
    );
  }
  progress.warn(`plan ${pending.id} (pending since ${pending.since}) was neither applied nor abandoned by ${pending.holdUntil}: this run takes it over, and auto_failover goes back at its end`);
}

/** Run one mutating command through the engine; print its report; resolve to the exit code. */
export async function runProcedureCommand(argv: ProcedureArgs, run: ProcedureRun): Promise<number> {
  const config = resolveConnection(argv);
  redactOutput(config);
  // Every number checked before anything is taken or sent (the lock, the first look).
  const observeWait = observeWaitOf(argv);
  const retries = retriesOf(argv);
  checkLockOptions(argv);
  const json = argv['json'] === true;
  const dryRun = argv['dry-run'] === true;
  // Every mutating run and every dry run leaves a record in the state directory (history),
  // also one that stops at once (binary missing, lock held).
  const recording = Recording.start(argv, config, run.command, dryRun, progressFor(argv));
  const progress = recording.progress;
  // The first line names the cluster, and where that came from: a flag, --config, or an
  // environment the shell happened to have.
  progress.info(`cluster ${config.zkCluster}${config.zkRootPath}: ${describeSources(config)}${recording.record ? `; run ${recording.record.id}` : ''}`);
  const interrupt = new Interrupt((line) => progress.warn(line));
  let client: OpenMLDBClient;
  let safety: RunSafety | undefined;
  try {
    client = openClient(config, argv);
    recording.attach(client);
    // Mutating runs take the cluster lock and keep the run journal; a dry run takes neither.
    safety = dryRun ? undefined : await openRunSafety(argv, config, run.command, progress, client, retries);
  } catch (err) {
    progress.stop(); // a spinner left running would keep the process alive
    recording.fail(err);
    throw err;
  }
  const held = safety;
  held?.recordSent(client.log);
  if (held) client.changeGate = (restore) => held.changeGate(restore, interrupt.controller.signal);
  // ZooKeeper lost under a ZooKeeper lock: another host may hold the lock now, so no new
  // steps (as on a signal); auto_failover is still put back if the cluster can be reached.
  held?.onLost((why) => {
    // Two quick tries only: they succeed if ZooKeeper is back within seconds; otherwise the
    // journal in ZooKeeper hands the restore to the next run.
    held.keeper.restoreAttempts = 2;
    interrupt.controller.abort(new Error(why));
  });
  interrupt.install();
  try {
    const cluster = openmldbCluster(client);
    const memory = safety ? safety.memory : await readOnlyMemory(argv, config, client, retries);
    const ctx: RunContext = { cluster, memory, progress, safety };
    const owns = (await run.beforeRun?.(ctx))?.ownsPendingPlan === true;
    if (safety && !owns) checkPendingPlan(safety, progress);
    const report = await runProcedure(cluster, {
      ...(safety ? { keeper: safety.keeper, memory } : { memory }),
      ...(run.hold ? { hold: run.hold } : {}),
      command: run.command,
      dryRun,
      procedure: run.procedure,
      ...(run.filter ? { filter: run.filter } : {}),
      apply: run.apply,
      progress,
      interrupt,
      where: { zkCluster: config.zkCluster, zkRootPath: config.zkRootPath },
      observeWait,
      invocation: invocationOf(argv, config),
      access: accessOf(argv, config),
    });
    if (safety) {
      const lost = safety.lost();
      report.lock = { kind: safety.lock.kind, path: safety.lock.path, ...(safety.lock.why ? { why: safety.lock.why } : {}), ...(lost ? { lost } : {}) };
      if (lost && !interrupt.signal) {
        // Exit 3: the journal stays in ZooKeeper, so the next run (from any host) restores auto_failover.
        report.errors.push(`${lost}: stopped changing the cluster; the run journal stays at ${safety.lock.path.replace(/[^/]+$/, 'journal')} and the next run restores auto_failover from it and finishes the work`);
        // 5 (restore owed) says more than 3: the operator must see that auto_failover is off.
        report.exitCode = report.autoFailover.owed ? EXIT.restoreOwed : EXIT.unreachable;
        report.ok = false;
      }
    }
    report.cluster.from = config.from;
    if (dryRun && argv['detailed-exitcode'] === true && report.exitCode === EXIT.ok && (report.totals.planned > 0 || (report.clusterSteps ?? []).length > 0)) {
      report.exitCode = EXIT.changesPending;
      report.ok = false;
    }
    const more = await run.afterRun?.(report, ctx);
    progress.stop();
    noteOutcome(report);
    recording.finish(report);
    if (json) {
      writeDocument(process.stdout, jsonDocument(report));
      // stdout is for scripts: the log (quiet or not) still ends with the outcome and the run.
      process.stderr.write(`${stamp()} ${finalLine(report, recording.record?.id)}\n`);
    } else (run.reportToStderr ? process.stderr : process.stdout).write(`${renderText(report, run.headline?.(report), recording.record?.id, more?.lines ?? [])}\n`);
    return report.exitCode;
  } catch (err) {
    recording.fail(err);
    throw err;
  } finally {
    progress.stop();
    interrupt.uninstall();
    await safety?.release();
  }
}

/** The report for people: with --dry-run the plan first, step by step as runbook commands. */
function renderText(report: Report, headline: string | undefined, runId: string | undefined, more: string[]): string {
  const lock = report.lock ? `; lock: ${report.lock.kind === 'zookeeper' ? 'ZooKeeper node' : 'local file'} ${report.lock.path}${report.lock.lost ? ` (lost: ${report.lock.lost})` : ''}` : '';
  const out: string[] = [`cluster ${report.cluster.zkCluster}${report.cluster.zkRootPath}${lock}`];
  if (headline) out.push(headline);
  // A dry run's plan first, as the script it would run: lines to paste, and # comments.
  if (report.dryRun && report.script && report.script.length > 0) out.push('# the plan, as commands (paste a line at a time; # lines say what is decided after the probe):', ...report.script);
  out.push(renderReport(report), ...more);
  // A cron log's last line: when it ended, and where its record is.
  if (runId) out.push(`run ${runId} ended ${report.finishedAt}: openmldb-recover history show ${runId}`);
  return out.join('\n');
}

/** A --json run's last line on stderr: the verdict, the outcome, and where the run's record is. */
export function finalLine(report: Report, runId: string | undefined): string {
  const verdict = `${report.ok ? 'OK' : 'NOT OK'} (exit ${report.exitCode}); ${resultLine(report, "the report's proceed commands")}`;
  return runId ? `run ${runId} ended: ${verdict}; openmldb-recover history show ${runId}` : `ended: ${verdict}`;
}

/** Whether the run goes through the binary (--transport, else OPENMLDB_RECOVER_TRANSPORT). */
function cliTransport(argv: Pick<ConnectionArgs, 'transport'>): boolean {
  return (argv['transport'] ?? process.env['OPENMLDB_RECOVER_TRANSPORT']) === 'cli';
}
