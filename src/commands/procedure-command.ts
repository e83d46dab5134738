// Running a mutating command through the recover engine, from its settings: progress,
// signals, the run record, the cluster lock and run journal, the report and exit code.
import { resolve as resolvePath } from 'node:path';
import type { ObserveFilter } from '../cluster/observe.js';
import { Interrupt } from '../engine/interrupt.js';
import { stamp } from '../engine/progress.js';
import type { PrepareProcedure } from '../engine/procedure.js';
import { openmldbCluster } from '../engine/openmldb.js';
import type { EngineCluster } from '../engine/cluster.js';
import type { RunMemory } from '../engine/run-memory.js';
import type { PendingPlan } from '../engine/journal-content.js';
import type { PriorityPattern } from '../engine/priority.js';
import type { Progress } from '../engine/progress.js';
import { runProcedure } from '../engine/run.js';
import { type Report, renderReport, resultLine } from '../engine/report.js';
import { noteOutcome } from './run-metrics.js';
import type { OpenMLDBClient } from '../cluster/client.js';
import { type BinaryAccess, shellWord } from '../cluster/command-line.js';
import { openClient, progressFor } from './common.js';
import { describeSources } from './connection.js';
import { EXIT, PlanHeld } from '../exit-codes.js';
import { Recording } from './recording.js';
import { type RunSafety, openRunSafety, readOnlyMemory } from './run-safety.js';
import type { RunSettings } from './settings.js';
import { json as jsonDocument, redactOutput, writeDocument } from './redact-output.js';

export interface ProcedureRun {
  command: string;
  procedure: PrepareProcedure;
  filter?: ObserveFilter;
  /** Tables served first (recover --priority). */
  priority?: readonly PriorityPattern[];
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
export function invocationOf(s: Pick<RunSettings, 'connection' | 'lock' | 'state'>): string[] {
  const c = s.connection;
  const out = [`--zk_cluster=${c.zkCluster}`, `--zk_root_path=${c.zkRootPath}`, `--openmldb_bin_path=${resolvePath(c.bin)}`];
  if (c.transport !== 'http') out.push(`--transport=${c.transport}`);
  if (c.user !== 'root') out.push(`--user=${c.user}`);
  if (c.passwordFile !== undefined) out.push(`--password-file=${c.passwordFile}`);
  if (s.lock.choice !== 'auto') out.push(`--lock=${s.lock.choice}`);
  if (s.lock.pathGiven) out.push(`--lock-path=${s.lock.path}`);
  if (s.state.dirGiven) out.push(`--state-dir=${s.state.dir}`);
  return out;
}

/** How a pasted command reaches this cluster: the binary, ZooKeeper, and where the password is kept (never the password). */
function accessOf(c: RunSettings['connection']): BinaryAccess {
  const passwordFrom =
    c.passwordFrom === 'file' && c.passwordFile !== undefined ? `"$(head -n1 ${shellWord(c.passwordFile)} | tr -d '\\r')"` : c.password !== '' ? '"$OPENMLDB_PASSWORD"' : undefined;
  return { bin: resolvePath(c.bin), zkCluster: c.zkCluster, zkRootPath: c.zkRootPath, user: c.user, ...(passwordFrom ? { passwordFrom } : {}) };
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
export async function runProcedureCommand(settings: RunSettings, run: ProcedureRun): Promise<number> {
  const config = settings.connection;
  // Before anything is printed: the password never reaches the terminal.
  redactOutput(config);
  const { dryRun } = settings;
  // Every mutating run and every dry run leaves a record in the state directory (history),
  // also one that stops at once (binary missing, lock held).
  const recording = Recording.start(settings, run.command, dryRun, progressFor(settings.output));
  const progress = recording.progress;
  // The first line names the cluster, and where that came from: a flag, --config, or an
  // environment the shell happened to have.
  progress.info(`cluster ${config.zkCluster}${config.zkRootPath}: ${describeSources(config)}${recording.record ? `; run ${recording.record.id}` : ''}`);
  const interrupt = new Interrupt((line) => progress.warn(line));
  let client: OpenMLDBClient;
  let safety: RunSafety | undefined;
  try {
    client = openClient(config, settings.output);
    recording.attach(client);
    // Mutating runs take the cluster lock and keep the run journal; a dry run takes neither.
    safety = dryRun ? undefined : await openRunSafety(settings, run.command, progress, client);
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
    const memory = safety ? safety.memory : await readOnlyMemory(settings, client);
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
      apply: { ...settings.apply, ...(run.priority ? { priority: run.priority } : {}) },
      progress,
      interrupt,
      where: { zkCluster: config.zkCluster, zkRootPath: config.zkRootPath },
      observeWait: settings.observeWait,
      invocation: invocationOf(settings),
      access: accessOf(config),
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
    if (dryRun && settings.detailedExitcode && report.exitCode === EXIT.ok && (report.totals.planned > 0 || (report.clusterSteps ?? []).length > 0)) {
      report.exitCode = EXIT.changesPending;
      report.ok = false;
    }
    const more = await run.afterRun?.(report, ctx);
    progress.stop();
    noteOutcome(report);
    recording.finish(report);
    if (settings.output.json) {
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
