/**
 * Generic reader for the text tables printed by the `openmldb` binary
 * (protocol reference section 2):
 *
 * - ns_client / tablet client (`baidu::common::TPrinter`): a header line, a line of
 *   dashes, then one line per row; every cell starts at the same offset as its
 *   header cell.
 * - sql_client (`show table status`): dash lines made of ` ---- ----` groups above
 *   and below the header and after the last row.
 *
 * Rows are read by header position. Hand-edited or whitespace-collapsed copies break
 * those positions, so every row is also read by tokens (whitespace split, with the
 * `8.646 K` size values re-joined). A row is accepted when one reading is valid and
 * the other does not contradict it; otherwise a ParseError is thrown. A silently
 * shifted row is the one outcome this module must never produce.
 */
import { ParseError } from './errors.js';
import { isNoiseLine, splitLines } from './lines.js';

/** How a cell value is validated while reading a row. */
export interface ColumnRule {
  /** Whole-cell pattern. Without one, any single token (no whitespace) is accepted. */
  readonly pattern?: RegExp;
  /** Human-readable size (`0.000`, `689.000`, `8.646 K`): the only plain values that contain a space. */
  readonly size?: boolean;
  /** Free text that may contain spaces (sql `Warnings`). */
  readonly free?: boolean;
  /** The cell may be empty. TPrinter prints `-` for empty cells; the sql client prints nothing. */
  readonly emptyOk?: boolean;
}

/** How a row was read: exactly at the header offsets, at offsets shifted by a constant, or by tokens. */
export type Reading = 'position' | 'shifted' | 'tokens';

export interface TableRow {
  /** Trimmed cell text by column name (`-` is kept as printed). */
  readonly cells: Readonly<Record<string, string>>;
  /** The row line as printed (trailing spaces removed). */
  readonly line: string;
  readonly reading: Reading;
}

export interface ParsedTable {
  readonly command: string;
  /** The whole input, for error messages. */
  readonly text: string;
  /** Column names in header order. */
  readonly columns: readonly string[];
  readonly rows: readonly TableRow[];
  /** Non-blank, non-noise lines before the header (prompts, `ns leader: ...`, failure lines...). */
  readonly before: readonly string[];
  /** Non-blank, non-noise lines after the table (sql framing only: e.g. `1 rows in set`). */
  readonly after: readonly string[];
  readonly framing: 'tprinter' | 'sql';
}

export interface TableOptions {
  /** Command name used in error messages. */
  readonly command?: string;
  /** Extra or overriding column rules, by column name (merged over DEFAULT_COLUMN_RULES). */
  readonly columns?: Readonly<Record<string, ColumnRule>>;
}

/** `0.000`, `689.000`, `8.646 K`, `-` (never polled). Units per HumanReadableString. */
export const SIZE_PATTERN = /^(?:-|\d+(?:\.\d+)?(?: [KMGTPEZ])?)$/;
const UNIT_TOKEN = /^[KMGTPEZ]$/;
const INT: ColumnRule = { pattern: /^(?:-|\d+)$/ };
const ENUM: ColumnRule = { pattern: /^(?:-|k\w+)$/ };

/**
 * Rules for column names seen in every known layout. They let the token reading reject
 * interpretations such as `K` as a compress_type, and the positional reading reject
 * a cell cut in the wrong place.
 */
export const DEFAULT_COLUMN_RULES: Readonly<Record<string, ColumnRule>> = {
  '#': INT,
  tid: INT,
  pid: INT,
  offset: INT,
  record_cnt: INT,
  seg_cnt: INT,
  op_id: INT,
  skiplist_height: INT,
  leader_offset: INT,
  memused: { size: true },
  diskused: { size: true },
  record_byte_size: { size: true },
  is_alive: { pattern: /^(?:yes|no|-)$/ },
  role: { pattern: /^(?:leader|follower|standby|-)$/ },
  for_replica_cluster: { pattern: /^(?:yes|no|-)$/ },
  enable_expire: { pattern: /^(?:true|false|-)$/ },
  mode: ENUM,
  state: ENUM,
  status: ENUM,
  op_type: ENUM,
  cur_task: ENUM,
  compress_type: ENUM,
  Table_id: INT,
  Partition: INT,
  Partition_unalive: INT,
  Replica: INT,
  Warnings: { free: true, emptyOk: true },
};

/** A separator line: only dashes and spaces, at least three dashes in a row at its start. */
export function isRuleLine(line: string): boolean {
  return /^\s*-{3,}[-\s]*$/.test(line);
}

interface Column {
  readonly name: string;
  readonly start: number;
  readonly rule: ColumnRule;
}

/** Parse the first table in `text`; throws ParseError when there is none or a row cannot be read. */
export function parseTable(text: string, options: TableOptions = {}): ParsedTable {
  const table = tryParseTable(text, options);
  if (table === undefined) {
    throw new ParseError(options.command ?? 'table', text, 'no table found (no header followed by a dash line)');
  }
  return table;
}

/**
 * Like parseTable, but returns undefined when the text holds no table at all (so a
 * caller can look for a failure message instead). A table that is present but
 * unreadable still throws.
 */
export function tryParseTable(text: string, options: TableOptions = {}): ParsedTable | undefined {
  const command = options.command ?? 'table';
  const lines = splitLines(text).filter((l) => !isNoiseLine(l));
  const firstRule = lines.findIndex(isRuleLine);
  if (firstRule < 0) return undefined;

  const fail = (reason: string, line?: string): never => {
    throw new ParseError(command, text, reason, line);
  };

  // sql_client framing: rule, header, rule, rows..., rule, where each rule is one dash
  // group per column (` ---- ----`). A TPrinter dash line is one run of dashes and is
  // never followed by another dash line two lines below.
  const next = lines[firstRule + 1];
  const groups = (lines[firstRule] as string).trim().split(/\s+/).length;
  const sql =
    next !== undefined &&
    next.trim() !== '' &&
    !isRuleLine(next) &&
    isRuleLine(lines[firstRule + 2] ?? '') &&
    groups > 1 &&
    groups === next.trim().split(/\s+/).length;
  const headerIdx = sql ? firstRule + 1 : firstRule - 1;
  const header = lines[headerIdx];
  if (header === undefined || header.trim() === '') fail('dash line without a header line above it', lines[firstRule]);
  const columns = readHeader(header as string, options, fail);

  const bodyStart = sql ? firstRule + 3 : firstRule + 1;
  let bodyEnd = lines.length;
  if (sql) {
    const close = lines.findIndex((l, i) => i >= bodyStart && isRuleLine(l));
    if (close >= 0) bodyEnd = close;
  }

  const rows: TableRow[] = [];
  for (let i = bodyStart; i < bodyEnd; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    if (isRuleLine(line)) fail('unexpected second dash line inside the table', line);
    rows.push(readRow(line, columns, fail));
  }

  const nonBlank = (l: string): boolean => l.trim() !== '';
  return {
    command,
    text,
    columns: columns.map((c) => c.name),
    rows,
    before: lines.slice(0, sql ? firstRule : headerIdx).filter(nonBlank),
    after: sql ? lines.slice(bodyEnd + 1).filter(nonBlank) : [],
    framing: sql ? 'sql' : 'tprinter',
  };
}

function readHeader(header: string, options: TableOptions, fail: (reason: string, line?: string) => never): Column[] {
  const columns: Column[] = [];
  const seen = new Set<string>();
  for (const m of header.matchAll(/\S+/g)) {
    const name = m[0];
    if (seen.has(name)) fail(`duplicate column name "${name}" in header`, header);
    seen.add(name);
    const rule = options.columns?.[name] ?? DEFAULT_COLUMN_RULES[name] ?? {};
    columns.push({ name, start: m.index, rule });
  }
  return columns;
}

function readRow(line: string, columns: readonly Column[], fail: (reason: string, line?: string) => never): TableRow {
  let reading: Reading = 'position';
  let cells = readByPosition(line, columns, 0);
  if (cells === undefined) {
    // A hand-edited header indented differently from its rows: retry with the offset
    // of the row's first cell, if small. Every other cell must then line up too.
    const first = columns[0];
    const shift = first === undefined ? 0 : line.search(/\S/) - first.start;
    if (shift !== 0 && Math.abs(shift) <= 4) {
      cells = readByPosition(line, columns, shift);
      reading = 'shifted';
    }
  }
  const tokens = readByTokens(line, columns);
  if (cells !== undefined) {
    if (tokens.kind === 'one' && !sameCells(cells, tokens.cells, columns)) {
      fail('the row reads differently by column position and by whitespace-separated tokens', line);
    }
    return { cells, line, reading };
  }
  if (tokens.kind === 'one') return { cells: tokens.cells, line, reading: 'tokens' };
  if (tokens.kind === 'many') {
    fail(`row does not line up with the header and its tokens fit the columns [${names(columns)}] in more than one way`, line);
  }
  fail(`row does not fit the columns [${names(columns)}] (neither by header position nor by tokens)`, line);
}

const names = (columns: readonly Column[]): string => columns.map((c) => c.name).join(' ');

function accepts(rule: ColumnRule, value: string): boolean {
  if (value === '') return rule.emptyOk === true;
  if (rule.free === true) return rule.pattern === undefined || rule.pattern.test(value);
  if (rule.size === true) return SIZE_PATTERN.test(value);
  if (/\s/.test(value)) return false;
  return rule.pattern === undefined || rule.pattern.test(value);
}

/** Cells cut at the header offsets (+shift); undefined unless every cut falls on a cell boundary. */
function readByPosition(line: string, columns: readonly Column[], shift: number): Record<string, string> | undefined {
  const cells: Record<string, string> = {};
  const first = columns[0];
  if (first === undefined) return undefined;
  if (first.start + shift < 0 || line.slice(0, first.start + shift).trim() !== '') return undefined;
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i] as Column;
    const from = col.start + shift;
    const nextCol = columns[i + 1];
    const to = nextCol === undefined ? line.length : nextCol.start + shift;
    // The character before a cell is padding; a cut through a token means misalignment.
    if (i > 0 && from < line.length && !/\s/.test(line[from - 1] ?? '')) return undefined;
    const raw = line.slice(from, to);
    const value = raw.trim();
    if (value !== '' && /\s/.test(raw[0] ?? '')) return undefined;
    if (!accepts(col.rule, value)) return undefined;
    cells[col.name] = value;
  }
  return cells;
}

type TokenReading =
  | { readonly kind: 'one'; readonly cells: Record<string, string> }
  | { readonly kind: 'none' }
  | { readonly kind: 'many' };

/**
 * Assign whitespace-separated tokens to columns. A size column followed by a unit token
 * (`8.646` `K`) always takes both: a lone unit letter is never a value of the next column
 * in any known layout. Free-text and may-be-empty columns can take a variable number of
 * tokens; all assignments are enumerated and only a unique one is used.
 */
function readByTokens(line: string, columns: readonly Column[]): TokenReading {
  const trimmed = line.trim();
  const tokens = trimmed === '' ? [] : trimmed.split(/\s+/);
  const found: string[][] = [];

  const walk = (ci: number, ti: number, acc: string[]): void => {
    if (found.length > 1) return;
    const col = columns[ci];
    if (col === undefined) {
      if (ti === tokens.length) found.push([...acc]);
      return;
    }
    const take = (n: number): void => {
      const value = tokens.slice(ti, ti + n).join(' ');
      if (accepts(col.rule, value)) walk(ci + 1, ti + n, [...acc, value]);
    };
    if (col.rule.free === true) {
      for (let n = 0; ti + n <= tokens.length; n++) take(n);
      return;
    }
    if (col.rule.size === true && UNIT_TOKEN.test(tokens[ti + 1] ?? '')) {
      take(2);
      return;
    }
    if (ti < tokens.length) take(1);
    if (col.rule.emptyOk === true) take(0);
  };
  walk(0, 0, []);

  const only = found[0];
  if (found.length > 1) return { kind: 'many' };
  if (only === undefined) return { kind: 'none' };
  const cells: Record<string, string> = {};
  columns.forEach((c, i) => {
    cells[c.name] = only[i] ?? '';
  });
  return { kind: 'one', cells };
}

function sameCells(a: Record<string, string>, b: Record<string, string>, columns: readonly Column[]): boolean {
  const norm = (s: string | undefined): string => (s ?? '').replace(/\s+/g, ' ');
  return columns.every((c) => norm(a[c.name]) === norm(b[c.name]));
}
