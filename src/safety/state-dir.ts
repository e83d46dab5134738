// Where a run keeps its lock and journal: --state-dir, else $XDG_STATE_HOME/openmldb-recover,
// else ~/.local/state/openmldb-recover. Files are keyed by cluster (ZooKeeper address + root
// path), so runs against different clusters never block each other.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_STATE_HOME'];
  return join(xdg && xdg.trim() !== '' ? xdg : join(homedir(), '.local', 'state'), 'openmldb-recover');
}

/** A readable, filesystem-safe key for one cluster. */
export function clusterKey(zkCluster: string, zkRootPath: string): string {
  const hosts = zkCluster.split(',').map((h) => h.trim()).sort().join(',');
  const hash = createHash('sha256').update(`${hosts}|${zkRootPath}`).digest('hex').slice(0, 12);
  const readable = `${hosts.split(',')[0] ?? 'zk'}${zkRootPath}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  return `${readable}-${hash}`;
}

export function ensureStateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
