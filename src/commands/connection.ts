// The connection to a cluster as a run resolved it (settings.ts reads it from the flags, in
// both spellings operators use, or from the environment of OpenMLDB's conf/openmldb-env.sh),
// where each part came from, and the checks on what it names: the binary, a secret's file.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import type { TransportMode } from '../cluster/transport.js';
import { UsageError } from '../exit-codes.js';

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
  /** --password-file, absolute (a suggested command names it; never the password). */
  passwordFile?: string;
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

export function sourceOf(variable: (typeof ENV_OPTIONS)[number][0], env: NodeJS.ProcessEnv, args: readonly string[]): SettingSource {
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

/**
 * The user and password go into an HTTP Authorization header and the binary's arguments:
 * a control character (a CR or LF pasted along) would make every call fail as "nameserver
 * does not answer". A usage error instead, the value itself never echoed for a password.
 */
export function headerSafe(what: string, value: string, echo: boolean): string {
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
