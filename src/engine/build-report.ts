// The report of a run (run.ts), built from what its phases left in the run's state: a dry
// run's plan, a finished run's verdict per partition (its exit code with it), or a run that
// stopped before it could plan.
import type { ClusterSnapshot, Table } from '../cluster/types.js';
import { EXIT } from '../exit-codes.js';
import { serviceClass, serviceTimes } from './priority.js';
import { describeClusterStep } from './cluster-steps.js';
import { afterTheProbe, dryRunScript } from './dry-run.js';
import { assessPartition } from './health.js';
import { partitionKey as key } from './run-memory.js';
import { type PartitionPlan, describeStep } from './procedure.js';
import { type PartitionReport, type PartitionStatus, REPORT_SCHEMA, type Report, type TableReport, commandLine, tally } from './report.js';
import type { FirstLook, ReportContext, RunOptions, RunPhase, RunState } from './run-state.js';

/** A dry run's report: what the first plan would do, and (given how a shell reaches the cluster) its script. */
export function dryRunReport(ctx: ReportContext, { first, firstPlan }: FirstLook): Report {
  const { o, clusterActions } = ctx;
  for (const step of firstPlan.cluster ?? []) {
    clusterActions.push({ step: step.kind, command: describeClusterStep(step), result: 'planned', attempts: 0, durationMs: 0, ops: [] });
  }
  const report = buildReport(ctx, first, first, { before: first.autoFailover, switchedOff: false });
  if (o.access) {
    const partitions = firstPlan.partitions.map((plan) => ({ plan, replicas: replicasOf(first, plan) }));
    const changes = report.totals.planned > 0 || clusterActions.length > 0;
    const addresses = new Map(first.tablets.map((t) => [t.endpoint, t.address]));
    report.script = dryRunScript({ switchesFailover: first.autoFailover && changes, cluster: firstPlan.cluster ?? [], partitions, addresses }, o.access);
  }
  return report;
}

/** A run's report once verified: every partition judged on `final`, and what became of auto_failover. */
export function finalReport(s: RunState, final: ClusterSnapshot): Report {
  const { keeper, first, after, held } = s;
  const autoFailover = {
    before: keeper.original ?? first.autoFailover,
    ...(after !== undefined ? { after } : {}),
    switchedOff: keeper.switchedOff,
    ...(keeper.owed ? { owed: true } : {}),
    ...(keeper.foundOff ? { foundOff: true } : {}),
    ...(keeper.raced ? { startRace: true } : {}),
    ...(held !== undefined ? { heldForPlan: held } : {}),
    // An earlier run died owing the restore: what this run found, and whether it put it back.
    ...(keeper.resumed ? { inherited: { found: first.autoFailover, ...(keeper.changedSince ? { journal: keeper.changedSince.journal } : {}) } } : {}),
  };
  return buildReport(s, first, final, autoFailover);
}

/** A partition the run refused or found blocked, served by the end of the run all the same. */
function servedAtEnd(c: ReportContext, t: Table, pid: number, plan: PartitionPlan | undefined): boolean {
  if (!c.endLook || (plan?.action !== 'refused' && plan?.action !== 'blocked')) return false;
  const et = c.endLook.tables.find((x) => x.db === t.db && x.name === t.name);
  const ep = et?.partitions.find((x) => x.pid === pid);
  return et !== undefined && ep !== undefined && (c.proc.verdict ?? assessPartition)(et, ep, c.endLook, { opBaseline: c.opBaseline }).healthy;
}

/** A partition's replicas as the look found them. */
function replicasOf(s: ClusterSnapshot, p: PartitionPlan): string[] {
  const part = s.tables.find((t) => t.db === p.db && t.name === p.table)?.partitions.find((x) => x.pid === p.pid);
  return part?.replicas.map((r) => r.endpoint) ?? [];
}

/** The exit code a finished run ends with: a restore still owed wins, then a signal, then the verdict. */
function exitCodeOf(o: RunOptions, owed: boolean, verdictOk: boolean): number {
  if (owed) return EXIT.restoreOwed;
  if (o.interrupt.signal) return o.interrupt.exitCode;
  return verdictOk && !o.interrupt.failure ? EXIT.ok : EXIT.notRecovered;
}

/** The report of a run that stopped before it could plan (nothing of the cluster to show). */
export function stoppedReport(o: RunOptions, started: number, phase: RunPhase, errors: string[], autoFailover: Report['autoFailover'], retried: { observe: number }): Report {
  const finished = Date.now();
  const exitCode = autoFailover.owed ? EXIT.restoreOwed : exitCodeOf(o, false, false);
  return {
    schema: REPORT_SCHEMA,
    command: o.command,
    ok: false,
    exitCode,
    dryRun: o.dryRun,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    cluster: { ...o.where },
    autoFailover,
    totals: tally([]),
    tables: [],
    errors,
    stoppedIn: phase,
    retries: { observe: retried.observe, steps: 0 },
  };
}

function buildReport(c: ReportContext, first: ClusterSnapshot, final: ClusterSnapshot, autoFailover: Report['autoFailover']): Report {
  const { o, plans, outcomes, touched, errors, started, opBaseline } = c;
  const verdict = c.proc.verdict ?? assessPartition;
  const tables: TableReport[] = first.tables.map((t) => {
    const ft = final.tables.find((x) => x.db === t.db && x.name === t.name);
    const partitions: PartitionReport[] = t.partitions.map((part) => {
      const k = key(t.db, t.name, part.pid);
      const plan = plans.get(k);
      const outcome = outcomes.get(k);
      const fp = ft?.partitions.find((x) => x.pid === part.pid);
      const ph = ft && fp ? verdict(ft, fp, final, { opBaseline }) : undefined;
      const stuck = c.stuck.get(k) ?? [];
      const healthyNow = (ph?.healthy ?? false) && stuck.length === 0;
      let status: PartitionStatus;
      if (o.dryRun) status = plan?.action === 'none' ? 'healthy' : plan?.action === 'refused' ? 'refused' : plan?.action === 'blocked' ? 'blocked' : 'planned';
      else if (plan?.action === 'refused' || plan?.action === 'blocked') status = plan.action;
      else if (healthyNow) status = touched.has(k) ? 'recovered' : 'healthy';
      else if (outcome?.status === 'interrupted' || (o.interrupt.aborted && outcome?.status !== 'done')) status = 'interrupted';
      else status = 'failed';
      return {
        pid: part.pid,
        status,
        reason: servedAtEnd(c, t, part.pid, plan) ? `served when the run ended, though not by this run, which did not check what it holds (${plan?.reason ?? ''})` : (plan?.reason ?? ''),
        ...(plan?.leader ? { leader: plan.leader } : {}),
        evidence: plan?.evidence ?? [],
        atStake: plan?.atStake ?? 0,
        ...(plan?.atStakeUnknown ? { atStakeUnknown: true } : {}),
        ...(plan?.orphaned && plan.orphaned.length > 0 ? { orphaned: plan.orphaned } : {}),
        ...(plan?.proceed && status === 'refused' ? { proceed: plan.proceed.map((w) => ({ command: commandLine(w.args, o.invocation ?? []), effect: w.effect })) } : {}),
        left: plan?.left ?? [],
        plan: plan ? [...(plan.via ?? []), ...plan.steps.map((s) => describeStep(s, plan)), ...(o.dryRun ? afterTheProbe(plan, part.replicas.map((r) => r.endpoint)) : [])] : [],
        actions: outcome?.actions ?? [],
        errors: outcome?.errors ?? [],
        ...(status === 'recovered' && outcome?.endedAt !== undefined ? { servedMs: Math.max(0, outcome.endedAt - started) } : {}),
        problems: o.dryRun ? [] : [...(ph?.problems ?? []), ...stuck.map((s) => `pid ${part.pid}: ${s}`)],
        ...(!o.dryRun && ph && ph.warnings.length > 0 ? { warnings: ph.warnings } : {}),
      };
    });
    const status: TableReport['status'] = o.dryRun
      ? partitions.every((p) => p.status === 'healthy') ? 'healthy' : 'planned'
      : partitions.every((p) => p.status === 'healthy') ? 'healthy' : partitions.every((p) => p.status === 'healthy' || p.status === 'recovered') ? 'recovered' : 'failed';
    return { db: t.db, name: t.name, tid: t.tid, storageMode: t.storageMode, status, partitions };
  });
  // A table partly in scope (recover-table --pid, the endpoint procedures) takes its fenced partitions in.
  for (const o2 of outsideTables(c)) {
    const same = tables.find((t) => t.db === o2.db && t.name === o2.name);
    if (!same) tables.push(o2);
    else {
      same.partitions.push(...o2.partitions.filter((p) => !same.partitions.some((x) => x.pid === p.pid)));
      same.partitions.sort((a, b) => a.pid - b.pid);
      if (!o.dryRun) same.status = 'failed';
    }
  }
  const totals = tally(tables);
  const allServed = totals.failed + totals.refused + totals.blocked + totals.interrupted === 0;
  const restoredOk = !autoFailover.switchedOff || autoFailover.after === autoFailover.before;
  const verdictOk = o.dryRun ? totals.refused + totals.blocked === 0 : allServed && restoredOk && errors.length === 0;
  const exitCode = exitCodeOf(o, autoFailover.owed === true, verdictOk);
  const stepRetries = [...outcomes.values()].reduce((n, oc) => n + oc.actions.reduce((m, a) => m + Math.max(0, a.attempts - 1), 0), 0);
  const finished = Date.now();
  const service = serviceTimes(tables.flatMap((t) => t.partitions.flatMap((p) => (p.servedMs !== undefined ? [{ class: serviceClass(o.apply.priority ?? [], t.db, t.name), ms: p.servedMs }] : []))));
  return {
    schema: REPORT_SCHEMA,
    command: o.command,
    ok: exitCode === EXIT.ok,
    exitCode,
    dryRun: o.dryRun,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    cluster: { ...o.where, leader: final.leader },
    autoFailover,
    totals,
    ...(c.clusterActions.length > 0 ? { clusterSteps: c.clusterActions } : {}),
    tables,
    errors,
    ...(c.stoppedIn ? { stoppedIn: c.stoppedIn } : {}),
    retries: { observe: c.retried.observe, steps: stepRetries },
    ...(service.length > 0 ? { service } : {}),
  };
}

/** The partitions outside the run's scope that it fenced (their leader's tablet down): not served now, by the run's doing. */
function outsideTables(c: ReportContext): TableReport[] {
  const byTable = new Map<string, TableReport>();
  for (const { leader: l, why, actions } of c.outside.values()) {
    const name = `${l.db}.${l.table}`;
    const t: TableReport = byTable.get(name) ?? { db: l.db, name: l.table, tid: l.tid, storageMode: l.storageMode, status: 'failed', partitions: [] };
    byTable.set(name, t);
    const failed = actions.filter((a) => a.result === 'failed').map((a) => a.detail ?? a.command);
    t.partitions.push({ pid: l.pid, status: 'failed', reason: why, evidence: [], atStake: 0, left: [], plan: [], actions, errors: failed, problems: [`leader ${l.leader}'s tablet is down`] });
  }
  return [...byTable.values()];
}
