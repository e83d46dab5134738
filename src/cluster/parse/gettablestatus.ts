/**
 * Tablet client `gettablestatus [tid pid]` (section 3.15). Layouts: rtidb 2017
 * `tid pid offset mode state ttl`, then `+ enable_expire ttl_offset memused`,
 * `+ compress_type`, `+ skiplist_height`.
 *
 * Failure forms are returned as a result, not thrown: `gettablestatus failed`
 * (<= v0.8.3: partition not loaded, or RPC failure) and
 * `gettablestatus failed, error msg: <brpc text>` (v0.8.4+), each usually followed by
 * an empty table. The v0.8.4+ "not loaded" answer is a bogus row `0 0 0 kTableLeader
 * kTableUndefined ...`, returned as a row: the caller must check tid/pid.
 */
import { ParseError } from './errors.js';
import { findFailure, findLoggedFailure, type FailureKind } from './messages.js';
import { tryParseTable } from './table.js';
import { Cells, compact } from './typed.js';

export type TableMode = 'kTableLeader' | 'kTableFollower';
export type TableState = 'kTableUndefined' | 'kTableNormal' | 'kTableLoading' | 'kMakingSnapshot' | 'kSnapshotPaused';

export interface TabletTableStatus {
  readonly tid: number;
  readonly pid: number;
  /** Replication log offset; comparable between replicas of one partition. */
  readonly offset: number;
  readonly mode: TableMode;
  readonly state: TableState;
  /** Records held (TableStatus.record_cnt): only the HTTP reply carries it, the CLI does not print it. */
  readonly recordCnt?: number;
  readonly enableExpire?: boolean;
  /** As printed: `0min`, `144000min`, `144000`. */
  readonly ttl?: string;
  readonly ttlOffset?: string;
  /** As printed, e.g. `1.313 K`. */
  readonly memused?: string;
  readonly compressType?: string;
  readonly skiplistHeight?: number;
}

export type GetTableStatusResult =
  | { readonly ok: true; readonly rows: readonly TabletTableStatus[] }
  | {
      readonly ok: false;
      readonly kind: FailureKind;
      /** Reason as printed (after `error msg:`), or the failure line itself. */
      readonly message: string;
      readonly transient: boolean;
      /** Rows printed after the failure line (normally none). */
      readonly rows: readonly TabletTableStatus[];
    };

const MODE: Readonly<Record<TableMode, TableMode>> = { kTableLeader: 'kTableLeader', kTableFollower: 'kTableFollower' };
const STATE: Readonly<Record<TableState, TableState>> = {
  kTableUndefined: 'kTableUndefined',
  kTableNormal: 'kTableNormal',
  kTableLoading: 'kTableLoading',
  kMakingSnapshot: 'kMakingSnapshot',
  kSnapshotPaused: 'kSnapshotPaused',
};
const BOOL = { true: true, false: false } as const;
const REQUIRED = ['tid', 'pid', 'offset', 'mode', 'state'];

export function parseGetTableStatus(text: string): GetTableStatusResult {
  const command = 'gettablestatus';
  const table = tryParseTable(text, { command });
  const failure = table === undefined ? (findFailure(text) ?? findLoggedFailure(text)) : findFailure(table.before.join('\n'));
  if (table === undefined && failure === undefined) {
    throw new ParseError(command, text, 'no table found (expected a header line followed by a dash line)');
  }
  let rows: TabletTableStatus[] = [];
  if (table !== undefined) {
    const missing = REQUIRED.filter((c) => !table.columns.includes(c));
    if (missing.length > 0) {
      throw new ParseError(command, text, `header lacks column(s) ${missing.join(', ')} (header: ${table.columns.join(' ')})`);
    }
    rows = table.rows.map((row) => {
      const c = new Cells(table, row);
      return compact({
        tid: c.int('tid'),
        pid: c.int('pid'),
        offset: c.int('offset'),
        mode: c.oneOf('mode', MODE),
        state: c.oneOf('state', STATE),
        enableExpire: c.optOneOf('enable_expire', BOOL),
        ttl: c.opt('ttl'),
        ttlOffset: c.opt('ttl_offset'),
        memused: c.opt('memused'),
        compressType: c.opt('compress_type'),
        skiplistHeight: c.optInt('skiplist_height'),
      });
    });
  }
  if (failure !== undefined) {
    return { ok: false, kind: failure.kind, message: failure.message, transient: failure.transient, rows };
  }
  return { ok: true, rows };
}
