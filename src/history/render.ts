// `history` and `history show` for people.
import type { Evidence } from '../engine/procedure.js';
import { columns, renderReport, type Report } from '../engine/report.js';
import { formatEntry } from './format.js';
import type { RecordLine, StartLine } from './record.js';
import type { RunSummary } from './store.js';

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);

export function renderRunList(runs: RunSummary[], stateDir: string): string {
  if (runs.length === 0) return `no run recorded in ${stateDir}`;
  const rows = runs.map((r) => [
    r.id,
    when(r.startedAt),
    `${r.command}${r.dryRun ? ' (dry run)' : ''}`,
    r.exitCode === undefined ? '?' : String(r.exitCode),
    seconds(r.durationMs),
    r.cluster,
    r.summary,
  ]);
  return `${columns(['id', 'started', 'command', 'exit', 'took', 'cluster', 'summary'], rows)}\n\n(openmldb-recover history show ID|last: the run's commands, plan and report)`;
}

export function renderRun(lines: RecordLine[]): string {
  const out: string[] = [];
  const start = lines.find((l): l is StartLine => l.type === 'start');
  if (start) {
    out.push(`run ${start.id}: openmldb-recover ${start.argv.join(' ')}`);
    out.push(`  started ${when(start.at)} by pid ${start.tool.pid} on ${start.tool.host}, version ${start.tool.version}${start.dryRun ? ', dry run' : ''}`);
    out.push(`  cluster ${start.cluster.zkCluster} ${start.cluster.zkRootPath}; binary ${start.connection.bin}; user ${start.connection.user}; password: ${start.connection.passwordFrom === 'none' ? 'none' : `from ${start.connection.passwordFrom} (not recorded)`}`);
    const opts = Object.entries(start.options).map(([k, v]) => `--${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
    out.push(`  options: ${opts.join(' ')}`);
  }
  out.push('');
  for (const l of lines) {
    switch (l.type) {
      case 'progress':
        out.push(`${when(l.at)} ${l.level === 'warn' ? 'WARN ' : ''}${l.text}`);
        break;
      case 'command':
        out.push(formatEntry(l));
        break;
      case 'observation': {
        const o = l.observation;
        out.push('', `observation (auto_failover ${o.autoFailover === undefined ? 'unknown' : String(o.autoFailover)}):`);
        for (const t of o.tables) {
          for (const p of t.partitions) {
            const evidence = (p.evidence as Evidence[]).map(
              (e) => `${e.endpoint}${e.flaggedLeader ? ' (leader)' : ''}${e.alive ? '' : ' (not alive)'} ${e.offset} ${e.source}${e.tablet === 'healthy' ? '' : ` tablet ${e.tablet}`}`,
            );
            out.push(`  ${t.db}.${t.name} pid ${p.pid}: ${evidence.join('; ')}`);
          }
        }
        break;
      }
      case 'plan':
        out.push('', 'plan:');
        for (const c of l.plan.clusterSteps) out.push(`  ${c}`);
        for (const p of l.plan.partitions) {
          out.push(`  ${p.db}.${p.table} pid ${p.pid} (${p.status}): ${p.reason}${p.atStake > 0 ? ` [${p.atStake} entries at stake]` : ''}`);
          for (const s of p.steps) out.push(`      ${s}`);
        }
        if (l.plan.clusterSteps.length === 0 && l.plan.partitions.length === 0) out.push('  nothing to do');
        break;
      case 'report': {
        out.push('', 'report:');
        const r = l.report as Partial<Report>;
        out.push(r.totals && r.tables ? renderReport(r as Report) : JSON.stringify(l.report, null, 2));
        break;
      }
      case 'end':
        out.push('', `ended ${when(l.at)}: exit ${l.exitCode} after ${seconds(l.durationMs)}${l.error ? `: ${l.error}` : ''}`);
        break;
      default:
        break;
    }
  }
  if (!lines.some((l) => l.type === 'end')) out.push('', 'no end recorded: the run is still going, or was killed (kill -9, a crash, a reboot)');
  return out.join('\n');
}
