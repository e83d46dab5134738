// Room on disk for a run's state. The lock is a few hundred bytes, but the key files, the
// journal and the evidence record (an entry per partition worked on) are written while the
// cluster is being changed, the worst moment to find the disk full. So right after the
// lock, before the first change, room is reserved: a file of real blocks beside the state.
// No room for it: exit 2 naming it, nothing changed. A state write that meets a full disk
// later gives that room back and tries once more.
import { randomFillSync } from 'node:crypto';
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { codeOf } from './files.js';
import { JournalError } from './state-error.js';

/**
 * Enough for the journal and the evidence log's appends. Rewriting the log whole (when it
 * holds far more than it describes) may need more: that rewrite is skipped on a full disk,
 * and the appended log stands.
 */
export const RESERVE_BYTES = 1 << 20;

const FULL = new Set(['ENOSPC', 'EDQUOT']);
const isFull = (err: unknown) => FULL.has(codeOf(err));

export class Room {
  private held: boolean;

  private constructor(readonly path: string | undefined) {
    this.held = path !== undefined;
  }

  /** No room reserved (none could be): writes meeting a full disk fail at once, naming their file. */
  static none(): Room {
    return new Room(undefined);
  }

  /** Reserve `bytes` at `path` (real blocks, synced); a full disk is exit 2 naming the file. */
  static reserve(path: string, bytes = RESERVE_BYTES): Room {
    let fd: number | undefined;
    try {
      // A dead run's reserve (or anything planted there) goes first: never written through.
      rmSync(path, { force: true });
      fd = openSync(path, 'wx', 0o600);
      // Random bytes: zeros are stored as holes, or compressed to nothing, by some file systems.
      const chunk = Buffer.alloc(Math.min(bytes, 64 * 1024));
      for (let left = bytes; left > 0; left -= chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, left));
      fsyncSync(fd);
    } catch (err) {
      rmSync(path, { force: true });
      const full = isFull(err);
      throw new JournalError(
        `the state directory has no room for this run's journal and evidence (${codeOf(err)}${full ? ': the disk is full' : ''} writing ${path}, ${bytes >> 10} KiB): nothing was changed; free the space or pass another --state-dir`,
      );
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    return new Room(path);
  }

  /** A write of the state file `file`; on a full disk, the reserved room is given back and the write tried once more. */
  write<T>(file: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (!isFull(err)) throw err;
      if (this.held) {
        this.release();
        this.onGiveBack?.(file);
        try {
          return fn();
        } catch (again) {
          if (!isFull(again)) throw again;
        }
      }
      const given = this.path !== undefined ? ', even with the room this run had reserved given back' : '';
      throw new JournalError(`the state file ${file} cannot be written (${codeOf(err)}: the disk is full${given}): free the space; the next run picks up from what was written`);
    }
  }

  /** Told when a write meets a full disk and the room is given back (the file written). */
  onGiveBack: ((file: string) => void) | undefined;

  release(): void {
    this.held = false;
    if (this.path !== undefined) rmSync(this.path, { force: true });
  }
}
