// Secrets never leave the process: once a command knows the password, what it writes goes
// through the same redaction as the run records (history/redact.ts). Text (the report, the
// one-line error, progress, --verbose) is scrubbed as it is written: a server's error text
// can quote the credential it refused. A JSON document is scrubbed string by string before
// it is serialised (`json`), and the Prometheus text carries no free text: scrubbing their
// serialised form would cut a password of digits out of a number and break the document.
import { Redactor } from '../history/redact.js';
import type { ConnectionConfig } from './connection.js';

type Write = (chunk: unknown, ...rest: unknown[]) => boolean;

let redactor: Redactor | undefined;
/** The streams' own writes, before the scrubbing one was put in front. */
const raw = new Map<NodeJS.WriteStream, Write>();

/** Scrub `config`'s secrets from the text written to stdout and stderr from now on. */
export function redactOutput(config: Pick<ConnectionConfig, 'user' | 'password'>): void {
  redactor = new Redactor(config.user, config.password);
  for (const stream of [process.stdout, process.stderr]) {
    if (raw.has(stream)) continue;
    const write = stream.write.bind(stream) as Write;
    raw.set(stream, write);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const r = redactor;
      if (r && typeof chunk === 'string') return write(r.text(chunk), ...rest);
      if (r && chunk instanceof Uint8Array) return write(Buffer.from(r.text(Buffer.from(chunk).toString('utf8')), 'utf8'), ...rest);
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}

/** `value` as a JSON document (indented, newline-terminated), every string in it scrubbed. */
export function json(value: unknown): string {
  return `${JSON.stringify(redactor ? redactor.value(value) : value, null, 2)}\n`;
}

/** Write a document already scrubbed where it was built (`json`, the Prometheus text): as is. */
export function writeDocument(stream: NodeJS.WriteStream, text: string): void {
  const write = raw.get(stream);
  if (write) write(text);
  else stream.write(text);
}
