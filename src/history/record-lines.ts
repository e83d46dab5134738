// What a run record holds, line by line (JSON Lines; the file is runs/ID.jsonl in the state
// directory). Written by record.ts, read by store.ts and render.ts; the published schema is
// docs/run-record.schema.json.
import type { CommandLogEntry } from '../cluster/transport.js';
import type { FailedRead, ReadGroup } from './read-tally.js';

export const RUNS_DIR = 'runs';
export const RECORD_SCHEMA = 'openmldb-recover/run-record@2';
/** Records of versions before reads were tallied: every body kept, observation and plan lines. */
export const RECORD_SCHEMA_V1 = 'openmldb-recover/run-record@1';

export interface StartLine {
  type: 'start';
  /** RECORD_SCHEMA, or RECORD_SCHEMA_V1 in an older version's record. */
  schema: string;
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

/**
 * A change to the cluster, in full: what, where, when (startedAt, durationMs), the result.
 * (In @1 records: every command and read, each with `at`, when it was written.)
 */
export type CommandLine = { type: 'command'; at?: string } & CommandLogEntry;
export type ProgressLine = { type: 'progress'; at: string; level: 'step' | 'info' | 'warn'; text: string };
/** Successful reads since the previous such line, per method (read-tally.ts). */
export type ReadsLine = { type: 'reads'; at: string; since: string; reads: ReadGroup[] };
export type ReadFailedLine = { type: 'read-failed'; at: string; read: FailedRead };
/** The report as recorded-report.ts keeps it (@2), the whole report (@1), or another command's result. */
export type ReportLine = { type: 'report'; at: string; report: unknown };
export interface EndLine {
  type: 'end';
  at: string;
  exitCode: number;
  durationMs: number;
  /** The line the run stopped on. */
  error?: string;
  /** @2: the report's totals in one line (what `history` lists without reading the record). */
  summary?: string;
  /** @2: changes sent (commands that change the cluster) and reads made. */
  changes?: number;
  reads?: number;
  /** @2: the record was condensed when the run ended: it changed nothing and ended OK. */
  condensed?: boolean;
}

export type RecordLine =
  | StartLine
  | ProgressLine
  | CommandLine
  | ReadsLine
  | ReadFailedLine
  | ReportLine
  | EndLine
  // @1 records only: the report's evidence and steps, stated twice more.
  | { type: 'observation'; at: string; observation: Observation }
  | { type: 'plan'; at: string; plan: PlanSummary };

/** @1: the first observation, as the report keeps it: per partition the evidence decided on. */
export interface Observation {
  autoFailover?: boolean;
  tables: Array<{ db: string; name: string; tid: number; storageMode: string; partitions: Array<{ pid: number; reason: string; evidence: unknown[] }> }>;
}

/** @1: what the run set out to do: cluster steps and each partition's steps. */
export interface PlanSummary {
  clusterSteps: string[];
  partitions: Array<{ db: string; table: string; pid: number; status: string; reason: string; leader?: unknown; atStake: number; steps: string[] }>;
}

