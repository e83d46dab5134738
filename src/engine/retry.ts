// The one retry policy for calls to a cluster: a transient failure (connection refused or
// reset, a timeout, "not leader") or a reply that could not be read (a truncated output)
// is retried with backoff; anything else (a permanent answer, a bug) fails at once.
// Callers narrow it (a step that failed for good, an election waited out only so long)
// through `retryIf` and `maxRetryTimeMs`, never by writing their own p-retry set-up.
import pRetry, { AbortError } from 'p-retry';
import { ClusterError, ParseError } from '../cluster/errors.js';

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Told before each retry: what failed and that it is tried again. */
  onRetry?: (line: string, error: Error) => void;
  signal?: AbortSignal;
  /** No retry starts later than this (ms) after the first attempt. */
  maxRetryTimeMs?: number;
  /** A further say on a transient failure: false gives it up at once. */
  retryIf?: (error: Error) => boolean;
  /** A failure of the cluster that is not transient, retried all the same when this says so. */
  alsoRetry?: (error: ClusterError) => boolean;
  /** Default BACKOFF. */
  backoff?: Backoff;
}

/** The wait before each retry: `minTimeout` ms, doubling up to `maxTimeout` ms. */
export interface Backoff {
  minTimeout: number;
  maxTimeout: number;
}

/** Backoff between attempts: 200 ms doubling up to 3 s (the engine tier's tests run it in milliseconds). */
export const BACKOFF: Backoff = { minTimeout: 200, maxTimeout: 3000 };

export function retryTransient<T>(what: string, fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  return pRetry(
    async () => {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof ParseError) throw err;
        if (!(err instanceof ClusterError) || !(err.transient || o.alsoRetry?.(err))) throw new AbortError(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    },
    {
      retries: o.retries,
      ...(o.backoff ?? BACKOFF),
      ...(o.maxRetryTimeMs !== undefined ? { maxRetryTime: o.maxRetryTimeMs } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      // Said here, not in onFailedAttempt (called for the last, unretried failure too):
      // p-retry asks only when retries and time are left, so a retry follows every line.
      shouldRetry: ({ error, attemptNumber }) => {
        if (o.retryIf && !o.retryIf(error)) return false;
        o.onRetry?.(`${what}: attempt ${attemptNumber} failed (${error.message}); retrying`, error);
        return true;
      },
    },
  );
}
