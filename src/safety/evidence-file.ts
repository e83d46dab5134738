// The evidence record (src/engine/run-memory.ts) in the state directory, beside the lock and
// the journal, keyed by cluster: `KEY.evidence.jsonl`, a log of table records. Each save
// appends one line holding the tables it changed (each whole; null: the table's record is
// gone) and fsyncs once, so a write costs what changed, not the whole record (at 8000
// partitions the whole record was megabytes per write, thousands of writes a run). Read
// back line by line, the last record of a table wins. When the log has grown well past
// what it holds, it is rewritten as one line (temp, fsync, rename). An older build kept
// the whole record in `KEY.evidence.json`: read, and moved into the log by the first run
// that holds the lock.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type EvidenceFile, type EvidenceStore, type PartitionRecord, mergeEvidence, splitEvidence } from '../engine/run-memory.js';
import { readPrivateFile } from './files.js';
import { JournalError, fsyncDir, readStateJson, writeAll, writeTemp } from './journal.js';

/** Where a cluster's record lives (a log), and the single file an older build wrote. */
export function evidencePaths(stateDir: string, key: string): { log: string; legacy: string } {
  return { log: join(stateDir, `${key}.evidence.jsonl`), legacy: join(stateDir, `${key}.evidence.json`) };
}

/** A log line: tables' records, each whole, or null for a table whose record is gone. */
type LogLine = Record<string, Record<string, PartitionRecord> | null>;

/** Rewritten as one line once it holds this many times what it describes (and at least COMPACT_MIN_BYTES). */
const COMPACT_FACTOR = 4;
const COMPACT_MIN_BYTES = 1 << 20;
/**
 * The largest record read back: 8000 partitions' whole record is about 4 MB, and the log
 * holds at most COMPACT_FACTOR times that before it is rewritten. Past this it is no file
 * of ours (the other state files stop at 4 MB).
 */
const MAX_EVIDENCE_BYTES = 256 * 1024 * 1024;

function notOurs(path: string, why: string): JournalError {
  return new JournalError(`the evidence record ${path} is not one this tool wrote (${why}): check it, then delete it to start afresh (replicas' snapshot terms and failed loads it held are then unknown)`);
}

export function readEvidence(path: string): EvidenceFile | undefined {
  const parsed = readStateJson(path, 'the evidence record', " (replicas' snapshot terms and failed loads it held are then unknown)", MAX_EVIDENCE_BYTES);
  if (parsed === undefined) return undefined;
  const f = parsed as Partial<EvidenceFile> | null;
  if (f === null || typeof f !== 'object' || f.version !== 1 || typeof f.partitions !== 'object' || f.partitions === null) {
    throw new JournalError(`the evidence record ${path} is not one this tool wrote: check it, then delete it to start afresh`);
  }
  return f as EvidenceFile;
}

/**
 * The log replayed: each table's last record. A last line cut short (the run died while
 * appending it) is dropped: its save never returned, so nothing it protected was done.
 */
function readLog(path: string): Map<string, Record<string, PartitionRecord>> | undefined {
  const text = readPrivateFile(path, 'the evidence record', MAX_EVIDENCE_BYTES);
  if (text === undefined) return undefined;
  const tables = new Map<string, Record<string, PartitionRecord>>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return; // torn: no newline after it
      throw notOurs(path, `line ${i + 1} is not JSON`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw notOurs(path, `line ${i + 1} is not an object`);
    for (const [table, rec] of Object.entries(parsed as LogLine)) {
      if (rec === null) tables.delete(table);
      else if (typeof rec === 'object' && !Array.isArray(rec)) tables.set(table, rec);
      else throw notOurs(path, `line ${i + 1}, table ${JSON.stringify(table).slice(0, 80)}`);
    }
  });
  return tables;
}

/**
 * A store in `stateDir` for cluster `key`; `readOnly` for dry runs and reads, which must
 * change nothing; `compactMinBytes`, the size below which the log is never rewritten.
 */
export function evidenceStore(stateDir: string, key: string, readOnly = false, compactMinBytes = COMPACT_MIN_BYTES): EvidenceStore & { path: string } {
  const { log, legacy } = evidencePaths(stateDir, key);
  /** What the log holds now (table -> its record's size as written), to know when to compact. */
  const live = new Map<string, number>();
  let liveBytes = 0;
  let logBytes = 0;
  let all = new Map<string, Record<string, PartitionRecord>>();

  const note = (table: string, bytes: number | undefined) => {
    liveBytes -= live.get(table) ?? 0;
    if (bytes === undefined) live.delete(table);
    else {
      live.set(table, bytes);
      liveBytes += bytes;
    }
  };

  /** Nothing left to remember: no file, so a clean state directory means a clean cluster. */
  const removeLog = () => {
    rmSync(log, { force: true });
    fsyncDir(dirname(log));
    live.clear();
    liveBytes = 0;
    logBytes = 0;
  };

  /** The whole record as one line, replacing the log (or no log when nothing is left). */
  const rewrite = () => {
    if (all.size === 0) return removeLog();
    const line: LogLine = {};
    const sizes = new Map<string, number>();
    for (const [t, rec] of all) {
      line[t] = rec;
      sizes.set(t, JSON.stringify(rec).length);
    }
    const text = `${JSON.stringify(line)}\n`;
    renameSync(writeTemp(log, text), log);
    fsyncDir(dirname(log));
    live.clear();
    liveBytes = 0;
    for (const [t, n] of sizes) note(t, n);
    logBytes = Buffer.byteLength(text);
  };

  /** Append one line of tables (their JSON already made) and fsync it. */
  const append = (parts: Array<[string, string]>) => {
    const text = `{${parts.map(([t, json]) => `${JSON.stringify(t)}:${json}`).join(',')}}\n`;
    const fd = openSync(log, 'a', 0o600);
    let size: number;
    try {
      size = fstatSync(fd).size;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    try {
      writeAll(fd, text);
      fsyncSync(fd);
      // A new log: its entry in the directory made durable too.
      if (size === 0) fsyncDir(dirname(log));
    } catch (err) {
      // A full disk may leave part of the line: cut it off, so the next append starts a clean line.
      try {
        ftruncateSync(fd, size);
      } catch {
        // the torn line is then the last one, and dropped on reading
      }
      throw err;
    } finally {
      closeSync(fd);
    }
    logBytes = size + Buffer.byteLength(text);
  };

  return {
    path: log,
    read: () => {
      const old = readEvidence(legacy);
      const logged = readLog(log);
      const found = mergeEvidence([
        ...(old ? [old] : []),
        ...[...(logged ?? new Map<string, Record<string, PartitionRecord>>())].map(([, partitions]): EvidenceFile => ({ version: 1, partitions })),
      ]);
      all = new Map([...splitEvidence(found ?? { version: 1, partitions: {} })].map(([t, f]) => [t, f.partitions]));
      if (!readOnly && (old || logged)) {
        // Start from one line holding what was found (an older build's file moved in).
        rewrite();
        if (old) {
          rmSync(legacy, { force: true });
          fsyncDir(dirname(legacy));
        }
      }
      return found;
    },
    write: (tables) => {
      if (readOnly) return;
      const parts: Array<[string, string]> = [];
      for (const [t, f] of tables) {
        const gone = Object.keys(f.partitions).length === 0;
        if (gone && !all.has(t)) continue;
        parts.push([t, gone ? 'null' : JSON.stringify(f.partitions)]);
      }
      if (parts.length === 0) return;
      // What the log holds changes only once the line is on disk: a write that fails (and
      // is tried again) must write the same line, a table's removal included.
      const apply = () => {
        for (const [t, f] of tables) {
          if (Object.keys(f.partitions).length === 0) all.delete(t);
          else all.set(t, f.partitions);
        }
      };
      const left = new Set(all.keys());
      for (const [t, f] of tables) {
        if (Object.keys(f.partitions).length === 0) left.delete(t);
        else left.add(t);
      }
      if (left.size === 0) {
        removeLog();
        apply();
        return;
      }
      append(parts);
      apply();
      for (const [t, json] of parts) note(t, json === 'null' ? undefined : json.length);
      if (logBytes > Math.max(compactMinBytes, COMPACT_FACTOR * liveBytes)) {
        try {
          rewrite();
        } catch {
          // The appended log stands and reads back whole; the rewrite is tried at the next save.
        }
      }
    },
  };
}
