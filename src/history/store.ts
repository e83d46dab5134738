// Reading run records back: the list of past runs (`history`) and one run (`history show`).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../engine/report.js';
import { RUNS_DIR, type RecordLine, type StartLine } from './record.js';

export interface RunSummary {
  id: string;
  startedAt: string;
  command: string;
  dryRun: boolean;
  cluster: string;
  /** undefined: the run has no end line (still running, or killed). */
  exitCode?: number;
  durationMs?: number;
  /** One line: the totals of the report, or the error the run stopped on. */
  summary: string;
  /** Commands and RPCs recorded. */
  commands: number;
}

/** A run id that names no record (or several). */
export class UnknownRun extends Error {
  override readonly name = 'UnknownRun';
}

function runsDir(stateDir: string): string {
  return join(stateDir, RUNS_DIR);
}

/** Record ids, oldest first. */
export function runIds(stateDir: string): string[] {
  const dir = runsDir(stateDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()
    .map((n) => n.slice(0, -'.jsonl'.length));
}

/** The lines of a record; a torn last line (a run killed mid-write) is skipped. */
export function readRun(stateDir: string, id: string): RecordLine[] {
  const text = readFileSync(join(runsDir(stateDir), `${id}.jsonl`), 'utf8');
  const lines: RecordLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      lines.push(JSON.parse(raw) as RecordLine);
    } catch {
      // torn write
    }
  }
  return lines;
}

/** The raw JSON Lines of a record, as stored. */
export function readRunText(stateDir: string, id: string): string {
  return readFileSync(join(runsDir(stateDir), `${id}.jsonl`), 'utf8');
}

/** `last`, an exact id, or the one id starting with (or containing) the given text. */
export function resolveRun(stateDir: string, wanted: string): string {
  const ids = runIds(stateDir);
  if (ids.length === 0) throw new UnknownRun(`no run recorded in ${runsDir(stateDir)}`);
  if (wanted === 'last' || wanted === 'latest') return ids[ids.length - 1] as string;
  if (ids.includes(wanted)) return wanted;
  const matches = ids.filter((id) => id.startsWith(wanted));
  const found = matches.length > 0 ? matches : ids.filter((id) => id.includes(wanted));
  if (found.length === 1) return found[0] as string;
  if (found.length === 0) throw new UnknownRun(`no run ${wanted} in ${runsDir(stateDir)}: see openmldb-recover history`);
  throw new UnknownRun(`${found.length} runs match ${wanted} (${found.slice(-3).join(', ')}${found.length > 3 ? ', ...' : ''}): give more of the id`);
}

export function summarize(lines: RecordLine[]): RunSummary | undefined {
  const start = lines.find((l): l is StartLine => l.type === 'start');
  if (start === undefined) return undefined;
  const end = lines.find((l) => l.type === 'end') as Extract<RecordLine, { type: 'end' }> | undefined;
  const report = lines.find((l) => l.type === 'report') as Extract<RecordLine, { type: 'report' }> | undefined;
  return {
    id: start.id,
    startedAt: start.at,
    command: start.command,
    dryRun: start.dryRun,
    cluster: `${start.cluster.zkCluster}${start.cluster.zkRootPath}`,
    ...(end ? { exitCode: end.exitCode, durationMs: end.durationMs } : {}),
    summary: end?.error ?? (report ? reportLine(report.report) : end ? '' : 'no end recorded: still running, or killed'),
    commands: lines.filter((l) => l.type === 'command').length,
  };
}

/** Every recorded run, oldest first. */
export function listRuns(stateDir: string): RunSummary[] {
  return runIds(stateDir)
    .map((id) => summarize(readRun(stateDir, id)))
    .filter((s): s is RunSummary => s !== undefined);
}

function reportLine(report: unknown): string {
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
    return `${t.partitions} partitions: ${parts.length ? parts.join(', ') : 'all healthy, nothing to do'}`;
  }
  if (r.action !== undefined) return `auto_failover ${String(r.before)} -> ${String(r.after)}`;
  return '';
}
