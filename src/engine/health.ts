// The "fully served" verdict, shared by `status` (read-only) and the post-recovery verify
// step. Like `show table status` Warnings, but read from the nameserver metadata and the
// tablets directly. Pure: a function of a ClusterSnapshot only.
import {
  type ClusterSnapshot,
  isUnfinished,
  type Op,
  type Partition,
  type Replica,
  SERVING_STATES,
  type Table,
} from '../cluster/types.js';

/** OpenMLDB's own `check_binlog_sync_progress_delta`: the lag kCheckBinlogSyncProgress accepts. */
export const DEFAULT_MAX_FOLLOWER_LAG = 100_000;

export interface HealthOptions {
  /**
   * Highest op id that existed before the recovery began. Failed ops above it are
   * problems; at or below it they are history (warnings). Undefined (plain `status`):
   * every failed op is a warning, since showopstatus lists old failures for ever.
   */
  opBaseline?: number;
  /** Largest accepted leader - follower offset difference. */
  maxFollowerLag?: number;
}

export interface Verdict {
  healthy: boolean;
  /** One line each, operator-readable: `pid 2: follower 127.0.0.1:9522 is not alive`. */
  problems: string[];
  warnings: string[];
}

export interface PartitionHealth extends Verdict {
  pid: number;
}

export interface TableHealth extends Verdict {
  db: string;
  name: string;
  partitions: PartitionHealth[];
}

export interface ClusterHealth {
  healthy: boolean;
  tables: TableHealth[];
}

/** The ops showopstatus lists for one partition (an op without db matches any db: old layouts). */
export function opsForPartition(snapshot: ClusterSnapshot, table: Table, pid: number): Op[] {
  return snapshot.ops.filter(
    (op) => op.table === table.name && op.pid === pid && (op.db === undefined || op.db === table.db),
  );
}

/** `op 17 kRecoverTableOP is kDoing (task kLoadTable)`. */
export function describeOp(op: Op): string {
  const task = op.task !== undefined && op.task !== '-' ? ` (task ${op.task})` : '';
  return `op ${op.opId} ${op.opType} is ${op.status}${task}`;
}

/** Does its tablet run the partition in a state that serves reads/writes? */
export const isServing = (r: Replica): boolean => r.loaded !== undefined && SERVING_STATES.has(r.loaded.state);

/** Does its tablet run it as a serving leader? */
export const servesAsLeader = (r: Replica): boolean => r.loaded?.mode === 'kTableLeader' && isServing(r);

/** The alive leader, if the partition has exactly one and its healthy tablet serves it as leader. */
export function servingLeader(p: Partition): Replica | undefined {
  const leaders = p.replicas.filter((r) => r.isLeader && r.isAlive);
  const l = leaders[0];
  return leaders.length === 1 && l && l.tablet === 'healthy' && servesAsLeader(l) ? l : undefined;
}

/**
 * States accepted for a leader. kMakingSnapshot is routine (a periodic snapshot of a
 * serving table). kSnapshotPaused is not: only a re-add-replica op pauses the leader, and
 * with no op running it means one failed half-way and nothing will resume it.
 */
const LEADER_STATES = new Set(['kTableNormal', 'kMakingSnapshot']);

function tabletProblem(role: string, r: Replica): string | undefined {
  if (r.tablet === 'offline') return `${role} ${r.endpoint}'s tablet is offline`;
  if (r.tablet === 'unknown') return `${role} ${r.endpoint}'s tablet is unknown to the nameserver`;
  return undefined;
}

/** What is wrong with the one alive leader (metadata says it leads; does its tablet?). */
function leaderProblems(leader: Replica): string[] {
  const out: string[] = [];
  const t = tabletProblem('leader', leader);
  if (t) out.push(t);
  const l = leader.loaded;
  if (!l) {
    // An offline tablet cannot report anything: the tablet line says it all.
    if (leader.tablet === 'healthy') out.push(`leader ${leader.endpoint} has not loaded the partition`);
  } else if (l.mode !== 'kTableLeader') {
    out.push(`leader ${leader.endpoint} is loaded as ${l.mode}`);
  } else if (!LEADER_STATES.has(l.state)) {
    out.push(`leader ${leader.endpoint} is in ${l.state}`);
  }
  return out;
}

/** What is wrong with a replica that should be a serving follower of `leader`. */
function followerProblems(r: Replica, leader: Replica | undefined, maxLag: number): string[] {
  const out: string[] = [];
  if (!r.isAlive) out.push(`follower ${r.endpoint} is not alive`);
  if (r.isLeader) out.push(`follower ${r.endpoint} is still flagged leader`);
  const t = tabletProblem('follower', r);
  if (t) out.push(t);
  const l = r.loaded;
  if (!l) {
    if (r.tablet === 'healthy') out.push(`follower ${r.endpoint} has not loaded the partition`);
    return out;
  }
  if (l.mode !== 'kTableFollower') out.push(`follower ${r.endpoint} is loaded as ${l.mode}`);
  else if (!SERVING_STATES.has(l.state)) out.push(`follower ${r.endpoint} is in ${l.state}`);
  else if (leader?.loaded && leader.loaded.mode === 'kTableLeader' && isServing(leader)) {
    // The leader's own replicator decides who follows: a replica the metadata calls an
    // alive follower but the leader does not replicate to never receives a write.
    if (leader.followers !== undefined && !leader.followers.some((f) => f.endpoint === r.endpoint)) {
      out.push(`follower ${r.endpoint} is not in leader ${leader.endpoint}'s replica set (getfollower lists ${leader.followers.map((f) => f.endpoint).join(', ') || 'none'})`);
      return out;
    }
    // Offsets are only comparable against a leader that actually serves.
    const lo = leader.loaded.offset;
    if (l.offset > lo) {
      out.push(`follower ${r.endpoint} is at offset ${l.offset}, ahead of leader ${leader.endpoint} at ${lo}`);
    } else if (lo - l.offset > maxLag) {
      out.push(
        `follower ${r.endpoint} lags leader ${leader.endpoint} by ${lo - l.offset} entries (${l.offset} vs ${lo}; max ${maxLag})`,
      );
    }
  }
  return out;
}

/** Replicas flagged alive leader when there are several: no role can be checked, only that they serve. */
function contenderProblems(r: Replica): string[] {
  const t = tabletProblem('replica', r);
  if (t) return [t];
  if (!r.loaded) return [`replica ${r.endpoint} has not loaded the partition`];
  if (!SERVING_STATES.has(r.loaded.state)) return [`replica ${r.endpoint} is in ${r.loaded.state}`];
  return [];
}

/**
 * One partition's verdict. Healthy iff exactly one replica is an alive leader in the
 * metadata and its tablet runs it as a serving leader; every other replica is an alive,
 * non-leader follower served by a healthy tablet and close behind the leader; and no op
 * for the partition is unfinished or (after opBaseline) failed.
 */
export function assessPartition(
  table: Table,
  partition: Partition,
  snapshot: ClusterSnapshot,
  opts: HealthOptions = {},
): Verdict {
  const maxLag = opts.maxFollowerLag ?? DEFAULT_MAX_FOLLOWER_LAG;
  const raw: string[] = [];
  const warnings: string[] = [];

  const aliveLeaders = partition.replicas.filter((r) => r.isLeader && r.isAlive);
  const leader = aliveLeaders.length === 1 ? aliveLeaders[0] : undefined;
  if (aliveLeaders.length === 0) raw.push('no replica is an alive leader');
  if (aliveLeaders.length > 1) {
    raw.push(`${aliveLeaders.length} replicas are alive leaders: ${aliveLeaders.map((r) => r.endpoint).join(', ')}`);
  }
  if (leader) raw.push(...leaderProblems(leader));
  for (const r of partition.replicas) {
    if (r === leader) continue;
    if (aliveLeaders.length > 1 && aliveLeaders.includes(r)) raw.push(...contenderProblems(r));
    else raw.push(...followerProblems(r, leader, maxLag));
  }

  const failed: Op[] = [];
  for (const op of opsForPartition(snapshot, table, partition.pid)) {
    if (isUnfinished(op)) raw.push(describeOp(op));
    else if (op.status === 'kFailed') failed.push(op);
  }
  // A failed op is held against the partition only if it is recent (after the baseline)
  // AND the partition is still not served: a failure the recovery retried past is history,
  // as OpenMLDB keeps kFailed ops listed for ever (the simulator's `check` judges alike).
  const servedOtherwise = raw.length === 0;
  for (const op of failed) {
    const recent = opts.opBaseline !== undefined && op.opId > opts.opBaseline;
    if (recent && !servedOtherwise) raw.push(describeOp(op));
    else if (recent) warnings.push(`${describeOp(op)} (partition served since)`);
    else warnings.push(describeOp(op));
  }

  const pfx = `pid ${partition.pid}: `;
  return { healthy: raw.length === 0, problems: raw.map((p) => pfx + p), warnings: warnings.map((w) => pfx + w) };
}

export function assessTable(table: Table, snapshot: ClusterSnapshot, opts: HealthOptions = {}): TableHealth {
  const partitions = [...table.partitions]
    .sort((a, b) => a.pid - b.pid)
    .map((p) => ({ pid: p.pid, ...assessPartition(table, p, snapshot, opts) }));
  return {
    db: table.db,
    name: table.name,
    healthy: partitions.every((p) => p.healthy),
    problems: partitions.flatMap((p) => p.problems),
    warnings: partitions.flatMap((p) => p.warnings),
    partitions,
  };
}

/** Every table of the snapshot (the caller filters), in snapshot order. */
export function assessCluster(snapshot: ClusterSnapshot, opts: HealthOptions = {}): ClusterHealth {
  const tables = snapshot.tables.map((t) => assessTable(t, snapshot, opts));
  return { healthy: tables.every((t) => t.healthy), tables };
}
