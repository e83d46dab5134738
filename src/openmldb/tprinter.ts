// Table printing and value formatting of the `openmldb` binary (reference section 2).
//
// - formatTable: `baidu::common::TPrinter` (4paradigm/common `src/tprinter.cc`, used with
//   `Print(true)`) - every ns_client / tablet-client table.
// - formatTextTable: `hybridse::base::TextTable('-', ' ', ' ')` - the framed result sets of
//   the SQL client (`show table status` ...), `src/cmd/sql_cmd.h ExecFetch`.
// - humanReadableString / humanReadableTime: `src/base/strings.h`.
//
// Widths are counted in bytes (UTF-8), as `std::string::size()` and `std::setw` do.

export interface TPrinterOptions {
  /** Cells longer than this many bytes are cut (`--max_col_display_length`, default 256). */
  maxColWidth?: number;
}

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

function truncateBytes(s: string, max: number): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= max) return s;
  return buf.subarray(0, max).toString('utf8');
}

/** `std::setw(width) << std::left << s`: pad with spaces to `width` bytes, never cut. */
function padRight(s: string, width: number): string {
  const len = byteLength(s);
  return len >= width ? s : s + ' '.repeat(width - len);
}

/**
 * TPrinter with `Print(true)`:
 * - column width = longest cell (header included) after cutting cells to maxColWidth;
 * - every cell printed as two spaces + the cell left-justified and padded to the column
 *   width, the last one too (lines carry trailing spaces);
 * - after the header a line of `-`, length sum(width + 2) + 2;
 * - an empty cell is printed `-` (the width was computed before that substitution);
 * - no rows: header and dash line only.
 * Returns the printed text, each line ending with "\n".
 */
export function formatTable(header: string[], rows: string[][], opts: TPrinterOptions = {}): string {
  const maxColWidth = opts.maxColWidth ?? 256;
  const cols = header.length;
  const widths: number[] = new Array<number>(cols).fill(0);
  const table: string[][] = [];
  for (const row of [header, ...rows]) {
    if (row.length !== cols) {
      throw new Error(`formatTable: row has ${row.length} cells, header has ${cols}`);
    }
    const line: string[] = [];
    for (let i = 0; i < cols; i++) {
      let item = row[i] ?? '';
      if (byteLength(item) > maxColWidth) item = truncateBytes(item, maxColWidth);
      const len = byteLength(item);
      if (len > (widths[i] ?? 0)) widths[i] = len;
      if (len === 0) item = '-';
      line.push(item);
    }
    table.push(line);
  }
  let out = '';
  let lineLen = 0;
  table.forEach((line, idx) => {
    let text = '';
    for (let i = 0; i < cols; i++) {
      text += '  ' + padRight(line[i] ?? '', widths[i] ?? 0);
      if (idx === 0) lineLen += 2 + (widths[i] ?? 0);
    }
    out += text + '\n';
    if (idx === 0) out += '-'.repeat(lineLen + 2) + '\n';
  });
  return out;
}

/** hybridse `SplitString(s, "\n")`: splits on newlines and drops empty pieces. */
function splitLines(s: string): string[] {
  return s.split('\n').filter((p) => p !== '');
}

/**
 * `hybridse::base::TextTable('-', ' ', ' ')` as the SQL client prints a result set:
 * ruler, header, ruler, rows, ruler. Column width = longest line of any cell + 2; a
 * ruler is ' ' + ('-' * width + ' ') per column; a row line is ' ' + (' ' + cell padded
 * to width, then ' ') per column. Multi-line cells (the Warnings column) take several
 * lines. The caller adds the blank line and `N rows in set`.
 */
export function formatTextTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const cols = header.length;
  const widths: number[] = new Array<number>(cols).fill(0);
  for (const row of all) {
    for (let i = 0; i < row.length && i < cols; i++) {
      for (const tok of splitLines(row[i] ?? '')) {
        const len = byteLength(tok);
        if (len > (widths[i] ?? 0)) widths[i] = len;
      }
    }
  }
  for (let i = 0; i < cols; i++) widths[i] = (widths[i] ?? 0) + 2;
  const ruler = ' ' + widths.map((w) => '-'.repeat(w) + ' ').join('');
  let out = ruler + '\n';
  all.forEach((row, line) => {
    const toks = row.map((c) => splitLines(c));
    const maxLines = Math.max(0, ...toks.map((t) => t.length));
    for (let j = 0; j < maxLines; j++) {
      let text = ' ';
      for (let i = 0; i < row.length; i++) {
        text += padRight(' ' + (toks[i]?.[j] ?? ''), widths[i] ?? 0) + ' ';
      }
      out += text + '\n';
    }
    if (line < 1 || line === all.length - 1) out += ruler + '\n';
  });
  return out;
}

/**
 * `HumanReadableString(int64_t)`: divide by 1024 while the integer shifted right by 10
 * stays positive (at most 6 times), print `%.3f` and the unit: `0.000`, `689.000`,
 * `1.313 K`, `4.500 M`, ` G`, ` T`, ` P`, ` E`. Rounding is glibc's (exact value,
 * ties to even).
 */
export function humanReadableString(value: number | bigint): string {
  const prefix = ['', ' K', ' M', ' G', ' T', ' P', ' E'];
  let num = typeof value === 'bigint' ? value : BigInt(Math.trunc(Number.isFinite(value) ? value : 0));
  // int64 wrap-around, as the C++ parameter type does
  num = BigInt.asIntN(64, num);
  const original = num;
  let shift = 0;
  while ((num >>= 10n) > 0n && shift < 6) shift++;
  const den = 1024n ** BigInt(shift);
  const negative = original < 0n;
  const abs = negative ? -original : original;
  const scaled = abs * 1000n;
  let q = scaled / den;
  const r = scaled % den;
  if (2n * r > den || (2n * r === den && q % 2n === 1n)) q += 1n;
  const intPart = q / 1000n;
  const frac = (q % 1000n).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${intPart}.${frac}${prefix[shift] ?? ''}`;
}

/**
 * `HumanReadableTime(uint64_t ms)`: integer division through ms -> s -> m -> h -> d; the
 * first unit whose next quotient is zero is printed: `850ms`, `15s`, `7m`, `3h`, `1d`.
 */
export function humanReadableTime(ms: number | bigint): string {
  const offsets = [1000n, 60n, 60n, 24n];
  const labels = ['ms', 's', 'm', 'h', 'd'];
  let value = BigInt.asUintN(64, typeof ms === 'bigint' ? ms : BigInt(Math.trunc(Number.isFinite(ms) ? ms : 0)));
  for (let i = 0; i < 4; i++) {
    const v = value / (offsets[i] as bigint);
    if (v === 0n) return `${value}${labels[i]}`;
    value = v;
  }
  return `${value}${labels[4]}`;
}
