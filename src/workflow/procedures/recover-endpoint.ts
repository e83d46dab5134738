// `recover-endpoint`: rebuild a returned tablet's replicas (recoverendpoint), as a
// Procedure the engine (engine/run.ts) runs, made from the first observation.
import type { ClusterSnapshot, Partition, Table } from '../../cluster/types.js';
import { Refused } from '../../exit-codes.js';
import { assessPartition } from '../../engine/health.js';
import type { PartitionPlan, Step } from '../../engine/procedure.js';
import type { PrepareProcedure } from '../../engine/procedure.js';
import { type EndpointSpec, aliveLeaders, byPid, concurrency, endpointCommand, findTablet, partitionPlan, scopeTo, servesAsLeader, waitPlan } from './shared.js';

export interface RecoverEndpointSpec extends EndpointSpec {
  needRestore: boolean;
}

function planRecoverEndpointPartition(t: Table, p: Partition, s: ClusterSnapshot, spec: RecoverEndpointSpec & { endpoint: string }, commandRan: boolean): PartitionPlan {
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
