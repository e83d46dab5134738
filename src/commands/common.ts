// What every command shares: the client and the progress lines from its settings, and
// mapping errors to one line and an exit code.
import { OpenMLDBClient } from '../cluster/client.js';
import { BinaryMissing, ClusterError, ClusterUnreachable, CommandError, ParseError, UnknownTable, unreachableFrom } from '../cluster/errors.js';
import { binaryProblem, type ConnectionConfig } from './connection.js';
import type { OutputSettings } from './settings.js';
import { createProgress } from '../engine/progress.js';
import { JournalError } from '../safety/journal.js';
import { LockHeld } from '../safety/lock.js';
import { EXIT, PlanHeld, Refused, UsageError, errorMessage } from '../exit-codes.js';
import { attachVerbose } from './verbose.js';
import { redactOutput } from './redact-output.js';

/** The client for resolved settings: the secrets scrubbed from output, the binary checked first, --verbose attached. */
export function openClient(config: Readonly<ConnectionConfig>, output: Pick<OutputSettings, 'verbose'>): OpenMLDBClient {
  redactOutput(config);
  const problem = binaryProblem(config.bin);
  if (problem !== undefined) throw new BinaryMissing(config.bin, problem);
  const client = new OpenMLDBClient({
    bin: config.bin,
    zkCluster: config.zkCluster,
    zkRootPath: config.zkRootPath,
    timeoutMs: config.commandTimeoutMs,
    transport: config.transport,
    user: config.user,
    password: config.password,
  });
  if (output.verbose) attachVerbose(client.log, config);
  return client;
}

/** Progress for a command: plain lines under --verbose, so command output never fights a spinner. */
export function progressFor(output: OutputSettings) {
  return createProgress({ quiet: output.quiet, plain: output.verbose, details: output.verbose });
}

/**
 * One line for the operator, and the documented exit code. A cluster error that reaches
 * this point was not absorbed into a report: the cluster could not be observed (or a
 * command could not be sent) at all, so it is "unreachable" (3), never "not done" (1),
 * which a monitoring check would read as a verdict about a cluster it never saw.
 */
export function explain(err: unknown): { line: string; code: number } {
  const message = errorMessage(err).split('\n')[0] ?? '';
  if (err instanceof UsageError || err instanceof Refused || err instanceof UnknownTable || err instanceof JournalError) return { line: message, code: EXIT.usage };
  if (err instanceof LockHeld || err instanceof PlanHeld) return { line: message, code: EXIT.locked };
  if (err instanceof BinaryMissing || err instanceof ClusterUnreachable) return { line: message, code: EXIT.unreachable };
  if (err instanceof ParseError) return { line: `${message} (unrecognised output: is this an OpenMLDB binary of a known version?)`, code: EXIT.unreachable };
  if (err instanceof CommandError) return { line: (unreachableFrom(err) ?? err).message.split('\n')[0] ?? '', code: EXIT.unreachable };
  if (err instanceof ClusterError) return { line: message, code: EXIT.unreachable };
  return { line: message, code: EXIT.notRecovered };
}
