/**
 * `showtable` (ns_client, section 3.4). Columns are found by name: every historical
 * layout (INDEX.md A-D and the current one) has name tid pid endpoint role is_alive;
 * offset, record_cnt, memused, diskused, seg_cnt, ttl, compress_type come and go.
 */
import { Cells, compact, readTable } from './typed.js';

export interface ShowTableRow {
  readonly name: string;
  readonly tid: number;
  readonly pid: number;
  readonly endpoint: string;
  /** The replica's is_leader flag; several replicas of one partition may say leader. */
  readonly role: 'leader' | 'follower';
  /** The metadata flag, not a liveness probe. */
  readonly isAlive: boolean;
  /** undefined when the layout has no offset column or the NS never polled it (`-`). */
  readonly offset?: number;
  readonly recordCnt?: number;
  /** As printed, e.g. `83.500 K`. */
  readonly memused?: string;
  readonly diskused?: string;
  readonly segCnt?: number;
  readonly ttl?: string;
  readonly compressType?: string;
}

export interface ShowTableResult {
  /** One row per replica. */
  readonly replicas: readonly ShowTableRow[];
  /** Tables printed as `name tid - - ...` (no partitions). */
  readonly tablesWithoutPartitions: readonly { readonly name: string; readonly tid: number }[];
  /** Partitions printed as `name tid pid - ...` (no replicas). */
  readonly partitionsWithoutReplicas: readonly { readonly name: string; readonly tid: number; readonly pid: number }[];
}

const ROLE = { leader: 'leader', follower: 'follower' } as const;
const ALIVE = { yes: true, no: false } as const;

/** Replica rows of `showtable`; the special rows of section 3.4 are left out (see parseShowTableDetailed). */
export function parseShowTable(text: string): ShowTableRow[] {
  return [...parseShowTableDetailed(text).replicas];
}

/** `showtable` including tables without partitions and partitions without replicas. */
export function parseShowTableDetailed(text: string): ShowTableResult {
  const table = readTable(text, {
    command: 'showtable',
    required: ['name', 'tid', 'pid', 'endpoint', 'role', 'is_alive'],
  });
  const replicas: ShowTableRow[] = [];
  const tablesWithoutPartitions: { name: string; tid: number }[] = [];
  const partitionsWithoutReplicas: { name: string; tid: number; pid: number }[] = [];

  for (const row of table.rows) {
    const c = new Cells(table, row);
    const name = c.str('name');
    const tid = c.int('tid');
    const restAfter = (column: string): string[] => table.columns.slice(table.columns.indexOf(column) + 1);
    const allDashes = (cols: string[]): boolean => cols.every((col) => c.str(col) === '-');
    if (c.str('pid') === '-') {
      if (!allDashes(restAfter('tid'))) c.fail('pid is "-" but other cells are set');
      tablesWithoutPartitions.push({ name, tid });
      continue;
    }
    const pid = c.int('pid');
    if (c.str('endpoint') === '-') {
      if (!allDashes(restAfter('pid'))) c.fail('endpoint is "-" but other cells are set');
      partitionsWithoutReplicas.push({ name, tid, pid });
      continue;
    }
    replicas.push(
      compact({
        name,
        tid,
        pid,
        endpoint: c.str('endpoint'),
        role: c.oneOf('role', ROLE),
        isAlive: c.oneOf('is_alive', ALIVE),
        offset: c.optInt('offset'),
        recordCnt: c.optInt('record_cnt'),
        memused: c.opt('memused'),
        diskused: c.opt('diskused'),
        segCnt: c.optInt('seg_cnt'),
        ttl: c.opt('ttl'),
        compressType: c.opt('compress_type'),
      }),
    );
  }
  return { replicas, tablesWithoutPartitions, partitionsWithoutReplicas };
}
