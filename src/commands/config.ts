// Connection settings, from flags (the names operators already use, in both spellings)
// or from the environment of OpenMLDB's conf/openmldb-env.sh.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Argv } from 'yargs';
import type { ArgsOf } from './args.js';
import { BinaryMissing } from '../cluster/errors.js';
import { TRANSPORT_MODES, type TransportMode } from '../cluster/transport.js';
import { UsageError } from '../exit-codes.js';
import { OBSERVE_BUDGET_MS } from '../engine/observe.js';

export interface ConnectionConfig {
  zkCluster: string;
  zkRootPath: string;
  bin: string;
  /** Per-command timeout for one run of the binary (ms). */
  commandTimeoutMs: number;
  /** How commands reach the cluster (--transport). */
  transport: TransportMode;
  /** HTTP credential: user and password (any value works with skip_grant_tables=true). */
  user: string;
  password: string;
  /** Where the password came from (for the run record; never the value). */
  passwordFrom: 'none' | 'option' | 'file' | 'env';
  /** Where the cluster's address, root path and binary came from (said on the run's first line and in its report). */
  from: { zkCluster: SettingSource; zkRootPath: SettingSource; bin: SettingSource };
}

/** Environment variables and the option names (every spelling) they stand for. */
export const ENV_OPTIONS = [
  ['OPENMLDB_ZK_CLUSTER', ['zk-cluster', 'zk_cluster', 'zkCluster']],
  ['OPENMLDB_ZK_ROOT_PATH', ['zk-root-path', 'zk_root_path', 'zkRootPath']],
  ['OPENMLDB_BIN', ['openmldb-bin', 'openmldb_bin_path', 'openmldbBin']],
  ['OPENMLDB_USER', ['user']],
  ['OPENMLDB_PASSWORD', ['password', 'password-file', 'passwordFile']],
  ['OPENMLDB_RECOVER_TRANSPORT', ['transport']],
] as const;

/** The --config file this run read, and the keys it gave (config-file.ts tells): where each setting came from. */
let configRead: { path: string; keys: ReadonlySet<string> } | undefined;
export function noteConfigRead(path: string, keys: ReadonlySet<string>): void {
  configRead = { path, keys };
}

/** Where a setting came from, in precedence order: a flag, the --config file, the environment, the default. */
export type SettingSource = 'flag' | 'config' | 'environment' | 'default';

function sourceOf(variable: (typeof ENV_OPTIONS)[number][0], env: NodeJS.ProcessEnv, args: readonly string[]): SettingSource {
  const names: readonly string[] = ENV_OPTIONS.find(([v]) => v === variable)?.[1] ?? [];
  if (args.some((a) => names.some((n) => a === `--${n}` || a.startsWith(`--${n}=`)))) return 'flag';
  if (names.some((n) => configRead?.keys.has(n))) return 'config';
  if (env[variable] !== undefined && env[variable] !== '') return 'environment';
  return 'default';
}

/** `zk_cluster from --config /etc/x.json, zk_root_path from the environment, ...`: the run's first line says it. */
export function describeSources(c: Pick<ConnectionConfig, 'from'>): string {
  const where = (s: SettingSource, variable: string) =>
    s === 'flag' ? 'the command line' : s === 'config' ? `--config ${configRead?.path ?? ''}` : s === 'environment' ? variable : 'the default';
  return `zk_cluster from ${where(c.from.zkCluster, 'OPENMLDB_ZK_CLUSTER')}, zk_root_path from ${where(c.from.zkRootPath, 'OPENMLDB_ZK_ROOT_PATH')}, the binary from ${where(c.from.bin, 'OPENMLDB_BIN')}${c.from.bin === 'default' ? ' (PATH)' : ''}`;
}

export function connectionOptions<T>(y: Argv<T>) {
  return y
    .option('zk-cluster', { alias: 'zk_cluster', type: 'string', describe: 'ZooKeeper hosts h:p,h:p (env OPENMLDB_ZK_CLUSTER)' })
    .option('zk-root-path', { alias: 'zk_root_path', type: 'string', describe: 'cluster root path in ZooKeeper (env OPENMLDB_ZK_ROOT_PATH, default /openmldb)' })
    .option('openmldb-bin', { alias: 'openmldb_bin_path', type: 'string', describe: 'the openmldb binary (env OPENMLDB_BIN, else openmldb on PATH)' })
    .option('command-timeout', { type: 'number', default: 30, describe: 'seconds one run of the binary (or one HTTP call) may take' })
    .option('transport', {
      type: 'string',
      choices: TRANSPORT_MODES as unknown as string[],
      describe: "(env OPENMLDB_RECOVER_TRANSPORT, default http) http: every call with a brpc HTTP method over kept-alive connections, the binary only finds the leader nameserver; cli: the binary for every command it has (for clusters whose HTTP is closed to this host, except what only HTTP can do)",
    })
    .option('user', { type: 'string', describe: 'user for the HTTP Authorization header (env OPENMLDB_USER, default root)' })
    .option('password-file', { type: 'string', describe: 'file holding the password (first line); the safe way to pass it' })
    .option('password', { type: 'string', describe: 'password (visible in ps and shell history: prefer OPENMLDB_PASSWORD or --password-file)' });
}

export type ConnectionArgs = ArgsOf<typeof connectionOptions>;

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

/** OpenMLDB's shipped configuration: zk_session_timeout=10000 (ms). */
export const ZK_SESSION_TIMEOUT_S = 10;

/** How an observation waits (ms): "not leader" and a silent nameserver (`budgetMs`), a tablet listed healthy that does not answer (`connectionWaitMs`). */
export function observeWaitOf(argv: ArgsOf<typeof leaderWaitOption>): { budgetMs: number; connectionWaitMs: number } {
  return { budgetMs: seconds('leader-wait', argv['leader-wait']) * 1000, connectionWaitMs: seconds('zk-session-timeout', argv['zk-session-timeout']) * 1000 + 2000 };
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const HOST_PORT = /^[A-Za-z0-9_.-]+:\d{1,5}$/;

export function resolveConnection(argv: ConnectionArgs, env: NodeJS.ProcessEnv = process.env, args: readonly string[] = process.argv.slice(2)): ConnectionConfig {
  const zkCluster = String(argv['zk-cluster'] ?? env['OPENMLDB_ZK_CLUSTER'] ?? '').trim();
  if (zkCluster === '') throw new UsageError('no ZooKeeper address: pass --zk_cluster=HOST:PORT[,HOST:PORT] or set OPENMLDB_ZK_CLUSTER');
  for (const host of zkCluster.split(',')) {
    if (!HOST_PORT.test(host)) throw new UsageError(`malformed --zk_cluster entry '${host}': expected HOST:PORT`);
    const port = Number(host.slice(host.lastIndexOf(':') + 1));
    if (port < 1 || port > 65535) throw new UsageError(`--zk_cluster entry '${host}': the port must be 1-65535`);
  }
  const zkRootPath = String(argv['zk-root-path'] ?? env['OPENMLDB_ZK_ROOT_PATH'] ?? '/openmldb').trim();
  if (!zkRootPath.startsWith('/')) throw new UsageError(`--zk_root_path must start with '/' (got '${zkRootPath}')`);
  const given = argv['openmldb-bin'] ?? (env['OPENMLDB_BIN'] || undefined);
  const bin = given === undefined ? onPath('openmldb') : String(given);
  if (bin === undefined || bin === '') throw new BinaryMissing('openmldb', 'is not on PATH (nor given by --openmldb_bin_path or OPENMLDB_BIN)');
  const timeout = seconds('command-timeout', argv['command-timeout']);
  return {
    zkCluster,
    zkRootPath,
    bin,
    commandTimeoutMs: timeout * 1000,
    transport: transportOf(argv['transport'] ?? (env['OPENMLDB_RECOVER_TRANSPORT'] || undefined)),
    user: headerSafe('the user (--user or OPENMLDB_USER)', String(argv['user'] ?? (env['OPENMLDB_USER'] || 'root')), true),
    ...passwordOf(argv, env),
    from: {
      zkCluster: sourceOf('OPENMLDB_ZK_CLUSTER', env, args),
      zkRootPath: sourceOf('OPENMLDB_ZK_ROOT_PATH', env, args),
      bin: sourceOf('OPENMLDB_BIN', env, args),
    },
  };
}

/**
 * The user and password go into an HTTP Authorization header and the binary's arguments:
 * a control character (a CR or LF pasted along) would make every call fail as "nameserver
 * does not answer". A usage error instead, the value itself never echoed for a password.
 */
function headerSafe(what: string, value: string, echo: boolean): string {
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f]/.exec(value);
  if (bad) {
    const name = bad[0] === '\r' ? 'a carriage return' : bad[0] === '\n' ? 'a line break' : `the control character 0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')}`;
    throw new UsageError(`${what} holds ${name}${echo ? ` (${JSON.stringify(value).slice(0, 80)})` : ''}: remove it`);
  }
  return value;
}

/** A file holding a secret is this user's alone (as ssh insists on for a private key). */
export function privateSecretFile(path: string, what: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return; // unreadable: the read says so
  }
  if ((mode & 0o077) !== 0) throw new UsageError(`${what} ${path} is open to other users (mode ${(mode & 0o777).toString(8)}), and it holds a password: chmod 600 it`);
}

/**
 * The HTTP password: --password-file (its first line), else --password, else
 * OPENMLDB_PASSWORD, else empty. A file or the environment keeps it out of `ps` and
 * shell history; giving both flags is a mistake worth stopping for.
 */
function passwordOf(argv: ConnectionArgs, env: NodeJS.ProcessEnv): Pick<ConnectionConfig, 'password' | 'passwordFrom'> {
  const file = argv['password-file'];
  if (file !== undefined) {
    if (argv['password'] !== undefined) throw new UsageError('give --password or --password-file, not both');
    let text: string;
    privateSecretFile(String(file), '--password-file');
    try {
      text = readFileSync(String(file), 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --password-file ${String(file)} (${(err as NodeJS.ErrnoException).code ?? String(err)}): check the path and its permissions`);
    }
    return { password: headerSafe(`the password in --password-file ${String(file)}`, text.split(/\r?\n/)[0] ?? '', false), passwordFrom: 'file' };
  }
  if (argv['password'] !== undefined) return { password: headerSafe('--password', String(argv['password']), false), passwordFrom: 'option' };
  const fromEnv = env['OPENMLDB_PASSWORD'];
  return fromEnv !== undefined && fromEnv !== '' ? { password: headerSafe('OPENMLDB_PASSWORD', fromEnv, false), passwordFrom: 'env' } : { password: '', passwordFrom: 'none' };
}

function transportOf(value: unknown): TransportMode {
  const v = String(value ?? 'http');
  if (!(TRANSPORT_MODES as readonly string[]).includes(v)) throw new UsageError(`--transport must be one of ${TRANSPORT_MODES.join(', ')} (got '${v}')`);
  return v as TransportMode;
}

/** Why the binary cannot be run (checked before anything runs), as it completes "openmldb binary PATH ..."; undefined when it can. */
export function binaryProblem(bin: string): string | undefined {
  if (!existsSync(bin)) return 'does not exist';
  if (statSync(bin).isDirectory()) return 'is a directory, not the openmldb binary';
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    return 'is not executable (chmod +x it)';
  }
  return undefined;
}

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer wait would fire at once. */
export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** A duration option in seconds: positive, and short enough for a timer. */
export function seconds(name: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of seconds (got ${String(value)})`);
  if (n > MAX_SECONDS) throw new UsageError(`--${name} must be at most ${MAX_SECONDS} seconds (about 24 days; got ${String(value)})`);
  return n;
}
