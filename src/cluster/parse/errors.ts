/**
 * Errors raised by the output parsers. Operators see these messages, so they name
 * the command and show (a bounded excerpt of) the text that could not be understood.
 */

const MAX_LINES = 20;
const MAX_LINE_CHARS = 200;

/** Bounded, printable excerpt of command output for error messages. */
export function excerpt(text: string, maxLines = MAX_LINES, maxLineChars = MAX_LINE_CHARS): string {
  const lines = text.replace(/\r/g, '').split('\n');
  while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
  if (lines.length === 0) return '    <empty output>';
  const shown = lines.slice(0, maxLines).map((l) => {
    const cut = l.length > maxLineChars ? `${l.slice(0, maxLineChars)}... (+${l.length - maxLineChars} chars)` : l;
    return `    | ${cut}`;
  });
  if (lines.length > maxLines) shown.push(`    ... (${lines.length - maxLines} more lines)`);
  return shown.join('\n');
}

/** The output of an `openmldb` command did not have the shape we know. */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  /** Command whose output this was, e.g. `showtable`. */
  readonly command: string;
  /** The complete offending output. */
  readonly text: string;
  /** Why it was rejected, without the excerpt. */
  readonly reason: string;
  /** The single line at fault, when there is one. */
  readonly line: string | undefined;

  constructor(command: string, text: string, reason: string, line?: string) {
    const at = line === undefined ? '' : `\n  offending line: ${JSON.stringify(line.length > 300 ? `${line.slice(0, 300)}...` : line)}`;
    super(`cannot parse the output of \`${command}\`: ${reason}${at}\n  output:\n${excerpt(text)}`);
    this.command = command;
    this.text = text;
    this.reason = reason;
    this.line = line;
  }
}

/**
 * The command printed a recognised failure message instead of its table
 * (e.g. `failed to showtable. error msg: nameserver is not leader`).
 * `kind`/`transient` come from the message classifier (messages.ts).
 */
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
  readonly command: string;
  readonly text: string;
  readonly kind: string;
  /** The failure reason as printed (after `error msg:` where present). */
  readonly detail: string;
  readonly transient: boolean;

  constructor(command: string, text: string, kind: string, detail: string, transient: boolean) {
    super(`\`${command}\` failed (${kind}${transient ? ', transient' : ''}): ${detail === '' ? '<no message>' : detail}\n  output:\n${excerpt(text)}`);
    this.command = command;
    this.text = text;
    this.kind = kind;
    this.detail = detail;
    this.transient = transient;
  }
}
