// The report as a run record keeps it: what the run found and did, without what it did not
// touch. A partition found healthy that the run left alone is counted, not listed (on a
// large cluster those are nearly all of them, and `status` shows them at any time), and a
// step list that only repeats the actions run is left out. `expandReport` gives the
// report's own shape back for rendering.
import type { PartitionReport, Report, TableReport } from '../engine/report.js';

export interface RecordedPartition extends Omit<PartitionReport, 'plan'> {
  /** Absent when it was exactly the commands of `actions`, in order. */
  plan?: string[];
}

export interface RecordedTable extends Omit<TableReport, 'partitions'> {
  partitions: RecordedPartition[];
  /** Partitions found healthy and left alone, not listed. */
  healthyOmitted?: number;
}

export interface RecordedReport extends Omit<Report, 'tables'> {
  tables: RecordedTable[];
  /** Tables whose every partition was found healthy and left alone, not listed. */
  tablesOmitted?: number;
}

function untouched(p: PartitionReport): boolean {
  return (
    p.status === 'healthy' &&
    p.plan.length === 0 &&
    p.actions.length === 0 &&
    p.errors.length === 0 &&
    p.problems.length === 0 &&
    (p.warnings ?? []).length === 0 &&
    (p.orphaned ?? []).length === 0 &&
    (p.left ?? []).length === 0
  );
}

const sameSteps = (plan: readonly string[], p: PartitionReport) => plan.length === p.actions.length && plan.every((s, i) => p.actions[i]?.command === s);

export function recordedReport(r: Report): RecordedReport {
  const tables: RecordedTable[] = [];
  let tablesOmitted = 0;
  for (const t of r.tables) {
    const kept = t.partitions.filter((p) => !untouched(p));
    if (kept.length === 0) {
      tablesOmitted++;
      continue;
    }
    const omitted = t.partitions.length - kept.length;
    tables.push({
      ...t,
      partitions: kept.map(({ plan, ...rest }) => (sameSteps(plan, { plan, ...rest }) ? rest : { ...rest, plan })),
      ...(omitted > 0 ? { healthyOmitted: omitted } : {}),
    });
  }
  return { ...r, tables, ...(tablesOmitted > 0 ? { tablesOmitted } : {}) };
}

/** A recorded report in the report's own shape (the partitions left out stay out). */
export function expandReport(r: RecordedReport): Report {
  const { tablesOmitted: _t, ...rest } = r;
  return {
    ...rest,
    tables: r.tables.map(({ healthyOmitted: _h, ...t }) => ({
      ...t,
      partitions: t.partitions.map((p) => ({ ...p, plan: p.plan ?? p.actions.map((a) => a.command) })),
    })),
  };
}

/** Partitions found healthy and not listed in a recorded report. */
export function omittedPartitions(r: RecordedReport): number {
  const listed = r.tables.reduce((n, t) => n + t.partitions.length, 0);
  return Math.max(0, r.totals.partitions - listed);
}
