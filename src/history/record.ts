// The record of one run: a JSON Lines file in the state directory's runs/ folder, one
// object per line, written as things happen (so a run killed with -9 still leaves what it
// sent): start, progress lines, every command or RPC with its output, exit code and
// duration, then the observation and plan as the report states them, the report, end.
// Secrets are redacted before anything is written (redact.ts). Old records are pruned.
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { checkStateDir } from '../safety/files.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CommandLog, CommandLogEntry } from '../cluster/transport.js';
import type { Report } from '../engine/report.js';
import type { Redactor } from './redact.js';

export const RUNS_DIR = 'runs';
export const RECORD_SCHEMA = 'openmldb-recover/run-record@1';

export interface StartLine {
  type: 'start';
  schema: typeof RECORD_SCHEMA;
  id: string;
  at: string;
  command: string;
  dryRun: boolean;
  /** The command line as typed, secrets redacted. */
  argv: string[];
  /** Options after flags, environment and config file, secrets redacted. */
  options: Record<string, unknown>;
  cluster: { zkCluster: string; zkRootPath: string };
  connection: { bin: string; user: string; passwordFrom: 'none' | 'option' | 'file' | 'env' };
  tool: { version: string; pid: number; host: string };
}

export type RecordLine =
  | StartLine
  | { type: 'progress'; at: string; level: 'step' | 'info' | 'warn'; text: string }
  | ({ type: 'command'; at: string } & CommandLogEntry)
  | { type: 'observation'; at: string; observation: Observation }
  | { type: 'plan'; at: string; plan: PlanSummary }
  | { type: 'report'; at: string; report: unknown }
  | { type: 'end'; at: string; exitCode: number; durationMs: number; error?: string };

/** The first observation, as the report keeps it: per partition the evidence decided on. */
export interface Observation {
  autoFailover?: boolean;
  tables: Array<{ db: string; name: string; tid: number; storageMode: string; partitions: Array<{ pid: number; reason: string; evidence: unknown[] }> }>;
}

/** What the run set out to do: cluster steps and each partition's steps. */
export interface PlanSummary {
  clusterSteps: string[];
  partitions: Array<{ db: string; table: string; pid: number; status: string; reason: string; leader?: unknown; atStake: number; steps: string[] }>;
}

export interface RecordStart {
  stateDir: string;
  command: string;
  dryRun: boolean;
  argv: readonly string[];
  options: Record<string, unknown>;
  cluster: StartLine['cluster'];
  connection: StartLine['connection'];
  version: string;
  /** Records kept, this one included (oldest removed first). */
  keep: number;
  redactor: Redactor;
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\.(\d{3})Z$/, '-$1');

/** `20250508-101501-123-recover-3fa2`: sorts by start time, says what ran. */
export function newRunId(command: string, now = new Date()): string {
  return `${stamp(now)}-${command.replace(/[^A-Za-z0-9-]+/g, '-')}-${randomBytes(2).toString('hex')}`;
}

export class RunRecord {
  readonly id: string;
  readonly path: string;
  private readonly started = Date.now();
  private readonly redactor: Redactor;
  private detach: (() => void) | undefined;
  private ended = false;
  /** Set when writing failed once: the run goes on, the record stops (said once on stderr). */
  private broken = false;

  private constructor(dir: string, id: string, redactor: Redactor) {
    this.id = id;
    this.path = join(dir, `${id}.jsonl`);
    this.redactor = redactor;
  }

  /** Create the record and write its start line; prune records beyond `keep`. */
  static open(s: RecordStart): RunRecord {
    const dir = join(checkStateDir(s.stateDir), RUNS_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const id = newRunId(s.command);
    const record = new RunRecord(dir, id, s.redactor);
    const start: StartLine = {
      type: 'start',
      schema: RECORD_SCHEMA,
      id,
      at: new Date(record.started).toISOString(),
      command: s.command,
      dryRun: s.dryRun,
      argv: s.redactor.argv(s.argv),
      options: s.options,
      cluster: s.cluster,
      connection: s.connection,
      tool: { version: s.version, pid: process.pid, host: hostname() },
    };
    writeFileSync(record.path, `${JSON.stringify(s.redactor.value(start))}\n`, { mode: 0o600 });
    prune(dir, s.keep, `${id}.jsonl`);
    return record;
  }

  /** Record every command and RPC sent through this log from now on. */
  attach(log: CommandLog): void {
    this.detach = log.onEntry((e) => this.write({ type: 'command', at: new Date().toISOString(), ...e }));
  }

  progress(level: 'step' | 'info' | 'warn', text: string): void {
    this.write({ type: 'progress', at: new Date().toISOString(), level, text });
  }

  /** A result that is not a recover report (failover): recorded as is. */
  result(value: unknown): void {
    this.write({ type: 'report', at: new Date().toISOString(), report: value });
  }

  /** The observation and plan the report states, then the report itself. */
  report(report: Report): void {
    const at = new Date().toISOString();
    this.write({ type: 'observation', at, observation: observationOf(report) });
    this.write({ type: 'plan', at, plan: planOf(report) });
    this.write({ type: 'report', at, report });
  }

  /** The last line; later calls do nothing. */
  end(exitCode: number, error?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.detach?.();
    this.write({ type: 'end', at: new Date().toISOString(), exitCode, durationMs: Date.now() - this.started, ...(error !== undefined ? { error } : {}) });
  }

  private write(line: RecordLine): void {
    if (this.broken) return;
    try {
      appendFileSync(this.path, `${JSON.stringify(this.redactor.value(line))}\n`);
    } catch (err) {
      this.broken = true;
      process.stderr.write(`openmldb-recover: WARN the run record ${this.path} could not be written (${(err as Error).message}); the run goes on without it\n`);
    }
  }
}

function observationOf(r: Report): Observation {
  return {
    ...(r.autoFailover.before !== undefined ? { autoFailover: r.autoFailover.before } : {}),
    tables: r.tables.map((t) => ({
      db: t.db,
      name: t.name,
      tid: t.tid,
      storageMode: t.storageMode,
      partitions: t.partitions.map((p) => ({ pid: p.pid, reason: p.reason, evidence: p.evidence })),
    })),
  };
}

function planOf(r: Report): PlanSummary {
  return {
    clusterSteps: (r.clusterSteps ?? []).map((c) => c.command),
    partitions: r.tables.flatMap((t) =>
      t.partitions
        .filter((p) => p.plan.length > 0 || p.status === 'refused' || p.status === 'blocked')
        .map((p) => ({
          db: t.db,
          table: t.name,
          pid: p.pid,
          status: p.status,
          reason: p.reason,
          ...(p.leader ? { leader: p.leader } : {}),
          atStake: p.atStake,
          steps: p.plan,
        })),
    ),
  };
}

/** Keep the newest `keep` records (names sort by start time); never the current one. */
function prune(dir: string, keep: number, current: string): void {
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl') && n !== current)
    .sort();
  const excess = names.length - Math.max(0, keep - 1);
  for (const name of names.slice(0, Math.max(0, excess))) {
    try {
      unlinkSync(join(dir, name));
    } catch {
      // another run pruned it first
    }
  }
}
