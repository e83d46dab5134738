// The evidence record (src/engine/evidence.ts) in the state directory, beside the lock and
// the journal, keyed by cluster: a directory `KEY.evidence/` with one file per table, each
// written atomically (temp, fsync, rename), so a write costs the tables that changed. An
// older build kept it all in one file, `KEY.evidence.json`: read, and moved into the
// directory by the first run that holds the lock.
import { lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type EvidenceFile, type EvidenceStore, mergeEvidence, splitEvidence } from '../engine/evidence.js';
import { codeOf } from './files.js';
import { JournalError, readStateJson, writeAtomic } from './journal.js';

/** Where a cluster's record lives (a directory), and the single file an older build wrote. */
export function evidencePaths(stateDir: string, key: string): { dir: string; legacy: string } {
  return { dir: join(stateDir, `${key}.evidence`), legacy: join(stateDir, `${key}.evidence.json`) };
}

/** A table's file name: the table as `db.table`, made safe for a path (and a ZooKeeper node). */
export function evidenceTableName(table: string): string {
  return `${encodeURIComponent(table)}.json`;
}

export function readEvidence(path: string): EvidenceFile | undefined {
  const parsed = readStateJson(path, 'the evidence record', " (replicas' snapshot terms and failed loads it held are then unknown)");
  if (parsed === undefined) return undefined;
  const f = parsed as Partial<EvidenceFile> | null;
  if (f === null || typeof f !== 'object' || f.version !== 1 || typeof f.partitions !== 'object' || f.partitions === null) {
    throw new JournalError(`the evidence record ${path} is not one this tool wrote: check it, then delete it to start afresh`);
  }
  return f as EvidenceFile;
}

/** The table files in `dir` (none when it does not exist); a symlink or a file there is refused. */
function tableFiles(dir: string): string[] {
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory()) throw new JournalError(`the evidence record ${dir} is not a directory: check it, then delete it to start afresh`);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return [];
    throw err;
  }
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

/** A store in `stateDir` for cluster `key`; `readOnly` for dry runs and reads, which must change nothing. */
export function evidenceStore(stateDir: string, key: string, readOnly = false): EvidenceStore & { dir: string } {
  const { dir, legacy } = evidencePaths(stateDir, key);
  const writeTables = (tables: ReadonlyMap<string, EvidenceFile>) => {
    let removed = false;
    for (const [table, file] of tables) {
      const path = join(dir, evidenceTableName(table));
      if (Object.keys(file.partitions).length === 0) {
        rmSync(path, { force: true });
        removed = true;
      } else {
        mkdirSync(dir, { mode: 0o700, recursive: true });
        writeAtomic(path, `${JSON.stringify(file)}\n`);
      }
    }
    // Nothing left to remember: no directory, so a clean state directory means a clean cluster.
    // (A temp file a crash left there goes with it.)
    if (removed && tableFiles(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  };
  return {
    dir,
    read: () => {
      const old = readEvidence(legacy);
      const found = mergeEvidence([...(old ? [old] : []), ...tableFiles(dir).flatMap((f) => readEvidence(f) ?? [])]);
      if (old && !readOnly) {
        // Moved whole before anything else is written: the table files win over it from now on.
        writeTables(splitEvidence(found ?? old));
        rmSync(legacy, { force: true });
      }
      return found;
    },
    write: (tables) => {
      if (!readOnly) writeTables(tables);
    },
  };
}
