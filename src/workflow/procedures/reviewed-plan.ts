// The manual data recovery in reviewed steps: `plan` runs only what changes no data and
// nothing a client can see (the probe: replicas marked not alive and loaded as followers,
// with auto_failover off), then writes each partition's decision for a person to read and
// edit; `apply` checks the cluster is still the one the plan was made on and runs exactly
// the approved decisions; `verify` says whether each is served by its planned leader.
// The split follows OpenMLDB: choosing a leader, changeleader and recovertable (which may
// drop a follower's data) are the steps that cannot be undone.
import { createHash } from 'node:crypto';
import { type ClusterSnapshot, type Partition, type Table, isUnfinished } from '../../cluster/types.js';
import { assessPartition, opsForPartition, servingLeader } from '../../engine/health.js';
import { type PartitionEvidence, partitionKey } from '../../engine/run-memory.js';
import type { PartitionPlan, PrepareProcedure, Procedure } from '../../engine/procedure.js';
import { describeStep } from '../../engine/procedure.js';
import { type PlanOptions, planRecovery } from './recover-plan.js';
import { recoveryProcedure } from './recover.js';
import { scopeTo } from './shared.js';

export const PLAN_SCHEMA = 'openmldb-recover/plan@1';

/** What the plan read of a partition; `apply` refuses the plan when it no longer holds. */
export interface Fingerprint {
  tid: number;
  /** The partition's term history, oldest first: [term, first offset]. */
  terms: Array<[number, number]>;
  /** Ops of the nameserver not yet ended for it. */
  opsRunning: number;
  /**
   * Each replica: its alive flag, its tablet's state, its snapshot (when not loaded), what
   * its tablet runs (role, and the offset it reads: null where a leader serves, since
   * clients' writes move it), or null when not loaded.
   */
  replicas: Array<{
    endpoint: string;
    alive: boolean;
    tablet: string;
    snapshot: { term: number; offset: number } | null;
    loaded: { mode: string; offset: number | null } | null;
  }>;
}

/** What the operator approves: `apply` (the proposal, or the named leader) or `skip`. */
export interface Decision {
  action: 'apply' | 'skip';
  /** A replica to lead instead of the proposed one (required for a refused partition). */
  leader?: string;
  /** Required where the chosen leader may lack entries another replica holds. */
  acceptDataLoss?: boolean;
}

/** A partition as the plan read and decided it: the decision's own fields, as the engine plans them, and what the operator approves. */
export interface PlannedPartition extends Pick<PartitionPlan, 'db' | 'table' | 'tid' | 'pid' | 'reason' | 'leader' | 'evidence' | 'atStake' | 'atStakeUnknown' | 'orphaned' | 'left'> {
  /** What the tool proposes: to apply the steps, or why it will not (refused, blocked). */
  proposal: 'apply' | 'refused' | 'blocked';
  /** The steps as runbook commands, in order (empty for refused and blocked). */
  steps: string[];
  /** Ways out of a refusal: which leader, with what loss. */
  alternatives?: Array<{ leader?: string; acceptDataLoss: boolean; effect: string }>;
  fingerprint: Fingerprint;
  decision: Decision;
}

export interface PlanFile {
  schema: typeof PLAN_SCHEMA;
  id: string;
  createdAt: string;
  cluster: { zkCluster: string; zkRootPath: string };
  /** auto_failover before the plan switched it off: what apply and --abandon put back. */
  autoFailoverBefore: boolean;
  /** Until then other runs refuse to start (exit 4) rather than take the plan over. */
  holdUntil: string;
  /** sha256 of every partition's fingerprint, in order: what `apply` compares first. */
  fingerprint: string;
  partitions: PlannedPartition[];
}

/**
 * `plan`'s procedure: the recovery procedure, with only its probes (and waits for ops in
 * flight) run; a decision's steps are stripped, to be written to the plan file instead.
 */
export function probeOnly(options: PlanOptions): PrepareProcedure {
  const inner = recoveryProcedure(options);
  return () => ({
    ...inner,
    plan: (snapshot, round, memory) => {
      const p = inner.plan(snapshot, round, memory);
      return { ...p, partitions: p.partitions.map((x) => (x.action === 'probe' || x.action === 'wait' ? x : { ...x, steps: [] })) };
    },
  });
}

export function fingerprintOf(t: Table, p: Partition, snapshot: ClusterSnapshot): Fingerprint {
  const serving = servingLeader(p) !== undefined;
  return {
    tid: t.tid,
    terms: (p.terms ?? []).map((x) => [x.term, x.offset]),
    opsRunning: opsForPartition(snapshot, t, p.pid).filter(isUnfinished).length,
    replicas: [...p.replicas]
      .sort((a, b) => a.endpoint.localeCompare(b.endpoint))
      .map((r) => ({
        endpoint: r.endpoint,
        alive: r.isAlive,
        tablet: r.tablet,
        snapshot: r.loaded || !r.snapshot ? null : { term: r.snapshot.term, offset: r.snapshot.offset },
        loaded: r.loaded ? { mode: r.loaded.mode, offset: serving ? null : r.loaded.offset } : null,
      })),
  };
}

const digest = (fps: Fingerprint[]) => createHash('sha256').update(JSON.stringify(fps)).digest('hex');

/** The digest of a plan's fingerprints, in order: `apply` refuses a file whose fingerprints were edited. */
export const fingerprintDigest = (plan: Pick<PlanFile, 'partitions'>): string => digest(plan.partitions.map((p) => p.fingerprint));

/** The plan file's content from the look after the probe and the decisions planned from it. */
export function planFile(meta: { id: string; createdAt: string; cluster: PlanFile['cluster']; autoFailoverBefore: boolean; holdUntil: string }, snapshot: ClusterSnapshot, plans: PartitionPlan[]): PlanFile {
  const partitions: PlannedPartition[] = [];
  for (const plan of plans) {
    if (plan.action === 'none') continue;
    const t = snapshot.tables.find((x) => x.db === plan.db && x.name === plan.table);
    const p = t?.partitions.find((x) => x.pid === plan.pid);
    if (!t || !p) continue;
    const proposal = plan.action === 'recover' ? 'apply' : plan.action === 'refused' ? 'refused' : 'blocked';
    partitions.push({
      db: plan.db,
      table: plan.table,
      tid: plan.tid,
      pid: plan.pid,
      proposal,
      reason: plan.action === 'probe' || plan.action === 'wait' ? `not decided: ${plan.reason}` : plan.reason,
      ...(plan.leader ? { leader: plan.leader } : {}),
      evidence: plan.evidence,
      atStake: plan.atStake,
      ...(plan.atStakeUnknown ? { atStakeUnknown: true } : {}),
      ...(plan.orphaned && plan.orphaned.length > 0 ? { orphaned: plan.orphaned } : {}),
      left: plan.left,
      steps: proposal === 'apply' ? plan.steps.map((s) => describeStep(s, plan)) : [],
      ...(plan.proceed && plan.proceed.length > 0 ? { alternatives: plan.proceed.map((w) => alternativeOf(w.args, w.effect)) } : {}),
      fingerprint: fingerprintOf(t, p, snapshot),
      decision: { action: proposal === 'apply' ? 'apply' : 'skip' },
    });
  }
  return { schema: PLAN_SCHEMA, ...meta, fingerprint: digest(partitions.map((x) => x.fingerprint)), partitions };
}

/** A refusal's way out (recover-table arguments) as the decision an operator would write. */
function alternativeOf(args: string[], effect: string): { leader?: string; acceptDataLoss: boolean; effect: string } {
  const at = args.indexOf('--leader');
  const leader = at >= 0 ? args[at + 1]?.replace(/^\d+=/, '') : undefined;
  return { ...(leader !== undefined ? { leader } : {}), acceptDataLoss: args.includes('--accept-data-loss'), effect };
}

/** The partitions the operator approved. */
export const approved = (plan: PlanFile): PlannedPartition[] => plan.partitions.filter((p) => p.decision.action === 'apply');

const label = (p: { db: string; table: string; pid: number }) => `${p.db}.${p.table} pid ${p.pid}`;

/**
 * Where the cluster no longer is as the plan read it, one line per difference, for the
 * approved partitions. After an `apply` that began (`resumed`), the offsets, terms, roles and
 * alive flags are its own work: then only the table and its replica set must be the same.
 */
export function differences(plan: PlanFile, snapshot: ClusterSnapshot, resumed: boolean): string[] {
  const out: string[] = [];
  for (const pp of approved(plan)) {
    const t = snapshot.tables.find((x) => x.db === pp.db && x.name === pp.table);
    const p = t?.partitions.find((x) => x.pid === pp.pid);
    if (!t || !p) {
      out.push(`${label(pp)}: ${t ? 'the partition' : 'the table'} is gone`);
      continue;
    }
    const now = fingerprintOf(t, p, snapshot);
    const was = pp.fingerprint;
    if (now.tid !== was.tid) out.push(`${label(pp)}: the table was dropped and created again (tid ${was.tid} -> ${now.tid})`);
    const eps = (f: Fingerprint) => f.replicas.map((r) => r.endpoint).join(', ');
    if (eps(now) !== eps(was)) {
      out.push(`${label(pp)}: its replicas changed (${eps(was)} -> ${eps(now)})`);
      continue;
    }
    // A tablet back (or gone) changes what can be read: a loss accepted for a replica that
    // could not be read may now be one the tool can avoid. Checked after a crash too.
    for (const [i, r] of now.replicas.entries()) {
      const w = was.replicas[i];
      if (w && w.tablet !== r.tablet) out.push(`${label(pp)}: replica ${r.endpoint}'s tablet was ${w.tablet}, now ${r.tablet}`);
    }
    if (resumed) continue;
    if (JSON.stringify(now.terms) !== JSON.stringify(was.terms)) out.push(`${label(pp)}: its term history changed (${JSON.stringify(was.terms)} -> ${JSON.stringify(now.terms)})`);
    if (now.opsRunning !== was.opsRunning) out.push(`${label(pp)}: ops of the nameserver running for it: ${was.opsRunning} -> ${now.opsRunning}`);
    for (const [i, r] of now.replicas.entries()) {
      const w = was.replicas[i];
      if (!w) continue;
      const state = (x: Fingerprint['replicas'][number]) =>
        (x.loaded ? `${x.loaded.mode}${x.loaded.offset === null ? ' (serving)' : ` at offset ${x.loaded.offset}`}` : `not loaded${x.snapshot ? `, snapshot term ${x.snapshot.term} offset ${x.snapshot.offset}` : ''}`) + (x.alive ? ', alive' : '');
      if (state(r) !== state(w)) out.push(`${label(pp)}: replica ${r.endpoint} was ${state(w)}, now ${state(r)}`);
    }
  }
  return out;
}

/** Decisions the file cannot mean, one line each (checked before anything is taken or sent). */
export function invalidDecisions(plan: PlanFile): string[] {
  const out: string[] = [];
  for (const pp of plan.partitions) {
    const d = pp.decision;
    const eps = pp.fingerprint.replicas.map((r) => r.endpoint);
    if (d.leader !== undefined && !eps.includes(d.leader)) out.push(`${label(pp)}: decision.leader ${d.leader} is not one of its replicas (${eps.join(', ')})`);
    if (d.action === 'apply' && pp.proposal !== 'apply' && d.leader === undefined) out.push(`${label(pp)}: ${pp.proposal} by the plan; to apply it, name decision.leader (and acceptDataLoss: true where its alternatives say data is lost)`);
  }
  return out;
}

/** The leader `apply` makes each approved partition's: the operator's, else the proposed one. */
export function plannedLeader(pp: PlannedPartition): string | undefined {
  return pp.decision.leader ?? pp.leader?.endpoint;
}

/**
 * `apply`'s procedure: the approved partitions only, each planned as `recover` would with
 * its leader pinned to the planned one and the loss its decision accepts (no other).
 */
export function applyProcedure(plan: PlanFile, options: Pick<PlanOptions, 'refuseOrphaned'>): PrepareProcedure {
  const chosen = new Map(approved(plan).map((pp) => [partitionKey(pp.db, pp.table, pp.pid), pp]));
  const leaders = new Map<string, string>();
  for (const [k, pp] of chosen) {
    const l = plannedLeader(pp);
    if (l !== undefined) leaders.set(k, l);
  }
  return (): Procedure => ({
    rounds: 5,
    pipeline: true,
    scope: (s) => scopeTo(s, (t, p) => chosen.has(partitionKey(t.db, t.name, p.pid))),
    plan: (snapshot, _round, memory) => {
      const now = Date.now();
      const perPartition = (k: string): PlanOptions => ({ ...options, acceptDataLoss: chosen.get(k)?.decision.acceptDataLoss === true, leaders, now });
      const planned = planRecovery(snapshot, perPartition, memory ? (k): PartitionEvidence => memory.partition(k) : undefined);
      return { ...planned, partitions: planned.partitions.map((p) => withinApproval(p, chosen.get(partitionKey(p.db, p.table, p.pid)))) };
    },
  });
}

/**
 * A decision is approved for the loss the plan showed, no more: where the cluster now says
 * the planned leader lacks more (a replica read since holds entries it lacks), the
 * partition is refused, untouched, for a new plan to show it.
 */
function withinApproval(p: PartitionPlan, pp: PlannedPartition | undefined): PartitionPlan {
  if (!pp || p.action !== 'recover') return p;
  const known = (x: { atStake: number; atStakeUnknown?: boolean }) => (x.atStakeUnknown ? `${x.atStake} or more (unknown)` : String(x.atStake));
  if (p.atStake > pp.atStake) {
    return { ...p, action: 'refused', steps: [], reason: `the plan approved ${known(pp)} entries at stake, but ${p.leader?.endpoint ?? 'its leader'} now lacks ${known(p)} another replica holds: make a new plan to see why` };
  }
  return p;
}

/** `verify`: each approved partition served, by its planned leader, every replica in step. */
export function verifyPlan(plan: PlanFile, snapshot: ClusterSnapshot): Array<{ partition: string; ok: boolean; detail: string }> {
  return approved(plan).map((pp) => {
    const t = snapshot.tables.find((x) => x.db === pp.db && x.name === pp.table);
    const p = t?.partitions.find((x) => x.pid === pp.pid);
    if (!t || !p) return { partition: label(pp), ok: false, detail: 'gone from the cluster' };
    const verdict = assessPartition(t, p, snapshot);
    const leader = servingLeader(p)?.endpoint;
    const want = plannedLeader(pp);
    if (!verdict.healthy) return { partition: label(pp), ok: false, detail: verdict.problems.join('; ') || 'not served' };
    if (want !== undefined && leader !== want) return { partition: label(pp), ok: false, detail: `served by ${leader ?? '?'}, not by the planned leader ${want}` };
    return { partition: label(pp), ok: true, detail: `served by ${leader ?? '?'}, every replica in step` };
  });
}
