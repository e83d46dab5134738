// What the simulator keeps to judge a recovery by (check.ts, `ctl`): the incident's
// baseline (every entry some replica held when it began), every mutating call the servers
// took, and the client writes the tablets applied and acknowledged.
import type { CriticalPath, Incident, LedgerEntry } from './model.js';
import { partitionKey } from './model.js';
import { type Log, distinct, minus, overtaken, union } from './log.js';
import type { NameserverMetadata } from './ns-metadata.js';
import type { SimNodes } from './nodes.js';
import type { Traffic } from './traffic.js';
import { WriteLedger } from './write-ledger.js';

export interface MutationRecord {
  seq: number;
  at: string;
  server: string;
  method: string;
  body: unknown;
  /** Who sent it: the stand-in `openmldb` binary, or a direct HTTP call. */
  via: 'binary' | 'http';
  code?: number;
  msg?: string;
  fault?: string;
}

/** RPC methods that change something; every call of one is logged. */
export const MUTATING_METHODS = new Set([
  'ConfSet',
  'UpdateTableAliveStatus',
  'RecoverTable',
  'ChangeLeader',
  'OfflineEndpoint',
  'RecoverEndpoint',
  'CancelOP',
  'DeleteOP',
  'LoadTable',
  'ChangeRole',
  'MakeSnapshot',
  'AddReplica',
  'Migrate',
  'AddReplicaNS',
  'DelReplicaNS',
]);

export class SimLedger {
  incident: Incident | undefined;
  mutations: MutationRecord[] = [];
  /** Client writes the tablets applied, and those the clients saw acknowledged (traffic.ts). */
  writes = new WriteLedger();
  /** The clients writing, when the servers attached them (SimServers.attachTraffic). */
  traffic: Traffic | undefined;

  constructor(
    private readonly meta: NameserverMetadata,
    private readonly nodes: SimNodes,
  ) {}

  /**
   * Mark the start of an incident: the ledger's baseline and auto_failover's value, with
   * the last op id before it and the recovery's bound, both as the cluster is now.
   */
  beginIncident(autoFailoverBefore: boolean, opIdBaseline: number, bound: () => CriticalPath): Incident {
    const ledger: LedgerEntry[] = [];
    for (const table of this.meta.tables) {
      // The metadata as a restarted nameserver finds it: the table's node in ZooKeeper.
      const meta = this.meta.zkTables.get(table.tid) ?? table;
      for (const part of table.partitions) {
        const pmeta = meta.partitions.find((p) => p.pid === part.pid) ?? part;
        let best = 0;
        let bestEndpoint = '';
        const logs: Log[] = [];
        const alive: Log[] = [];
        const dead: Log[] = [];
        for (const r of part.replicas) {
          const disk = this.nodes.tabletNodes.get(r.endpoint)?.disk.get(partitionKey(table.tid, part.pid));
          if (!disk) continue;
          logs.push(disk.log);
          const isAlive = pmeta.replicas.find((x) => x.endpoint === r.endpoint)?.isAlive ?? r.isAlive;
          (isAlive ? alive : dead).push(disk.log);
          if (disk.log.end >= best) {
            best = disk.log.end;
            bestEndpoint = r.endpoint;
          }
        }
        // An entry an alive replica also holds is not orphaned: the cluster kept serving it.
        const orphaned = minus(distinct(dead.flatMap((l) => overtaken(l, pmeta.termOffset))), union(alive));
        ledger.push({ db: table.db, name: table.name, tid: table.tid, pid: part.pid, bestBefore: best, bestEndpoint, entries: union(logs), orphaned });
      }
    }
    this.incident = { startedAt: Date.now(), autoFailoverBefore, opIdBaseline, ledger, bound: bound() };
    return this.incident;
  }

  recordMutation(rec: Omit<MutationRecord, 'seq' | 'at'>): void {
    this.mutations.push({ seq: this.mutations.length + 1, at: new Date().toISOString(), ...rec });
  }
}
