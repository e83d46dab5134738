// `history` and `history show` for people. `history show` renders a record line by line as
// it streams, so a record of any size prints in bounded memory; outputs kept in full (the
// changes, and every command of an older version's record) are cut to OUTPUT_LINES lines.
import type { Evidence } from '../engine/procedure.js';
import { columns, renderReport, type Report } from '../engine/report.js';
import { formatEntry } from './format.js';
import type { ReadGroup } from './read-tally.js';
import { expandReport, omittedPartitions, type RecordedReport } from './recorded-report.js';
import { RECORD_SCHEMA_V1, type RecordLine, type StartLine } from './record-lines.js';
import type { RunSummary } from './store.js';

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);
const OUTPUT_LINES = 40;
const kb = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

export function renderRunList(runs: RunSummary[], stateDir: string): string {
  if (runs.length === 0) return `no run recorded in ${stateDir}`;
  const rows = runs.map((r) => [
    r.id,
    when(r.startedAt),
    `${r.command}${r.dryRun ? ' (dry run)' : ''}`,
    r.exitCode === undefined ? '?' : String(r.exitCode),
    seconds(r.durationMs),
    r.cluster,
    kb(r.bytes),
    r.summary,
  ]);
  return `${columns(['id', 'started', 'command', 'exit', 'took', 'cluster', 'record', 'summary'], rows)}\n\n(openmldb-recover history show ID|last: the run's changes, reads, plan and report)`;
}

function header(start: StartLine): string[] {
  const opts = Object.entries(start.options).map(([k, v]) => `--${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  return [
    `run ${start.id}: openmldb-recover ${start.argv.join(' ')}`,
    `  started ${when(start.at)} by pid ${start.tool.pid} on ${start.tool.host}, version ${start.tool.version}${start.dryRun ? ', dry run' : ''}`,
    `  cluster ${start.cluster.zkCluster} ${start.cluster.zkRootPath}; binary ${start.connection.bin}; user ${start.connection.user}; password: ${start.connection.passwordFrom === 'none' ? 'none' : `from ${start.connection.passwordFrom} (not recorded)`}`,
    `  options: ${opts.join(' ')}`,
    '',
  ];
}

function readsLine(at: string, since: string, reads: readonly ReadGroup[]): string[] {
  const out = [`${when(at)} reads since ${when(since)}:`];
  for (const g of reads) {
    const where = g.targets ? ` (${Object.entries(g.targets).map(([t, n]) => `${t} x${n}`).join(', ')})` : '';
    out.push(`      ${g.command}: ${g.calls} call${g.calls === 1 ? '' : 's'}${where}, ${g.ms} ms (longest ${g.maxMs} ms), ${kb(g.bytes)}${g.sha256 ? `, sha256 ${g.sha256.slice(0, 16)}` : ''}`);
  }
  return out;
}

function observationOf(tables: ReadonlyArray<{ db: string; name: string; partitions: ReadonlyArray<{ pid: number; evidence: unknown[] }> }>, autoFailover: boolean | undefined): string[] {
  const out = ['', `observation (auto_failover ${autoFailover === undefined ? 'unknown' : String(autoFailover)}):`];
  for (const t of tables) {
    for (const p of t.partitions) {
      const evidence = (p.evidence as Evidence[]).map(
        (e) => `${e.endpoint}${e.flaggedLeader ? ' (leader)' : ''}${e.alive ? '' : ' (not alive)'} ${e.offset} ${e.source}${e.tablet === 'healthy' ? '' : ` tablet ${e.tablet}`}`,
      );
      out.push(`  ${t.db}.${t.name} pid ${p.pid}: ${evidence.join('; ')}`);
    }
  }
  return out;
}

interface PlanRow {
  db: string;
  table: string;
  pid: number;
  status: string;
  reason: string;
  atStake: number;
  steps: readonly string[];
}

function planOf(clusterSteps: readonly string[], partitions: readonly PlanRow[]): string[] {
  const out = ['', 'plan:'];
  for (const c of clusterSteps) out.push(`  ${c}`);
  for (const p of partitions) {
    out.push(`  ${p.db}.${p.table} pid ${p.pid} (${p.status}): ${p.reason}${p.atStake > 0 ? ` [${p.atStake} entries at stake]` : ''}`);
    for (const s of p.steps) out.push(`      ${s}`);
  }
  if (clusterSteps.length === 0 && partitions.length === 0) out.push('  nothing to do');
  return out;
}

/** A recorded report (@2): its evidence, its steps and the report itself. */
function recordedReportLines(r: RecordedReport): string[] {
  const report = expandReport(r);
  const rows: PlanRow[] = report.tables.flatMap((t) =>
    t.partitions
      .filter((p) => p.plan.length > 0 || p.status === 'refused' || p.status === 'blocked')
      .map((p) => ({ db: t.db, table: t.name, pid: p.pid, status: p.status, reason: p.reason, atStake: p.atStake, steps: p.plan })),
  );
  const omitted = omittedPartitions(r);
  return [
    ...observationOf(report.tables, report.autoFailover.before),
    ...planOf((report.clusterSteps ?? []).map((c) => c.command), rows),
    '',
    'report:',
    renderReport(report),
    ...(omitted > 0 ? [`(${omitted} partition${omitted === 1 ? '' : 's'} found healthy and left alone: counted above, not listed in the record)`] : []),
  ];
}

/** Print a record as it streams, line by line, through `write`. */
export async function renderRun(lines: AsyncIterable<RecordLine>, write: (text: string) => void | Promise<void>): Promise<void> {
  let v1 = false;
  let ended = false;
  const more = 'the rest: history show ID --json';
  for await (const l of lines) {
    const out: string[] = [];
    switch (l.type) {
      case 'start':
        v1 = l.schema === RECORD_SCHEMA_V1;
        out.push(...header(l));
        break;
      case 'progress':
        out.push(`${when(l.at)} ${l.level === 'warn' ? 'WARN ' : ''}${l.text}`);
        break;
      case 'command':
        out.push(formatEntry(l, { maxLines: OUTPUT_LINES, maxLineChars: 1000, more }));
        break;
      case 'reads':
        out.push(...readsLine(l.at, l.since, l.reads));
        break;
      case 'read-failed': {
        const r = l.read;
        out.push(formatEntry({ ...r, output: r.excerpt }, { maxLines: OUTPUT_LINES, maxLineChars: 1000, more }));
        break;
      }
      case 'observation':
        out.push(...observationOf(l.observation.tables, l.observation.autoFailover));
        break;
      case 'plan':
        out.push(...planOf(l.plan.clusterSteps, l.plan.partitions.map((p) => ({ ...p, steps: p.steps }))));
        break;
      case 'report': {
        const r = l.report as Partial<RecordedReport>;
        if (r.totals && r.tables && !v1) out.push(...recordedReportLines(r as RecordedReport));
        else out.push('', 'report:', r.totals && r.tables ? renderReport(r as Report) : JSON.stringify(l.report, null, 2));
        break;
      }
      case 'end':
        ended = true;
        if (l.condensed) out.push(`${when(l.at)} ${l.summary ?? 'nothing to do'} (changed nothing: the record keeps only its reads' totals)`);
        out.push('', `ended ${when(l.at)}: exit ${l.exitCode} after ${seconds(l.durationMs)}${l.error ? `: ${l.error}` : ''}`);
        break;
      default:
        break;
    }
    if (out.length > 0) await write(`${out.join('\n')}\n`);
  }
  if (!ended) await write('\nno end recorded: the run is still going, or was killed (kill -9, a crash, a reboot)\n');
}
