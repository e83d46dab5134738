// The last step before auto_failover goes back on: the fence, applied (fence.ts decides
// which replicas). Partitions the run left half recovered with a replica out of reach are
// fenced, and so are the partitions of the whole cluster, in the run's scope or not, whose
// alive leader's tablet is down now (crashed during the run, maybe after its last look):
// with auto_failover back on, the nameserver would make a follower leader and drop the
// writes only that leader held (at once when the tablet restarts: name_server_impl.cc
// OnTabletOnline, a `startup_` node -> OnTabletOffline).
import pLimit from 'p-limit';
import { ClusterError } from '../cluster/errors.js';
import type { ClusterSnapshot, Tablet } from '../cluster/types.js';
import type { AliveLeader } from '../cluster/watch.js';
import type { PartitionOutcome, StepRecord } from './apply.js';
import type { EngineCluster, SharedReads } from './cluster.js';
import { type RunMemory, partitionKey } from './run-memory.js';
import { type Fence, fenceOnMetadata, fencePlan } from './fence.js';
import { sleep } from './poll.js';
import type { PartitionPlan, Procedure } from './procedure.js';
import type { Progress } from './progress.js';
import { commandLine } from './report.js';
import { type Backoff, retryTransient } from './retry.js';
import { errorMessage } from '../exit-codes.js';

/** A partition outside the run's scope that it fenced: its leader's tablet was down. */
export interface OutsideFence {
  leader: AliveLeader;
  why: string;
  actions: StepRecord[];
}

/** What the fence needs of the run, and where it records what it did. */
export interface FenceRun {
  progress: Progress;
  retries: number;
  backoff?: Backoff;
  /** How the run was invoked (added to the commands it prints). */
  invocation: string[];
  signal?: AbortSignal;
  /** Partitions the run worked on: their outcomes take the fence's actions. */
  touched: Set<string>;
  outcomes: Map<string, PartitionOutcome>;
  plans: Map<string, PartitionPlan>;
  outside: Map<string, OutsideFence>;
  errors: string[];
}

/** Partitions re-read at once before fencing. */
const REREADS = 8;

/**
 * Fence before auto_failover goes back on. Which tablets are down is read now: the
 * nameserver's view, and each tablet it lists healthy asked (a dead process stays listed
 * until its ZooKeeper session expires). Candidates come from the run's last look and from
 * the nameserver's metadata; each is read again just before (a round may have served it
 * since) and left be if it is led now. One that cannot be read again, or has a replica on a
 * tablet listed healthy that does not answer (each call to it would wait out its timeout),
 * is fenced on what is known (an unserved partition is reported and the next run serves
 * it; a wrong leader loses entries). The flags as found are recorded once, before the
 * first mark. Returns how many replicas were marked; a failure is reported and never
 * keeps auto_failover off.
 */
export async function fenceBeforeRestore(
  cluster: EngineCluster,
  run: FenceRun,
  at: { snapshot: ClusterSnapshot; reads: SharedReads; scope: Procedure['scope']; memory: RunMemory },
): Promise<number> {
  const retry = { retries: run.retries, ...(run.backoff ? { backoff: run.backoff } : {}), ...(run.signal ? { signal: run.signal } : {}) };
  const worked = new Set([...run.touched, ...at.memory.keys()]);
  const inScope = new Set(at.snapshot.tables.flatMap((t) => t.partitions.map((p) => partitionKey(t.db, t.name, p.pid))));
  let tablets: Tablet[] | undefined;
  let down = new Set<string>();
  const away = new Map<string, AliveLeader>();
  try {
    const listed = await retryTransient('showtablet', () => at.reads.tablets(), retry);
    tablets = listed;
    const gone = await Promise.all(listed.map(async (t) => (t.state !== 'healthy' || !(await answersNow(at.reads, t.endpoint, run.signal)) ? t.endpoint : undefined)));
    down = new Set(gone.filter((e): e is string => e !== undefined));
    if (down.size > 0) {
      for (const l of await retryTransient('showtable (every database)', () => at.reads.aliveLeaders(), retry)) {
        if (down.has(l.leader)) away.set(partitionKey(l.db, l.table, l.pid), l);
      }
    }
  } catch (err) {
    // The last look alone decides: what it shows out of reach is fenced as before.
    run.progress.warn(`before auto_failover goes back on, the tablets could not be looked at again (${errorMessage(err)}): fencing on the run's last look`);
  }
  const known = new Set((tablets ?? []).map((t) => t.endpoint));
  // Listed healthy, not answering: no read reaches them.
  const silent = new Set((tablets ?? []).filter((t) => t.state === 'healthy' && down.has(t.endpoint)).map((t) => t.endpoint));

  const candidates = new Map<string, Fence[]>();
  for (const f of fencePlan(at.snapshot, worked, down)) {
    const k = partitionKey(f.db, f.table, f.pid);
    candidates.set(k, [...(candidates.get(k) ?? []), f]);
  }
  for (const [k, l] of away) {
    if (!candidates.has(k)) candidates.set(k, fenceOnMetadata(l, leaderDownWhy(l, inScope.has(k) ? undefined : run.invocation), known));
  }

  const limit = pLimit(REREADS);
  const decided = await Promise.all(
    [...candidates].map(([k, planned]) =>
      limit(async () => {
        const { db, table, pid } = planned[0] as Fence;
        const outside = inScope.has(k) ? undefined : away.get(k);
        const replicas = at.snapshot.tables.find((t) => t.db === db && t.name === table)?.partitions.find((p) => p.pid === pid)?.replicas.map((r) => r.endpoint) ?? away.get(k)?.replicas.map((r) => r.endpoint) ?? [];
        let fences = planned;
        let seen = at.snapshot;
        if (!replicas.some((e) => silent.has(e))) {
          try {
            seen = await at.reads.partitions(at.snapshot, db, table, [pid]);
            // Read just now: its tablets' states are the fresh ones, and every one listed healthy answered.
            fences = fencePlan(at.scope && !outside ? at.scope(seen) : seen, new Set([k]));
          } catch {
            // Not readable again: fenced on the last look (or the metadata).
          }
        }
        if (outside) fences = fences.map((f) => ({ ...f, why: leaderDownWhy(outside, run.invocation) }));
        return { k, fences, seen, outside };
      }),
    ),
  );
  const fencing = decided.filter((d) => d.fences.length > 0);
  if (fencing.length === 0) return 0;

  // The flags as found, before the fence changes them: which replicas were alive tells a
  // later run which of them followed the newest term (run-memory.ts).
  for (const d of fencing) {
    at.memory.observe(d.seen, new Set([d.k]));
    const meta = away.get(d.k);
    if (meta) at.memory.observeFlags(d.k, meta.replicas);
  }
  await at.memory.save().catch((err: unknown) => run.errors.push(`the evidence record could not be written before fencing: ${errorMessage(err)}`));

  // A refusal stops nothing; a nameserver that does not answer (after the retries) stops
  // the rest: the restore must not wait on each of them in turn.
  let unanswered: string | undefined;
  let marked = 0;
  for (const { k, fences, outside } of fencing) {
    for (const f of fences) {
      const command = `updatetablealive ${f.table} ${f.pid} ${f.endpoint} no`;
      const began = Date.now();
      let attempts = 0;
      let result: StepRecord['result'] = 'ok';
      let detail = `before auto_failover goes back on: ${f.why}`;
      try {
        if (unanswered !== undefined) throw new Error(`not sent: ${unanswered} got no answer`);
        await retryTransient(command, () => (attempts++, cluster.updateTableAlive(f.db, f.table, f.pid, f.endpoint, false)), retry);
        marked++;
        run.progress.warn(`${f.db}.${f.table} pid ${f.pid}: ${f.endpoint} marked not alive ${detail}`);
      } catch (err) {
        if (err instanceof ClusterError && err.transient) unanswered ??= command;
        result = 'failed';
        detail = `${errorMessage(err)} (meant: ${detail})`;
        run.errors.push(`${command}: ${detail}`);
      }
      const action: StepRecord = { step: 'set-alive', command, result, detail, attempts, durationMs: Date.now() - began };
      if (outside) {
        const prev = run.outside.get(k);
        run.outside.set(k, { leader: outside, why: f.why, actions: [...(prev?.actions ?? []), action] });
        continue;
      }
      const prev = run.outcomes.get(k);
      if (prev) run.outcomes.set(k, { ...prev, actions: [...prev.actions, action] });
      else {
        const plan = run.plans.get(k);
        if (plan) run.outcomes.set(k, { plan, plans: [plan], status: 'failed', actions: [action], errors: [] });
      }
      run.touched.add(k);
    }
  }
  return marked;
}

/**
 * Does the tablet answer? Asked up to three times while the answers come fast: one refused
 * or lost call is not a dead tablet. A call that timed out is not asked again (a host that
 * is gone would hold each one for the whole timeout).
 */
async function answersNow(reads: Pick<SharedReads, 'answers'>, endpoint: string, signal?: AbortSignal): Promise<boolean> {
  const began = Date.now();
  for (let attempt = 1; ; attempt++) {
    if (await reads.answers(endpoint)) return true;
    if (attempt >= 3 || Date.now() - began > 2000 || signal?.aborted) return false;
    await sleep(300 * attempt, signal);
  }
}

/**
 * Why a partition whose alive leader's tablet is down is fenced; outside the run's scope
 * (`invocation` given), with the command that recovers it once the tablet is back.
 */
function leaderDownWhy(l: AliveLeader, invocation: string[] | undefined): string {
  const why = `its leader ${l.leader}'s tablet is down: with auto_failover on, the nameserver would make a follower leader and drop the writes only ${l.leader} holds`;
  if (invocation === undefined) return `${why}; run again once that tablet is back`;
  return `outside this run's scope, ${why}; once that tablet is back: ${commandLine(['recover-table', `${l.db}.${l.table}`, '--pid', String(l.pid)], invocation)}`;
}
