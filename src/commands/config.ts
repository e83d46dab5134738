// Connection settings, from flags (the names operators already use, in both spellings)
// or from the environment of OpenMLDB's conf/openmldb-env.sh.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from './exit-codes.js';

export interface ConnectionConfig {
  zkCluster: string;
  zkRootPath: string;
  bin: string;
  /** Per-command timeout for one run of the binary (ms). */
  commandTimeoutMs: number;
  /** HTTP credential: user and password (any value works with skip_grant_tables=true). */
  user: string;
  password: string;
}

export function connectionOptions<T>(y: Argv<T>) {
  return y
    .option('zk-cluster', { alias: 'zk_cluster', type: 'string', describe: 'ZooKeeper hosts h:p,h:p (env OPENMLDB_ZK_CLUSTER)' })
    .option('zk-root-path', { alias: 'zk_root_path', type: 'string', describe: 'cluster root path in ZooKeeper (env OPENMLDB_ZK_ROOT_PATH, default /openmldb)' })
    .option('openmldb-bin', { alias: 'openmldb_bin_path', type: 'string', describe: 'the openmldb binary (env OPENMLDB_BIN, else openmldb on PATH)' })
    .option('command-timeout', { type: 'number', default: 30, describe: 'seconds one run of the binary may take' })
    .option('user', { type: 'string', default: 'root', describe: 'user for the HTTP Authorization header' })
    .option('password', { type: 'string', default: '', describe: 'password for the HTTP Authorization header' });
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const HOST_PORT = /^[A-Za-z0-9_.-]+:\d{1,5}$/;

export function resolveConnection(argv: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ConnectionConfig {
  const zkCluster = String(argv['zk-cluster'] ?? env['OPENMLDB_ZK_CLUSTER'] ?? '').trim();
  if (zkCluster === '') throw new UsageError('no ZooKeeper address: pass --zk_cluster=HOST:PORT[,HOST:PORT] or set OPENMLDB_ZK_CLUSTER');
  for (const host of zkCluster.split(',')) {
    if (!HOST_PORT.test(host)) throw new UsageError(`malformed --zk_cluster entry '${host}': expected HOST:PORT`);
  }
  const zkRootPath = String(argv['zk-root-path'] ?? env['OPENMLDB_ZK_ROOT_PATH'] ?? '/openmldb').trim();
  if (!zkRootPath.startsWith('/')) throw new UsageError(`--zk_root_path must start with '/' (got '${zkRootPath}')`);
  const bin = String(argv['openmldb-bin'] ?? env['OPENMLDB_BIN'] ?? onPath('openmldb') ?? '');
  if (bin === '') throw new UsageError('no openmldb binary: pass --openmldb_bin_path=PATH or set OPENMLDB_BIN');
  const timeout = Number(argv['command-timeout'] ?? 30);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--command-timeout must be a positive number of seconds (got ${String(argv['command-timeout'])})`);
  return {
    zkCluster,
    zkRootPath,
    bin,
    commandTimeoutMs: timeout * 1000,
    user: String(argv['user'] ?? 'root'),
    password: String(argv['password'] ?? ''),
  };
}

/** The binary exists and is executable (checked before anything runs). */
export function binaryProblem(bin: string): string | undefined {
  if (!existsSync(bin)) return `openmldb binary not found at ${bin}: pass --openmldb_bin_path or set OPENMLDB_BIN`;
  if (statSync(bin).isDirectory()) return `${bin} is a directory, not the openmldb binary`;
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    return `openmldb binary ${bin} is not executable (chmod +x it)`;
  }
  return undefined;
}
