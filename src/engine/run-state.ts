// What the phases of a run (run.ts) share: the run's options, one explicit state object that
// each phase reads and changes (nothing shared through closures), and the two things every
// phase may need: a look at the cluster in the procedure's scope, and the watch of the
// followers behind their leader.
import type { ObserveFilter } from '../cluster/observe.js';
import type { ClusterSnapshot } from '../cluster/types.js';
import type { EngineCluster, SharedReads } from './cluster.js';
import { type ObserveRetries, observe } from './observe.js';
import type { ApplyOptions, PartitionOutcome } from './apply.js';
import type { ClusterStepRecord } from './cluster-steps.js';
import type { AliveFlags } from './alive-flags.js';
import type { LoadSlots } from './load-slots.js';
import type { BinaryAccess } from '../cluster/command-line.js';
import type { PendingPlan } from './journal-content.js';
import type { StepTally } from './step-tally.js';
import type { RunMemory } from './run-memory.js';
import type { FailoverKeeper } from './failover-keeper.js';
import { type Behind, CATCH_UP_MS, describeStuck, servingFollowers, stuckFollowers } from './catch-up.js';
import type { OutsideFence } from './restore-fence.js';
import type { Interrupt } from './interrupt.js';
import type { ClusterStep, PartitionPlan, PrepareProcedure, Procedure, RoundPlan } from './procedure.js';
import type { Progress } from './progress.js';

export interface RunOptions {
  command: string;
  dryRun: boolean;
  /** What the run does: one of workflow/procedures/. */
  procedure: PrepareProcedure;
  filter?: ObserveFilter;
  apply: Omit<ApplyOptions, 'opBaseline' | 'ended' | 'signal' | 'progress' | 'watch' | 'loads' | 'alive' | 'replan' | 'tally' | 'round' | 'onStep'>;
  /** Observe/plan/apply rounds at most (ops in flight are waited on, then planned again). */
  rounds?: number;
  progress: Progress;
  interrupt: Interrupt;
  /** The cluster, as the report names it. */
  where: { zkCluster: string; zkRootPath: string };
  /** Restores auto_failover, across crashed runs when it has a journal store. */
  keeper?: FailoverKeeper;
  /** What must be remembered across rounds and runs (run-memory.ts); in memory only if absent. */
  memory?: RunMemory;
  /** How one observation retries: an election (default OBSERVE_BUDGET_MS), a silent tablet (default CONNECTION_WAIT_MS). */
  observeWait?: { budgetMs?: number; connectionWaitMs?: number };
  /** How long a follower behind its leader may take to catch up before it is called stuck (default CATCH_UP_MS). */
  catchUpMs?: number;
  /**
   * How this run reached the cluster and its state (connection, lock and state options as
   * it was given them): added to every command a refusal suggests, so that it works pasted.
   */
  invocation?: string[];
  /** How a shell reaches the cluster: a dry run's report then carries its plan as a script to paste. */
  access?: BinaryAccess;
  /**
   * `plan`: when the run ends with decisions left for a person, auto_failover stays off and
   * the journal names this plan (failover-keeper.ts hold) instead of being put back.
   */
  hold?: PendingPlan;
}

/** Where a run was when it stopped early. */
export type RunPhase = 'restore-owed' | 'observe' | 'plan' | 'apply' | 'verify';

/** A run as it begins, before it has looked at the cluster. */
export interface RunStart {
  cluster: EngineCluster;
  o: RunOptions;
  started: number;
  /** The run's errors, in the order they happened: the report's. */
  errors: string[];
  retried: { observe: number };
  /** How every look of the run observes (its retries counted in `retried`). */
  observing: ObserveRetries;
  keeper: FailoverKeeper;
  memory: RunMemory;
  /** Partitions whose recovery ran to its end. */
  done: Set<string>;
  /** The cluster steps run. */
  ran: Set<ClusterStep['kind']>;
}

/** The run's first look: the whole cluster, the procedure made from it, its scope and the first plan. */
export interface FirstLook {
  whole: ClusterSnapshot;
  proc: Procedure;
  first: ClusterSnapshot;
  firstPlan: RoundPlan;
}

/** What the report is built from (build-report.ts). */
export interface ReportContext {
  o: RunOptions;
  proc: Procedure;
  plans: Map<string, PartitionPlan>;
  outcomes: Map<string, PartitionOutcome>;
  touched: Set<string>;
  clusterActions: ClusterStepRecord[];
  errors: string[];
  started: number;
  opBaseline: number;
  keeper: FailoverKeeper;
  retried: { observe: number };
  /** Set when the run stopped on an error before finishing its rounds. */
  stoppedIn?: RunPhase;
  /** A look after auto_failover went back, for the partitions the run refused or found blocked. */
  endLook?: ClusterSnapshot;
  /** Partitions outside the run's scope fenced before auto_failover went back on (their leader's tablet down). */
  outside: Map<string, OutsideFence>;
  /** Per partition, its followers that did not catch up with their leader at the end (catch-up.ts). */
  stuck: Map<string, string[]>;
}

/** A run that changes the cluster, from its rounds to its report: the one object its phases share. */
export interface RunState extends RunStart, ReportContext {
  first: ClusterSnapshot;
  /** The last look at the cluster (in the procedure's scope). */
  snapshot: ClusterSnapshot;
  /** The plan of the round to come. */
  plan: RoundPlan;
  /** auto_failover when the run ended, once known. */
  after?: boolean;
  phase: RunPhase;
  /** Replicas the fence marked not alive: the last look no longer shows the cluster as left. */
  fenced: number;
  /** The plan auto_failover is held off for (`hold`), once held. */
  held?: string;
  /**
   * The default verdict (a served partition, followers in step) is the one a follower that
   * never catches up defeats (catch-up.ts): watched then.
   */
  watchesCatchUp: boolean;
  /** The last catch-up check's look and what it found stuck. */
  caught?: { at: ClusterSnapshot; stuck: Behind[] };
  /** Every step's look at the cluster and every wait goes through shared reads. */
  watch: SharedReads;
  alive: AliveFlags;
  /** One tally for the run: its counter line gives the time since the run began, and the rates behind the estimate carry across rounds. */
  tally: StepTally;
  /** Loads go through the tablets' slots. */
  loads: LoadSlots;
}

/** A look at the cluster, in the procedure's scope. */
export async function look(s: RunState): Promise<ClusterSnapshot> {
  const found = await observe(s.cluster, s.o.filter, s.observing);
  return s.proc.scope ? s.proc.scope(found) : found;
}

/**
 * The followers behind their leader in this look, watched until they catch up: those that
 * do not are stuck (warned of, and remembered for later rounds and runs). Asked twice of one
 * look, the first answer stands.
 */
export async function catchUp(s: RunState, at: ClusterSnapshot): Promise<Behind[]> {
  const { o, memory } = s;
  if (s.caught?.at === at) return s.caught.stuck;
  const followers = servingFollowers(at);
  if (followers.some((f) => f.offset < f.target)) o.progress.update('waiting for the followers behind their leader to catch up');
  const stuck = await stuckFollowers(s.watch, followers, { timeoutMs: o.catchUpMs ?? CATCH_UP_MS, ...(o.apply.pollMs !== undefined ? { pollMs: o.apply.pollMs } : {}), signal: o.interrupt.controller.signal });
  // A stopped run watched too little to say: what is remembered stays as it was.
  if (o.interrupt.aborted) return [];
  for (const f of followers) {
    const s2 = stuck.find((b) => b.key === f.key && b.follower === f.follower);
    memory.noteStuck(f.key, f.follower, s2 ? { offset: s2.offset, target: s2.target } : undefined);
    if (s2) o.progress.warn(`${f.db}.${f.table} pid ${f.pid}: ${describeStuck(s2, o.catchUpMs ?? CATCH_UP_MS)}`);
  }
  await memory.save();
  s.caught = { at, stuck };
  return stuck;
}
