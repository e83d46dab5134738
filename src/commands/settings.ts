// Options parsed once. A command's handler turns its options (flags, the --config file yargs
// merged in, the environment) into typed, frozen settings here, before anything is taken or
// sent: every value is checked in one place, and everything below the handler takes the
// settings, never argv.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve as resolvePath } from 'node:path';
import type { GlobalArgs } from './args.js';
import {
  type ConnectionArgs,
  DEFAULT_CONCURRENCY,
  DEFAULT_CONCURRENCY_CLI,
  DEFAULT_LOAD_SLOTS,
  DEFAULT_RETRIES,
  type DryRunArgs,
  type FilterArgs,
  type LeaderWaitArgs,
  type LockArgs,
  type OutputArgs,
  type ParallelArgs,
  type RecordArgs,
  type RunArgs,
  ZK_SESSION_TIMEOUT_S,
} from './options.js';
import { type ConnectionConfig, headerSafe, privateSecretFile, sourceOf } from './connection.js';
import { BinaryMissing } from '../cluster/errors.js';
import type { ObserveFilter } from '../cluster/observe.js';
import { TRANSPORT_MODES, type TransportMode } from '../cluster/transport.js';
import { OBSERVE_BUDGET_MS } from '../engine/observe.js';
import type { PriorityPattern } from '../engine/priority.js';
import type { RunOptions } from '../engine/run.js';
import { DEFAULT_RETENTION, type Retention } from '../history/retention.js';
import { defaultStateDir } from '../safety/state-dir.js';
import { defaultZkLockPath } from '../safety/zk-lock.js';
import { UsageError } from '../exit-codes.js';

export type LockChoice = 'zk' | 'local' | 'auto';

export interface OutputSettings {
  /** The result as JSON on stdout. */
  readonly json: boolean;
  /** No progress on stderr. */
  readonly quiet: boolean;
  /** Every command and RPC, with its output, on stderr. */
  readonly verbose: boolean;
}

/** Where the cluster lock and run journal live (run-safety.ts). */
export interface LockSettings {
  readonly choice: LockChoice;
  /** The lock node in ZooKeeper (--lock-path, else beside the cluster's root path). */
  readonly path: string;
  /** --lock-path was given (a suggested command repeats it). */
  readonly pathGiven: boolean;
  readonly sessionTimeoutMs: number;
}

/** The state directory: local lock and journal, evidence, run records. */
export interface StateSettings {
  /** Absolute. */
  readonly dir: string;
  /** --state-dir was given (a suggested command repeats it). */
  readonly dirGiven: boolean;
  readonly retention: Retention;
}

/** How an observation waits (ms): "not leader" and a silent nameserver, a tablet listed healthy that does not answer. */
export interface ObserveWait {
  readonly budgetMs: number;
  readonly connectionWaitMs: number;
}

/** The engine's bounds of a run. */
type ApplyBounds = Readonly<RunOptions['apply']>;

/** Everything a run of a command is told by its options, checked. */
export interface RunSettings {
  readonly connection: Readonly<ConnectionConfig>;
  readonly lock: LockSettings;
  readonly state: StateSettings;
  /** Retries of one command on transient errors. */
  readonly retries: number;
  readonly observeWait: ObserveWait;
  readonly apply: ApplyBounds;
  readonly output: OutputSettings;
  readonly dryRun: boolean;
  /** With a dry run: exit 6 when it would change something. */
  readonly detailedExitcode: boolean;
  /** The options as given, one key per option, for the run record (redacted there). */
  readonly recorded: Readonly<Record<string, unknown>>;
}

/** What a command's options may hold that settings are made of (a command lacking a group gets its defaults). */
export type SettingsArgs = ConnectionArgs &
  GlobalArgs &
  Partial<OutputArgs & DryRunArgs & LeaderWaitArgs & LockArgs & RecordArgs & Pick<RunArgs, 'retries' | 'load-timeout' | 'op-timeout'> & ParallelArgs>;

/** A command's settings, from its options, once; frozen, so nothing below changes them. */
export function runSettingsOf(argv: SettingsArgs, env: NodeJS.ProcessEnv = process.env, args: readonly string[] = process.argv.slice(2)): RunSettings {
  const connection = connectionOf(argv, env, args);
  const retries = retriesOf(argv);
  return Object.freeze({
    connection,
    lock: lockOf(argv, connection.zkRootPath),
    state: Object.freeze({ ...stateDirOf(argv), retention: retentionOf(argv) }),
    retries,
    observeWait: observeWaitOf(argv),
    apply: applyOf(argv, connection.transport, retries),
    output: Object.freeze({ json: flag('json', argv.json), quiet: flag('quiet', argv.quiet), verbose: flag('verbose', argv.verbose) }),
    dryRun: flag('dry-run', argv['dry-run']),
    detailedExitcode: flag('detailed-exitcode', argv['detailed-exitcode']),
    recorded: recordedOptions(argv),
  });
}

/**
 * A text option as yargs hands it over. From --config a JSON number arrives as a number
 * (read as its digits, as the flag would be); an option given twice arrives as an array,
 * and anything else is a mistake: a usage error, the value never echoed (it may be a password).
 */
function text(name: string, value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) throw new UsageError(`--${name} is given ${value.length} times: give it once`);
  throw new UsageError(`--${name} must be text, not ${value === null ? 'null' : typeof value}`);
}

/** A repeatable option's values: from --config one value may come alone, not in a list. */
export function listOf<T>(value: T | readonly T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}

/** A repeatable text option. */
export function texts(name: string, value: unknown): string[] {
  return listOf(value).map((v) => text(name, v) ?? '');
}

/** A yes/no option: absent is no; from --config only true or false. */
function flag(name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  throw new UsageError(`--${name} must be true or false (got ${JSON.stringify(value).slice(0, 40)})`);
}

// --- the connection -------------------------------------------------------------------

const HOST_PORT = /^[A-Za-z0-9_.-]+:\d{1,5}$/;

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The cluster and how to reach it: flags, else OPENMLDB_* (conf/openmldb-env.sh's names), else defaults. */
function connectionOf(argv: ConnectionArgs, env: NodeJS.ProcessEnv = process.env, args: readonly string[] = process.argv.slice(2)): ConnectionConfig {
  const zkCluster = (text('zk_cluster', argv['zk-cluster']) ?? env['OPENMLDB_ZK_CLUSTER'] ?? '').trim();
  if (zkCluster === '') throw new UsageError('no ZooKeeper address: pass --zk_cluster=HOST:PORT[,HOST:PORT] or set OPENMLDB_ZK_CLUSTER');
  for (const host of zkCluster.split(',')) {
    if (!HOST_PORT.test(host)) throw new UsageError(`malformed --zk_cluster entry '${host}': expected HOST:PORT`);
    const port = Number(host.slice(host.lastIndexOf(':') + 1));
    if (port < 1 || port > 65535) throw new UsageError(`--zk_cluster entry '${host}': the port must be 1-65535`);
  }
  const zkRootPath = (text('zk_root_path', argv['zk-root-path']) ?? env['OPENMLDB_ZK_ROOT_PATH'] ?? '/openmldb').trim();
  if (!zkRootPath.startsWith('/')) throw new UsageError(`--zk_root_path must start with '/' (got '${zkRootPath}')`);
  const bin = text('openmldb_bin_path', argv['openmldb-bin']) ?? (env['OPENMLDB_BIN'] || onPath('openmldb'));
  if (bin === undefined || bin === '') throw new BinaryMissing('openmldb', 'is not on PATH (nor given by --openmldb_bin_path or OPENMLDB_BIN)');
  return Object.freeze({
    zkCluster,
    zkRootPath,
    bin,
    commandTimeoutMs: seconds('command-timeout', argv['command-timeout']) * 1000,
    transport: transportOf(argv.transport ?? (env['OPENMLDB_RECOVER_TRANSPORT'] || undefined)),
    user: headerSafe('the user (--user or OPENMLDB_USER)', text('user', argv.user) ?? (env['OPENMLDB_USER'] || 'root'), true),
    ...passwordOf(argv, env),
    from: Object.freeze({
      zkCluster: sourceOf('OPENMLDB_ZK_CLUSTER', env, args),
      zkRootPath: sourceOf('OPENMLDB_ZK_ROOT_PATH', env, args),
      bin: sourceOf('OPENMLDB_BIN', env, args),
    }),
  });
}

/**
 * The HTTP password: --password-file (its first line), else --password, else
 * OPENMLDB_PASSWORD, else empty. A file or the environment keeps it out of `ps` and
 * shell history; giving both flags is a mistake worth stopping for.
 */
function passwordOf(argv: ConnectionArgs, env: NodeJS.ProcessEnv): Pick<ConnectionConfig, 'password' | 'passwordFrom' | 'passwordFile'> {
  const file = text('password-file', argv['password-file']);
  const given = text('password', argv.password);
  if (file !== undefined) {
    if (given !== undefined) throw new UsageError('give --password or --password-file, not both');
    let text: string;
    privateSecretFile(file, '--password-file');
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --password-file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): check the path and its permissions`);
    }
    return { password: headerSafe(`the password in --password-file ${file}`, text.split(/\r?\n/)[0] ?? '', false), passwordFrom: 'file', passwordFile: resolvePath(file) };
  }
  if (given !== undefined) return { password: headerSafe('--password', given, false), passwordFrom: 'option' };
  const fromEnv = env['OPENMLDB_PASSWORD'];
  return fromEnv !== undefined && fromEnv !== '' ? { password: headerSafe('OPENMLDB_PASSWORD', fromEnv, false), passwordFrom: 'env' } : { password: '', passwordFrom: 'none' };
}

function transportOf(value: string | undefined): TransportMode {
  const v = value ?? 'http';
  if (!(TRANSPORT_MODES as readonly string[]).includes(v)) throw new UsageError(`--transport must be one of ${TRANSPORT_MODES.join(', ')} (got '${v}')`);
  return v as TransportMode;
}

// --- the lock and the state directory -------------------------------------------------

function lockOf(argv: Partial<LockArgs>, zkRootPath: string): LockSettings {
  const choice: string = argv.lock ?? 'auto';
  if (choice !== 'zk' && choice !== 'local' && choice !== 'auto') throw new UsageError(`--lock must be zk, local or auto (got ${choice})`);
  const given = text('lock-path', argv['lock-path']);
  const path = given !== undefined && given !== '' ? given : defaultZkLockPath(zkRootPath);
  const pathGiven = path !== defaultZkLockPath(zkRootPath);
  // A path given is checked whatever lock the run ends up with; the default only on a
  // command that takes a lock (`ops` has none, and its root path is checked otherwise).
  if (pathGiven || argv.lock !== undefined) checkLockPath(path);
  return Object.freeze({ choice, path, pathGiven, sessionTimeoutMs: Math.round(seconds('lock-session-timeout', argv['lock-session-timeout'] ?? 10) * 1000) });
}

function checkLockPath(path: string): void {
  if (!/^\/[^\s]*[^/\s]$/.test(path) || path.includes('//')) throw new UsageError(`--lock-path must be an absolute ZooKeeper path such as /openmldb/openmldb-recover/lock (got '${path}')`);
  if (path.split('/').length < 3) throw new UsageError(`--lock-path must have a parent node (the journal lives beside the lock): got '${path}'`);
}

/** --state-dir, made absolute; else $XDG_STATE_HOME/openmldb-recover. */
export function stateDirOf(argv: { 'state-dir'?: string | undefined }): { dir: string; dirGiven: boolean } {
  const given = text('state-dir', argv['state-dir']);
  return given !== undefined && given !== '' ? { dir: resolvePath(given), dirGiven: true } : { dir: defaultStateDir(), dirGiven: false };
}

/** --keep-runs, --keep-runs-mb, --keep-runs-days as retention.ts takes them. */
function retentionOf(argv: Partial<RecordArgs>): Retention {
  const keep = argv['keep-runs'] ?? DEFAULT_RETENTION.keep;
  if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep-runs must be a whole number >= 1 (got ${keep})`);
  const mb = argv['keep-runs-mb'] ?? DEFAULT_RETENTION.maxBytes / 1024 / 1024;
  if (!Number.isFinite(mb) || mb < 0) throw new UsageError(`--keep-runs-mb must be a number >= 0 (got ${mb})`);
  const days = argv['keep-runs-days'] ?? 0;
  if (!Number.isFinite(days) || days < 0) throw new UsageError(`--keep-runs-days must be a number >= 0 (got ${days})`);
  return Object.freeze({ keep, maxBytes: Math.round(mb * 1024 * 1024), maxAgeMs: Math.round(days * 24 * 3600 * 1000) });
}

/** The options as yargs resolved them (flags, environment, config file), one key per option. */
function recordedOptions(argv: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(argv)) {
    // yargs repeats each option under its aliases and in camelCase; keep the kebab-case name.
    if (k === '_' || k === '$0' || k.length === 1 || /[A-Z_]/.test(k) || v === undefined) continue;
    out[k] = v;
  }
  return Object.freeze(out);
}

// --- the run's bounds -----------------------------------------------------------------

/** More retries than this, at up to 10 s apart, would outlast any sensible run: a typo, most likely. */
const MAX_RETRIES = 100;

function retriesOf(argv: { retries?: number | undefined }): number {
  const n = argv.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(n) || n < 0 || n > MAX_RETRIES) throw new UsageError(`--retries must be a whole number from 0 to ${MAX_RETRIES} (got ${n})`);
  return n;
}

function observeWaitOf(argv: Partial<LeaderWaitArgs>): ObserveWait {
  return Object.freeze({
    budgetMs: seconds('leader-wait', argv['leader-wait'] ?? OBSERVE_BUDGET_MS / 1000) * 1000,
    connectionWaitMs: seconds('zk-session-timeout', argv['zk-session-timeout'] ?? ZK_SESSION_TIMEOUT_S) * 1000 + 2000,
  });
}

/** The engine's bounds (a command without --concurrency or --per-tablet gets the defaults). */
function applyOf(argv: Partial<ParallelArgs & Pick<RunArgs, 'load-timeout' | 'op-timeout'>>, transport: TransportMode, retries: number): RunOptions['apply'] {
  return Object.freeze({
    concurrency: argv.concurrency !== undefined ? positive('concurrency', argv.concurrency) : transport === 'cli' ? DEFAULT_CONCURRENCY_CLI : DEFAULT_CONCURRENCY,
    perTablet: argv['per-tablet'] !== undefined ? positive('per-tablet', argv['per-tablet']) : DEFAULT_LOAD_SLOTS,
    loadTimeoutMs: seconds('load-timeout', argv['load-timeout'] ?? 600) * 1000,
    opTimeoutMs: seconds('op-timeout', argv['op-timeout'] ?? 1800) * 1000,
    retries,
    partitionAttempts: 3,
  });
}

// --- values ---------------------------------------------------------------------------

const NAME = /^[A-Za-z0-9_$-]+$/;

/** --db and --table: what a run observes (undefined: every table). */
export function filterOf(argv: Partial<FilterArgs>): ObserveFilter | undefined {
  const dbs = texts('db', argv.db);
  for (const db of dbs) if (!NAME.test(db)) throw new UsageError(`--db '${db}' is not a database name`);
  const tables = texts('table', argv.table).map((t) => parseTableName(t, '--table'));
  if (dbs.length === 0 && tables.length === 0) return undefined;
  return { ...(dbs.length ? { dbs } : {}), ...(tables.length ? { tables } : {}) };
}

/** `--priority DB.TABLE|DB.*` (repeatable): the tables served first, after the system tables. */
export function priorityOf(values: readonly string[] | undefined): PriorityPattern[] {
  return texts('priority', values).map((v) => {
    const dot = v.indexOf('.');
    const db = v.slice(0, dot);
    const table = v.slice(dot + 1);
    if (dot <= 0 || table === '' || table.includes('.')) throw new UsageError(`--priority ${v}: give DB.TABLE or DB.*`);
    return { db, table };
  });
}

/** `DB.TABLE`, as table arguments are written everywhere. */
export function parseTableName(value: string | undefined, what = 'table'): { db: string; name: string } {
  const t = value ?? '';
  const dot = t.indexOf('.');
  const db = t.slice(0, dot);
  const name = t.slice(dot + 1);
  if (dot <= 0 || !NAME.test(db) || !NAME.test(name)) throw new UsageError(`${what} '${t}' must be DB.TABLE`);
  return { db, name };
}

/** A partition id: a whole number >= 0 (a positional arrives as a string). */
export function parsePid(value: string | number | undefined, what = 'pid'): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value ?? '') ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${what} must be a whole number >= 0 (got ${String(value)})`);
  return n;
}

/** A tablet, as showtablet lists it: HOST:PORT or a server name. */
export function parseEndpoint(value: string | undefined): string {
  const ep = value ?? '';
  if (!/^\S+$/.test(ep)) throw new UsageError(`endpoint '${ep}' must be HOST:PORT (or a server name)`);
  return ep;
}

function positive(name: string, value: number, integer = true): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be a positive ${integer ? 'whole number' : 'number'} (got ${value})`);
  }
  return value;
}

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer wait would fire at once. */
const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** A duration option in seconds: positive, and short enough for a timer. */
export function seconds(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} must be a positive number of seconds (got ${value})`);
  if (value > MAX_SECONDS) throw new UsageError(`--${name} must be at most ${MAX_SECONDS} seconds (about 24 days; got ${value})`);
  return value;
}
