// `failover`: read auto_failover, or switch it, looking first (a switch to the value it
// already has changes nothing) and confirming by reading it back.
import type { OpenMLDBClient } from '../cluster/client.js';
import { CommandError, unreachableFrom } from '../cluster/errors.js';
import { retryTransient } from '../engine/retry.js';
import { EXIT } from '../exit-codes.js';
import type { Progress } from '../engine/progress.js';

export type FailoverAction = 'status' | 'on' | 'off';

export interface FailoverResult {
  action: FailoverAction;
  /** The value found. */
  before: boolean;
  /** The value left (for a dry run: the value found). */
  after: boolean;
  /** This run switched it. */
  changed: boolean;
  dryRun: boolean;
  ok: boolean;
  exitCode: number;
  /** Exit 1: the nameserver's refusal of the switch. */
  error?: string;
}

export interface FailoverOptions {
  dryRun: boolean;
  retries: number;
  progress: Progress;
  signal?: AbortSignal;
}

const retrying = <T>(what: string, fn: () => Promise<T>, o: FailoverOptions): Promise<T> =>
  retryTransient(what, fn, { retries: o.retries, onRetry: (line) => o.progress.info(line), ...(o.signal ? { signal: o.signal } : {}) });

export async function runFailover(client: OpenMLDBClient, action: FailoverAction, o: FailoverOptions): Promise<FailoverResult> {
  const before = await retrying('confget auto_failover', () => client.confGet(), o);
  const result = (after: boolean, changed: boolean): FailoverResult => ({ action, before, after, changed, dryRun: o.dryRun, ok: true, exitCode: EXIT.ok });
  if (action === 'status') return result(before, false);
  const want = action === 'on';
  const command = `confset auto_failover ${want}`;
  if (before === want) {
    o.progress.info(`auto_failover is already ${want}: nothing to do`);
    return result(before, false);
  }
  if (o.dryRun) {
    o.progress.info(`would run: ${command}`);
    return result(before, false);
  }
  o.progress.info(`running: ${command}`);
  let attempt = 0;
  try {
    await retrying(
      command,
      async () => {
        // A lost answer may hide a switch that happened: look before sending it again.
        if (attempt++ > 0 && (await client.confGet()) === want) return;
        await client.confSet(want);
      },
      o,
    );
  } catch (err) {
    // The nameserver answered with a refusal: not done (1), said in the result. Not
    // reaching it at all stays an error (exit 3, like every other command).
    // Only confset's own answer is a refusal; a failed confget, or an answer that does
    // not say whether the switch happened, is an error like any other.
    if (!(err instanceof CommandError) || unreachableFrom(err) !== undefined || !/^(confset|HTTP NameServer\/ConfSet)\b/.test(err.command) || err.mayHaveApplied || err.kind === 'unknown') throw err;
    return { ...result(before, false), ok: false, exitCode: EXIT.notRecovered, error: err.message.split('\n')[0] ?? '' };
  }
  const after = await retrying('confget auto_failover', () => client.confGet(), o);
  if (after !== want) return { ...result(after, false), ok: false, exitCode: EXIT.notRecovered };
  o.progress.info(`done: ${command}`);
  return result(after, true);
}

export function renderFailover(r: FailoverResult): string {
  if (r.action === 'status') return `auto_failover ${r.before}`;
  const want = r.action === 'on';
  if (!r.ok) return `auto_failover is ${r.after} after confset auto_failover ${want}: NOT switched${r.error ? ` (${r.error})` : ''}`;
  if (r.before === want) return `auto_failover ${r.after} (already; nothing changed)`;
  if (r.dryRun) return `auto_failover ${r.before}; would run: confset auto_failover ${want}`;
  return `auto_failover ${r.before} -> ${r.after}`;
}
