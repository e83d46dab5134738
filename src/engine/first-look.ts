// A run's beginning (run.ts): a dead run's job taken over, the first look at the cluster, the
// procedure made from it and its first plan; and when that look fails, a dead run's
// auto_failover put back all the same.
import { observe } from './observe.js';
import { errorMessage } from '../exit-codes.js';
import { matches } from './priority.js';
import { UnknownTable } from '../cluster/errors.js';
import { RunMemory } from './run-memory.js';
import { FailoverKeeper } from './failover-keeper.js';
import type { EngineCluster } from './cluster.js';
import type { Report } from './report.js';
import { stoppedReport } from './build-report.js';
import type { ClusterStep } from './procedure.js';
import type { FirstLook, RunOptions, RunStart } from './run-state.js';

/** The run begun: its clock, errors and memory, and auto_failover's keeper (a dead run's job adopted). */
export function beginRun(cluster: EngineCluster, o: RunOptions): RunStart {
  const started = Date.now();
  const errors: string[] = [];
  const retried = { observe: 0 };
  const countRetry = () => retried.observe++;
  const observing = { progress: o.progress, onRetry: countRetry, ...o.observeWait, ...(o.apply.backoff ? { backoff: o.apply.backoff } : {}) };
  const keeper = o.keeper ?? new FailoverKeeper(undefined, { command: o.command, cluster: o.where }, o.progress);
  // An earlier run that died left its journal: this run takes its job over, auto_failover
  // staying as that run left it until this run ends (whichever way), then going back to
  // the value before it. Not back first: for the moment until this run switched it off
  // again, the nameserver would act on a half-finished recovery by itself (a tablet offline
  // or restarted: leaders moved by its own stale offsets, a replica rebuilt from a shorter
  // leader, losing what only it held).
  if (!o.dryRun) keeper.adoptEarlierRun();
  const done = new Set<string>();
  const ran = new Set<ClusterStep['kind']>();
  const memory = o.memory ?? new RunMemory();
  return { cluster, o, started, errors, retried, observing, keeper, memory, done, ran };
}

/** The first look at the cluster: the procedure made from it, its scope, --priority checked, the first plan. */
export async function firstLook(r: RunStart): Promise<FirstLook> {
  const { o } = r;
  o.progress.update('observing the cluster');
  const whole = await observe(r.cluster, o.filter, r.observing);
  const proc = o.procedure(whole);
  const first = proc.scope ? proc.scope(whole) : whole;
  // A --priority that names no table is a mistake worth stopping for (nothing changed yet).
  for (const p of o.filter ? [] : (o.apply.priority ?? [])) {
    if (!whole.tables.some((t) => matches(p, t.db, t.name))) throw new UnknownTable(p.db, p.table === '*' ? undefined : p.table, [...new Set(whole.tables.filter((t) => t.db === p.db).map((t) => t.name))]);
  }
  return { whole, proc, first, firstPlan: proc.plan(first, { round: 1, done: r.done, ran: r.ran }, r.memory) };
}

/**
 * The first look failed. This changed nothing, and the command layer reports it (exit 3, or
 * a JSON error report): `err` is thrown again; but a dead run's auto_failover still goes
 * back, and when it cannot, the run ends with its report (exit 5).
 */
export async function notObserved(r: RunStart, err: unknown): Promise<Report> {
  const { o, keeper, errors } = r;
  if (!o.dryRun && keeper.pendingRestore) {
    o.interrupt.restoring = true;
    if ((await keeper.restore(r.cluster, errors)) === false) {
      errors.unshift(`observe: ${errorMessage(err)}`);
      return stoppedReport(o, r.started, 'restore-owed', errors, { ...(keeper.original !== undefined ? { before: keeper.original } : {}), switchedOff: false, owed: true }, r.retried);
    }
  }
  throw err;
}
