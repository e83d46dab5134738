// What every command shares: building the client from settings, the observe filter,
// mapping errors to one line and an exit code.
import { OpenMLDBClient } from '../cluster/client.js';
import { BinaryMissing, ClusterError, ClusterUnreachable, CommandError, ParseError, UnknownTable, unreachableFrom } from '../cluster/errors.js';
import type { ObserveFilter } from '../cluster/observe.js';
import type { GlobalArgs } from './args.js';
import { binaryProblem, type ConnectionArgs, type ConnectionConfig, resolveConnection } from './config.js';
import { JournalError } from '../safety/journal.js';
import { LockHeld } from '../safety/lock.js';
import { EXIT, PlanHeld, Refused, UsageError, errorMessage } from '../exit-codes.js';
import { attachVerbose } from './verbose.js';
import { redactOutput } from './redact-output.js';

export function connect(argv: ConnectionArgs & GlobalArgs): { client: OpenMLDBClient; config: ConnectionConfig } {
  const config = resolveConnection(argv);
  redactOutput(config);
  return { client: openClient(config, argv), config };
}

/** The client for resolved settings: the binary checked first, --verbose attached. */
export function openClient(config: ConnectionConfig, argv: GlobalArgs): OpenMLDBClient {
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
  if (argv.verbose === true) attachVerbose(client.log, config);
  return client;
}

const NAME = /^[A-Za-z0-9_$-]+$/;

export function parseFilter(dbs: unknown, tables: unknown): ObserveFilter | undefined {
  const dbList = (Array.isArray(dbs) ? dbs : dbs === undefined ? [] : [dbs]).map(String);
  const tableList = (Array.isArray(tables) ? tables : tables === undefined ? [] : [tables]).map(String);
  for (const db of dbList) if (!NAME.test(db)) throw new UsageError(`--db '${db}' is not a database name`);
  const parsed = tableList.map((t) => {
    const dot = t.indexOf('.');
    const db = t.slice(0, dot);
    const name = t.slice(dot + 1);
    if (dot <= 0 || !NAME.test(db) || !NAME.test(name)) throw new UsageError(`--table '${t}' must be DB.TABLE`);
    return { db, name };
  });
  if (dbList.length === 0 && parsed.length === 0) return undefined;
  return { ...(dbList.length ? { dbs: dbList } : {}), ...(parsed.length ? { tables: parsed } : {}) };
}

export function positive(name: string, value: unknown, integer = true): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'whole number' : 'number'} (got ${String(value)})`);
  }
  return n;
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
