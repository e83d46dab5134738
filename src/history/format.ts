// How a command or RPC reads for people: in --verbose output as it runs, and in
// `history show`. One header line (what was sent, where, how it ended, how long it took),
// then its output, indented.
import type { CommandLogEntry } from '../cluster/transport.js';

export interface FormatOptions {
  /** Output lines shown at most (the record keeps all of them). */
  maxLines?: number;
}

export function formatEntry(e: CommandLogEntry, o: FormatOptions = {}): string {
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
  out.push(...indent(e.output, '  | ', o.maxLines));
  if (e.stderr) out.push(...indent(e.stderr, '  ! ', o.maxLines));
  return out.join('\n');
}

function indent(text: string, prefix: string, maxLines = Infinity): string[] {
  const lines = text.replace(/\r/g, '').split('\n');
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
  const shown = lines.slice(0, maxLines).map((l) => `${prefix}${l}`.trimEnd());
  if (lines.length > maxLines) shown.push(`${prefix}... ${lines.length - maxLines} more lines (all of them in the run record: openmldb-recover history show)`);
  return shown;
}
