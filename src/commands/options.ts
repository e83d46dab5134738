// The options, declared: each group's yargs builder is the one place its options are named,
// described and defaulted, and their types are inferred from it (args.ts). What the values
// mean, checked and typed, is settings.ts's business.
import type { Argv } from 'yargs';
import type { ArgsOf } from './args.js';
import { TRANSPORT_MODES } from '../cluster/transport.js';
import { OBSERVE_BUDGET_MS } from '../engine/observe.js';
import { DEFAULT_RETENTION } from '../history/retention.js';

export function connectionOptions<T>(y: Argv<T>) {
  return y
    .option('zk-cluster', { alias: 'zk_cluster', type: 'string', describe: 'ZooKeeper hosts h:p,h:p (env OPENMLDB_ZK_CLUSTER)' })
    .option('zk-root-path', { alias: 'zk_root_path', type: 'string', describe: 'cluster root path in ZooKeeper (env OPENMLDB_ZK_ROOT_PATH, default /openmldb)' })
    .option('openmldb-bin', { alias: 'openmldb_bin_path', type: 'string', describe: 'the openmldb binary (env OPENMLDB_BIN, else openmldb on PATH)' })
    .option('command-timeout', { type: 'number', default: 30, describe: 'seconds one run of the binary (or one HTTP call) may take' })
    .option('transport', {
      type: 'string',
      choices: TRANSPORT_MODES,
      describe: "(env OPENMLDB_RECOVER_TRANSPORT, default http) http: every call with a brpc HTTP method over kept-alive connections, the binary only finds the leader nameserver; cli: the binary for every command it has (for clusters whose HTTP is closed to this host, except what only HTTP can do)",
    })
    .option('user', { type: 'string', describe: 'user for the HTTP Authorization header (env OPENMLDB_USER, default root)' })
    .option('password-file', { type: 'string', describe: 'file holding the password (first line); the safe way to pass it' })
    .option('password', { type: 'string', describe: 'password (visible in ps and shell history: prefer OPENMLDB_PASSWORD or --password-file)' });
}

/** OpenMLDB's shipped configuration: zk_session_timeout=10000 (ms). */
export const ZK_SESSION_TIMEOUT_S = 10;

/** --leader-wait and --zk-session-timeout, on the commands that observe the whole cluster (status, recover and the procedures). */
export function leaderWaitOption<T>(y: Argv<T>) {
  return y
    .option('leader-wait', { type: 'number', default: OBSERVE_BUDGET_MS / 1000, describe: 'seconds to wait for a nameserver to answer as leader (an election settling) before exit 3' })
    .option('zk-session-timeout', {
      type: 'number',
      default: ZK_SESSION_TIMEOUT_S,
      describe: "the cluster's zk_session_timeout in seconds: a tablet that died stays listed healthy that long; one that does not answer is waited out that long (and 2 s more, within --leader-wait) before exit 3",
    });
}

export function outputOptions<T>(y: Argv<T>) {
  return y
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable result on stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress output' });
}

export function filterOptions<T>(y: Argv<T>) {
  return y
    .option('db', { type: 'string', array: true, describe: 'only this database (repeatable)' })
    .option('table', { type: 'string', array: true, describe: 'only this table, DB.TABLE (repeatable)' });
}

export function dryRunOption<T>(y: Argv<T>) {
  return y
    .option('dry-run', { type: 'boolean', default: false, describe: 'observe and plan, print the plan, change nothing' })
    .option('detailed-exitcode', { type: 'boolean', default: false, describe: 'with --dry-run: exit 6 when the run would change something, 0 only when there is nothing to do (as terraform plan -detailed-exitcode)' });
}

/** An old leader's tail orphaned at an earlier failover: left behind as OpenMLDB did (default), or the partition refused. */
export function refuseOrphanedOption<T>(y: Argv<T>) {
  return y.option('refuse-orphaned', {
    type: 'boolean',
    default: false,
    describe: "refuse a partition rather than leave behind an old leader's tail that OpenMLDB orphaned at an earlier failover (to copy it out first); a named --leader still proceeds",
  });
}

/** Retries of one command on transient errors (every command that talks to the cluster more than once). */
export const DEFAULT_RETRIES = 4;
export function retriesOption<T>(y: Argv<T>) {
  return y.option('retries', { type: 'number', default: DEFAULT_RETRIES, describe: 'retries of a command on transient errors' });
}

export function lockOptions<T>(y: Argv<T>) {
  return y
    .option('lock', {
      choices: ['auto', 'zk', 'local'] as const,
      default: 'auto' as const,
      describe: "where the cluster lock and run journal live: zk (the cluster's ZooKeeper, shared by all hosts), local (--state-dir, this host only), auto (zk when ZooKeeper answers, else local)",
    })
    .option('lock-path', { type: 'string', describe: 'the lock node in ZooKeeper; the journal is the sibling node `journal` (default <zk_root_path>/openmldb-recover/lock)' })
    .option('lock-session-timeout', { type: 'number', default: 10, describe: "seconds: the lock's ZooKeeper session; a dead run's lock vanishes this long after it died" });
}

/** Where a recorded run keeps its lock, journal and run record, and how many records stay. */
export function recordOptions<T>(y: Argv<T>) {
  return y
    .option('state-dir', { type: 'string', describe: 'lock, run journal and run records (default $XDG_STATE_HOME/openmldb-recover)' })
    .option('keep-runs', { type: 'number', default: DEFAULT_RETENTION.keep, describe: 'run records kept in the state directory (see history); runs that changed nothing go first, the newest that changed something never' })
    .option('keep-runs-mb', { type: 'number', default: DEFAULT_RETENTION.maxBytes / 1024 / 1024, describe: 'megabytes of run records kept in all (0: no limit)' })
    .option('keep-runs-days', { type: 'number', default: 0, describe: 'days a run record is kept (0: no limit)' })
    .option('metrics-file', { type: 'string', describe: "write the run's outcome as Prometheus gauges to this file (node_exporter textfile, *.prom), whatever the exit code" });
}

/** Bounds and retries of a mutating run. */
export function runOptions<T>(y: Argv<T>) {
  return recordOptions(retriesOption(leaderWaitOption(lockOptions(y))))
    .option('load-timeout', { type: 'number', default: 600, describe: 'seconds a partition load may take' })
    .option('op-timeout', { type: 'number', default: 1800, describe: "seconds to wait for a partition's (or the command's) ops" });
}

/** OpenMLDB's task_pool_size default: the loads one tablet runs at once. */
export const DEFAULT_LOAD_SLOTS = 3;
/** Partitions in progress at once by default: enough that waits on ops never starve the tablets' loads. */
export const DEFAULT_CONCURRENCY = 256;
/**
 * With --transport cli every look at a partition is a binary run: a few partitions at once
 * keep the processes (at most 8 at a time, transport.ts) on the work, not on polls.
 */
export const DEFAULT_CONCURRENCY_CLI = 4;

/** How many partitions recover/recover-table work on at once, and how hard each tablet is loaded. */
export function parallelOptions<T>(y: Argv<T>) {
  return y
    .option('concurrency', { type: 'number', describe: `partitions worked on at once (default ${DEFAULT_CONCURRENCY}; ${DEFAULT_CONCURRENCY_CLI} with --transport cli)` })
    .option('per-tablet', {
      type: 'number',
      default: DEFAULT_LOAD_SLOTS,
      describe: "loads one tablet runs at once (its task_pool_size); the run keeps twice that many sent to it",
    });
}

export type ConnectionArgs = ArgsOf<typeof connectionOptions>;
export type LeaderWaitArgs = ArgsOf<typeof leaderWaitOption>;
export type OutputArgs = ArgsOf<typeof outputOptions>;
export type FilterArgs = ArgsOf<typeof filterOptions>;
export type DryRunArgs = ArgsOf<typeof dryRunOption>;
export type LockArgs = ArgsOf<typeof lockOptions>;
export type RecordArgs = ArgsOf<typeof recordOptions>;
export type RunArgs = ArgsOf<typeof runOptions>;
export type ParallelArgs = ArgsOf<typeof parallelOptions>;
