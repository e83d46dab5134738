// One mutating run per cluster at a time. The lock is a file created with O_EXCL holding
// who took it (pid, host, start time, command). A lock whose holder is dead (same host,
// pid gone) is stale and is taken over; one held by a live process, or by another host
// (whose processes we cannot see), is respected. Written by hand rather than with
// proper-lockfile: that library judges staleness by mtime, and we must name the holder.
import { closeSync, existsSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

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
        ? `another run holds the cluster lock: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}, running \`${holder.command}\`; wait for it, or if it is gone for good delete ${path}`
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

export function readHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
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
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${JSON.stringify(me)}\n`);
      closeSync(fd);
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
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(path);
    const stale = holder !== undefined && holder.host === me.host && !alive(holder.pid);
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
    if (moved?.runId !== holder.runId) {
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
    tookOverFrom = holder;
  }
  throw new LockHeld(path, existsSync(path) ? readHolder(path) : undefined);
}
