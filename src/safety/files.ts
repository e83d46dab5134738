// The state directory's files are trusted to decide what auto_failover is put back to and
// who holds the lock, so they are handled as private files: the directory must be a real
// directory owned by this user that no other user may write to (0700, or 0755 as systemd
// makes it); a file is read only when it is
// a regular file (never through a symlink) owned by this user, and nothing read from one is
// echoed raw (an error never quotes its content; a holder's command loses its control
// characters). Problems here are local, and end the run with exit 2 before any change.
import { accessSync, closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { JournalError } from './state-error.js';
import { errorMessage } from '../exit-codes.js';

/** Files larger than this are no state file of ours (the evidence log has its own bound). */
const MAX_STATE_FILE = 4 * 1024 * 1024;

const uid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/** Create the state directory if needed (0700), and make sure it is ours and private. */
export function checkStateDir(dir: string): string {
  try {
    mkdirs(dir);
  } catch (err) {
    const code = codeOf(err);
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new JournalError(`the state directory ${dir} is not a directory: pass --state-dir with a directory you own`);
    throw new JournalError(`the state directory ${dir} cannot be created (${code}): pass --state-dir with a directory you own`);
  }
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    throw new JournalError(`the state directory ${dir} cannot be read (${codeOf(err)}): pass --state-dir with a directory you own`);
  }
  if (st.isSymbolicLink()) throw new JournalError(`the state directory ${dir} is a symlink: pass --state-dir with the real directory`);
  if (!st.isDirectory()) throw new JournalError(`the state directory ${dir} is not a directory: pass --state-dir with a directory you own`);
  const me = uid();
  if (me !== undefined && st.uid !== me) throw new JournalError(`the state directory ${dir} belongs to uid ${st.uid}, not to this user (${me}): pass --state-dir with a directory you own`);
  // As sshd's StrictModes: others may see the directory (systemd's StateDirectory= makes it
  // 0755), never write to it (they could plant or swap the lock and journal). Its files are 0600.
  if ((st.mode & 0o022) !== 0) {
    throw new JournalError(
      `the state directory ${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}): another user could plant or replace its lock and journal; chmod go-w it (under systemd: StateDirectoryMode=0700 in the unit), or pass another --state-dir`,
    );
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new JournalError(`the state directory ${dir} is not writable (${codeOf(err)}): pass --state-dir with a writable directory`);
  }
  return dir;
}

/**
 * `mkdir -p` with mode 0700, one level at a time: Node's own recursive mkdirSync never
 * returns for some paths on pseudo filesystems (under /proc it loops forever).
 */
function mkdirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(d)) break;
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw err;
    }
  }
}

/**
 * A private state file's text, or undefined when there is none. Refused (JournalError):
 * a symlink, anything but a regular file, a file of another user, or open to others.
 */
export function readPrivateFile(path: string, what: string, maxBytes = MAX_STATE_FILE): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = codeOf(err);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new JournalError(`${what} ${path} is a symlink: a state file must be a regular file; delete it to start afresh`);
    throw new JournalError(`${what} ${path} cannot be read (${code}): check it, then delete it to start afresh`);
  }
  try {
    const st = fstatSync(fd);
    const me = uid();
    if (!st.isFile()) throw new JournalError(`${what} ${path} is not a regular file: delete it to start afresh`);
    if (me !== undefined && st.uid !== me) throw new JournalError(`${what} ${path} belongs to uid ${st.uid}, not to this user: it was not written by this tool for you; delete it to start afresh`);
    if ((st.mode & 0o077) !== 0) throw new JournalError(`${what} ${path} is open to other users (mode ${(st.mode & 0o777).toString(8)}): it was not written by this tool; delete it to start afresh`);
    if (st.size > maxBytes) throw new JournalError(`${what} ${path} is ${st.size} bytes: not one this tool wrote; delete it to start afresh`);
    const buf = Buffer.alloc(st.size);
    let read = 0;
    while (read < st.size) {
      const n = readSync(fd, buf, read, st.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buf.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** A state file parsed as a JSON object; its content never reaches an error message. */
export function readPrivateJson(path: string, what: string, maxBytes?: number): Record<string, unknown> | undefined {
  const text = readPrivateFile(path, what, maxBytes);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new JournalError(`${what} ${path} is not valid JSON (${text.length === 0 ? 'empty' : `${text.length} bytes`}): check it, then delete it to start afresh`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new JournalError(`${what} ${path} is not one this tool wrote (not a JSON object): check it, then delete it to start afresh`);
  }
  return parsed as Record<string, unknown>;
}

/** Printable: control characters (terminal escapes included) replaced, length bounded. */
export function printable(text: unknown, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const s = String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

export function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? errorMessage(err);
}
