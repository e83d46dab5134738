/**
 * Shared plumbing for the per-command parsers: locate the table, turn a failure
 * message printed instead of a table into CommandFailedError, check required columns
 * by name, and convert cells with errors that point at the offending row.
 */
import { CommandFailedError, ParseError } from './errors.js';
import { findFailure, findLoggedFailure } from './messages.js';
import { tryParseTable, type ParsedTable, type TableOptions, type TableRow } from './table.js';

export interface ReadOptions extends TableOptions {
  readonly command: string;
  /** Columns every layout of this command has. */
  readonly required: readonly string[];
  /** Treat a recognised failure line before the header as the command's result (default true). */
  readonly failuresBefore?: boolean;
}

/** Parse the command's table, or throw CommandFailedError / ParseError. */
export function readTable(text: string, options: ReadOptions): ParsedTable {
  const { command } = options;
  const table = tryParseTable(text, options);
  if (table === undefined) {
    const failure = findFailure(text) ?? findLoggedFailure(text);
    if (failure !== undefined) {
      throw new CommandFailedError(command, text, failure.kind, failure.message, failure.transient);
    }
    throw new ParseError(command, text, 'no table found (expected a header line followed by a dash line)');
  }
  if (options.failuresBefore !== false) {
    const failure = findFailure(table.before.join('\n'));
    if (failure !== undefined) {
      throw new CommandFailedError(command, text, failure.kind, failure.message, failure.transient);
    }
  }
  const missing = options.required.filter((c) => !table.columns.includes(c));
  if (missing.length > 0) {
    throw new ParseError(
      command,
      text,
      `header lacks column(s) ${missing.join(', ')} (header: ${table.columns.join(' ')})`,
    );
  }
  return table;
}

/** Typed access to one row's cells, with errors naming the row. */
export class Cells {
  constructor(
    private readonly table: ParsedTable,
    private readonly row: TableRow,
  ) {}

  fail(reason: string): never {
    throw new ParseError(this.table.command, this.table.text, reason, this.row.line);
  }

  has(column: string): boolean {
    return this.table.columns.includes(column);
  }

  /** The cell of a column the header must have. */
  str(column: string): string {
    const v = this.row.cells[column];
    if (v === undefined) this.fail(`no column "${column}"`);
    return v;
  }

  /** undefined when the column is absent or the cell is `-` (TPrinter's empty cell). */
  opt(column: string): string | undefined {
    const v = this.row.cells[column];
    return v === undefined || v === '-' || v === '' ? undefined : v;
  }

  int(column: string): number {
    return this.toInt(column, this.str(column));
  }

  optInt(column: string): number | undefined {
    const v = this.opt(column);
    return v === undefined ? undefined : this.toInt(column, v);
  }

  /** Map the cell through `values`; any other text is a ParseError. */
  oneOf<T>(column: string, values: Readonly<Record<string, T>>): T {
    const v = this.str(column);
    if (!Object.hasOwn(values, v)) {
      this.fail(`${column} is "${v}", expected one of ${Object.keys(values).join(', ')}`);
    }
    return values[v] as T;
  }

  optOneOf<T>(column: string, values: Readonly<Record<string, T>>): T | undefined {
    return this.opt(column) === undefined ? undefined : this.oneOf(column, values);
  }

  private toInt(column: string, v: string): number {
    const n = Number(v);
    // Offsets are uint64; refuse rather than round one we cannot represent exactly.
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) this.fail(`${column} is "${v}", expected a non-negative integer`);
    return n;
  }
}

/** Drop properties whose value is undefined, so absent columns are absent keys. */
export function compact<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
