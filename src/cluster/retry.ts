// The one retry policy for calls to a cluster: a transient failure (connection refused or
// reset, a timeout, "not leader") is retried with backoff, anything else fails at once.
import pRetry, { AbortError } from 'p-retry';
import { ClusterError } from './errors.js';

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Told before each retry: what failed and that it is tried again. */
  onRetry?: (line: string) => void;
  signal?: AbortSignal;
}

/** Backoff between attempts: 200 ms doubling up to 3 s. */
export const BACKOFF = { minTimeout: 200, maxTimeout: 3000 } as const;

export function retryTransient<T>(what: string, fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  return pRetry(
    async () => {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof ClusterError) || !err.transient) throw new AbortError(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    },
    {
      retries: o.retries,
      ...BACKOFF,
      ...(o.signal ? { signal: o.signal } : {}),
      onFailedAttempt: ({ error, retriesLeft }) => {
        if (retriesLeft > 0) o.onRetry?.(`${what}: ${error.message}; retrying`);
      },
    },
  );
}
