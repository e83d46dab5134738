// How long a run waits between two looks at something it waits for.
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Poll intervals grow from `base` (default 200 ms) to 2 s: quick answers for quick
 * loads and ops, few calls during long ones.
 */
export function pollDelay(poll: number, base?: number): number {
  return Math.min((base ?? 200) * 1.5 ** poll, 2000);
}

/** Wait `ms`, or less if the run is stopped (the listener goes with the timer: no leak over long runs). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch {
    // aborted: the caller looks at the signal
  }
}
