// The last thing before auto_failover goes back on. A partition a run has worked on and left
// without a serving leader, with a replica on a tablet that is down, is half recovered: some
// replicas marked alive (the chosen leader, followers attached to it), the one that may hold
// the most entries out of reach. With auto_failover on, the nameserver then acts on it by
// itself, choosing on its metadata alone:
//   - when that tablet's heartbeat times out, or it restarts, OfflineEndpoint makes a leader
//     of an alive follower (name_server_impl.cc OnTabletOffline -> OfflineEndpointDBInternal
//     -> CreateChangeLeaderOP, the highest offset among the alive followers);
//   - when it is back, RecoverEndpoint rebuilds its replica from that leader
//     (OnTabletOnline -> RecoverEndpointTable), dropping whatever only it held.
// Marking every replica of such a partition not alive leaves the nameserver nothing to
// choose from (CreateChangeLeaderOP makes no op without an alive follower; RecoverEndpointTable
// fails without an alive leader), so nothing is lost; the partition stays unserved, named in
// the report, until a run that can read every replica chooses its leader.
import { type ClusterSnapshot, type Partition, type Replica, isUnfinished } from '../cluster/types.js';
import type { AliveLeader } from '../cluster/watch.js';
import { opsForPartition, servesAsLeader } from './health.js';
import { partitionKey } from './run-memory.js';

export interface Fence {
  db: string;
  table: string;
  pid: number;
  /** A replica to mark not alive. */
  endpoint: string;
  why: string;
}

/** Out of reach: its tablet is not healthy in the nameserver's view, or does not answer (`down`). */
const outOfReach = (r: Replica, down: ReadonlySet<string>): boolean => r.tablet !== 'healthy' || down.has(r.endpoint);

/** An alive leader on a healthy, answering tablet serving as leader: the nameserver leaves it be. */
function led(p: Partition, down: ReadonlySet<string>): boolean {
  return p.replicas.some((r) => r.isLeader && r.isAlive && !outOfReach(r, down) && servesAsLeader(r));
}

/**
 * A partition whose flagged leader's tablet went down (crashed during the run): clients'
 * writes it acknowledged may not have reached a follower yet (replication is asynchronous).
 * With auto_failover on, the nameserver would make a follower leader and those writes would
 * be lost: when the tablet's heartbeat times out, and at once when it restarts (its node
 * says `startup_`: name_server_impl.cc OnTabletOnline -> OnTabletOffline(endpoint, true)).
 * Once the tablet is back, a run reads every replica and keeps them.
 */
function leaderAway(p: Partition, down: ReadonlySet<string>): boolean {
  return p.replicas.some((r) => r.isLeader && r.isAlive && r.tablet !== 'unknown' && outOfReach(r, down));
}

/** How a replica out of reach is named in a fence's reason. */
const reach = (r: Replica, down: ReadonlySet<string>): string => `${r.endpoint} (tablet ${r.tablet === 'healthy' && down.has(r.endpoint) ? 'not answering' : r.tablet})`;

/**
 * The replicas to mark not alive before auto_failover goes back on: every alive replica of
 * each partition that has no serving leader, a replica out of reach (its tablet not healthy,
 * or in `down`: listed healthy but not answering), and no op running, and that the run
 * worked on or whose alive leader is out of reach. Replicas on a tablet the nameserver does
 * not know are left (updatetablealive refuses an unknown endpoint).
 */
export function fencePlan(snapshot: ClusterSnapshot, worked: ReadonlySet<string>, down: ReadonlySet<string> = new Set()): Fence[] {
  const fences: Fence[] = [];
  for (const t of snapshot.tables) {
    for (const p of t.partitions) {
      if ((!worked.has(partitionKey(t.db, t.name, p.pid)) && !leaderAway(p, down)) || led(p, down)) continue;
      // An op still running for it is a step of the run's own choice (a leader change to the
      // replica holding the most, a rebuild from the chosen leader) and ends by changing the
      // flags itself: left to finish.
      if (opsForPartition(snapshot, t, p.pid).some(isUnfinished)) continue;
      const away = p.replicas.filter((r) => outOfReach(r, down));
      if (away.length === 0) continue;
      const alive = p.replicas.filter((r: Replica) => r.isAlive && r.tablet !== 'unknown');
      const why = `no serving leader and ${away.map((r) => reach(r, down)).join(', ')} out of reach: with auto_failover on, the nameserver would choose a leader by itself, or rebuild a returning replica from one, without reading every replica; run again once every tablet is back`;
      for (const r of alive) fences.push({ db: t.db, table: t.name, pid: p.pid, endpoint: r.endpoint, why });
    }
  }
  return fences;
}

/**
 * A partition whose alive leader is on a tablet that is down, fenced on the nameserver's
 * metadata alone (it could not be read again: its tablet is listed healthy but does not
 * answer): every replica flagged alive on a tablet the nameserver knows (`known`;
 * updatetablealive refuses another endpoint).
 */
export function fenceOnMetadata(l: AliveLeader, why: string, known: ReadonlySet<string>): Fence[] {
  return l.replicas.filter((r) => r.isAlive && known.has(r.endpoint)).map((r) => ({ db: l.db, table: l.table, pid: l.pid, endpoint: r.endpoint, why }));
}
