// One look at the whole cluster, with the retries an observation deserves: a nameserver
// election is waited out (bounded by --leader-wait), a tablet that does not answer a few
// times in a row, for a few seconds, makes the cluster unreachable. Used by every command
// that observes.
import type { EngineCluster } from './cluster.js';
import { CommandError } from '../cluster/errors.js';
import type { ObserveFilter } from '../cluster/observe.js';
import { type Backoff, retryTransient } from './retry.js';
import type { ClusterSnapshot } from '../cluster/types.js';
import type { Progress } from './progress.js';

/** How long an observation waits out a nameserver election ("not leader", a leader not answering) before the run gives up on it. */
export const OBSERVE_BUDGET_MS = 30_000;
/** Attempts at an observation whose calls fail at the connection (refused, reset, timed out). */
const CONNECTION_ATTEMPTS = 4;
/**
 * And for at least this long: a tablet the nameserver still lists healthy may have just
 * crashed. It is listed offline once its ZooKeeper session expires (zk_session_timeout:
 * 10 s in OpenMLDB's release/conf/tablet.flags.template, 2 s when unset), or it answers
 * again once restarted; a look within that window is not "the cluster is unreachable".
 */
export const CONNECTION_WAIT_MS = 12_000;

export interface ObserveRetries {
  progress?: Progress;
  /** How long a nameserver election is waited out (default OBSERVE_BUDGET_MS). */
  budgetMs?: number;
  /** Told of each retry (the report counts them). */
  onRetry?: () => void;
  /** The wait between attempts (default BACKOFF). */
  backoff?: Backoff;
  /** How long calls failing at the connection are tried again at least (default CONNECTION_WAIT_MS; within `budgetMs`). */
  connectionWaitMs?: number;
}

/**
 * Observe, retrying transient failures: while a nameserver election settles ("not leader",
 * or the old leader not answering; the client looks the leader up afresh) for at most
 * `budgetMs`; a tablet call that fails at the connection (refused, reset, timed out) a few
 * times in a row and for `connectionWaitMs`, then the cluster counts as unreachable.
 * `onRetry` counts the retries for the report.
 */
export function observe(cluster: Pick<EngineCluster, 'observe'>, filter?: ObserveFilter, { progress, budgetMs = OBSERVE_BUDGET_MS, onRetry, backoff, connectionWaitMs = CONNECTION_WAIT_MS }: ObserveRetries = {}): Promise<ClusterSnapshot> {
  let connectionFailures = 0;
  let failingSince: number | undefined;
  return retryTransient('observing', () => cluster.observe(filter), {
    retries: 1000,
    maxRetryTimeMs: budgetMs,
    ...(backoff ? { backoff } : {}),
    retryIf: (error) => {
      // A nameserver election looks like "not leader", or like a leader that stops
      // answering until a standby takes over: both are waited out within the budget.
      const election = error instanceof CommandError && (error.kind === 'not_leader' || error.target.role === 'ns');
      if (election) {
        connectionFailures = 0;
        failingSince = undefined;
        return true;
      }
      connectionFailures++;
      failingSince ??= Date.now();
      return connectionFailures < CONNECTION_ATTEMPTS || Date.now() - failingSince < connectionWaitMs;
    },
    onRetry: (line) => {
      onRetry?.();
      progress?.info(line);
    },
  });
}
