// The runbook's manual procedures as Procedures of the recover engine (recover.ts): each
// is made from the first observation (its arguments checked and names resolved there, or
// nothing runs), then says what the command looks at, how it plans a round from a fresh
// observation, and what "done" means for it. Planning stays a pure function of the snapshot (plus what the run has
// done so far); apply.ts executes the steps, idempotently.
import type { ClusterSnapshot, Partition, Replica, Table, Tablet } from '../cluster/types.js';
import { isUnfinished } from '../cluster/types.js';
import { Refused, UsageError } from '../exit-codes.js';
import type { ClusterStep } from './cluster-steps.js';
import { type HealthOptions, type Verdict, assessPartition, describeOp, isServing, opsForPartition } from './health.js';
import { type Action, type PartitionPlan, type Step, partitionEvidence, partitionKey } from './plan.js';
import { type PrepareProcedure, type Procedure, type Round, type RoundPlan, recoveryProcedure } from './recover.js';

// ---- shared --------------------------------------------------------------------------

function partitionPlan(t: Table, p: Partition, action: Action, reason: string, steps: Step[] = [], more: Partial<PartitionPlan> = {}): PartitionPlan {
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

const byPid = (a: Partition, b: Partition) => a.pid - b.pid;

/** Keep the partitions `keep` selects; with `wholeTables`, every partition of a table that has one. */
function scopeTo(s: ClusterSnapshot, keep: (t: Table, p: Partition) => boolean, wholeTables = false): ClusterSnapshot {
  const tables: Table[] = [];
  for (const t of s.tables) {
    const kept = t.partitions.filter((p) => keep(t, p));
    if (kept.length === 0) continue;
    tables.push(wholeTables ? t : { ...t, partitions: kept });
  }
  return { ...s, tables };
}

/** A tablet named by endpoint or, with server names, by its real address. */
function findTablet(s: ClusterSnapshot, endpoint: string): Tablet {
  const t = s.tablets.find((x) => x.endpoint === endpoint || x.address === endpoint);
  if (t) return t;
  const known = s.tablets.map((x) => x.endpoint).join(', ') || 'none';
  throw new UsageError(`unknown endpoint ${endpoint}: the nameserver lists the tablets ${known}`);
}

/** Unfinished ops of a partition: wait for them, fire nothing (never two ops at once). */
function waitPlan(t: Table, p: Partition, s: ClusterSnapshot): PartitionPlan | undefined {
  const running = opsForPartition(s, t, p.pid).filter(isUnfinished);
  if (running.length === 0) return undefined;
  return partitionPlan(t, p, 'wait', `${running.map(describeOp).join('; ')}: waiting for it to finish, firing nothing`, [{ kind: 'wait-ops' }]);
}

const aliveLeaders = (p: Partition): Replica[] => p.replicas.filter((r) => r.isLeader && r.isAlive);

/** Does its tablet run it as a serving leader? */
const servesAsLeader = (r: Replica): boolean => r.loaded?.mode === 'kTableLeader' && isServing(r);

function withPrefix(pid: number, v: { problems: string[]; warnings: string[] }): Verdict {
  const pfx = `pid ${pid}: `;
  return { healthy: v.problems.length === 0, problems: v.problems.map((x) => pfx + x), warnings: v.warnings.map((x) => pfx + x) };
}

function unfinishedOps(t: Table, p: Partition, s: ClusterSnapshot): string[] {
  return opsForPartition(s, t, p.pid).filter(isUnfinished).map(describeOp);
}

// ---- recover-table -------------------------------------------------------------------

export interface RecoverTableSpec {
  db: string;
  name: string;
  /** Only these partitions (default: all). */
  pids?: number[];
  /** Operator-chosen leaders by pid. */
  leaders: Map<number, string>;
  acceptDataLoss: boolean;
}

/**
 * The manual data recovery of the runbook for one table, whether or not the partitions
 * look served: each one is planned with `force` until its procedure ran once.
 */
export function recoverTableProcedure(spec: RecoverTableSpec): PrepareProcedure {
  const label = `${spec.db}.${spec.name}`;
  return (s) => {
    // The named leaders, by partition key, as the replicas' endpoints.
    const leaders = new Map<string, string>();
    const t = s.tables.find((x) => x.db === spec.db && x.name === spec.name);
    if (!t) throw new UsageError(`table ${label} does not exist in the cluster`);
    const pids = t.partitions.map((p) => p.pid).sort((a, b) => a - b);
    const known = `its pids are ${pids.join(', ')}`;
    for (const pid of spec.pids ?? []) {
      if (!pids.includes(pid)) throw new UsageError(`${label} has no partition ${pid}: ${known}`);
    }
    for (const [pid, named] of spec.leaders) {
      const p = t.partitions.find((x) => x.pid === pid);
      if (!p) throw new UsageError(`--leader ${pid}=${named}: ${label} has no partition ${pid}: ${known}`);
      if (spec.pids && !spec.pids.includes(pid)) throw new UsageError(`--leader ${pid}=${named}: pid ${pid} is not among --pid ${spec.pids.join(' ')}`);
      // Accept the real address of a server registered by name.
      const address = s.tablets.find((x) => x.address === named && x.endpoint !== named)?.endpoint;
      const endpoint = p.replicas.some((r) => r.endpoint === named) ? named : address;
      if (endpoint === undefined || !p.replicas.some((r) => r.endpoint === endpoint)) {
        throw new UsageError(`--leader ${pid}=${named}: ${named} is not a replica of ${label} pid ${pid} (replicas: ${p.replicas.map((r) => r.endpoint).join(', ')})`);
      }
      leaders.set(partitionKey(spec.db, spec.name, pid), endpoint);
    }
    return {
      scope: (x) => scopeTo(x, (t, p) => t.db === spec.db && t.name === spec.name && (spec.pids === undefined || spec.pids.includes(p.pid))),
      plan: recoveryProcedure({ acceptDataLoss: spec.acceptDataLoss, force: true, leaders }).plan,
    };
  };
}

// ---- offline-endpoint ----------------------------------------------------------------

export interface EndpointSpec {
  endpoint: string;
  concurrency?: number;
}

/**
 * Out of service: the replica on `ep` is not alive and, unless it is the partition's only
 * replica, another replica is its alive leader.
 */
function isOffline(p: Partition, ep: string): boolean {
  const r = p.replicas.find((x) => x.endpoint === ep);
  if (!r) return true;
  if (p.replicas.length === 1) return !r.isAlive;
  return !r.isAlive && p.replicas.some((x) => x !== r && x.isLeader && x.isAlive);
}

/** What OfflineEndpointDBInternal does for this partition (protocol reference 3.10). */
function offlineEffect(p: Partition, r: Replica, ep: string): string {
  if (p.replicas.length === 1) return `single replica: offlineendpoint marks it not alive (kUpdatePartitionStatusOP); no other replica can serve it until recover-endpoint ${ep}`;
  const leader = aliveLeaders(p).find((x) => x !== r);
  if (r.isLeader || !leader) return 'leader here: offlineendpoint elects another leader (kChangeLeaderOP)';
  return `follower here: offlineendpoint removes it from leader ${leader.endpoint}'s replica set and marks it not alive (kOfflineReplicaOP)`;
}

export function planOfflinePartition(t: Table, p: Partition, s: ClusterSnapshot, ep: string, commandRan: boolean): PartitionPlan {
  const r = p.replicas.find((x) => x.endpoint === ep);
  if (!r || isOffline(p, ep)) return partitionPlan(t, p, 'none', `already out of service on ${ep}`);
  const wait = waitPlan(t, p, s);
  if (wait) return wait;
  const others = p.replicas.filter((x) => x !== r);
  const candidates = others.filter((x) => x.isAlive && !x.isLeader && x.tablet === 'healthy');
  const leaderElsewhere = aliveLeaders(p).find((x) => x !== r);
  const noTakeover = () =>
    partitionPlan(t, p, 'blocked', `no alive follower on a healthy tablet can take over the leadership (${others.map((x) => `${x.endpoint} ${x.isAlive ? 'alive' : 'not alive'}, tablet ${x.tablet}`).join('; ')})`);
  if (!commandRan) {
    if (others.length > 0 && !leaderElsewhere && candidates.length === 0) return noTakeover();
    return partitionPlan(t, p, 'recover', offlineEffect(p, r, ep), [], { via: [`offlineendpoint ${ep}`] });
  }
  // The command ran and this partition is still not out of service (its op failed, or
  // none was made): finish it on its own, as the runbook says.
  const down: Step = { kind: 'set-alive', endpoint: ep, alive: false };
  if (others.length === 0) return partitionPlan(t, p, 'recover', 'single replica: marking it not alive, as kUpdatePartitionStatusOP would have', [down]);
  if (leaderElsewhere) return partitionPlan(t, p, 'recover', `leader ${leaderElsewhere.endpoint} is alive elsewhere: marking ${ep} not alive, as kOfflineReplicaOP would have`, [down]);
  if (candidates.length === 0) return noTakeover();
  return partitionPlan(t, p, 'recover', `no alive leader on another replica: changeleader ${t.name} ${p.pid} auto, then ${ep} not alive`, [
    { kind: 'change-leader', endpoint: 'auto', from: ep },
    { kind: 'wait-ops' },
    down,
  ]);
}

/** The verdict of offline-endpoint: out of service there, served elsewhere. */
export function offlineVerdict(t: Table, p: Partition, s: ClusterSnapshot, ep: string): Verdict {
  const problems: string[] = [];
  const warnings: string[] = [];
  const r = p.replicas.find((x) => x.endpoint === ep);
  if (r) {
    if (r.isAlive) problems.push(`replica ${ep} is still alive in the metadata`);
    if (p.replicas.length === 1) {
      warnings.push(`${ep} holds its only replica: not served until recover-endpoint ${ep}`);
    } else {
      const leaders = aliveLeaders(p).filter((x) => x !== r);
      if (leaders.length === 0) problems.push(`no other replica is an alive leader`);
      else if (leaders.length > 1) problems.push(`${leaders.length} replicas are alive leaders: ${leaders.map((x) => x.endpoint).join(', ')}`);
      else {
        const l = leaders[0] as Replica;
        if (l.tablet !== 'healthy') problems.push(`leader ${l.endpoint}'s tablet is ${l.tablet}`);
        else if (!servesAsLeader(l)) problems.push(`leader ${l.endpoint} does not serve it as leader (${l.loaded ? `${l.loaded.mode} ${l.loaded.state}` : 'not loaded'})`);
      }
    }
  }
  problems.push(...unfinishedOps(t, p, s));
  return withPrefix(p.pid, { problems, warnings });
}

/**
 * `offlineendpoint` for a tablet that is down (auto_failover off): every partition with a
 * replica there gets an alive leader elsewhere and that replica is marked not alive.
 */
export function offlineEndpointProcedure(spec: EndpointSpec): PrepareProcedure {
  return (first) => {
    const tablet = findTablet(first, spec.endpoint);
    const ep = tablet.endpoint;
    if (tablet.state === 'healthy') {
      throw new Refused(
        `tablet ${ep} is healthy (kHealthy in showtablet): offline-endpoint takes a tablet that is down out of service; nothing was changed (to move leaders off a running tablet, use change-leader)`,
      );
    }
    return {
      rounds: 4,
      scope: (s) => scopeTo(s, (_t, p) => p.replicas.some((r) => r.endpoint === ep)),
      plan(s, round) {
        const ran = round.ran.has('offline-endpoint');
        const partitions = s.tables.flatMap((t) => [...t.partitions].sort(byPid).map((p) => planOfflinePartition(t, p, s, ep, ran)));
        return { partitions, cluster: endpointCommand(partitions, ran, { kind: 'offline-endpoint', endpoint: ep, ...concurrency(spec) }) };
      },
      verdict: (t, p, s) => offlineVerdict(t, p, s, ep),
    };
  };
}

const concurrency = (spec: EndpointSpec) => (spec.concurrency !== undefined ? { concurrency: spec.concurrency } : {});

/**
 * The endpoint-wide command runs once, when some partition needs it and no partition
 * still has an op in flight (it would fire a second op for that partition).
 */
function endpointCommand(partitions: PartitionPlan[], ran: boolean, step: ClusterStep): ClusterStep[] {
  if (ran || partitions.some((p) => p.action === 'wait')) return [];
  return partitions.some((p) => p.action === 'recover' && p.via !== undefined) ? [step] : [];
}

// ---- recover-endpoint ----------------------------------------------------------------

export interface RecoverEndpointSpec extends EndpointSpec {
  needRestore: boolean;
}

export function planRecoverEndpointPartition(t: Table, p: Partition, s: ClusterSnapshot, spec: RecoverEndpointSpec & { endpoint: string }, commandRan: boolean): PartitionPlan {
  const ep = spec.endpoint;
  const r = p.replicas.find((x) => x.endpoint === ep);
  const health = assessPartition(t, p, s);
  if (health.healthy) return partitionPlan(t, p, 'none', 'healthy');
  if (!r) return partitionPlan(t, p, 'none', `no replica on ${ep}; not served: ${health.problems[0] ?? ''}`);
  const wait = waitPlan(t, p, s);
  if (wait) return wait;
  const single = p.replicas.length === 1;
  const leader = aliveLeaders(p).find((x) => x !== r && x.tablet === 'healthy' && servesAsLeader(x));
  if (!single && !leader) {
    return partitionPlan(t, p, 'blocked', `no other replica is an alive, serving leader to rebuild ${ep} from: use recover-table ${t.db}.${t.name} --pid ${p.pid}`);
  }
  if (!commandRan && (!r.isAlive || single)) {
    return partitionPlan(t, p, 'recover', single ? 'single replica: recoverendpoint reloads it (kRecoverTableOP, kReLoadTableOP)' : `recoverendpoint rebuilds it from leader ${leader?.endpoint} (kRecoverTableOP)`, [], {
      via: [`recoverendpoint ${ep} ${spec.needRestore}`],
    });
  }
  const problemsHere = health.problems.some((x) => x.includes(ep));
  if (r.isAlive && !problemsHere) return partitionPlan(t, p, 'none', `replica ${ep} is fine; not served: ${health.problems[0] ?? ''}`);
  // recoverendpoint skips alive replicas, and an op may have failed: retry it on its own.
  const steps: Step[] = [];
  if (r.isAlive) steps.push({ kind: 'set-alive', endpoint: ep, alive: false });
  steps.push({ kind: 'recover-replica', endpoint: ep }, { kind: 'wait-ops' });
  return partitionPlan(t, p, 'recover', `${r.isAlive ? `${ep} is alive but not served` : 'its recovery did not finish'}: recovertable ${t.name} ${p.pid} ${ep}`, steps);
}

/**
 * `recoverendpoint` for a tablet that is back and healthy after offline-endpoint: its
 * replicas are rebuilt from their leaders; the affected tables must end healthy.
 */
export function recoverEndpointProcedure(spec: RecoverEndpointSpec): PrepareProcedure {
  return (s) => {
    const tablet = findTablet(s, spec.endpoint);
    const ep = tablet.endpoint;
    const hasReplica = (p: Partition) => p.replicas.some((r) => r.endpoint === ep);
    const scope = (x: ClusterSnapshot) => scopeTo(x, (_t, p) => hasReplica(p), true);
    if (tablet.state !== 'healthy') {
      throw new Refused(`tablet ${ep} is ${tablet.state} (showtablet): recover-endpoint needs it running and kHealthy; start it, then run this again; nothing was changed`);
    }
    const replicas = s.tables.flatMap((t) => t.partitions.flatMap((p) => p.replicas.filter((r) => r.endpoint === ep)));
    if (replicas.length > 0 && replicas.every((r) => r.isAlive)) {
      const scoped = scope(s);
      const unserved = scoped.tables.flatMap((t) => t.partitions.filter((p) => hasReplica(p) && !assessPartition(t, p, scoped).healthy).map((p) => `${t.db}.${t.name} pid ${p.pid}`));
      if (unserved.length > 0) {
        throw new Refused(
          `every replica on ${ep} is still alive in the metadata, yet ${unserved.length} of its partitions are not served (${unserved.slice(0, 3).join(', ')}${unserved.length > 3 ? ', ...' : ''}): ` +
            `it was never taken offline, so recoverendpoint would skip them all; nothing was changed. Run \`openmldb-recover recover\`, or stop the tablet, offline-endpoint ${ep}, start it and recover-endpoint ${ep}`,
        );
      }
    }
    return {
      scope,
      plan(s, round) {
        const ran = round.ran.has('recover-endpoint');
        const partitions = s.tables.flatMap((t) => [...t.partitions].sort(byPid).map((p) => planRecoverEndpointPartition(t, p, s, { ...spec, endpoint: ep }, ran)));
        return { partitions, cluster: endpointCommand(partitions, ran, { kind: 'recover-endpoint', endpoint: ep, needRestore: spec.needRestore, ...concurrency(spec) }) };
      },
    };
  };
}

// ---- change-leader -------------------------------------------------------------------

export interface ChangeLeaderSpec {
  db: string;
  name: string;
  pid: number;
  /** A replica's endpoint, or `auto`. */
  to: string;
}

/**
 * `changeleader TABLE PID ENDPOINT|auto`. Done when the new leader (the named replica, or
 * with `auto` any replica but the leader found at the start) is the alive leader and its
 * tablet serves the partition as leader.
 */
export function changeLeaderProcedure(spec: ChangeLeaderSpec): PrepareProcedure {
  return (first) => changeLeader(spec, first);
}

function changeLeader(spec: ChangeLeaderSpec, first: ClusterSnapshot): Procedure {
  const label = `${spec.db}.${spec.name}`;
  const t0 = first.tables.find((x) => x.db === spec.db && x.name === spec.name);
  if (!t0) throw new UsageError(`table ${label} does not exist in the cluster`);
  const p0 = t0.partitions.find((x) => x.pid === spec.pid);
  if (!p0) throw new UsageError(`${label} has no partition ${spec.pid}: its pids are ${t0.partitions.map((x) => x.pid).sort((a, b) => a - b).join(', ')}`);
  let to = spec.to;
  if (spec.to !== 'auto') {
    const address = first.tablets.find((x) => x.address === spec.to && x.endpoint !== spec.to)?.endpoint;
    const endpoint = p0.replicas.some((r) => r.endpoint === spec.to) ? spec.to : address;
    if (endpoint === undefined || !p0.replicas.some((r) => r.endpoint === endpoint)) {
      throw new UsageError(`--to ${spec.to} is not a replica of ${label} pid ${spec.pid} (replicas: ${p0.replicas.map((r) => r.endpoint).join(', ')})`);
    }
    to = endpoint;
  }
  /** The alive leader at the start: with `auto`, the leadership must leave it. */
  const leadersAtStart = aliveLeaders(p0);
  const from = leadersAtStart.length === 1 ? leadersAtStart[0]?.endpoint : undefined;
  const target = (p: Partition): Replica | undefined =>
    to === 'auto' ? aliveLeaders(p).find((r) => r.endpoint !== from) : p.replicas.find((r) => r.endpoint === to && r.isLeader && r.isAlive);

  const plan = (t: Table, p: Partition, s: ClusterSnapshot, round: Round): PartitionPlan => {
    const wait = waitPlan(t, p, s);
    if (wait) return wait;
    const now = target(p);
    if (now && (to !== 'auto' || round.round > 1)) return partitionPlan(t, p, 'none', `${now.endpoint} is the alive leader`);
    if (p.replicas.length === 1) return partitionPlan(t, p, 'refused', 'the partition has a single replica: no follower to become leader');
    if (to !== 'auto') {
      const r = p.replicas.find((x) => x.endpoint === to) as Replica;
      if (!r.isAlive) return partitionPlan(t, p, 'refused', `${to} is not alive in the metadata: changeleader needs an alive follower (bring it back first: recover-table ${label} --pid ${p.pid})`);
      if (r.tablet !== 'healthy') return partitionPlan(t, p, 'refused', `${to}'s tablet is ${r.tablet}: changeleader needs a follower on a healthy tablet`);
      return partitionPlan(t, p, 'recover', `make ${to} the leader${from ? ` instead of ${from}` : ''}`, [{ kind: 'change-leader', endpoint: to }, { kind: 'wait-ops' }]);
    }
    const candidates = p.replicas.filter((x) => x.isAlive && !x.isLeader && x.tablet === 'healthy');
    if (candidates.length === 0) return partitionPlan(t, p, 'refused', 'no alive follower on a healthy tablet: nothing for changeleader auto to choose');
    return partitionPlan(t, p, 'recover', `the nameserver picks the follower with the most data among ${candidates.map((x) => x.endpoint).join(', ')}${from ? ` to replace ${from}` : ''}`, [
      { kind: 'change-leader', endpoint: 'auto', ...(from !== undefined ? { from } : {}) },
      { kind: 'wait-ops' },
    ]);
  };

  return {
    rounds: 2,
    scope: (s) => scopeTo(s, (t, p) => t.db === spec.db && t.name === spec.name && p.pid === spec.pid),
    plan: (s, round): RoundPlan => ({ partitions: s.tables.flatMap((t) => t.partitions.map((p) => plan(t, p, s, round))) }),
    verdict(t, p, s, _opts: HealthOptions): Verdict {
      const problems: string[] = [];
      const warnings: string[] = [];
      const leaders = aliveLeaders(p);
      const l = target(p);
      if (!l) problems.push(to === 'auto' ? `no replica other than ${from ?? '?'} is the alive leader` : `${to} is not the alive leader`);
      else if (leaders.length > 1) problems.push(`${leaders.length} replicas are alive leaders: ${leaders.map((x) => x.endpoint).join(', ')}`);
      else if (!servesAsLeader(l)) problems.push(`new leader ${l.endpoint} is not loaded as a serving leader (${l.loaded ? `${l.loaded.mode} ${l.loaded.state}` : 'not loaded'})`);
      problems.push(...unfinishedOps(t, p, s));
      const old = from !== undefined ? p.replicas.find((r) => r.endpoint === from) : undefined;
      if (old && l && old !== l && !old.isAlive) {
        warnings.push(`old leader ${old.endpoint} is not alive now: \`openmldb-recover recover --table ${label}\` brings it back as a follower`);
      }
      return withPrefix(p.pid, { problems, warnings });
    },
  };
}
