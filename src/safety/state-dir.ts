// Where a run keeps its lock and journal: --state-dir, else $XDG_STATE_HOME/openmldb-recover,
// else ~/.local/state/openmldb-recover. Files are keyed by cluster (ZooKeeper address + root
// path), so runs against different clusters never block each other.
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { checkStateDir } from './files.js';
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

/** The state directory, created if needed and checked to be this user's, private (files.ts). */
export function ensureStateDir(dir: string): string {
  return checkStateDir(dir);
}

/**
 * Remove the temporary files of atomic writes (`NAME.PID.RAND.tmp`) left by runs that died
 * between writing and renaming; called under the cluster lock, so no live run is writing.
 */
export function sweepStaleTemps(dir: string, alive: (pid: number) => boolean): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
