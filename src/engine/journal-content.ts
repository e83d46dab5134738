// The run journal's content: what a run owes the cluster if it dies. Written before the
// first change (by safety/journal.ts to a file, or to ZooKeeper by safety/zk-lock.ts), it
// records the value of auto_failover before ANY run touched it, so the next run restores
// that value instead of the `false` a dead run left behind.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

export interface Journal {
  version: 1;
  runId: string;
  pid: number;
  host: string;
  command: string;
  cluster: { zkCluster: string; zkRootPath: string };
  startedAt: string;
  /** auto_failover before the first run of a chain of interrupted runs changed it. */
  autoFailoverOriginal: boolean;
  /**
   * What the run leaves auto_failover at while it works: false (it switches it off, or
   * found it off), written before it acts. A run that inherits the journal restores the
   * original only while auto_failover still holds this: a value changed since is someone's
   * choice, and stands. (Journals of earlier versions lack it; they too left false.)
   */
  autoFailoverSet?: false;
  /** Runs that picked this journal up after a crash, oldest first. */
  resumedBy: string[];
  /**
   * The last mutating commands the runs sent, newest last: a run that died may have left
   * one in flight (its op still running in the cluster), which the next run finds and waits on.
   */
  sent?: SentCommand[];
  /** What names the cluster (safety/identity.ts): a journal found must share one with the run. */
  identifiers?: string[];
  /** How many changing commands the runs sent in all (`sent` keeps the last ones only). */
  sentTotal?: number;
  /** A reviewed plan (`plan`) waits for `apply` with auto_failover off: which one, since when, held from other runs until when. */
  plan?: PendingPlan;
}

/** A plan made and not yet applied or abandoned: auto_failover stays off meanwhile. */
export interface PendingPlan {
  id: string;
  since: string;
  /** Until then a run other than `apply` or `plan --abandon` of this plan refuses to start (exit 4); after it, one takes over. */
  holdUntil: string;
  /** Where `plan` wrote it (absolute path; `-`: stdout). */
  file: string;
  /** An `apply` of it began changing the cluster: a second `apply` resumes it. */
  applying?: boolean;
}

export interface SentCommand {
  at: string;
  runId: string;
  command: string;
  /** ok, failed (with why), or no-answer (it may still have been applied). */
  outcome: string;
}

export function newJournal(command: string, cluster: Journal['cluster'], autoFailoverOriginal: boolean, runId: string = randomUUID()): Journal {
  return {
    version: 1,
    runId,
    pid: process.pid,
    host: hostname(),
    command,
    cluster,
    startedAt: new Date().toISOString(),
    autoFailoverOriginal,
    resumedBy: [],
  };
}
