// One look at the whole cluster, with the retries an observation deserves: a nameserver
// election is waited out (bounded by --leader-wait), a tablet that does not answer a few
// times in a row makes the cluster unreachable. Used by every command that observes.
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

export interface ObserveRetries {
  progress?: Progress;
  /** How long a nameserver election is waited out (default OBSERVE_BUDGET_MS). */
  budgetMs?: number;
  /** Told of each retry (the report counts them). */
  onRetry?: () => void;
  /** The wait between attempts (default BACKOFF). */
  backoff?: Backoff;
}

/**
 * Observe, retrying transient failures: while a nameserver election settles ("not leader",
 * or the old leader not answering; the client looks the leader up afresh) for at most
 * `budgetMs`; a tablet call that fails at the connection (refused, reset, timed out) a few
 * times in a row, then the cluster counts as unreachable. `onRetry` counts the retries for
 * the report.
 */
export function observe(cluster: Pick<EngineCluster, 'observe'>, filter?: ObserveFilter, { progress, budgetMs = OBSERVE_BUDGET_MS, onRetry, backoff }: ObserveRetries = {}): Promise<ClusterSnapshot> {
  let connectionFailures = 0;
  return retryTransient('observing', () => cluster.observe(filter), {
    retries: 1000,
    maxRetryTimeMs: budgetMs,
    ...(backoff ? { backoff } : {}),
    retryIf: (error) => {
      // A nameserver election looks like "not leader", or like a leader that stops
      // answering until a standby takes over: both are waited out within the budget.
      const election = error instanceof CommandError && (error.kind === 'not_leader' || error.target.role === 'ns');
      connectionFailures = election ? 0 : connectionFailures + 1;
      return election || connectionFailures < CONNECTION_ATTEMPTS;
    },
    onRetry: (line) => {
      onRetry?.();
      progress?.info(line);
    },
  });
}
