// `recover`: observe -> plan -> apply -> verify, in rounds until nothing is left to do.
// auto_failover is switched off only when there is something to change, and always put
// back to its earlier value: on success, on failure, on SIGINT/SIGTERM.
import pRetry, { AbortError } from 'p-retry';
import type { OpenMLDBClient } from '../cluster/client.js';
import { ClusterError } from '../cluster/errors.js';
import { type ObserveFilter, observe as observeOnce } from '../cluster/observe.js';
import type { ClusterSnapshot } from '../cluster/types.js';
import { EXIT } from '../commands/exit-codes.js';
import { type ApplyOptions, type PartitionOutcome, applyPlan } from './apply.js';
import { assessCluster } from './health.js';
import { FailoverKeeper } from './failover-keeper.js';
import type { Interrupt } from './interrupt.js';
import { type PartitionPlan, type PlanOptions, describeStep, planRecovery } from './plan.js';
import type { Progress } from './progress.js';
import { type PartitionReport, type PartitionStatus, REPORT_SCHEMA, type Report, type TableReport, tally } from './report.js';

export interface RecoverOptions {
  command: string;
  dryRun: boolean;
  plan: PlanOptions;
  filter?: ObserveFilter;
  apply: Omit<ApplyOptions, 'opBaseline' | 'signal' | 'progress'>;
  /** Observe/plan/apply rounds at most (ops in flight are waited on, then planned again). */
  rounds?: number;
  progress: Progress;
  interrupt: Interrupt;
  cluster: { zkCluster: string; zkRootPath: string };
  /** Restores auto_failover, across crashed runs when it has a journal store. */
  keeper?: FailoverKeeper;
}

const key = (db: string, table: string, pid: number) => `${db}.${table}:${pid}`;

/** Observe, retrying transient failures (a standby answering during an election, a dropped call). */
export function observe(client: OpenMLDBClient, filter?: ObserveFilter, progress?: Progress, retries = 4): Promise<ClusterSnapshot> {
  return pRetry(
    async () => {
      try {
        return await observeOnce(client, filter);
      } catch (err) {
        if (err instanceof ClusterError && !err.transient) throw new AbortError(err);
        if (!(err instanceof ClusterError)) throw new AbortError(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    },
    {
      retries,
      minTimeout: 200,
      maxTimeout: 3000,
      onFailedAttempt: ({ error, retriesLeft }) => {
        if (retriesLeft > 0) progress?.info(`observing: ${error.message}; retrying`);
      },
    },
  );
}

export async function runRecover(client: OpenMLDBClient, o: RecoverOptions): Promise<Report> {
  const started = Date.now();
  const errors: string[] = [];
  o.progress.update('observing the cluster');
  const first = await observe(client, o.filter, o.progress, o.apply.retries);
  const firstPlan = planRecovery(first, o.plan);
  const opBaseline = Math.max(0, ...first.ops.map((op) => op.opId));
  const plans = new Map(firstPlan.partitions.map((p) => [key(p.db, p.table, p.pid), p]));
  const outcomes = new Map<string, PartitionOutcome>();
  const touched = new Set<string>();
  const keeper = o.keeper ?? new FailoverKeeper(undefined, { command: o.command, cluster: o.cluster }, o.progress);
  let after: boolean | undefined;

  if (o.dryRun) {
    return buildReport(o, first, first, plans, outcomes, touched, { before: first.autoFailover, switchedOff: false }, errors, started, opBaseline);
  }
  keeper.begin(first.autoFailover);

  let snapshot: ClusterSnapshot = first;
  let plan = firstPlan;
  try {
    for (let round = 1; round <= (o.rounds ?? 3); round++) {
      const work = plan.partitions.filter((p) => p.steps.length > 0);
      if (work.length === 0 || o.interrupt.aborted) break;
      // Manual recovery commands are refused while auto_failover is on.
      if (!keeper.switchedOff) await keeper.ensureOff(client, snapshot.autoFailover);
      o.progress.info(`round ${round}: ${work.length} partitions to work on`);
      // The report keeps each partition's first plan: its leader choice, evidence and the
      // entries at stake are what the operator decided on (later rounds see the new state).
      for (const p of work) touched.add(key(p.db, p.table, p.pid));
      const results = await applyPlan(client, work, { ...o.apply, opBaseline, signal: o.interrupt.controller.signal, progress: o.progress });
      for (const r of results) {
        const k = key(r.plan.db, r.plan.table, r.plan.pid);
        const prev = outcomes.get(k);
        outcomes.set(k, prev ? { ...r, actions: [...prev.actions, ...r.actions], errors: [...prev.errors, ...r.errors] } : r);
      }
      if (o.interrupt.aborted) break;
      o.progress.update('observing the cluster again');
      snapshot = await observe(client, o.filter, o.progress, o.apply.retries);
      plan = planRecovery(snapshot, o.plan);
      // Partitions refused or blocked stay as first planned; only rework what can progress.
      plan = { ...plan, partitions: plan.partitions.filter((p) => p.action === 'recover' || p.action === 'wait') };
    }
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
  } finally {
    if (keeper.switchedOff || keeper.pendingRestore) {
      o.interrupt.restoring = true;
      after = await keeper.restore(client, errors);
    }
  }
  // Verify: the last observation was taken after the last change, unless the run
  // stopped early (signal, error); then look once more.
  let final = snapshot;
  if (snapshot === first || o.interrupt.aborted || errors.length > 0) {
    try {
      o.progress.update('verifying');
      final = await observe(client, o.filter, o.progress, o.apply.retries);
    } catch (err) {
      errors.push(`verify: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!keeper.switchedOff && !keeper.pendingRestore) after = final.autoFailover;
  const autoFailover = { before: keeper.original ?? first.autoFailover, ...(after !== undefined ? { after } : {}), switchedOff: keeper.switchedOff };
  return buildReport(o, first, final, plans, outcomes, touched, autoFailover, errors, started, opBaseline);
}

function buildReport(
  o: RecoverOptions,
  first: ClusterSnapshot,
  final: ClusterSnapshot,
  plans: Map<string, PartitionPlan>,
  outcomes: Map<string, PartitionOutcome>,
  touched: Set<string>,
  autoFailover: Report['autoFailover'],
  errors: string[],
  started: number,
  opBaseline: number,
): Report {
  const health = assessCluster(final, { opBaseline });
  const tables: TableReport[] = first.tables.map((t) => {
    const th = health.tables.find((x) => x.db === t.db && x.name === t.name);
    const partitions: PartitionReport[] = t.partitions.map((part) => {
      const k = key(t.db, t.name, part.pid);
      const plan = plans.get(k);
      const outcome = outcomes.get(k);
      const ph = th?.partitions.find((x) => x.pid === part.pid);
      const healthyNow = ph?.healthy ?? false;
      let status: PartitionStatus;
      if (o.dryRun) status = plan?.action === 'none' ? 'healthy' : plan?.action === 'refused' ? 'refused' : plan?.action === 'blocked' ? 'blocked' : 'planned';
      else if (plan?.action === 'refused') status = 'refused';
      else if (plan?.action === 'blocked') status = 'blocked';
      else if (healthyNow) status = touched.has(k) ? 'recovered' : 'healthy';
      else if (outcome?.status === 'interrupted' || (o.interrupt.aborted && outcome?.status !== 'done')) status = 'interrupted';
      else status = 'failed';
      return {
        pid: part.pid,
        status,
        reason: plan?.reason ?? '',
        ...(plan?.leader ? { leader: plan.leader } : {}),
        evidence: plan?.evidence ?? [],
        atStake: plan?.atStake ?? 0,
        left: plan?.left ?? [],
        plan: plan ? plan.steps.map((s) => describeStep(s, plan)) : [],
        actions: outcome?.actions ?? [],
        errors: outcome?.errors ?? [],
        problems: o.dryRun ? [] : (ph?.problems ?? []),
      };
    });
    const status: TableReport['status'] = o.dryRun
      ? partitions.every((p) => p.status === 'healthy') ? 'healthy' : 'planned'
      : partitions.every((p) => p.status === 'healthy') ? 'healthy' : partitions.every((p) => p.status === 'healthy' || p.status === 'recovered') ? 'recovered' : 'failed';
    return { db: t.db, name: t.name, tid: t.tid, storageMode: t.storageMode, status, partitions };
  });
  const totals = tally(tables);
  const allServed = totals.failed + totals.refused + totals.blocked + totals.interrupted === 0;
  const restoredOk = !autoFailover.switchedOff || autoFailover.after === autoFailover.before;
  const exitCode = o.interrupt.signal
    ? o.interrupt.exitCode
    : o.dryRun
      ? totals.refused + totals.blocked === 0 ? EXIT.ok : EXIT.notRecovered
      : allServed && restoredOk && errors.length === 0 ? EXIT.ok : EXIT.notRecovered;
  const finished = Date.now();
  return {
    schema: REPORT_SCHEMA,
    command: o.command,
    ok: exitCode === EXIT.ok,
    exitCode,
    dryRun: o.dryRun,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    cluster: { ...o.cluster, leader: final.leader },
    autoFailover,
    totals,
    tables,
    errors,
  };
}
