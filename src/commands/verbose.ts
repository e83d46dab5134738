// --verbose: every command and RPC and its output on stderr as it completes, secrets
// scrubbed (the HTTP credential is never part of an entry; its value is scrubbed anyway).
import type { CommandLog } from '../cluster/transport.js';
import { formatEntry } from '../history/format.js';
import { Redactor } from '../history/redact.js';
import type { ConnectionConfig } from './connection.js';

export function attachVerbose(log: CommandLog, config: ConnectionConfig, write: (text: string) => void = (t) => process.stderr.write(`${t}\n`)): () => void {
  const redactor = new Redactor(config.user, config.password);
  return log.onEntry((e) => write(redactor.text(formatEntry(e, { maxLines: 200 }))));
}
