// The record of one run: a JSON Lines file in the state directory's runs/ folder, one
// object per line, written as things happen (so a run killed with -9 still leaves what it
// sent). It keeps what an audit needs and grows with what the run did, not with the
// cluster: the start (command line, options, cluster), phase changes and log lines, every
// change to the cluster in full (command, target, time, result), reads as tallies per
// method (read-tally.ts) and failed reads on their own, the report once (recorded-report.ts),
// the end. A run that changed nothing and ended OK is condensed to a few lines when it ends.
// Secrets are redacted before anything is written (redact.ts). Old records are pruned
// (retention.ts); older versions' records (@1) are still read (store.ts, render.ts).
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { checkStateDir } from '../safety/files.js';
import { writeAll } from '../safety/journal.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CommandLog } from '../cluster/transport.js';
import type { Report } from '../engine/report.js';
import { failedRead, readFailed, ReadTally } from './read-tally.js';
import { type EndLine, type ProgressLine, RECORD_SCHEMA, type ReadsLine, type RecordLine, RUNS_DIR, type StartLine } from './record-lines.js';
import { recordedReport } from './recorded-report.js';
import type { Redactor } from './redact.js';
import { prune, type Retention } from './retention.js';

export interface RecordStart {
  stateDir: string;
  command: string;
  dryRun: boolean;
  argv: readonly string[];
  options: Record<string, unknown>;
  cluster: StartLine['cluster'];
  connection: StartLine['connection'];
  version: string;
  /** Which older records stay (retention.ts). */
  retention: Retention;
  redactor: Redactor;
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\.(\d{3})Z$/, '-$1');

/** `20250508-101501-123-recover-3fa2`: sorts by start time, says what ran. */
export function newRunId(command: string, now = new Date()): string {
  return `${stamp(now)}-${command.replace(/[^A-Za-z0-9-]+/g, '-')}-${randomBytes(2).toString('hex')}`;
}

/** Reads are written as a tally line at least this often (a run killed with -9 loses at most this much of them). */
const READS_EVERY_MS = 30_000;
/** A progress step of the same phase is recorded at most this often. */
const STEPS_EVERY_MS = 30_000;

/** `partitions 5/166 done; ...` and `partitions 6/166 done; ...` are one phase. */
const phaseOf = (text: string) => text.replace(/\d+/g, '#').split(/[;:(]/)[0]?.trim() ?? text;

export class RunRecord {
  readonly id: string;
  readonly path: string;
  private readonly started = Date.now();
  private readonly redactor: Redactor;
  private detach: (() => void) | undefined;
  private ended = false;
  /** Set when writing failed once: the run goes on, the record stops (said once on stderr). */
  private broken = false;
  private readonly startText: string;
  private readonly dryRun: boolean;
  private readonly tally = new ReadTally();
  private lastReads = Date.now();
  private lastStep: { phase: string; at: number } | undefined;
  private warnings: ProgressLine[] = [];
  private changes = 0;
  private summary: string | undefined;
  private reportOk = true;
  /** The record open for appending, from the first line after the start to the end: one write per line, not an open and close. */
  private fd: number | undefined;

  private constructor(dir: string, id: string, redactor: Redactor, startText: string, dryRun: boolean) {
    this.id = id;
    this.path = join(dir, `${id}.jsonl`);
    this.redactor = redactor;
    this.startText = startText;
    this.dryRun = dryRun;
  }

  /** Create the record and write its start line; prune older records (retention.ts). */
  static open(s: RecordStart): RunRecord {
    const dir = join(checkStateDir(s.stateDir), RUNS_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const id = newRunId(s.command);
    const at = new Date();
    const start: StartLine = {
      type: 'start',
      schema: RECORD_SCHEMA,
      id,
      at: at.toISOString(),
      command: s.command,
      dryRun: s.dryRun,
      argv: s.redactor.argv(s.argv),
      options: s.options,
      cluster: s.cluster,
      connection: s.connection,
      tool: { version: s.version, pid: process.pid, host: hostname() },
    };
    const startText = `${JSON.stringify(s.redactor.value(start))}\n`;
    const record = new RunRecord(dir, id, s.redactor, startText, s.dryRun);
    writeFileSync(record.path, startText, { mode: 0o600 });
    prune(dir, `${id}.jsonl`, s.retention, at.getTime());
    return record;
  }

  /** Record every command and RPC sent through this log from now on: changes in full, reads tallied. */
  attach(log: CommandLog): void {
    this.detach = log.onEntry((e) => {
      if (e.mutating === true) {
        this.changes++;
        // No `at`: startedAt and durationMs say when (a 1000-table recovery makes 56,000 changes).
        this.write({ type: 'command', ...e });
        return;
      }
      if (readFailed(e)) {
        this.write({ type: 'read-failed', at: new Date().toISOString(), read: failedRead(e) });
        return;
      }
      this.tally.add(e);
      if (Date.now() - this.lastReads >= READS_EVERY_MS) this.flushReads();
    });
  }

  /** Phase changes, lines for the log and warnings; a phase's running count at most every 30 s. */
  progress(level: 'step' | 'info' | 'warn', text: string): void {
    const now = Date.now();
    if (level === 'step') {
      const phase = phaseOf(text);
      if (this.lastStep && this.lastStep.phase === phase && now - this.lastStep.at < STEPS_EVERY_MS) return;
      this.lastStep = { phase, at: now };
      // The reads so far belong to the phase that just ended.
      this.flushReads();
    }
    const line: ProgressLine = { type: 'progress', at: new Date(now).toISOString(), level, text };
    if (level === 'warn') this.warnings.push(line);
    this.write(line);
  }

  /** A result that is not a recover report (failover): recorded as is. */
  result(value: unknown): void {
    this.flushReads();
    this.summary = summaryOf(value);
    this.write({ type: 'report', at: new Date().toISOString(), report: value });
  }

  /** The report, once, as recorded-report.ts keeps it. */
  report(report: Report): void {
    this.flushReads();
    this.summary = summaryOf(report);
    this.reportOk = report.ok && report.totals.planned === 0;
    this.write({ type: 'report', at: new Date().toISOString(), report: recordedReport(report) });
  }

  /**
   * The last line; later calls do nothing. A run that changed nothing and ended OK (the
   * cron run on a healthy cluster) is condensed to its start, warnings, read totals and end.
   */
  end(exitCode: number, error?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.detach?.();
    this.flushReads();
    const end: EndLine = {
      type: 'end',
      at: new Date().toISOString(),
      exitCode,
      durationMs: Date.now() - this.started,
      ...(error !== undefined ? { error } : {}),
      ...(this.summary !== undefined ? { summary: this.summary } : {}),
      changes: this.changes,
      reads: this.tally.total,
    };
    if (exitCode === 0 && this.changes === 0 && !this.dryRun && this.reportOk && error === undefined && !this.broken) {
      this.close();
      this.condense({ ...end, condensed: true });
      return;
    }
    this.write(end);
    this.close();
  }

  private close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // nothing more is written to it
    }
    this.fd = undefined;
  }

  private condense(end: EndLine): void {
    const reads: ReadsLine = {
      type: 'reads',
      at: end.at,
      since: new Date(this.started).toISOString(),
      // Digests and addresses are left out here: nothing was changed on their strength.
      reads: [...this.tally.totals].map(([command, t]) => ({ command, ...t })),
    };
    const lines = [this.startText, ...[...this.warnings, ...(reads.reads.length > 0 ? [reads] : []), end].map((l) => `${JSON.stringify(this.redactor.value(l))}\n`)];
    const tmp = `${this.path}.tmp`;
    try {
      writeFileSync(tmp, lines.join(''), { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch {
      // The full record stays; only the end is missing from it then.
      this.write(end);
      this.close();
    }
  }

  private flushReads(): void {
    this.lastReads = Date.now();
    const t = this.tally.take();
    if (t) this.write({ type: 'reads', at: new Date().toISOString(), since: t.since, reads: t.reads });
  }

  private write(line: RecordLine): void {
    if (this.broken) return;
    try {
      this.fd ??= openSync(this.path, 'a', 0o600);
      writeAll(this.fd, `${JSON.stringify(this.redactor.value(line))}\n`);
    } catch (err) {
      this.broken = true;
      process.stderr.write(`openmldb-recover: WARN the run record ${this.path} could not be written (${(err as Error).message}); the run goes on without it\n`);
    }
  }
}

/** One line for `history`: the report's totals, or a failover result. */
export function summaryOf(report: unknown): string {
  const r = report as Partial<Report> & { action?: string; before?: boolean; after?: boolean };
  if (r.totals) {
    const t = r.totals;
    const parts = [
      t.recovered ? `${t.recovered} recovered` : '',
      t.planned ? `${t.planned} planned` : '',
      t.failed ? `${t.failed} failed` : '',
      t.refused ? `${t.refused} refused` : '',
      t.blocked ? `${t.blocked} blocked` : '',
      t.interrupted ? `${t.interrupted} interrupted` : '',
    ].filter(Boolean);
    return `${t.partitions} partition${t.partitions === 1 ? '' : 's'}: ${parts.length ? parts.join(', ') : 'all healthy, nothing to do'}`;
  }
  if (r.action !== undefined) return `auto_failover ${String(r.before)} -> ${String(r.after)}`;
  return '';
}

