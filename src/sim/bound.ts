// The critical-path lower bound of an incident: no recovery, however scheduled, can bring
// the cluster back faster than the simulator's own timing allows. Computed once, when the
// incident begins (from the disks and the metadata as the incident left them), so what a
// recovery does later cannot move it. `npm run bench` divides its measured time by it.
//
// Three bounds, the longest wins:
//   - loads: every replica not served must be loaded once, on its own tablet, by at most
//     `maxConcurrentLoads` at a time (tablet.ts), each taking the load time of its entries;
//   - op tasks: a partition whose replica flagged leader holds fewer entries than another
//     replica must change leader through an op (kSelectLeader, kChangeLeader,
//     kUpdateLeaderInfo) and the displaced replica must come back through a recover op
//     (kRecoverTable, then at least kAddReplica, kCheckBinlogSyncProgress,
//     kUpdatePartitionStatus): 7 tasks, run one at a time per op queue; ops land in queue
//     `pid % concurrency` and concurrency is at most name_server_task_max_concurrency (8,
//     name_server_impl.cc AddOPData), each task at least the shortest task time (ops.ts);
//   - one such partition's chain: its slowest replica load, then its 7 tasks.
//   - metadata: the nameserver writes a table's node to ZooKeeper one write at a time, under
//     its mutex (metadata-lock.ts); a recovery must at least mark each table's replicas on
//     each endpoint it recovers alive (one `updatetablealive TABLE * ENDPOINT yes` each,
//     the fewest OpenMLDB allows), each write taking the measured time for the node's size.
// Everything else (polls, RPC round trips, diverged followers rebuilt by a snapshot
// transfer) only adds time, so it is left out: the bound is a floor, not an estimate.
import type { CriticalPath, SimTiming, TableMeta, TabletNode } from './model.js';
import { partitionKey } from './model.js';
import { type LoadFault, isServing } from './tablet.js';
import { zkWriteMs } from './metadata-lock.js';

/** name_server_task_max_concurrency: the op queues one command can spread its ops over. */
export const MAX_OP_QUEUES = 8;
/** Tasks a leader change costs at least: the change-leader op (3) and the displaced leader's recover op (1 + 3). */
export const LEADER_CHANGE_TASKS = 7;
/** ops.ts runs a task in taskMs x (0.75 .. 1.25). */
const SHORTEST_TASK = 0.75;

/** What the bound reads of the cluster: its timing, metadata, disks and injected load faults. */
export interface BoundInputs {
  readonly timing: SimTiming;
  readonly tables: TableMeta[];
  tablet(endpoint: string): TabletNode | undefined;
  loadFault(endpoint: string, tid: number, pid: number): LoadFault | undefined;
}

/** The bound for the cluster as it is now (call it when the incident begins). */
export function criticalPath(c: BoundInputs): CriticalPath {
  const t = c.timing;
  const slots = Math.max(1, t.maxConcurrentLoads);
  const task = t.taskMs * SHORTEST_TASK;
  const perTablet = new Map<string, { loads: number; sum: number; longest: number }>();
  const queueTasks = new Array<number>(MAX_OP_QUEUES).fill(0);
  let loads = 0;
  let leaderChanges = 0;
  let chainMs = 0;
  let metadataWrites = 0;
  let metadataMs = 0;
  for (const table of c.tables) {
    const endpointsToMark = new Set<string>();
    for (const part of table.partitions) {
      const key = partitionKey(table.tid, part.pid);
      let slowest = 0;
      let best = 0;
      let flagged = -1;
      const leader = part.replicas.find((r) => r.isLeader && r.isAlive) ?? part.replicas.find((r) => r.isLeader);
      for (const r of part.replicas) {
        const tablet = c.tablet(r.endpoint);
        const entries = tablet?.disk.get(key)?.log.end ?? 0;
        best = Math.max(best, entries);
        if (r === leader) flagged = entries;
        const running = tablet?.running ? tablet.loaded.get(key) : undefined;
        if (running && isServing(running)) continue;
        endpointsToMark.add(r.endpoint);
        const ms = t.loadBaseMs + (entries / 1000) * t.loadMsPer1000 + (c.loadFault(r.endpoint, table.tid, part.pid)?.extraMs ?? 0);
        const s = perTablet.get(r.endpoint) ?? { loads: 0, sum: 0, longest: 0 };
        s.loads++;
        s.sum += ms;
        s.longest = Math.max(s.longest, ms);
        perTablet.set(r.endpoint, s);
        loads++;
        slowest = Math.max(slowest, ms);
      }
      if (part.replicas.length > 1 && flagged >= 0 && flagged < best) {
        leaderChanges++;
        queueTasks[part.pid % MAX_OP_QUEUES] = (queueTasks[part.pid % MAX_OP_QUEUES] ?? 0) + LEADER_CHANGE_TASKS;
        chainMs = Math.max(chainMs, slowest + LEADER_CHANGE_TASKS * task);
      }
    }
    metadataWrites += endpointsToMark.size;
    metadataMs += endpointsToMark.size * zkWriteMs(t, JSON.stringify(table).length);
  }
  const tablets = [...perTablet.entries()]
    .map(([endpoint, s]) => ({ endpoint, loads: s.loads, loadMs: Math.round(Math.max(s.sum / slots, s.longest)) }))
    .sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1));
  const loadMs = Math.max(0, ...tablets.map((x) => x.loadMs));
  const opMs = Math.round(Math.max(0, ...queueTasks) * task);
  chainMs = Math.round(chainMs);
  metadataMs = Math.round(metadataMs);
  return {
    ms: Math.max(loadMs, opMs, chainMs, metadataMs),
    metadataWrites,
    metadataMs,
    loadMs,
    opMs,
    chainMs,
    loads,
    leaderChanges,
    opTasks: queueTasks.reduce((a, b) => a + b, 0),
    loadSlots: slots,
    opQueues: MAX_OP_QUEUES,
    tablets,
  };
}
