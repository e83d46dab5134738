// How a command or RPC reads for people: in --verbose output as it runs, and in
// `history show`. One header line (what was sent, where, how it ended, how long it took),
// then its output, indented.
import type { CommandLogEntry } from '../cluster/transport.js';

export interface FormatOptions {
  /** Output lines shown at most. */
  maxLines?: number;
  /** Characters of one output line shown at most (a JSON reply is one long line). */
  maxLineChars?: number;
  /** Where the rest is, said after a cut. */
  more?: string;
}

export type FormattedEntry = Pick<CommandLogEntry, 'seq' | 'kind' | 'role' | 'target' | 'command' | 'request' | 'durationMs' | 'output' | 'stderr' | 'exitCode' | 'httpStatus' | 'error'>;

export function formatEntry(e: FormattedEntry, o: FormatOptions = {}): string {
  const ended =
    e.error !== undefined
      ? `FAILED: ${e.error}`
      : e.kind === 'http'
        ? `HTTP ${e.httpStatus ?? '?'}`
        : `exit ${e.exitCode === null || e.exitCode === undefined ? 'none (killed)' : e.exitCode}`;
  const head =
    e.kind === 'http'
      ? `[${e.seq}] POST http://${e.target}/${e.command} ${e.request}`
      : `[${e.seq}] ${e.role === 'ns' ? 'ns_client' : 'tablet client'} ${e.target}: ${e.command}\n      $ ${e.request}`;
  const out = [`${head}\n      -> ${ended}, ${e.durationMs} ms`];
  const more = o.more ?? 'not shown';
  out.push(...indent(e.output, '  | ', o, more));
  if (e.stderr) out.push(...indent(e.stderr, '  ! ', o, more));
  return out.join('\n');
}

function indent(text: string, prefix: string, o: FormatOptions, more: string): string[] {
  const maxLines = o.maxLines ?? Infinity;
  const maxChars = o.maxLineChars ?? Infinity;
  const lines = text.replace(/\r/g, '').split('\n');
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
  const shown = lines.slice(0, maxLines).map((l) => `${prefix}${l.length > maxChars ? `${l.slice(0, maxChars)}... (${l.length - maxChars} more characters)` : l}`.trimEnd());
  if (lines.length > maxLines) shown.push(`${prefix}... ${lines.length - maxLines} more lines (${more})`);
  return shown;
}
