// `recover-table`: the runbook's manual data recovery for one table, as a Procedure of
// the engine (engine/run.ts), made from the first observation.
import { UsageError } from '../../exit-codes.js';
import { partitionKey } from '../../engine/run-memory.js';
import type { PrepareProcedure } from '../../engine/procedure.js';
import { recoveryProcedure } from './recover.js';
import { scopeTo } from './shared.js';

export interface RecoverTableSpec {
  db: string;
  name: string;
  /** Only these partitions (default: all). */
  pids?: number[];
  /** Operator-chosen leaders by pid. */
  leaders: Map<number, string>;
  acceptDataLoss: boolean;
  refuseOrphaned?: boolean;
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
      plan: recoveryProcedure({ acceptDataLoss: spec.acceptDataLoss, refuseOrphaned: spec.refuseOrphaned === true, force: true, leaders }).plan,
    };
  };
}
