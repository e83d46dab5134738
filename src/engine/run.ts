// The engine: runs a Procedure (procedure.ts) observe -> plan -> apply -> verify, in rounds
// until nothing is left to do, and builds the report. auto_failover is switched off only
// when there is something to change, and always put back to its earlier value: on
// success, on failure, on SIGINT/SIGTERM. Every mutating command is a Procedure
// (workflow/procedures/); the engine reaches the cluster only through EngineCluster.
import type { ObserveFilter } from '../cluster/observe.js';
import { type ClusterSnapshot, type Table, isUnfinished } from '../cluster/types.js';
import type { EngineCluster } from './cluster.js';
import { observe } from './observe.js';
import { EXIT, errorMessage } from '../exit-codes.js';
import { type ApplyOptions, type PartitionOutcome, type Replanned, applyPlan } from './apply.js';
import { type ClusterStepRecord, describeClusterStep, runClusterStep } from './cluster-steps.js';
import { AliveFlags } from './alive-flags.js';
import { matches, serviceClass, serviceTimes } from './priority.js';
import { UnknownTable } from '../cluster/errors.js';
import { LoadSlots } from './load-slots.js';
import type { BinaryAccess } from '../cluster/command-line.js';
import type { PendingPlan } from './journal-content.js';
import { afterTheProbe, dryRunScript } from './dry-run.js';
import { StepTally } from './step-tally.js';
import { assessPartition } from './health.js';
import { RunMemory, partitionKey as key } from './run-memory.js';
import { FailoverKeeper } from './failover-keeper.js';
import { type Behind, CATCH_UP_MS, describeStuck, servingFollowers, stuckFollowers } from './catch-up.js';
import { type FenceRun, type OutsideFence, fenceBeforeRestore } from './restore-fence.js';
import type { Interrupt } from './interrupt.js';
import { type ClusterStep, type PartitionPlan, type PrepareProcedure, type Procedure, type RoundPlan, describeStep } from './procedure.js';
import type { Progress } from './progress.js';
import { type PartitionReport, type PartitionStatus, REPORT_SCHEMA, type Report, type TableReport, commandLine, tally } from './report.js';

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


export async function runProcedure(cluster: EngineCluster, o: RunOptions): Promise<Report> {
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
  let start: { whole: ClusterSnapshot; proc: Procedure; first: ClusterSnapshot; firstPlan: RoundPlan };
  try {
    o.progress.update('observing the cluster');
    const whole = await observe(cluster, o.filter, observing);
    const proc = o.procedure(whole);
    const first = proc.scope ? proc.scope(whole) : whole;
    // A --priority that names no table is a mistake worth stopping for (nothing changed yet).
    for (const p of o.filter ? [] : (o.apply.priority ?? [])) {
      if (!whole.tables.some((t) => matches(p, t.db, t.name))) throw new UnknownTable(p.db, p.table === '*' ? undefined : p.table, [...new Set(whole.tables.filter((t) => t.db === p.db).map((t) => t.name))]);
    }
    start = { whole, proc, first, firstPlan: proc.plan(first, { round: 1, done, ran }, memory) };
  } catch (err) {
    // This changed nothing, and the command layer reports it (exit 3, or a JSON error
    // report); but a dead run's auto_failover still goes back (exit 5 when it cannot).
    if (!o.dryRun && keeper.pendingRestore) {
      o.interrupt.restoring = true;
      if ((await keeper.restore(cluster, errors)) === false) {
        errors.unshift(`observe: ${errorMessage(err)}`);
        return stoppedReport(o, started, 'restore-owed', errors, { ...(keeper.original !== undefined ? { before: keeper.original } : {}), switchedOff: false, owed: true }, retried);
      }
    }
    throw err;
  }
  const { whole, proc, first, firstPlan } = start;
  const look = async (): Promise<ClusterSnapshot> => {
    const s = await observe(cluster, o.filter, observing);
    return proc.scope ? proc.scope(s) : s;
  };
  const opBaseline = Math.max(0, ...whole.ops.map((op) => op.opId));
  const plans = new Map(firstPlan.partitions.map((p) => [key(p.db, p.table, p.pid), p]));
  const outcomes = new Map<string, PartitionOutcome>();
  const touched = new Set<string>();
  const clusterActions: ClusterStepRecord[] = [];
  const ctx: ReportContext = { o, proc, plans, outcomes, touched, clusterActions, errors, started, opBaseline, keeper, retried, outside: new Map(), stuck: new Map() };
  let after: boolean | undefined;
  let phase: RunPhase = 'plan';
  /** Replicas the fence marked not alive: the last look no longer shows the cluster as left. */
  let fenced = 0;
  /** The plan auto_failover is held off for (`hold`), once held. */
  let held: string | undefined;

  if (o.dryRun) {
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
  keeper.begin(await keeper.chosenValue(first.autoFailover));

  let snapshot: ClusterSnapshot = first;
  let plan = firstPlan;
  // The default verdict (a served partition, followers in step) is the one a follower that
  // never catches up defeats (catch-up.ts); the last check's look and what it found stuck.
  const watchesCatchUp = proc.verdict === undefined;
  let caught: { at: ClusterSnapshot; stuck: Behind[] } | undefined;
  const catchUp = async (s: ClusterSnapshot): Promise<Behind[]> => {
    if (caught?.at === s) return caught.stuck;
    const followers = servingFollowers(s);
    if (followers.some((f) => f.offset < f.target)) o.progress.update('waiting for the followers behind their leader to catch up');
    const stuck = await stuckFollowers(watch, followers, { timeoutMs: o.catchUpMs ?? CATCH_UP_MS, ...(o.apply.pollMs !== undefined ? { pollMs: o.apply.pollMs } : {}), signal: o.interrupt.controller.signal });
    // A stopped run watched too little to say: what is remembered stays as it was.
    if (o.interrupt.aborted) return [];
    for (const f of followers) {
      const s2 = stuck.find((b) => b.key === f.key && b.follower === f.follower);
      memory.noteStuck(f.key, f.follower, s2 ? { offset: s2.offset, target: s2.target } : undefined);
      if (s2) o.progress.warn(`${f.db}.${f.table} pid ${f.pid}: ${describeStuck(s2, o.catchUpMs ?? CATCH_UP_MS)}`);
    }
    await memory.save();
    caught = { at: s, stuck };
    return stuck;
  };
  // Every step's look at the cluster and every wait goes through shared reads; loads through
  // the tablets' slots.
  const watch = cluster.reads();
  const alive = new AliveFlags(cluster, watch);
  // One tally for the run: its counter line gives the time since the run began, and the rates behind the estimate carry across rounds.
  const tally = new StepTally(started);
  const loads = new LoadSlots(watch, { slots: o.apply.perTablet, timeoutMs: o.apply.loadTimeoutMs, signal: o.interrupt.controller.signal, onEnded: () => tally.loadEnded(), ...(o.apply.pollMs !== undefined ? { pollMs: o.apply.pollMs } : {}) });
  try {
    phase = 'apply';
    for (let round = 1; round <= (o.rounds ?? proc.rounds ?? 3); round++) {
      let work = plan.partitions.filter((p) => p.steps.length > 0);
      const clusterSteps = plan.cluster ?? [];
      // Nothing left by one look: a follower behind may still never catch up. Seen stuck,
      // it is planned again: the plan rebuilds it.
      if (work.length === 0 && clusterSteps.length === 0 && !o.interrupt.aborted && watchesCatchUp) {
        if ((await catchUp(snapshot)).length > 0) {
          plan = proc.plan(snapshot, { round, done, ran }, memory);
          for (const p of plan.partitions) keepDeciding(plans, key(p.db, p.table, p.pid), p);
          work = plan.partitions.filter((p) => p.action === 'recover' && p.steps.length > 0);
        }
      }
      if ((work.length === 0 && clusterSteps.length === 0) || o.interrupt.aborted) break;
      // Manual recovery commands are refused while auto_failover is on.
      // On again since (a nameserver that took over and applied its flag): off again.
      if (!keeper.switchedOff || snapshot.autoFailover) await keeper.ensureOff(cluster, snapshot.autoFailover);
      const what = [clusterSteps.map(describeClusterStep).join(', '), work.length > 0 ? `${work.length} partitions to work on` : ''];
      o.progress.info(`round ${round}: ${what.filter(Boolean).join('; ')}`);
      for (const p of work) touched.add(key(p.db, p.table, p.pid));
      // Before the first change to a partition: what only the cluster as found can tell
      // (its flags, its replicas' snapshots) is written down, for later rounds and runs.
      memory.observe(snapshot, new Set(work.map((p) => key(p.db, p.table, p.pid))));
      await memory.save();
      for (const step of clusterSteps) {
        if (o.interrupt.aborted) break;
        for (const p of plan.partitions) if (p.via?.length) touched.add(key(p.db, p.table, p.pid));
        const action = await runClusterStep(cluster, step, {
          retries: o.apply.retries,
          opTimeoutMs: o.apply.opTimeoutMs,
          signal: o.interrupt.controller.signal,
          progress: o.progress,
          ...(o.apply.pollMs !== undefined ? { pollMs: o.apply.pollMs } : {}),
          ...(o.apply.backoff ? { backoff: o.apply.backoff } : {}),
        });
        clusterActions.push(action);
        ran.add(step.kind);
        if (action.result === 'failed' && !o.interrupt.aborted) errors.push(`${action.command}: ${action.detail ?? 'failed'}`);
      }
      if (o.interrupt.aborted) break;
      // Ops that had ended when this round was planned are history the plan already
      // accounts for (e.g. a failed op of offlineendpoint that this round retries).
      const ended = new Set(snapshot.ops.filter((op) => !isUnfinished(op)).map((op) => op.opId));
      const base = snapshot;
      const roundNo = round;
      const replan = proc.pipeline
        ? async (p: PartitionPlan): Promise<Replanned | undefined> => {
            const k = key(p.db, p.table, p.pid);
            const fresh = await watch.partition(base, p.db, p.table, p.pid);
            const part = proc.scope ? proc.scope(fresh) : fresh;
            memory.observe(part, new Set([k]));
            await memory.save();
            const next = proc.plan(part, { round: roundNo, done, ran }, memory).partitions.find((x) => key(x.db, x.table, x.pid) === k);
            return next ? { plan: next, ended: new Set(part.ops.filter((op) => !isUnfinished(op)).map((op) => op.opId)) } : undefined;
          }
        : undefined;
      const apply = { ...o.apply, opBaseline, ended, memory, signal: o.interrupt.controller.signal, progress: o.progress, watch, loads, alive, tally, round, ...(replan ? { replan } : {}) };
      const results = work.length > 0 ? await applyPlan(cluster, work, apply) : [];
      for (const r of results) {
        const k = key(r.plan.db, r.plan.table, r.plan.pid);
        const prev = outcomes.get(k);
        outcomes.set(k, prev ? { ...r, actions: [...prev.actions, ...r.actions], errors: [...prev.errors, ...r.errors] } : r);
        for (const p of r.plans.slice(1)) keepDeciding(plans, k, p);
        if (r.status === 'done' && r.plan.action === 'recover') done.add(k);
      }
      if (o.interrupt.aborted) break;
      o.progress.update('observing the cluster again');
      phase = 'observe';
      snapshot = await look();
      phase = 'apply';
      plan = proc.plan(snapshot, { round: round + 1, done, ran }, memory);
      // The report keeps each partition's deciding plan (its leader choice, evidence and the
      // entries at stake: what was acted on); a probe or a wait only prepared the decision.
      for (const p of plan.partitions) keepDeciding(plans, key(p.db, p.table, p.pid), p);
      // Only rework what can progress; refusals and blocks are final for this run.
      plan = { ...plan, partitions: plan.partitions.filter((p) => p.action === 'recover' || p.action === 'probe' || p.action === 'wait') };
    }
  } catch (err) {
    errors.push(`${phase}: ${errorMessage(err)}`);
    ctx.stoppedIn = phase;
  } finally {
    o.interrupt.restoring = true;
    // `plan`: the probes ran and decisions wait for a person; auto_failover stays off for them.
    const decisions = [...plans.values()].some((p) => p.action !== 'none');
    if (o.hold && decisions && !o.interrupt.aborted && errors.length === 0) {
      try {
        await keeper.hold(cluster, snapshot.autoFailover && !keeper.switchedOff, o.hold);
        held = o.hold.id;
        after = false;
      } catch (err) {
        errors.push(`holding auto_failover off for plan ${o.hold.id}: ${errorMessage(err)}`);
      }
    }
    if (held === undefined) await restoreAtEnd();
  }
  async function restoreAtEnd(): Promise<void> {
    if (keeper.switchesOn) {
      const fencing: FenceRun = { progress: o.progress, retries: o.apply.retries, ...(o.apply.backoff ? { backoff: o.apply.backoff } : {}), invocation: o.invocation ?? [], touched, outcomes, plans, outside: ctx.outside, errors };
      fenced = await fenceBeforeRestore(cluster, fencing, { snapshot, reads: watch, scope: proc.scope, memory }).catch((err: unknown) => {
        errors.push(`fencing before auto_failover goes back on: ${errorMessage(err)}`);
        return 0;
      });
    }
    if (keeper.switchedOff || keeper.pendingRestore) {
      after = await keeper.restore(cluster, errors);
    } else {
      // Nothing to put back (auto_failover was already off), but the journal written
      // before the first change must not make the next run think this one died.
      await keeper.restore(cluster, errors);
    }
  }
  if (o.interrupt.failure) {
    errors.push(`stopped: ${o.interrupt.failure.message}`);
    ctx.stoppedIn ??= phase;
  }
  // Verify: the last observation was taken after the last change, unless the run
  // stopped early (signal, error); then look once more.
  let final = snapshot;
  if (snapshot === first || o.interrupt.aborted || errors.length > 0 || fenced > 0) {
    try {
      o.progress.update('verifying');
      final = await look();
    } catch (err) {
      errors.push(`verify: ${errorMessage(err)}`);
    }
  }
  // Partitions refused or found blocked may have been served since, not by this run (the
  // nameserver with auto_failover back, a tablet that came back): one more look says so in
  // their reason. They stay refused or blocked: this run did not check what they hold.
  if (!o.dryRun && [...plans.values()].some((p) => p.action === 'refused' || p.action === 'blocked')) {
    try {
      if (final === snapshot) o.progress.update(END_LOOK);
      ctx.endLook = final === snapshot ? await look() : final;
    } catch {
      // Only a reason is lost: the report stands on the verify above.
    }
  }
  if (!keeper.switchedOff && !keeper.pendingRestore) after = keeper.raceSettled ? false : final.autoFailover;
  // Followers still behind at the end are watched once more; those that do not catch up
  // are named in the report, and remembered for the next run to rebuild.
  if (watchesCatchUp && !o.interrupt.aborted) {
    try {
      for (const b of await catchUp(final)) ctx.stuck.set(b.key, [...(ctx.stuck.get(b.key) ?? []), describeStuck(b, o.catchUpMs ?? CATCH_UP_MS)]);
    } catch (err) {
      errors.push(`verify: the followers behind could not be watched: ${errorMessage(err)}`);
    }
  }
  // Served again: nothing of theirs needs remembering by a later run.
  const verdict = proc.verdict ?? assessPartition;
  memory.forget(final.tables.flatMap((t) => t.partitions.filter((p) => verdict(t, p, final, { opBaseline }).healthy && !ctx.stuck.has(key(t.db, t.name, p.pid))).map((p) => key(t.db, t.name, p.pid))));
  await memory.save().catch((err: unknown) => errors.push(`the evidence record could not be written: ${errorMessage(err)}`));
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
  return buildReport(ctx, first, final, autoFailover);
}

/**
 * The report keeps each partition's deciding plan (its leader choice, evidence and the
 * entries at stake: what was acted on); a probe or a wait only prepared the decision.
 */
function keepDeciding(plans: Map<string, PartitionPlan>, k: string, p: PartitionPlan): void {
  const kept = plans.get(k);
  if (!kept || kept.action === 'probe' || kept.action === 'wait' || (kept.action === 'none' && p.action !== 'none')) plans.set(k, p);
}

/** Said before the look after the run, for the partitions it refused or found blocked (the report's verdict stands on the look before). */
export const END_LOOK = 'looking again at the partitions refused or blocked';

/** Where a run was when it stopped early. */
type RunPhase = 'restore-owed' | 'observe' | 'plan' | 'apply' | 'verify';

interface ReportContext {
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

/** A partition the run refused or found blocked, served by the end of the run all the same. */
function servedAtEnd(c: ReportContext, t: Table, pid: number, plan: PartitionPlan | undefined): boolean {
  if (!c.endLook || (plan?.action !== 'refused' && plan?.action !== 'blocked')) return false;
  const et = c.endLook.tables.find((x) => x.db === t.db && x.name === t.name);
  const ep = et?.partitions.find((x) => x.pid === pid);
  return et !== undefined && ep !== undefined && (c.proc.verdict ?? assessPartition)(et, ep, c.endLook, { opBaseline: c.opBaseline }).healthy;
}

/** The exit code a finished run ends with: a restore still owed wins, then a signal, then the verdict. */
/** A partition's replicas as the look found them. */
function replicasOf(s: ClusterSnapshot, p: PartitionPlan): string[] {
  const part = s.tables.find((t) => t.db === p.db && t.name === p.table)?.partitions.find((x) => x.pid === p.pid);
  return part?.replicas.map((r) => r.endpoint) ?? [];
}

function exitCodeOf(o: RunOptions, owed: boolean, verdictOk: boolean): number {
  if (owed) return EXIT.restoreOwed;
  if (o.interrupt.signal) return o.interrupt.exitCode;
  return verdictOk && !o.interrupt.failure ? EXIT.ok : EXIT.notRecovered;
}

/** The report of a run that stopped before it could plan (nothing of the cluster to show). */
function stoppedReport(o: RunOptions, started: number, phase: RunPhase, errors: string[], autoFailover: Report['autoFailover'], retried: { observe: number }): Report {
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
