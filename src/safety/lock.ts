// One mutating run per cluster at a time. The lock is a file holding who took it (pid,
// host, start time, command), written whole to a temporary file first and then linked into
// place (link fails if the lock exists): a full disk leaves no empty lock behind. A lock
// whose holder is dead (same host, pid gone) is stale and is taken over; so is one that is
// empty or garbled and older than a minute (a tool older than this one, or a crash of the
// filesystem). One held by a live process, or by another host (whose processes we cannot
// see), is respected. Written by hand rather than with proper-lockfile: that library judges
// staleness by mtime, and we must name the holder.
import { existsSync, linkSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { codeOf, printable, readPrivateFile } from './files.js';
import { writeTemp } from './journal.js';
import { JournalError } from './state-error.js';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  runId: string;
}

export class LockHeld extends Error {
  override readonly name = 'LockHeld';
  constructor(
    readonly path: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      holder
        ? `another run holds the cluster lock: pid ${printable(holder.pid, 20)} on ${printable(holder.host, 100)}, started ${printable(holder.startedAt, 40)}, running \`${printable(holder.command)}\`; wait for it, or if it is gone for good delete ${path}`
        : `another run holds the cluster lock ${path} (unreadable); if no run is active, delete it`,
    );
  }
}

export function lockPath(stateDir: string, key: string): string {
  return join(stateDir, `${key}.lock`);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder a lock file names; undefined when it is empty, garbled or not a proper private file. */
export function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readPrivateFile(path, 'the lock') ?? '') as Partial<LockHolder> | null;
    if (!h || typeof h !== 'object' || typeof h.pid !== 'number' || typeof h.host !== 'string' || typeof h.runId !== 'string') return undefined;
    return { pid: h.pid, host: h.host, startedAt: String(h.startedAt ?? '?'), command: String(h.command ?? '?'), runId: h.runId };
  } catch {
    return undefined;
  }
}

/** An empty or garbled lock this old belongs to no live run. */
const GARBLED_LOCK_GRACE_MS = 60_000;

/** Write the whole lock to a temporary file, then link it into place: never a partial lock. */
function createLock(path: string, content: string): boolean {
  let tmp: string | undefined;
  try {
    tmp = writeTemp(path, content);
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if (codeOf(err) === 'EEXIST') return false;
    throw new JournalError(`the cluster lock ${path} cannot be written (${codeOf(err)}${codeOf(err) === 'ENOSPC' ? ': the disk is full' : ''}): nothing was changed; free the space or pass another --state-dir`);
  } finally {
    if (tmp !== undefined) rmSync(tmp, { force: true });
  }
}

export interface Lock {
  path: string;
  holder: LockHolder;
  /** Set when a dead run's lock was taken over. */
  tookOverFrom?: LockHolder;
  release(): void;
}

export function acquireLock(path: string, command: string, runId: string): Lock {
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command, runId };
  let tookOverFrom: LockHolder | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createLock(path, `${JSON.stringify(me)}\n`)) {
      const lock: Lock = {
        path,
        holder: me,
        release: () => {
          // Only remove our own lock.
          if (readHolder(path)?.runId === runId) rmSync(path, { force: true });
        },
      };
      if (tookOverFrom) lock.tookOverFrom = tookOverFrom;
      return lock;
    }
    notALockFile(path);
    const holder = readHolder(path);
    const stale = holder !== undefined ? holder.host === me.host && !alive(holder.pid) : garbledAndOld(path);
    if (!stale) throw new LockHeld(path, holder);
    // Move the stale lock aside atomically; if another process did it first, the
    // rename fails and we simply try to create ours again.
    const aside = `${path}.stale.${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // someone else moved it first: try to create ours again
    }
    const moved = readHolder(aside);
    if (moved?.runId !== holder?.runId) {
      // We raced with a run that had just taken the lock over: give it back untouched.
      try {
        linkSync(aside, path);
      } catch {
        /* the path is taken again: that run's lock stands either way */
      }
      rmSync(aside, { force: true });
      throw new LockHeld(path, moved);
    }
    rmSync(aside, { force: true });
    tookOverFrom = holder ?? { pid: 0, host: '?', startedAt: '?', command: 'an empty or garbled lock', runId: '?' };
  }
  throw new LockHeld(path, existsSync(path) ? readHolder(path) : undefined);
}

/**
 * A lock is a regular file of this user. Anything else at its path (a symlink, a directory,
 * a FIFO, another user's file) is no run's lock and never goes away by itself: exit 2, with
 * what to do, rather than "another run holds the lock" for ever.
 */
function notALockFile(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // gone meanwhile: the next attempt creates it
  }
  const what = st.isSymbolicLink() ? 'a symlink' : st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : !st.isFile() ? 'not a regular file' : undefined;
  if (what) throw new JournalError(`the cluster lock ${path} is ${what}, not a lock this tool wrote: no run holds it; remove it (or pass another --state-dir)`);
  const me = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (me !== undefined && st.uid !== me) throw new JournalError(`the cluster lock ${path} belongs to uid ${st.uid}, not to this user: no run of yours holds it; remove it (or pass another --state-dir)`);
}

/** An unreadable lock (empty, garbled, not ours) old enough to be no live run's. */
function garbledAndOld(path: string): boolean {
  try {
    const st = lstatSync(path);
    return st.isFile() && Date.now() - st.mtimeMs > GARBLED_LOCK_GRACE_MS;
  } catch {
    return false;
  }
}
