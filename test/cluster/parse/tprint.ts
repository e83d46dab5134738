/**
 * Test-only TPrinter (protocol reference section 2): every cell is two spaces plus the
 * cell left-justified to the column width (last column too, so lines end in spaces);
 * a dash line of sum(width + 2) + 2 after the header; `-` for empty cells.
 */
export function tprint(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    widths.map((w, i) => `  ${(r[i] === undefined || r[i] === '' ? '-' : (r[i] as string)).padEnd(w)}`).join('');
  const dashes = '-'.repeat(widths.reduce((a, w) => a + w + 2, 0) + 2);
  return [line(header), dashes, ...rows.map(line)].join('\n') + '\n';
}

/** What the hand-translated docs did to tables: every run of whitespace collapsed to one space. */
export function mangle(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/(\S)\s+/g, '$1 ').replace(/\s+$/, ''))
    .join('\n');
}
