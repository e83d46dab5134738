// The engine: runs a Procedure (procedure.ts) observe -> plan -> apply -> verify, in rounds
// until nothing is left to do, and builds the report. auto_failover is switched off only
// when there is something to change, and always put back to its earlier value: on
// success, on failure, on SIGINT/SIGTERM. Every mutating command is a Procedure
// (workflow/procedures/); the engine reaches the cluster only through EngineCluster.
//
// A run is a list of phases, one file each, sharing one state object (run-state.ts): the
// first look (first-look.ts), the rounds (rounds.ts), auto_failover held for a reviewed
// plan or else fenced for and put back (hold-or-restore.ts), the verify (verify.ts) and the
// report (build-report.ts).
import type { EngineCluster } from './cluster.js';
import { errorMessage } from '../exit-codes.js';
import type { PartitionOutcome } from './apply.js';
import type { ClusterStepRecord } from './cluster-steps.js';
import { AliveFlags } from './alive-flags.js';
import { LoadSlots } from './load-slots.js';
import { StepTally } from './step-tally.js';
import { partitionKey as key } from './run-memory.js';
import { beginRun, firstLook, notObserved } from './first-look.js';
import { runRounds } from './rounds.js';
import { holdOrRestore } from './hold-or-restore.js';
import { noteFailure, verify } from './verify.js';
import { dryRunReport, finalReport } from './build-report.js';
import type { Report } from './report.js';
import type { FirstLook, ReportContext, RunOptions, RunStart, RunState } from './run-state.js';

export type { RunOptions } from './run-state.js';
export { END_LOOK } from './verify.js';

export async function runProcedure(cluster: EngineCluster, o: RunOptions): Promise<Report> {
  const begun = beginRun(cluster, o);
  let found: FirstLook;
  try {
    found = await firstLook(begun);
  } catch (err) {
    return await notObserved(begun, err);
  }
  const ctx = reportContext(begun, found);
  if (o.dryRun) return dryRunReport(ctx, found);
  const { keeper } = begun;
  keeper.begin(await keeper.chosenValue(found.first.autoFailover));
  const s = runState(ctx, found);
  try {
    s.phase = 'apply';
    await runRounds(s);
  } catch (err) {
    s.errors.push(`${s.phase}: ${errorMessage(err)}`);
    s.stoppedIn = s.phase;
  } finally {
    await holdOrRestore(s);
  }
  noteFailure(s);
  const final = await verify(s);
  return finalReport(s, final);
}

/** What the report needs from any run, dry or not: the first plan kept per partition, and the run's records, empty. */
function reportContext(begun: RunStart, { whole, proc, firstPlan }: FirstLook): RunStart & ReportContext {
  return {
    ...begun,
    proc,
    plans: new Map(firstPlan.partitions.map((p) => [key(p.db, p.table, p.pid), p])),
    outcomes: new Map<string, PartitionOutcome>(),
    touched: new Set<string>(),
    clusterActions: [] as ClusterStepRecord[],
    opBaseline: Math.max(0, ...whole.ops.map((op) => op.opId)),
    outside: new Map(),
    stuck: new Map(),
  };
}

/** The state a run that changes the cluster shares across its phases, from its first look (auto_failover's keeper begun). */
function runState(ctx: RunStart & ReportContext, { proc, first, firstPlan }: FirstLook): RunState {
  const { o, cluster, started } = ctx;
  const watch = cluster.reads();
  const alive = new AliveFlags(cluster, watch);
  const tally = new StepTally(started);
  const loads = new LoadSlots(watch, { slots: o.apply.perTablet, timeoutMs: o.apply.loadTimeoutMs, signal: o.interrupt.controller.signal, onEnded: () => tally.loadEnded(), ...(o.apply.pollMs !== undefined ? { pollMs: o.apply.pollMs } : {}) });
  return { ...ctx, first, snapshot: first, plan: firstPlan, phase: 'plan', fenced: 0, watchesCatchUp: proc.verdict === undefined, watch, alive, tally, loads };
}
