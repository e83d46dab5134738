// Secrets never leave the process: once a command knows the password, everything it writes
// to stdout and stderr (the report, --json, the one-line error, progress, --verbose, the
// Prometheus text) goes through the same redaction as the run records (history/redact.ts).
// A server's error text can quote the credential it refused; that text is printed.
import { Redactor } from '../history/redact.js';
import type { ConnectionConfig } from './config.js';

let redactor: Redactor | undefined;
let installed = false;

/** Scrub `config`'s secrets from everything written to stdout and stderr from now on. */
export function redactOutput(config: Pick<ConnectionConfig, 'user' | 'password'>): void {
  redactor = new Redactor(config.user, config.password);
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const r = redactor;
      if (r && typeof chunk === 'string') return write(r.text(chunk), ...rest);
      if (r && chunk instanceof Uint8Array) return write(Buffer.from(r.text(Buffer.from(chunk).toString('utf8')), 'utf8'), ...rest);
      return write(chunk, ...rest);
    }) as typeof stream.write;
  }
}
