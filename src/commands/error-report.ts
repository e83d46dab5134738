// Under --json, automation never gets an empty stdout: a command that stops on an error
// (a usage error, the cluster out of reach, the lock held, a broken state file) still
// prints a report in the report schema (docs/report.schema.json): nothing served, the
// error, and where the run stopped.
import { BinaryMissing, ClusterError, ClusterUnreachable } from '../cluster/errors.js';
import { JournalError } from '../safety/journal.js';
import { LockHeld } from '../safety/lock.js';
import { REPORT_SCHEMA, type Report, emptyTotals } from '../engine/report.js';
import { UsageError } from '../exit-codes.js';

/** Does the command line ask for JSON (read raw: yargs may not have parsed it)? */
export function wantsJson(args: readonly string[]): boolean {
  return args.some((a) => a === '--json' || a === '--json=true');
}

/** The first positional word: the command being run. */
export function commandOf(args: readonly string[]): string {
  const cmd = args.find((a) => !a.startsWith('-'));
  if (cmd !== undefined) return cmd;
  return args.some((a) => a === '--cmd=recoverdata') ? 'recoverdata' : 'openmldb-recover';
}

/** A flag's value as typed, `--name=value` or `--name value` (yargs may not have parsed the line). */
export function flag(args: readonly string[], names: string[]): string | undefined {
  let found: string | undefined;
  args.forEach((a, i) => {
    for (const n of names) {
      if (a.startsWith(`--${n}=`)) found = a.slice(n.length + 3);
      else if (a === `--${n}` && args[i + 1] !== undefined && !args[i + 1]?.startsWith('--')) found = args[i + 1];
    }
  });
  return found;
}

/** The cluster as the command resolved it (flags, --config, environment), when it got that far. */
export interface KnownCluster {
  zkCluster?: unknown;
  zkRootPath?: unknown;
}

/** Where a command stops for an error of this kind. */
function stoppedIn(err: unknown): string {
  if (err instanceof UsageError) return 'usage';
  if (err instanceof LockHeld || err instanceof JournalError) return 'lock';
  if (err instanceof BinaryMissing || err instanceof ClusterUnreachable) return 'connect';
  if (err instanceof ClusterError) return 'observe';
  return 'usage';
}

/** The cluster a command was given: as parsed when it got that far, else as typed, else the environment's. */
export function clusterOf(args: readonly string[], env: NodeJS.ProcessEnv, known: KnownCluster): { zkCluster: string; zkRootPath: string } {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    zkCluster: text(known.zkCluster) ?? flag(args, ['zk_cluster', 'zk-cluster']) ?? env['OPENMLDB_ZK_CLUSTER'] ?? '',
    zkRootPath: text(known.zkRootPath) ?? flag(args, ['zk_root_path', 'zk-root-path']) ?? env['OPENMLDB_ZK_ROOT_PATH'] ?? '/openmldb',
  };
}

export function errorReport(err: unknown, line: string, code: number, args: readonly string[], startedAt: number, env: NodeJS.ProcessEnv = process.env, known: KnownCluster = {}): Report {
  const finished = Date.now();
  return {
    schema: REPORT_SCHEMA,
    command: commandOf(args),
    ok: false,
    exitCode: code,
    dryRun: args.includes('--dry-run'),
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - startedAt,
    cluster: clusterOf(args, env, known),
    autoFailover: { switchedOff: false },
    totals: emptyTotals(),
    tables: [],
    errors: [line],
    stoppedIn: stoppedIn(err),
  };
}
