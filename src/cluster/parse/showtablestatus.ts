/**
 * sql_client `show table status [like '<db pattern>']` (section 1.8). Framed by
 * ` ---- ----` dash lines; may be preceded by `ERROR: table <db>.<t> is broken, ...`
 * lines and a `HINT:` line (CheckAllTableStatus), which are notices, not failures.
 * Columns changed over versions (Offline_deep_copy -> Offline_symbolic_paths,
 * Warnings added), so everything is located by name.
 */
import { CommandFailedError, ParseError } from './errors.js';
import { classifyFailureLine, isTransient, type CommandFailure } from './messages.js';
import { isPromptLine, isShellLine, splitLines } from './lines.js';
import { tryParseTable } from './table.js';
import { Cells, compact } from './typed.js';

export interface SqlTableStatusRow {
  readonly tableId: number;
  readonly tableName: string;
  readonly databaseName: string;
  /** `memory`, `ssd`, `hdd` as printed. */
  readonly storageType: string;
  readonly partition: number;
  /** Replicas with is_alive=false. */
  readonly partitionUnalive: number;
  readonly replica: number;
  /** Absent when the layout has no Warnings column or the cell is empty. */
  readonly warnings?: string;
  /** Every cell as printed, by column name. */
  readonly cells: Readonly<Record<string, string>>;
}

export interface BrokenTableNotice {
  readonly database: string;
  readonly table: string;
  readonly unalivePartitions?: number;
  readonly warningPreview?: string;
}

const COMMAND = 'show table status';
const BROKEN = /^ERROR: table (\S+?)\.(\S+) is broken\b(.*)$/;
const REQUIRED = ['Table_id', 'Table_name', 'Database_name', 'Storage_type', 'Partition', 'Partition_unalive', 'Replica'];

/** The `ERROR: table <db>.<t> is broken, ...` notices the sql client prints before any command. */
export function parseBrokenTableNotices(text: string): BrokenTableNotice[] {
  const notices: BrokenTableNotice[] = [];
  for (const line of splitLines(text)) {
    const m = BROKEN.exec(line.trim());
    if (m === null) continue;
    const rest = m[3] ?? '';
    const unalive = /unalive partition: (\d+)/.exec(rest)?.[1];
    notices.push(
      compact({
        database: m[1] as string,
        table: m[2] as string,
        unalivePartitions: unalive === undefined ? undefined : Number(unalive),
        warningPreview: /warning preview: (.*)$/.exec(rest)?.[1],
      }),
    );
  }
  return notices;
}

/** A failure printed by the sql client (`Error: ...`, `ERROR: Failed to connect to db`), ignoring the notices. */
function sqlFailure(lines: readonly string[]): CommandFailure | undefined {
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || BROKEN.test(line) || /^HINT:/.test(line) || isPromptLine(line) || isShellLine(line)) continue;
    if (/^ERROR: Failed to connect/i.test(line)) {
      return { ok: false, kind: 'rpc', message: line, line, transient: isTransient('rpc') };
    }
    if (/^(?:Error|ERROR):/.test(line)) {
      const f = classifyFailureLine(line.replace(/^(?:Error|ERROR):\s*/, ''));
      const kind = f?.kind ?? 'failed';
      return { ok: false, kind, message: f?.message ?? line, line, transient: isTransient(kind) };
    }
  }
  return undefined;
}

export function parseShowTableStatus(text: string): SqlTableStatusRow[] {
  const table = tryParseTable(text, { command: COMMAND });
  const failure = sqlFailure(table === undefined ? splitLines(text) : table.before);
  if (failure !== undefined) {
    throw new CommandFailedError(COMMAND, text, failure.kind, failure.message, failure.transient);
  }
  if (table === undefined) {
    if (splitLines(text).some((l) => l.trim() === 'Empty set')) return [];
    throw new ParseError(COMMAND, text, 'no table found (expected dash lines around a header)');
  }
  const missing = REQUIRED.filter((c) => !table.columns.includes(c));
  if (missing.length > 0) {
    throw new ParseError(COMMAND, text, `header lacks column(s) ${missing.join(', ')} (header: ${table.columns.join(' ')})`);
  }
  return table.rows.map((row) => {
    const c = new Cells(table, row);
    return compact({
      tableId: c.int('Table_id'),
      tableName: c.str('Table_name'),
      databaseName: c.str('Database_name'),
      storageType: c.str('Storage_type'),
      partition: c.int('Partition'),
      partitionUnalive: c.int('Partition_unalive'),
      replica: c.int('Replica'),
      warnings: c.opt('Warnings'),
      cells: row.cells,
    });
  });
}
