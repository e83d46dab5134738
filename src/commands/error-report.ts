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
function commandOf(args: readonly string[]): string {
  const cmd = args.find((a) => !a.startsWith('-'));
  if (cmd !== undefined) return cmd;
  return args.some((a) => a === '--cmd=recoverdata') ? 'recoverdata' : 'openmldb-recover';
}

function flag(args: readonly string[], names: string[], env: string | undefined): string {
  for (const a of args) {
    for (const n of names) if (a.startsWith(`--${n}=`)) return a.slice(n.length + 3);
  }
  return env ?? '';
}

/** Where a command stops for an error of this kind. */
function stoppedIn(err: unknown): string {
  if (err instanceof UsageError) return 'usage';
  if (err instanceof LockHeld || err instanceof JournalError) return 'lock';
  if (err instanceof BinaryMissing || err instanceof ClusterUnreachable) return 'connect';
  if (err instanceof ClusterError) return 'observe';
  return 'usage';
}

export function errorReport(err: unknown, line: string, code: number, args: readonly string[], startedAt: number, env: NodeJS.ProcessEnv = process.env): Report {
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
    cluster: {
      zkCluster: flag(args, ['zk_cluster', 'zk-cluster'], env['OPENMLDB_ZK_CLUSTER']),
      zkRootPath: flag(args, ['zk_root_path', 'zk-root-path'], env['OPENMLDB_ZK_ROOT_PATH'] ?? '/openmldb'),
    },
    autoFailover: { switchedOff: false },
    totals: emptyTotals(),
    tables: [],
    errors: [line],
    stoppedIn: stoppedIn(err),
  };
}
