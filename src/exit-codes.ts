// Exit codes, documented in the README; automation acts on them.
export const EXIT = {
  /** Every targeted table is served (or, read-only: healthy). */
  ok: 0,
  /** Some partitions were not recovered (read-only: unhealthy); the report says which and why. */
  notRecovered: 1,
  /**
   * Usage or configuration error, or a command refused because the cluster does not meet
   * its preconditions (e.g. offline-endpoint on a healthy tablet): nothing was changed.
   */
  usage: 2,
  /** Cluster unreachable (no nameserver, ZooKeeper, wrong root path) or the binary is missing. */
  unreachable: 3,
  /** Another mutating run holds the cluster's lock. */
  locked: 4,
  /**
   * auto_failover could not be put back: the run journal stays, and the next run (or
   * `openmldb-recover failover on`) restores it. Wins over every other code but 2/3/4,
   * which change nothing.
   */
  restoreOwed: 5,
  /** --dry-run --detailed-exitcode: the run would change something (0: nothing to do). */
  changesPending: 6,
  /** Stopped by SIGHUP (after restoring auto_failover). */
  hangup: 129,
  /** Interrupted by SIGINT (after restoring auto_failover). */
  interrupted: 130,
  /** Terminated by SIGTERM (after restoring auto_failover). */
  terminated: 143,
} as const;


/** A usage or configuration error: one line, nothing changed. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The cluster does not meet a command's preconditions (offline-endpoint on a healthy
 * tablet, recover-endpoint on one that is down or was never offlined): one line saying
 * what to do first; nothing changed (exit 2, like a usage error).
 */
export class Refused extends Error {
  override readonly name = 'Refused';
  constructor(what: string) {
    super(`refused: ${what}`);
  }
}

/** What a caught value says: its message if it is an Error, else the value as a string. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A reviewed plan is pending (made by `plan`, auto_failover off) and still within its hold:
 * another run would undo what the operator is reviewing. Exit 4, like a held lock.
 */
export class PlanHeld extends Error {
  override readonly name = 'PlanHeld';
}
