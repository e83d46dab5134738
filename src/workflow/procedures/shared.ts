// What the runbook's procedures (this folder, one module each) share: a partition's plan,
// scoping a snapshot to what a command is about, finding a tablet, waiting for ops in
// flight, the endpoint-wide command. Planning stays a pure function of the snapshot (plus
// what the run has done so far); engine/apply.ts executes the steps, idempotently.
import { type ClusterSnapshot, type Partition, type Replica, type Table, type Tablet, isUnfinished } from '../../cluster/types.js';
import { UsageError } from '../../exit-codes.js';
import { type Verdict, describeOp, opsForPartition } from '../../engine/health.js';
import type { ClusterStep, PartitionPlan, PlanDecision, Step } from '../../engine/procedure.js';
import { partitionEvidence } from '../leader-choice.js';

export function partitionPlan(t: Table, p: Partition, action: PlanDecision, reason: string, steps: Step[] = [], more: Partial<PartitionPlan> = {}): PartitionPlan {
  return {
    db: t.db,
    table: t.name,
    tid: t.tid,
    pid: p.pid,
    storageMode: t.storageMode,
    segCnt: t.segCnt,
    action,
    reason,
    evidence: partitionEvidence(p),
    atStake: 0,
    left: [],
    steps,
    ...more,
  };
}

export const byPid = (a: Partition, b: Partition) => a.pid - b.pid;

/** Keep the partitions `keep` selects; with `wholeTables`, every partition of a table that has one. */
export function scopeTo(s: ClusterSnapshot, keep: (t: Table, p: Partition) => boolean, wholeTables = false): ClusterSnapshot {
  const tables: Table[] = [];
  for (const t of s.tables) {
    const kept = t.partitions.filter((p) => keep(t, p));
    if (kept.length === 0) continue;
    tables.push(wholeTables ? t : { ...t, partitions: kept });
  }
  return { ...s, tables };
}

/** A tablet named by endpoint or, with server names, by its real address. */
export function findTablet(s: ClusterSnapshot, endpoint: string): Tablet {
  const t = s.tablets.find((x) => x.endpoint === endpoint || x.address === endpoint);
  if (t) return t;
  const known = s.tablets.map((x) => x.endpoint).join(', ') || 'none';
  throw new UsageError(`unknown endpoint ${endpoint}: the nameserver lists the tablets ${known}`);
}

/** Unfinished ops of a partition: wait for them, fire nothing (never two ops at once). */
export function waitPlan(t: Table, p: Partition, s: ClusterSnapshot): PartitionPlan | undefined {
  const running = opsForPartition(s, t, p.pid).filter(isUnfinished);
  if (running.length === 0) return undefined;
  return partitionPlan(t, p, 'wait', `${running.map(describeOp).join('; ')}: waiting for it to finish, firing nothing`, [{ kind: 'wait-ops' }]);
}

export const aliveLeaders = (p: Partition): Replica[] => p.replicas.filter((r) => r.isLeader && r.isAlive);

export { servesAsLeader } from '../../engine/health.js';

export function withPrefix(pid: number, v: { problems: string[]; warnings: string[] }): Verdict {
  const pfx = `pid ${pid}: `;
  return { healthy: v.problems.length === 0, problems: v.problems.map((x) => pfx + x), warnings: v.warnings.map((x) => pfx + x) };
}

export function unfinishedOps(t: Table, p: Partition, s: ClusterSnapshot): string[] {
  return opsForPartition(s, t, p.pid).filter(isUnfinished).map(describeOp);
}

export interface EndpointSpec {
  endpoint: string;
  concurrency?: number;
}

export const concurrency = (spec: EndpointSpec) => (spec.concurrency !== undefined ? { concurrency: spec.concurrency } : {});

/**
 * The endpoint-wide command runs once, when some partition needs it and no partition
 * still has an op in flight (it would fire a second op for that partition).
 */
export function endpointCommand(partitions: PartitionPlan[], ran: boolean, step: ClusterStep): ClusterStep[] {
  if (ran || partitions.some((p) => p.action === 'wait')) return [];
  return partitions.some((p) => p.action === 'recover' && p.via !== undefined) ? [step] : [];
}
