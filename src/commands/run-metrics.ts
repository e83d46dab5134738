// `--metrics-file FILE`: a mutating run's outcome as Prometheus gauges for node_exporter's
// textfile collector, written whatever the exit code (a run that stopped on a held lock or
// an unreachable cluster too), atomically (a temporary file beside it, then a rename; the
// collector reads only `*.prom`). `status --format prometheus` says how the cluster is;
// this says how the last unattended run went, so an alert can fire on a recover that keeps
// failing, or that has not succeeded for a day, while nobody reads its log.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Report } from '../engine/report.js';
import { type ClusterLabels, Exposition } from './prometheus.js';

const P = 'openmldb_recover_run';

/** What the run learnt, once it has a report (a run that stopped before has none). */
export type RunOutcome = Pick<Report, 'totals' | 'autoFailover'>;

let outcome: RunOutcome | undefined;

/** The command layer hands the report over when it has one. */
export function noteOutcome(report: RunOutcome): void {
  outcome = { totals: report.totals, autoFailover: report.autoFailover };
}

export interface RunMetrics {
  command: string;
  cluster: ClusterLabels;
  exitCode: number;
  startedAt: number;
  finishedAt: number;
}

/** The last success's time as the previous file says it (carried over by a failed run). */
function lastSuccess(previous: string | undefined, command: string): number | undefined {
  for (const line of (previous ?? '').split('\n')) {
    if (!line.startsWith(`${P}_last_success_timestamp_seconds{`) || !line.includes(`command="${command}"`)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v) && v > 0) return v;
  }
  return undefined;
}

export function renderRunMetrics(m: RunMetrics, o: RunOutcome | undefined, previous?: string): string {
  const x = new Exposition({ zk_cluster: m.cluster.zkCluster, zk_root_path: m.cluster.zkRootPath, command: m.command });
  const s = (ms: number) => Math.round(ms) / 1000;
  const success = m.exitCode === 0 ? s(m.finishedAt) : lastSuccess(previous, m.command);
  x.metric(`${P}_exit_code`, 'Exit code of the last run (0 every table served; see --help).', [[{}, m.exitCode]]);
  x.metric(`${P}_timestamp_seconds`, 'Unix time the last run ended.', [[{}, s(m.finishedAt)]]);
  x.metric(`${P}_last_success_timestamp_seconds`, 'Unix time the last run that ended with exit 0 ended (0: none seen).', [[{}, success ?? 0]]);
  x.metric(`${P}_duration_seconds`, 'How long the last run took.', [[{}, s(m.finishedAt - m.startedAt)]]);
  if (o) {
    const t = o.totals;
    const outcomes = ['healthy', 'recovered', 'failed', 'refused', 'blocked', 'interrupted', 'planned'] as const;
    x.metric(`${P}_partitions`, 'Partitions of the last run by outcome (refused, blocked, failed, interrupted: not served).', outcomes.map((k) => [{ outcome: k }, t[k]]));
    x.metric(`${P}_entries_at_stake`, 'Entries the refused partitions would lose if recovered as proposed.', [[{}, t.entriesAtStake]]);
    x.metric(`${P}_auto_failover_restored`, '1 when auto_failover is back at its value before the run, 0 when the run could not put it back (exit 5).', [[{}, o.autoFailover.owed ? 0 : 1]]);
  }
  return x.text();
}

/** Write the metrics of this run to `path` (best effort: a failure is a warning, never the run's result). */
export function writeRunMetrics(path: string, m: RunMetrics, warn: (line: string) => void): void {
  let previous: string | undefined;
  try {
    previous = readFileSync(path, 'utf8');
  } catch {
    // none yet
  }
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, renderRunMetrics(m, outcome, previous), { mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    warn(`--metrics-file ${path} could not be written (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
