// What every mutating command does around its workflow: take the cluster lock (exit 4
// when another run holds it), and keep the run journal so auto_failover survives a crash.
// Read-only commands (status, ops, --dry-run) take neither.
import { type Lock, acquireLock, alive, lockPath } from '../safety/lock.js';
import { clearJournal, journalPath, readJournal, writeJournal } from '../safety/journal.js';
import { clusterKey, defaultStateDir, ensureStateDir, sweepStaleTemps } from '../safety/state-dir.js';
import { evidencePath, evidenceStore } from '../safety/evidence-file.js';
import { RunMemory } from '../workflow/evidence.js';
import { FailoverKeeper } from '../workflow/failover-keeper.js';
import type { Progress } from '../workflow/progress.js';
import type { ConnectionConfig } from './config.js';

export interface RunSafety {
  keeper: FailoverKeeper;
  lock: Lock;
  /** The evidence record, kept across runs until the partitions are served again. */
  memory: RunMemory;
  release(): void;
}

/**
 * The evidence record for a dry run: read if present (a dry run should know what an earlier
 * run learnt, e.g. a replica whose load failed), never written.
 */
export function readOnlyMemory(argv: Record<string, unknown>, config: ConnectionConfig): RunMemory {
  const path = evidencePath(stateDirOf(argv), clusterKey(config.zkCluster, config.zkRootPath));
  return new RunMemory(evidenceStore(path, true));
}

export function stateDirOf(argv: Record<string, unknown>): string {
  const given = argv['state-dir'];
  return typeof given === 'string' && given !== '' ? given : defaultStateDir();
}

export function openRunSafety(argv: Record<string, unknown>, config: ConnectionConfig, command: string, progress: Progress): RunSafety {
  const dir = ensureStateDir(stateDirOf(argv));
  const key = clusterKey(config.zkCluster, config.zkRootPath);
  const cluster = { zkCluster: config.zkCluster, zkRootPath: config.zkRootPath };
  const jpath = journalPath(dir, key);
  const keeper = new FailoverKeeper(
    { read: () => readJournal(jpath), write: (j) => writeJournal(jpath, j), clear: () => clearJournal(jpath) },
    { command, cluster },
    progress,
  );
  const lock = acquireLock(lockPath(dir, key), `openmldb-recover ${command}`, keeper.runId);
  if (lock.tookOverFrom) {
    progress.warn(`took over the lock of a run that is gone (pid ${lock.tookOverFrom.pid}, started ${lock.tookOverFrom.startedAt}, ${lock.tookOverFrom.command})`);
  }
  try {
    sweepStaleTemps(dir, (pid) => pid === process.pid || alive(pid));
    // Validate the journal and the evidence now, under the lock: a garbled one stops the run before any change.
    readJournal(jpath);
    const memory = new RunMemory(evidenceStore(evidencePath(dir, key)));
    return { keeper, lock, memory, release: () => lock.release() };
  } catch (err) {
    lock.release();
    throw err;
  }
}
