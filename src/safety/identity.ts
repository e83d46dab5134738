// One lock per cluster, however its address is spelled. `--zk_cluster=127.0.0.1:P` and
// `localhost:P`, a repeated host, or two partial lists of one ensemble all name the same
// cluster, so the lock cannot be keyed on the flag's text. It is keyed on what the cluster
// itself says it is: each ZooKeeper host as an address (resolved) with the root path, and
// each nameserver registered under that root (`showns`). A run locks every one of those
// identifiers (in order, never waiting: a held one means exit 4), so two runs that share
// any identifier exclude each other. The journal and the evidence record are named by the
// cluster's key, found through a key file per identifier in the state directory, so a
// rerun spelled differently finds what an earlier run left.
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { join } from 'node:path';
import { readPrivateFile } from './files.js';
import { writeAtomic } from './journal.js';
import { type Lock, acquireLock } from './lock.js';

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

/**
 * Which key an identifier's files are named by: one small file per identifier, written
 * only under that identifier's lock (a shared index rewritten by runs on two different
 * clusters at once could lose one run's entry, and with it a journal).
 */
const keyFile = (stateDir: string, id: string) => join(stateDir, `id-${idHash(id)}.key`);
const idHash = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 16);
const KEY = /^[A-Za-z0-9._-]+$/;

function keyOf(stateDir: string, id: string): string | undefined {
  const text = readPrivateFile(keyFile(stateDir, id), 'the cluster key file')?.trim();
  return text !== undefined && KEY.test(text) ? text : undefined;
}

/** The key an identifier set is known by, or a new one from `fallback`. */
export function knownKey(stateDir: string, ids: readonly string[], fallback: string): string {
  for (const id of ids) {
    const key = keyOf(stateDir, id);
    if (key !== undefined) return key;
  }
  return fallback;
}

/** Remember every identifier under `key` (call under the locks). */
export function rememberKey(stateDir: string, ids: readonly string[], key: string): void {
  for (const id of ids) if (keyOf(stateDir, id) !== key) writeAtomic(keyFile(stateDir, id), `${key}\n`);
}

const idFile = (stateDir: string, id: string) => join(stateDir, `id-${idHash(id)}.lock`);

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
