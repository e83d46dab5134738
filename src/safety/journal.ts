// The run journal (engine/journal-content.ts) as a file in the state directory: written atomically
// before the first change, so a run killed with SIGKILL leaves it behind and the next run
// restores the value of auto_failover from before ANY run touched it, instead of the
// `false` the dead run left in ZooKeeper (OpenMLDB's own script gets this wrong). A
// completed run clears it.
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { printable, readPrivateJson } from './files.js';
import { JournalError } from './state-error.js';
import { join } from 'node:path';
import type { Journal } from '../engine/journal-content.js';

export { JournalError };

export function journalPath(stateDir: string, key: string): string {
  return join(stateDir, `${key}.journal.json`);
}

/**
 * A new private file beside `path`, written whole and fsynced; returns its name. The
 * caller moves it into place (rename to replace, link to create only if absent).
 */
export function writeTemp(path: string, content: string): string {
  const tmp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeAll(fd, content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true }); // a full disk leaves no half-written file behind
    throw err;
  }
  closeSync(fd);
  return tmp;
}

/**
 * Every byte of `content` at the file's position: writeSync may write less than it was
 * given (a nearly full disk) without an error, and a half-written state file must fail the
 * write, not pass as written. A write that makes no progress is a full disk.
 */
export function writeAll(fd: number, content: string): void {
  const buf = Buffer.from(content, 'utf8');
  for (let at = 0; at < buf.length; ) {
    const n = writeSync(fd, buf, at, buf.length - at);
    if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    at += n;
  }
}

/** The directory's entries made durable (a rename, a new file, a removal), where the system allows it. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory: the entry is as durable as they make it.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Write-to-temp, fsync, rename: a reader sees the old file or the new one, never half. */
export function writeAtomic(path: string, content: string): void {
  renameSync(writeTemp(path, content), path);
}

/** A state file as a JSON object, or undefined when absent; `what` names it in errors (which never quote it). */
export function readStateJson(path: string, what: string, consequence = '', maxBytes?: number): Record<string, unknown> | undefined {
  try {
    return readPrivateJson(path, what, maxBytes);
  } catch (err) {
    if (err instanceof JournalError && consequence !== '') throw new JournalError(`${err.message}${consequence}`);
    throw err;
  }
}

export function readJournal(path: string): Journal | undefined {
  const parsed = readStateJson(path, 'the run journal');
  return parsed === undefined ? undefined : asJournal(parsed, `the run journal ${path}`, 'delete it');
}

/** A pending plan as `plan` writes it: its fields are printed to the terminal, so no control character, and times that parse. */
function planOk(p: unknown): boolean {
  if (p === null || typeof p !== 'object') return false;
  const { id, since, holdUntil, file, applying } = p as Record<string, unknown>;
  const time = (v: unknown) => typeof v === 'string' && /^[\dT:.Z+-]+$/.test(v) && !Number.isNaN(Date.parse(v));
  return typeof id === 'string' && /^plan-[\w-]+$/.test(id) && time(since) && time(holdUntil) && typeof file === 'string' && !/[\x00-\x1f\x7f]/.test(file) && (applying === undefined || typeof applying === 'boolean');
}

/**
 * A parsed journal checked to be one this tool wrote (from a file or a ZooKeeper node);
 * `what` and `remedy` name it in the error, which never quotes its content.
 */
export function asJournal(parsed: unknown, what: string, remedy: string): Journal {
  const j = (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {}) as Partial<Journal>;
  const str = (v: unknown) => typeof v === 'string';
  const strings = (v: unknown) => Array.isArray(v) && v.every(str);
  const sentOk = (v: unknown) => Array.isArray(v) && v.every((e) => e !== null && typeof e === 'object' && ['at', 'runId', 'command', 'outcome'].every((k) => str((e as Record<string, unknown>)[k])));
  const clusterOk = j.cluster !== null && typeof j.cluster === 'object' && str(j.cluster.zkCluster) && str(j.cluster.zkRootPath);
  if (
    j.version !== 1 ||
    typeof j.autoFailoverOriginal !== 'boolean' ||
    !str(j.runId) ||
    !Number.isSafeInteger(j.pid) ||
    !str(j.host) ||
    !str(j.command) ||
    !str(j.startedAt) ||
    !clusterOk ||
    !strings(j.resumedBy ?? []) ||
    (j.autoFailoverSet !== undefined && j.autoFailoverSet !== false) ||
    (j.sent !== undefined && !sentOk(j.sent)) ||
    (j.sentTotal !== undefined && !(Number.isSafeInteger(j.sentTotal) && j.sentTotal >= 0)) ||
    (j.identifiers !== undefined && !strings(j.identifiers)) ||
    (j.plan !== undefined && !planOk(j.plan))
  ) {
    throw new JournalError(`${what} is not one this tool wrote: check it, then ${remedy} to start afresh`);
  }
  // Its text reaches the terminal: anyone who can write the file (or, under ZooKeeper's
  // default ACLs, the node) could plant control sequences in it.
  const clean = (v: string) => printable(v, 1000);
  return {
    ...j,
    resumedBy: (j.resumedBy ?? []).map(clean),
    runId: clean(j.runId as string),
    host: clean(j.host as string),
    command: clean(j.command as string),
    startedAt: clean(j.startedAt as string),
    ...(j.sent ? { sent: j.sent.map((e) => ({ at: clean(e.at), runId: clean(e.runId), command: clean(e.command), outcome: clean(e.outcome) })) } : {}),
  } as Journal;
}

/**
 * The journal found belongs to this cluster: the identifiers it recorded (its ZooKeeper
 * hosts, its nameservers: safety/identity.ts) share one with this run's. A journal from
 * another cluster, copied or planted, would have this run "restore" someone else's value.
 */
export function checkJournalCluster(j: Journal, ids: readonly string[], where: { zkCluster: string; zkRootPath: string }, what: string): void {
  if (j.identifiers === undefined || j.identifiers.some((id) => ids.includes(id))) return;
  // Spelled exactly as this run spells it (its hosts renamed, its nameservers moved since): this cluster.
  if (j.cluster.zkCluster === where.zkCluster && j.cluster.zkRootPath === where.zkRootPath) return;
  throw new JournalError(
    `${what} belongs to another cluster (${printable(j.cluster.zkCluster, 200)}${printable(j.cluster.zkRootPath, 200)}; it holds auto_failover=${j.autoFailoverOriginal} from before its run), not this one: if it is this cluster's after all, run with --zk_cluster=${printable(j.cluster.zkCluster, 200)} --zk_root_path=${printable(j.cluster.zkRootPath, 200)}; else move it away`,
  );
}

export function writeJournal(path: string, j: Journal): void {
  writeAtomic(path, `${JSON.stringify(j, null, 2)}\n`);
}

export function clearJournal(path: string): void {
  rmSync(path, { force: true });
}
