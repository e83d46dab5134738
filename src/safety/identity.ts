// One lock per cluster, however its address is spelled. `--zk_cluster=127.0.0.1:P` and
// `localhost:P`, a repeated host, or two partial lists of one ensemble all name the same
// cluster, so the lock cannot be keyed on the flag's text. It is keyed on what the cluster
// itself says it is: each ZooKeeper host as an address (resolved) with the root path, and
// each nameserver registered under that root (`showns`). A run locks every one of those
// identifiers (in order, never waiting: a held one means exit 4), so two runs that share
// any identifier exclude each other. The journal and the evidence record are named by the
// cluster's key, found through an index of identifiers in the state directory, so a rerun
// spelled differently finds what an earlier run left.
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { join } from 'node:path';
import { readPrivateJson } from './files.js';
import { writeAtomic } from './journal.js';
import { type Lock, LockHeld, acquireLock } from './lock.js';

/** Every identifier of one cluster, sorted: `zk:ADDRESS:PORT/ROOT` and `ns:ENDPOINT/ROOT`. */
export async function clusterIdentifiers(zkCluster: string, zkRootPath: string, nameservers: readonly string[]): Promise<string[]> {
  const root = zkRootPath.replace(/\/+$/, '') || '/';
  const ids = new Set<string>();
  for (const hostPort of zkCluster.split(',').map((h) => h.trim()).filter(Boolean)) {
    const at = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, at).toLowerCase();
    const port = Number(hostPort.slice(at + 1));
    let addresses: string[];
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      addresses = [host]; // no name service: the text is all there is
    }
    for (const a of addresses) ids.add(`zk:${normalizeAddress(a)}:${port}${root}`);
  }
  for (const ns of nameservers) ids.add(`ns:${ns.toLowerCase()}${root}`);
  return [...ids].sort();
}

/** `::1` and `127.0.0.1` both mean this host: one spelling for loopback. */
function normalizeAddress(a: string): string {
  if (a === '::1' || a === '::ffff:127.0.0.1' || a.startsWith('127.')) return '127.0.0.1';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

const INDEX = 'clusters.json';

interface Index {
  version: 1;
  /** identifier -> the cluster key its files are named by. */
  ids: Record<string, string>;
}

function readIndex(stateDir: string): Index {
  const raw = readPrivateJson(join(stateDir, INDEX), 'the cluster index');
  if (!raw) return { version: 1, ids: {} };
  const ids = raw['ids'];
  if (raw['version'] !== 1 || ids === null || typeof ids !== 'object' || Array.isArray(ids)) return { version: 1, ids: {} };
  return { version: 1, ids: Object.fromEntries(Object.entries(ids as Record<string, unknown>).filter(([, v]) => typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v as string))) as Record<string, string> };
}

/** The key an identifier set is known by, or a new one from `fallback`. */
export function knownKey(stateDir: string, ids: readonly string[], fallback: string): string {
  const index = readIndex(stateDir);
  return ids.map((id) => index.ids[id]).find((k) => k !== undefined) ?? fallback;
}

/** Remember every identifier under `key` (call under the locks). */
export function rememberKey(stateDir: string, ids: readonly string[], key: string): void {
  const index = readIndex(stateDir);
  let changed = false;
  for (const id of ids) {
    if (index.ids[id] !== key) {
      index.ids[id] = key;
      changed = true;
    }
  }
  if (changed) writeAtomic(join(stateDir, INDEX), `${JSON.stringify(index, null, 1)}\n`);
}

const idFile = (stateDir: string, id: string) => join(stateDir, `id-${createHash('sha256').update(id).digest('hex').slice(0, 16)}.lock`);

/**
 * Lock every identifier of the cluster, in order, without waiting. One held by another run:
 * release what was taken and throw LockHeld naming that run.
 */
export function lockCluster(stateDir: string, ids: readonly string[], command: string, runId: string): Lock {
  const taken: Lock[] = [];
  try {
    for (const id of ids) taken.push(acquireLock(idFile(stateDir, id), command, runId));
  } catch (err) {
    for (const l of taken.reverse()) l.release();
    if (err instanceof LockHeld) throw err;
    throw err;
  }
  const first = taken[0];
  if (!first) throw new Error('a cluster has at least one identifier');
  const tookOver = taken.find((l) => l.tookOverFrom)?.tookOverFrom;
  return {
    path: first.path,
    holder: first.holder,
    ...(tookOver ? { tookOverFrom: tookOver } : {}),
    release: () => {
      for (const l of [...taken].reverse()) l.release();
    },
  };
}
