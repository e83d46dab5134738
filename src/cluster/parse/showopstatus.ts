/**
 * `showopstatus` (ns_client, section 3.12). Layouts: 2018-03 without name/pid,
 * 2018-06+ with them, Nov 2019+ with for_replica_cluster.
 */
import { Cells, compact, readTable } from './typed.js';

export type OpStatus = 'kInited' | 'kDoing' | 'kDone' | 'kFailed' | 'kCanceled';

export interface OpStatusRow {
  readonly opId: number;
  readonly opType: string;
  readonly name?: string;
  readonly pid?: number;
  readonly status: OpStatus;
  /** `%Y%m%d%H%M%S` in the client's local time zone, as printed. */
  readonly startTime?: string;
  /** e.g. `4s`. */
  readonly executeTime?: string;
  readonly endTime?: string;
  /** The running task (kDoing) or the task that failed (kFailed/kCanceled). */
  readonly curTask?: string;
  readonly forReplicaCluster?: boolean;
}

const STATUS: Readonly<Record<OpStatus, OpStatus>> = {
  kInited: 'kInited',
  kDoing: 'kDoing',
  kDone: 'kDone',
  kFailed: 'kFailed',
  kCanceled: 'kCanceled',
};
const YES_NO = { yes: true, no: false } as const;

export function parseShowOpStatus(text: string): OpStatusRow[] {
  const table = readTable(text, { command: 'showopstatus', required: ['op_id', 'op_type', 'status'] });
  return table.rows.map((row) => {
    const c = new Cells(table, row);
    return compact({
      opId: c.int('op_id'),
      opType: c.str('op_type'),
      name: c.opt('name'),
      pid: c.optInt('pid'),
      status: c.oneOf('status', STATUS),
      startTime: c.opt('start_time'),
      executeTime: c.opt('execute_time'),
      endTime: c.opt('end_time'),
      curTask: c.opt('cur_task'),
      forReplicaCluster: c.optOneOf('for_replica_cluster', YES_NO),
    });
  });
}
