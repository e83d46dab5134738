// The run journal (engine/journal.ts) as a file in the state directory: written atomically
// before the first change, so a run killed with SIGKILL leaves it behind and the next run
// restores the value of auto_failover from before ANY run touched it, instead of the
// `false` the dead run left in ZooKeeper (OpenMLDB's own script gets this wrong). A
// completed run clears it.
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { readPrivateJson } from './files.js';
import { JournalError } from './state-error.js';
import { join } from 'node:path';
import type { Journal } from '../engine/journal.js';

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
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true }); // a full disk leaves no half-written file behind
    throw err;
  }
  closeSync(fd);
  return tmp;
}

/** Write-to-temp, fsync, rename: a reader sees the old file or the new one, never half. */
export function writeAtomic(path: string, content: string): void {
  renameSync(writeTemp(path, content), path);
}

/** A state file as a JSON object, or undefined when absent; `what` names it in errors (which never quote it). */
export function readStateJson(path: string, what: string, consequence = ''): Record<string, unknown> | undefined {
  try {
    return readPrivateJson(path, what);
  } catch (err) {
    if (err instanceof JournalError && consequence !== '') throw new JournalError(`${err.message}${consequence}`);
    throw err;
  }
}

export function readJournal(path: string): Journal | undefined {
  const parsed = readStateJson(path, 'the run journal');
  return parsed === undefined ? undefined : asJournal(parsed, `the run journal ${path}`, 'delete it');
}

/**
 * A parsed journal checked to be one this tool wrote (from a file or a ZooKeeper node);
 * `what` and `remedy` name it in the error, which never quotes its content.
 */
export function asJournal(parsed: unknown, what: string, remedy: string): Journal {
  const j = (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {}) as Partial<Journal>;
  if (j.version !== 1 || typeof j.autoFailoverOriginal !== 'boolean' || typeof j.runId !== 'string' || !Array.isArray(j.resumedBy ?? []) || (j.autoFailoverSet !== undefined && j.autoFailoverSet !== false)) {
    throw new JournalError(`${what} is not one this tool wrote: check it, then ${remedy} to start afresh`);
  }
  return { resumedBy: [], ...j } as Journal;
}

export function writeJournal(path: string, j: Journal): void {
  writeAtomic(path, `${JSON.stringify(j, null, 2)}\n`);
}

export function clearJournal(path: string): void {
  rmSync(path, { force: true });
}
