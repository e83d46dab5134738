// A run's rounds (run.ts): each plans from the last look, switches auto_failover off before
// its first change, runs the cluster steps, then the partitions' steps (probed partitions
// replanned at once, pipeline procedures), and looks again, until nothing is left to do, the
// rounds run out or the run is stopped. A round's failure is thrown: run.ts notes where.
import { type ClusterSnapshot, isUnfinished } from '../cluster/types.js';
import { applyPlan } from './apply.js';
import { type Replanned, TableReplans } from './replan-together.js';
import { describeClusterStep, runClusterStep } from './cluster-steps.js';
import { partitionKey as key } from './run-memory.js';
import type { ClusterStep, PartitionPlan } from './procedure.js';
import { type RunState, catchUp, look } from './run-state.js';

/** The rounds, observe -> plan -> apply, from the first plan on. */
export async function runRounds(s: RunState): Promise<void> {
  for (let round = 1; round <= (s.o.rounds ?? s.proc.rounds ?? 3); round++) {
    // Taken before a catch-up check may plan again (it does only when there are none).
    const clusterSteps = s.plan.cluster ?? [];
    const work = await workOf(s, round, clusterSteps);
    if ((work.length === 0 && clusterSteps.length === 0) || s.o.interrupt.aborted) break;
    await beginRound(s, round, work, clusterSteps);
    await runClusterSteps(s, clusterSteps);
    if (s.o.interrupt.aborted) break;
    await applyRound(s, round, work);
    if (s.o.interrupt.aborted) break;
    await planNextRound(s, round);
  }
}

/**
 * The partitions this round works on. Nothing left by one look: a follower behind may still
 * never catch up. Seen stuck, it is planned again: the plan rebuilds it.
 */
async function workOf(s: RunState, round: number, clusterSteps: ClusterStep[]): Promise<PartitionPlan[]> {
  const work = s.plan.partitions.filter((p) => p.steps.length > 0);
  if (work.length === 0 && clusterSteps.length === 0 && !s.o.interrupt.aborted && s.watchesCatchUp) {
    if ((await catchUp(s, s.snapshot)).length > 0) {
      s.plan = s.proc.plan(s.snapshot, { round, done: s.done, ran: s.ran }, s.memory);
      for (const p of s.plan.partitions) keepDeciding(s.plans, key(p.db, p.table, p.pid), p);
      return s.plan.partitions.filter((p) => p.action === 'recover' && p.steps.length > 0);
    }
  }
  return work;
}

/** Before the round's first change: auto_failover off, and what only the cluster as found can tell written down. */
async function beginRound(s: RunState, round: number, work: PartitionPlan[], clusterSteps: ClusterStep[]): Promise<void> {
  const { keeper, snapshot } = s;
  // Manual recovery commands are refused while auto_failover is on.
  // On again since (a nameserver that took over and applied its flag): off again.
  if (!keeper.switchedOff || snapshot.autoFailover) await keeper.ensureOff(s.cluster, snapshot.autoFailover);
  const what = [clusterSteps.map(describeClusterStep).join(', '), work.length > 0 ? `${work.length} partitions to work on` : ''];
  s.o.progress.info(`round ${round}: ${what.filter(Boolean).join('; ')}`);
  for (const p of work) s.touched.add(key(p.db, p.table, p.pid));
  // Before the first change to a partition: what only the cluster as found can tell
  // (its flags, its replicas' snapshots) is written down, for later rounds and runs.
  s.memory.observe(snapshot, new Set(work.map((p) => key(p.db, p.table, p.pid))));
  await s.memory.save();
  s.alive.know(snapshot.tables);
}

/** The round's cluster-wide steps (offlineendpoint, recoverendpoint), one after the other. */
async function runClusterSteps(s: RunState, clusterSteps: ClusterStep[]): Promise<void> {
  const { o } = s;
  for (const step of clusterSteps) {
    if (o.interrupt.aborted) break;
    for (const p of s.plan.partitions) if (p.via?.length) s.touched.add(key(p.db, p.table, p.pid));
    const action = await runClusterStep(s.cluster, step, {
      retries: o.apply.retries,
      opTimeoutMs: o.apply.opTimeoutMs,
      signal: o.interrupt.controller.signal,
      progress: o.progress,
      ...(o.apply.pollMs !== undefined ? { pollMs: o.apply.pollMs } : {}),
      ...(o.apply.backoff ? { backoff: o.apply.backoff } : {}),
    });
    s.clusterActions.push(action);
    s.ran.add(step.kind);
    if (action.result === 'failed' && !o.interrupt.aborted) s.errors.push(`${action.command}: ${action.detail ?? 'failed'}`);
  }
}

/** The round's partitions' steps, and their outcomes added to the run's. */
async function applyRound(s: RunState, round: number, work: PartitionPlan[]): Promise<void> {
  const { o } = s;
  // Ops that had ended when this round was planned are history the plan already
  // accounts for (e.g. a failed op of offlineendpoint that this round retries).
  const ended = new Set(s.snapshot.ops.filter((op) => !isUnfinished(op)).map((op) => op.opId));
  const replan = s.proc.pipeline ? replanner(s, s.snapshot, round) : undefined;
  const apply = { ...o.apply, opBaseline: s.opBaseline, ended, memory: s.memory, signal: o.interrupt.controller.signal, progress: o.progress, watch: s.watch, loads: s.loads, alive: s.alive, tally: s.tally, round, ...(replan ? { replan } : {}) };
  const results = work.length > 0 ? await applyPlan(s.cluster, work, apply) : [];
  for (const r of results) {
    const k = key(r.plan.db, r.plan.table, r.plan.pid);
    const prev = s.outcomes.get(k);
    s.outcomes.set(k, prev ? { ...r, actions: [...prev.actions, ...r.actions], errors: [...prev.errors, ...r.errors] } : r);
    for (const p of r.plans.slice(1)) keepDeciding(s.plans, k, p);
    if (r.status === 'done' && r.plan.action === 'recover') s.done.add(k);
  }
}

/** Pipelined rounds: partitions whose probe (or wait) ended planned again at once, a table's together, from a fresh look at them alone. */
function replanner(s: RunState, base: ClusterSnapshot, round: number): TableReplans {
  const { proc, memory } = s;
  return new TableReplans(async (db, table, plans) => {
    const keys = new Set(plans.map((p) => key(p.db, p.table, p.pid)));
    const fresh = await s.watch.partitions(base, db, table, plans.map((p) => p.pid));
    const part = proc.scope ? proc.scope(fresh) : fresh;
    memory.observe(part, keys);
    await memory.save();
    const ended = new Set(part.ops.filter((op) => !isUnfinished(op)).map((op) => op.opId));
    const next = new Map<string, Replanned | undefined>([...keys].map((k) => [k, undefined]));
    for (const p of proc.plan(part, { round, done: s.done, ran: s.ran }, memory).partitions) {
      const k = key(p.db, p.table, p.pid);
      if (keys.has(k)) next.set(k, { plan: p, ended });
    }
    return next;
  });
}

/** The next round's plan, from a fresh look: only what can progress (refusals and blocks are final for this run). */
async function planNextRound(s: RunState, round: number): Promise<void> {
  s.o.progress.update('observing the cluster again');
  s.phase = 'observe';
  s.snapshot = await look(s);
  s.phase = 'apply';
  const plan = s.proc.plan(s.snapshot, { round: round + 1, done: s.done, ran: s.ran }, s.memory);
  // The report keeps each partition's deciding plan (its leader choice, evidence and the
  // entries at stake: what was acted on); a probe or a wait only prepared the decision.
  for (const p of plan.partitions) keepDeciding(s.plans, key(p.db, p.table, p.pid), p);
  // Only rework what can progress; refusals and blocks are final for this run.
  s.plan = { ...plan, partitions: plan.partitions.filter((p) => p.action === 'recover' || p.action === 'probe' || p.action === 'wait') };
}

/**
 * The report keeps each partition's deciding plan (its leader choice, evidence and the
 * entries at stake: what was acted on); a probe or a wait only prepared the decision.
 */
function keepDeciding(plans: Map<string, PartitionPlan>, k: string, p: PartitionPlan): void {
  const kept = plans.get(k);
  if (!kept || kept.action === 'probe' || kept.action === 'wait' || (kept.action === 'none' && p.action !== 'none')) plans.set(k, p);
}
