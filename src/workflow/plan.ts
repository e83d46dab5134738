// The recovery plan: a pure function of a ClusterSnapshot. Per partition it decides
// whether anything must be done, which replica must lead (the one holding the most data),
// what would be lost, and lists the runbook's manual procedure as steps. The applier
// re-checks every step against the live cluster, so the plan lists the full procedure.
import {
  type ClusterSnapshot,
  isUnfinished,
  type Partition,
  type Replica,
  type StorageMode,
  type Table,
  type TableMode,
} from '../cluster/types.js';
import { assessPartition, describeOp, isServing, opsForPartition } from './health.js';

export type Step =
  | { kind: 'set-alive'; endpoint: string; alive: boolean }
  | { kind: 'load'; endpoint: string; mode: TableMode }
  | { kind: 'wait-loaded'; endpoint: string }
  /**
   * `changeleader TABLE PID ENDPOINT`, or with `endpoint: 'auto'` `changeleader TABLE PID auto`
   * (the nameserver picks the follower with the most data); `from` is the replica the
   * leadership must leave, so a rerun can tell that the change already happened.
   */
  | { kind: 'change-leader'; endpoint: string; from?: string }
  | { kind: 'recover-replica'; endpoint: string }
  | { kind: 'wait-ops' };

export type EvidenceSource = 'loaded' | 'metadata' | 'snapshot' | 'none';

/** How much data one replica is known to hold. */
export interface Evidence {
  endpoint: string;
  /** Best lower bound of the entries this replica holds. */
  offset: number;
  /** Where `offset` came from. */
  source: EvidenceSource;
  /** Offset its tablet reports now (exact when serving, partial while loading). */
  loadedOffset?: number;
  /** Last offset the nameserver polled (stale after a restart, but entries only grow). */
  metaOffset?: number;
  /** GetTermPair's snapshot offset for an unloaded replica. */
  snapshotOffset?: number;
  tablet: 'healthy' | 'offline' | 'unknown';
  flaggedLeader: boolean;
  alive: boolean;
}

export type Action = 'none' | 'recover' | 'wait' | 'refused' | 'blocked';

export interface LeaderChoice {
  endpoint: string;
  offset: number;
  source: EvidenceSource;
  flaggedLeader: boolean;
  /** e.g. `highest offset 2153 (metadata); flagged leader 127.0.0.1:9520 has 2100`. */
  why: string;
}

export interface PartitionPlan {
  db: string;
  table: string;
  tid: number;
  pid: number;
  storageMode: StorageMode;
  segCnt: number;
  action: Action;
  reason: string;
  /** The replica that leads after recovery (or would, for 'refused'). */
  leader?: LeaderChoice;
  /** One per replica, in metadata order. */
  evidence: Evidence[];
  /** Entries the chosen leader lacks that some other replica holds (0 = no loss). */
  atStake: number;
  /** Replicas this run cannot bring back, and why. */
  left: Array<{ endpoint: string; why: string }>;
  steps: Step[];
  /** Cluster-wide runbook commands (offlineendpoint, recoverendpoint) that act on this partition. */
  via?: string[];
}

export interface Plan {
  autoFailover: boolean;
  partitions: PartitionPlan[];
}

export interface PlanOptions {
  /** Allow a leader that lacks entries another replica holds. */
  acceptDataLoss: boolean;
  /** Plan even partitions that look healthy (recover-table). */
  force?: boolean;
  /** Operator-chosen leaders, keyed by `partitionKey(db, table, pid)`. */
  leaders?: Map<string, string>;
}

/** Key of `PlanOptions.leaders`: `${db}.${table}:${pid}`. */
export const partitionKey = (db: string, table: string, pid: number): string => `${db}.${table}:${pid}`;

/**
 * A replica's evidence: the tablet's offset when it serves the partition (exact truth);
 * otherwise the largest lower bound among the metadata offset, the snapshot offset and the
 * offset of a load still in progress.
 */
export function gatherEvidence(r: Replica): Evidence {
  const base = {
    endpoint: r.endpoint,
    tablet: r.tablet,
    flaggedLeader: r.isLeader,
    alive: r.isAlive,
    ...(r.loaded !== undefined ? { loadedOffset: r.loaded.offset } : {}),
    ...(r.metaOffset !== undefined ? { metaOffset: r.metaOffset } : {}),
    ...(r.snapshotOffset !== undefined ? { snapshotOffset: r.snapshotOffset } : {}),
  };
  if (r.loaded && isServing(r)) return { ...base, offset: r.loaded.offset, source: 'loaded' };
  // Ties go to the earlier source: metadata names the binlog tail as last seen.
  const bounds: Array<[number | undefined, EvidenceSource]> = [
    [r.metaOffset, 'metadata'],
    [r.snapshotOffset, 'snapshot'],
    [r.loaded?.offset, 'loaded'],
  ];
  let offset = 0;
  let source: EvidenceSource = 'none';
  for (const [o, s] of bounds) {
    if (o !== undefined && (source === 'none' || o > offset)) {
      offset = o;
      source = s;
    }
  }
  return { ...base, offset, source };
}

const loadedAsServingLeader = (r: Replica): boolean => r.loaded?.mode === 'kTableLeader' && isServing(r);

/**
 * Replica indexes, best leader candidate first: most data; then already serving as
 * leader, flagged alive leader, flagged leader; then metadata order.
 */
function rank(replicas: Replica[], ev: Evidence[]): number[] {
  const key = (i: number): number[] => {
    const r = replicas[i]!;
    return [
      -ev[i]!.offset,
      loadedAsServingLeader(r) ? 0 : 1,
      r.isLeader && r.isAlive ? 0 : 1,
      r.isLeader ? 0 : 1,
      i,
    ];
  };
  const cmp = (a: number[], b: number[]): number => {
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
    return 0;
  };
  return replicas.map((_, i) => i).sort((a, b) => cmp(key(a), key(b)));
}

/** Why the tie-break picked `r` over others with the same offset. */
function tieBreak(r: Replica): string {
  if (loadedAsServingLeader(r)) return 'already serving as leader';
  if (r.isLeader && r.isAlive) return 'flagged alive leader';
  if (r.isLeader) return 'flagged leader';
  return 'first in metadata order';
}

const offsetText = (e: Evidence): string => `${e.offset} (${e.source})`;

/** The `why` of a leader chosen as the best replica, or the best on a healthy tablet. */
function explainChoice(chosen: number, best: number, replicas: Replica[], ev: Evidence[]): string {
  const c = ev[chosen]!;
  const parts: string[] = [];
  if (chosen === best) {
    parts.push(`highest offset ${offsetText(c)}`);
  } else {
    const b = ev[best]!;
    parts.push(`best on a healthy tablet: offset ${offsetText(c)}; ${b.endpoint} (tablet ${b.tablet}) has ${b.offset}`);
  }
  const tied = ev.filter((e, i) => i !== chosen && e.offset === c.offset && replicas[i]!.tablet === 'healthy');
  if (tied.length > 0) {
    parts.push(`tied with ${tied.map((e) => e.endpoint).join(', ')}; preferred as ${tieBreak(replicas[chosen]!)}`);
  }
  for (const [i, e] of ev.entries()) {
    if (i !== chosen && i !== best && e.flaggedLeader) parts.push(`flagged leader ${e.endpoint} has ${e.offset}`);
  }
  return parts.join('; ');
}

interface Choice {
  index?: number;
  why: string;
  /** Set when the choice itself is impossible. */
  fail?: { action: 'refused' | 'blocked'; reason: string };
}

/** Pick the leader: operator-named, else the most data on a healthy tablet (rules d, e). */
function chooseLeader(replicas: Replica[], ev: Evidence[], named: string | undefined): Choice {
  if (named !== undefined) {
    const i = replicas.findIndex((r) => r.endpoint === named);
    if (i < 0) {
      const eps = replicas.map((r) => r.endpoint).join(', ');
      return { why: '', fail: { action: 'refused', reason: `named leader ${named} is not a replica (replicas: ${eps})` } };
    }
    const r = replicas[i]!;
    if (r.tablet !== 'healthy') {
      return { why: '', fail: { action: 'refused', reason: `named leader ${named} sits on a tablet that is ${r.tablet}` } };
    }
    return { index: i, why: `named by the operator; offset ${offsetText(ev[i]!)}` };
  }
  const order = rank(replicas, ev);
  const best = order[0]!;
  const healthy = order.find((i) => replicas[i]!.tablet === 'healthy');
  if (healthy === undefined) {
    const where = replicas.map((r) => `${r.endpoint} ${r.tablet}`).join(', ');
    return { why: '', fail: { action: 'blocked', reason: `no replica sits on a healthy tablet (${where})` } };
  }
  // An unhealthy replica tied with the healthy best holds nothing more: not a real "best".
  const top = ev[best]!.offset > ev[healthy]!.offset ? best : healthy;
  return { index: healthy, why: explainChoice(healthy, top, replicas, ev) };
}

/** Entries the leader lacks that the most advanced other replica holds (rule f), and who. */
function dataAtStake(leader: number, ev: Evidence[]): { atStake: number; holder?: Evidence } {
  let atStake = 0;
  let holder: Evidence | undefined;
  for (const [i, e] of ev.entries()) {
    const d = e.offset - ev[leader]!.offset;
    if (i !== leader && d > atStake) {
      atStake = d;
      holder = e;
    }
  }
  return holder ? { atStake, holder } : { atStake };
}

/** The runbook's manual procedure for one partition, from the snapshot (rule g). */
function recoverySteps(
  replicas: Replica[],
  leader: Replica,
): { steps: Step[]; left: Array<{ endpoint: string; why: string }> } {
  const steps: Step[] = [];
  const left: Array<{ endpoint: string; why: string }> = [];
  const others = replicas.filter((r) => r !== leader);

  if (others.length === 0) {
    // Single replica: load it as leader and mark it alive (steps 2-3).
    pushLoad(steps, leader, 'kTableLeader');
    if (!leader.isAlive) steps.push({ kind: 'set-alive', endpoint: leader.endpoint, alive: true });
    return { steps, left };
  }

  // 1. Stop routing to every other replica (recovertable also refuses alive ones). A tablet
  //    the nameserver does not know cannot be edited (302 endpoint does not exist).
  for (const r of others) {
    if (r.isAlive && r.tablet !== 'unknown') steps.push({ kind: 'set-alive', endpoint: r.endpoint, alive: false });
  }
  // 2. Load the leader. A replica not flagged leader can only become leader through
  //    changeleader, whose kSelectLeader needs it loaded as an alive follower.
  pushLoad(steps, leader, leader.isLeader ? 'kTableLeader' : 'kTableFollower');
  // 3. Route clients to it.
  if (!leader.isAlive) steps.push({ kind: 'set-alive', endpoint: leader.endpoint, alive: true });
  // 4. Switch the metadata to it.
  if (!leader.isLeader) steps.push({ kind: 'change-leader', endpoint: leader.endpoint }, { kind: 'wait-ops' });
  // 5. Rebuild the other replicas from it.
  let recovering = 0;
  for (const r of others) {
    if (r.tablet === 'healthy') {
      steps.push({ kind: 'recover-replica', endpoint: r.endpoint });
      recovering++;
      continue;
    }
    const stillAlive = r.isAlive && r.tablet === 'unknown' ? '; it stays marked alive (updatetablealive refuses an unknown endpoint)' : '';
    left.push({
      endpoint: r.endpoint,
      why: `tablet ${r.tablet}: a later run or recoverendpoint brings it back${stillAlive}`,
    });
  }
  if (recovering > 0) steps.push({ kind: 'wait-ops' });
  return { steps, left };
}

/** Load (unless its tablet already has the partition) and wait until it serves. */
function pushLoad(steps: Step[], r: Replica, mode: TableMode): void {
  if (r.loaded === undefined) steps.push({ kind: 'load', endpoint: r.endpoint, mode });
  if (!isServing(r)) steps.push({ kind: 'wait-loaded', endpoint: r.endpoint });
}

/** Plan one partition. */
export function planPartition(
  table: Table,
  partition: Partition,
  snapshot: ClusterSnapshot,
  options: PlanOptions,
): PartitionPlan {
  const replicas = partition.replicas;
  const evidence = replicas.map(gatherEvidence);
  const base = {
    db: table.db,
    table: table.name,
    tid: table.tid,
    pid: partition.pid,
    storageMode: table.storageMode,
    segCnt: table.segCnt,
    evidence,
  };
  const result = (action: Action, reason: string, more: Partial<PartitionPlan> = {}): PartitionPlan => ({
    ...base,
    action,
    reason,
    atStake: 0,
    left: [],
    steps: [],
    ...more,
  });

  // a. Nothing to do.
  if (!options.force && assessPartition(table, partition, snapshot).healthy) return result('none', 'healthy');
  // b. Ops already running are waited on, never fired twice.
  const running = opsForPartition(snapshot, table, partition.pid).filter(isUnfinished);
  if (running.length > 0) {
    return result('wait', `${running.map(describeOp).join('; ')}: waiting for it to finish, firing nothing`, { steps: [{ kind: 'wait-ops' }] });
  }
  if (replicas.length === 0) return result('blocked', 'the partition has no replica in the metadata');

  // d, e. Who leads.
  const named = options.leaders?.get(partitionKey(table.db, table.name, partition.pid));
  const choice = chooseLeader(replicas, evidence, named);
  if (choice.fail || choice.index === undefined) {
    return result(choice.fail?.action ?? 'blocked', choice.fail?.reason ?? 'no leader could be chosen');
  }
  const li = choice.index;
  const leaderReplica = replicas[li]!;
  const le = evidence[li]!;
  const leader: LeaderChoice = {
    endpoint: le.endpoint,
    offset: le.offset,
    source: le.source,
    flaggedLeader: le.flaggedLeader,
    why: choice.why,
  };

  // f. Refuse to discard entries unless told to.
  const { atStake, holder } = dataAtStake(li, evidence);
  if (atStake > 0 && holder && !options.acceptDataLoss) {
    const where = holder.tablet === 'healthy' ? '' : ` on a tablet that is ${holder.tablet}`;
    return result(
      'refused',
      `${holder.endpoint}${where} holds offset ${offsetText(holder)} but leader ${le.endpoint} has ${offsetText(le)}: ` +
        `${atStake} entries at stake; ${holder.tablet === 'healthy' ? 'name that replica as leader' : 'bring its tablet back'} or accept the data loss`,
      { leader, atStake },
    );
  }

  // A flagged leader whose tablet runs the partition as follower cannot be switched by any
  // runbook step (only the tablet's changerole could); loading again fails "table already exists".
  if (leaderReplica.isLeader && leaderReplica.loaded && leaderReplica.loaded.mode !== 'kTableLeader') {
    return result(
      'blocked',
      `leader ${le.endpoint} is flagged leader but its tablet runs the partition as ${leaderReplica.loaded.mode}`,
      { leader, atStake },
    );
  }

  // recovertable creates no op for a non-leader replica without an alive leader, and
  // changeleader needs a follower: nothing in the runbook makes a lone replica leader.
  if (replicas.length === 1 && !leaderReplica.isLeader) {
    return result('blocked', `the only replica ${le.endpoint} is not flagged leader in the metadata`, { leader });
  }

  // g. The procedure.
  const { steps, left } = recoverySteps(replicas, leaderReplica);
  const loss = atStake > 0 ? `; ${atStake} entries accepted as lost` : '';
  const partial = left.length > 0 ? `; partial: ${left.length} replica(s) stay behind (${left.map((l) => l.endpoint).join(', ')})` : '';
  return result('recover', `leader ${le.endpoint}: ${choice.why}${loss}${partial}`, { leader, atStake, left, steps });
}

/** Plan every partition of the snapshot's tables: tables as given, partitions by pid. */
export function planRecovery(snapshot: ClusterSnapshot, options: PlanOptions): Plan {
  const partitions = snapshot.tables.flatMap((t) =>
    [...t.partitions].sort((a, b) => a.pid - b.pid).map((p) => planPartition(t, p, snapshot, options)),
  );
  return { autoFailover: snapshot.autoFailover, partitions };
}

/** The runbook command a step stands for. */
export function describeStep(step: Step, p: PartitionPlan): string {
  switch (step.kind) {
    case 'set-alive':
      return `updatetablealive ${p.table} ${p.pid} ${step.endpoint} ${step.alive ? 'yes' : 'no'}`;
    case 'load':
      // The CLI's loadtable sends no storage_mode (memory only); disk tables need HTTP.
      if (p.storageMode === 'kMemory') {
        const follower = step.mode === 'kTableFollower' ? ' false' : '';
        return `loadtable ${p.table} ${p.tid} ${p.pid} 144000 ${p.segCnt}${follower} (on ${step.endpoint})`;
      }
      return `LoadTable over HTTP (${p.storageMode}, ${step.mode}) on ${step.endpoint}`;
    case 'wait-loaded':
      return `gettablestatus ${p.tid} ${p.pid} on ${step.endpoint} until it serves (kTableNormal)`;
    case 'change-leader':
      return `changeleader ${p.table} ${p.pid} ${step.endpoint}${step.endpoint === 'auto' && step.from !== undefined ? ` (away from ${step.from})` : ''}`;
    case 'recover-replica':
      return `recovertable ${p.table} ${p.pid} ${step.endpoint}`;
    case 'wait-ops':
      return `showopstatus ${p.table} ${p.pid} until no op is kInited or kDoing`;
  }
}
