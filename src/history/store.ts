// Reading run records back: the list of past runs (`history`) and one run (`history show`).
// A record is never read whole: the list reads each record's two ends, and a record from an
// older version with no summary in its end line is streamed once.
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../engine/report.js';
import { summaryOf } from './record.js';
import { lineOf, rawRecordLines, recordEnds, recordLines } from './record-file.js';
import { RECORD_SCHEMA_V1, type RecordLine, RUNS_DIR } from './record-lines.js';

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
  /** Changes sent to the cluster (in an older version's record: every command and read). */
  commands: number;
  /** Reads made (not counted in an older version's record). */
  reads?: number;
  /** Size of the record in bytes. */
  bytes: number;
}

/** A run id that names no record (or several). */
export class UnknownRun extends Error {
  override readonly name = 'UnknownRun';
}

function runsDir(stateDir: string): string {
  return join(stateDir, RUNS_DIR);
}

export function runPath(stateDir: string, id: string): string {
  return join(runsDir(stateDir), `${id}.jsonl`);
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

/** The lines of a record, streamed; a torn line (a run killed mid-write) is skipped. */
export function readRun(stateDir: string, id: string): AsyncGenerator<RecordLine> {
  return recordLines(runPath(stateDir, id));
}

/** Copy a record as stored to `out`, streamed. */
export async function copyRun(stateDir: string, id: string, out: NodeJS.WritableStream): Promise<void> {
  const input = createReadStream(runPath(stateDir, id));
  for await (const chunk of input) {
    if (!out.write(chunk as Buffer)) await new Promise((r) => out.once('drain', r));
  }
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

/** One run for the list: from the record's two ends, or (an older version's record) streamed once. */
export async function summarizeRun(stateDir: string, id: string): Promise<RunSummary | undefined> {
  const path = runPath(stateDir, id);
  const { start, end, size } = recordEnds(path);
  if (start === undefined) return undefined;
  const base = {
    id: start.id,
    startedAt: start.at,
    command: start.command,
    dryRun: start.dryRun,
    cluster: `${start.cluster.zkCluster}${start.cluster.zkRootPath}`,
    bytes: size,
    ...(end ? { exitCode: end.exitCode, durationMs: end.durationMs } : {}),
  };
  const noEnd = 'no end recorded: still running, or killed';
  if (end?.changes !== undefined) return { ...base, summary: end.error ?? end.summary ?? '', commands: end.changes, ...(end.reads !== undefined ? { reads: end.reads } : {}) };
  // No counts at the end (an older version, or a run still going or killed): count as we stream.
  let commands = 0;
  let changes = 0;
  let reads = 0;
  let report: unknown;
  // Only the lines that count are parsed: an older record's reads hold whole replies.
  for await (const raw of rawRecordLines(path)) {
    if (raw.startsWith('{"type":"command"')) {
      commands++;
      if (raw.includes('"mutating":true')) changes++;
      continue;
    }
    const l = lineOf(raw, ['reads', 'read-failed', 'report']);
    if (l?.type === 'reads') reads += l.reads.reduce((n, g) => n + g.calls, 0);
    else if (l?.type === 'read-failed') reads++;
    else if (l?.type === 'report') report = l.report;
  }
  const v2 = start.schema !== RECORD_SCHEMA_V1;
  return {
    ...base,
    summary: end?.error ?? (report !== undefined ? summaryOf(report as Partial<Report>) : end ? '' : noEnd),
    commands: v2 ? changes : commands,
    ...(v2 ? { reads } : {}),
  };
}

/** Every recorded run, oldest first. */
export async function listRuns(stateDir: string, limit?: number): Promise<RunSummary[]> {
  const ids = runIds(stateDir);
  const out: RunSummary[] = [];
  for (const id of limit === undefined ? ids : ids.slice(-limit)) {
    try {
      const s = await summarizeRun(stateDir, id);
      if (s) out.push(s);
    } catch {
      // removed meanwhile (another run pruned it)
    }
  }
  return out;
}
