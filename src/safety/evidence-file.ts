// The evidence record (src/engine/evidence.ts) as a file in the state directory, beside
// the lock and the journal, keyed by cluster. Written atomically (temp, fsync, rename).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceFile, EvidenceStore } from '../engine/evidence.js';
import { JournalError, readStateJson, writeAtomic } from './journal.js';

export function evidencePath(stateDir: string, key: string): string {
  return join(stateDir, `${key}.evidence.json`);
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

/** A store on `path`; `readOnly` for dry runs, which must change nothing. */
export function evidenceStore(path: string, readOnly = false): EvidenceStore {
  return {
    read: () => readEvidence(path),
    write: (file) => {
      if (readOnly) return;
      // Nothing left to remember: no file, so a clean state directory means a clean cluster.
      if (Object.keys(file.partitions).length === 0) rmSync(path, { force: true });
      else writeAtomic(path, `${JSON.stringify(file)}\n`);
    },
  };
}
