// `change-leader`: changeleader for one partition, as a Procedure the engine
// (engine/run.ts) runs, made from the first observation.
import type { ClusterSnapshot, Partition, Replica, Table } from '../../cluster/types.js';
import { UsageError } from '../../exit-codes.js';
import type { HealthOptions, Verdict } from '../../engine/health.js';
import type { PartitionPlan } from '../../engine/procedure.js';
import type { PrepareProcedure, Procedure, Round, RoundPlan } from '../../engine/procedure.js';
import { aliveLeaders, partitionPlan, scopeTo, servesAsLeader, unfinishedOps, waitPlan, withPrefix } from './shared.js';

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
