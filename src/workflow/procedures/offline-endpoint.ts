// `offline-endpoint`: take a tablet that is down out of service (offlineendpoint), as a
// Procedure the engine (engine/run.ts) runs, made from the first observation.
import type { ClusterSnapshot, Partition, Replica, Table } from '../../cluster/types.js';
import { Refused } from '../../exit-codes.js';
import type { Verdict } from '../../engine/health.js';
import type { PartitionPlan, Step } from '../../engine/procedure.js';
import type { PrepareProcedure } from '../../engine/procedure.js';
import { type EndpointSpec, aliveLeaders, byPid, concurrency, endpointCommand, findTablet, partitionPlan, scopeTo, servesAsLeader, unfinishedOps, waitPlan, withPrefix } from './shared.js';

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
