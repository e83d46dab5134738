// Fault injection (`openmldb-sim ctl fail ...`): RPC failures as a client sees them, op
// task failures, and slow or failing partition loads.
import type { Op, TaskSpec } from './model.js';
import type { Rng } from './rng.js';

/**
 * `slow`: the server holds the call `delayMs`, then serves it as usual (a busy tablet).
 * `error`: the server answers with `code` and `msg` and applies nothing, as OpenMLDB does for a
 * refusal the simulation has no cause for (e.g. ConfSet's 304 `set zk failed` when its
 * ZooKeeper write fails, name_server_impl.cc ConfSet).
 */
export type RpcFaultKind = 'refused' | 'timeout' | 'timeout-after-apply' | 'not-leader' | 'error' | 'slow';
export const RPC_FAULT_KINDS: readonly RpcFaultKind[] = ['refused', 'timeout', 'timeout-after-apply', 'not-leader', 'error', 'slow'];

export interface RpcFault {
  id: number;
  kind: RpcFaultKind;
  /** RPC method (e.g. `RecoverTable`); undefined = any method. */
  method?: string;
  /** Endpoint of the server; undefined = any. */
  endpoint?: string;
  /** Calls still to fail; undefined = no limit (use with fraction). */
  remaining?: number;
  /** Probability that a matching call fails (seeded); default 1. */
  fraction?: number;
  /** How long a timeout holds the call (ms). */
  delayMs: number;
  /** `error`: the code and message answered. */
  code?: number;
  msg?: string;
  /** Faults injected so far. */
  fired: number;
}

export interface OpFault {
  id: number;
  opType?: string;
  task?: string;
  remaining: number;
  message: string;
  fired: number;
}

/** The `openmldb` binary's command names, mapped to the RPC each one calls. */
export const COMMAND_TO_METHOD: Record<string, string> = {
  showtable: 'ShowTable',
  showtablet: 'ShowTablet',
  showdb: 'ShowDatabase',
  use: 'UseDatabase',
  confget: 'ConfGet',
  confset: 'ConfSet',
  updatetablealive: 'UpdateTableAliveStatus',
  recovertable: 'RecoverTable',
  changeleader: 'ChangeLeader',
  offlineendpoint: 'OfflineEndpoint',
  recoverendpoint: 'RecoverEndpoint',
  showopstatus: 'ShowOPStatus',
  cancelop: 'CancelOP',
  deleteop: 'DeleteOP',
  loadtable: 'LoadTable',
  gettablestatus: 'GetTableStatus',
  gettermpair: 'GetTermPair',
  getfollower: 'GetTableFollower',
  changerole: 'ChangeRole',
  makesnapshot: 'MakeSnapshot',
};

export function methodName(nameOrCommand: string): string {
  return COMMAND_TO_METHOD[nameOrCommand.toLowerCase()] ?? nameOrCommand;
}

export class Faults {
  rpc: RpcFault[] = [];
  ops: OpFault[] = [];
  private nextId = 1;
  /** Counts of faults fired, by kind, for reports. */
  readonly firedByKind: Record<string, number> = {};

  constructor(private readonly rng: Rng) {}

  addRpc(f: Omit<RpcFault, 'id' | 'fired'>): RpcFault {
    const fault: RpcFault = { ...f, id: this.nextId++, fired: 0 };
    if (fault.method !== undefined) fault.method = methodName(fault.method);
    this.rpc.push(fault);
    return fault;
  }

  addOp(f: Omit<OpFault, 'id' | 'fired'>): OpFault {
    const fault: OpFault = { ...f, id: this.nextId++, fired: 0 };
    this.ops.push(fault);
    return fault;
  }

  clear(): void {
    this.rpc = [];
    this.ops = [];
  }

  /**
   * The fault that hits this call, if any (consumes one of its count). `onlyNamed`: a call
   * only faults naming its method hit (one the tool never makes, like AppendEntries).
   */
  matchRpc(endpoint: string, method: string, onlyNamed = false): RpcFault | undefined {
    for (const f of this.rpc) {
      if (f.method === undefined ? onlyNamed : f.method.toLowerCase() !== method.toLowerCase()) continue;
      if (f.endpoint !== undefined && f.endpoint !== endpoint) continue;
      if (f.remaining !== undefined && f.remaining <= 0) continue;
      if (f.fraction !== undefined && !this.rng.chance(f.fraction)) continue;
      if (f.remaining !== undefined) f.remaining -= 1;
      f.fired += 1;
      this.firedByKind[f.kind] = (this.firedByKind[f.kind] ?? 0) + 1;
      return f;
    }
    return undefined;
  }

  matchOp(op: Op, task: TaskSpec): string | undefined {
    for (const f of this.ops) {
      if (f.remaining <= 0) continue;
      if (f.opType !== undefined && f.opType !== op.opType) continue;
      if (f.task !== undefined && f.task !== task.type) continue;
      f.remaining -= 1;
      f.fired += 1;
      this.firedByKind['op-fail'] = (this.firedByKind['op-fail'] ?? 0) + 1;
      return f.message;
    }
    return undefined;
  }
}
