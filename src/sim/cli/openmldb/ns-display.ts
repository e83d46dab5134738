// What ns_client prints as tables: src/cmd/display.h PrintTableInfo for showtable (and the
// rtidb 2018-12 showtable), HandleNSShowOPStatus's rows for showopstatus.
import { formatTable, humanReadableString } from '../../../openmldb/tprinter.js';
import { type CliEnv, maxColWidth } from './cli-env.js';
import { COMPRESS_TYPE, type Json, arrField, boolField, enumField, numField, strField } from './util.js';

/** `openmldb::client::INVALID_PID`: no pid given. */
export const INVALID_PID = 4294967295;

/** `%Y%m%d%H%M%S` in local time. */
function formatLocalTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) return '';
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p2(d.getMonth() + 1)}${p2(d.getDate())}${p2(d.getHours())}${p2(d.getMinutes())}${p2(d.getSeconds())}`;
}

/** uint64 subtraction as the C++ code does it. */
function u64Diff(a: number, b: number): string {
  return BigInt.asUintN(64, BigInt(Math.trunc(a)) - BigInt(Math.trunc(b))).toString();
}

/** `PrintTableInfo` (display.h) and, for the 2018 dialect, the rtidb 2018-12 showtable. */
export function showTableText(tables: Json[], env: CliEnv): string {
  if (env.dialect === '2018') {
    const header = ['name', 'tid', 'pid', 'endpoint', 'role', 'ttl', 'is_alive', 'compress_type', 'offset', 'record_cnt', 'memused'];
    const rows: string[][] = [];
    for (const t of tables) {
      const ttl = numField(t, 'ttl') ?? 0;
      const ttlCell = strField(t, 'ttl_type') === 'kLatestTime' ? String(ttl) : `${ttl}min`;
      const compress = enumField(t, 'compress_type', COMPRESS_TYPE) ?? 'kNoCompress';
      for (const p of arrField(t, 'table_partition')) {
        for (const m of arrField(p, 'partition_meta')) {
          const offset = numField(m, 'offset');
          const cnt = numField(m, 'record_cnt');
          const bytes = numField(m, 'record_byte_size');
          rows.push([
            strField(t, 'name') ?? '',
            String(numField(t, 'tid') ?? 0),
            String(numField(p, 'pid') ?? 0),
            strField(m, 'endpoint') ?? '',
            boolField(m, 'is_leader') === true ? 'leader' : 'follower',
            ttlCell,
            boolField(m, 'is_alive') === false ? 'no' : 'yes',
            compress,
            offset === undefined ? '-' : String(offset),
            cnt === undefined ? '-' : String(cnt),
            bytes === undefined ? '-' : humanReadableString(bytes),
          ]);
        }
      }
    }
    return formatTable(header, rows, { maxColWidth: maxColWidth(env) });
  }
  const header = ['name', 'tid', 'pid', 'endpoint', 'role', 'is_alive', 'offset', 'record_cnt', 'memused', 'diskused'];
  const rows: string[][] = [];
  const dash = (row: string[]) => {
    while (row.length < header.length) row.push('-');
    return row;
  };
  for (const t of tables) {
    const name = strField(t, 'name') ?? '';
    const tid = String(numField(t, 'tid') ?? 0);
    const parts = arrField(t, 'table_partition');
    if (parts.length === 0) {
      rows.push(dash([name, tid]));
      continue;
    }
    for (const p of parts) {
      const pid = String(numField(p, 'pid') ?? 0);
      const metas = arrField(p, 'partition_meta');
      if (metas.length === 0) {
        rows.push(dash([name, tid, pid]));
        continue;
      }
      for (const m of metas) {
        const offset = numField(m, 'offset');
        const cnt = numField(m, 'record_cnt');
        const bytes = numField(m, 'record_byte_size');
        rows.push([
          name,
          tid,
          pid,
          strField(m, 'endpoint') ?? '',
          boolField(m, 'is_leader') === true ? 'leader' : 'follower',
          boolField(m, 'is_alive') === false ? 'no' : 'yes',
          offset === undefined ? '-' : String(offset),
          cnt === undefined ? '-' : String(cnt),
          bytes === undefined ? '-' : humanReadableString(bytes),
          humanReadableString(numField(m, 'diskused') ?? 0),
        ]);
      }
    }
  }
  return formatTable(header, rows, { maxColWidth: maxColWidth(env) });
}

/** `HandleNSShowOPStatus` rows. */
export function showOpStatusText(ops: Json[], env: CliEnv, nowSeconds: number): string {
  const modern = env.dialect !== '2018';
  const header = ['op_id', 'op_type', 'name', 'pid', 'status', 'start_time', 'execute_time', 'end_time', 'cur_task'];
  if (modern) header.push('for_replica_cluster');
  const rows: string[][] = [];
  for (const op of ops) {
    const row: string[] = [];
    row.push(String(numField(op, 'op_id') ?? 0));
    row.push(strField(op, 'op_type') ?? '');
    const name = strField(op, 'name');
    const pid = numField(op, 'pid');
    if (modern) {
      row.push(name ?? '-');
      row.push(pid !== undefined && pid !== INVALID_PID ? String(pid) : '-');
    } else if (name !== undefined && pid !== undefined) {
      row.push(name, String(pid));
    } else {
      row.push('-', '-');
    }
    row.push(strField(op, 'status') ?? '');
    const start = numField(op, 'start_time') ?? 0;
    const end = numField(op, 'end_time') ?? 0;
    if (start > 0) {
      row.push(formatLocalTime(start));
      if (end !== 0) {
        row.push(u64Diff(end, start) + 's');
        row.push(formatLocalTime(end));
      } else {
        row.push(u64Diff(nowSeconds, start) + 's');
        row.push('-');
      }
    } else {
      row.push('-', '-', '-');
    }
    row.push(strField(op, 'task_type') ?? '');
    if (modern) row.push(numField(op, 'for_replica_cluster') === 1 ? 'yes' : 'no');
    rows.push(row);
  }
  return formatTable(header, rows, { maxColWidth: maxColWidth(env) });
}

