// Cluster-wide steps: runbook commands that act on every partition with a replica on one
// endpoint (offlineendpoint, recoverendpoint), each fired once (never twice after a lost
// answer) and followed by a wait for the ops it started.
import type { EngineCluster } from './cluster.js';
import type { ClusterStep } from './procedure.js';
import { type Backoff, retryTransient } from './retry.js';
import type { OpStatus } from '../cluster/types.js';
import type { StepResult } from './apply.js';
import { opLine, waitForOps } from './op-wait.js';
import type { Progress } from './progress.js';

/** One cluster-wide step as it ran (or, in a dry run, as planned): the report's `clusterSteps`. */
export interface ClusterStepRecord {
  step: ClusterStep['kind'];
  command: string;
  result: StepResult | 'planned';
  detail?: string;
  attempts: number;
  durationMs: number;
  /** The ops the command started, as they ended. */
  ops: Array<{ opId: number; opType: string; table?: string; pid?: number; status: OpStatus; task?: string }>;
}

export function describeClusterStep(step: ClusterStep): string {
  const c = step.concurrency !== undefined ? ` ${step.concurrency}` : '';
  return step.kind === 'offline-endpoint' ? `offlineendpoint ${step.endpoint}${c}` : `recoverendpoint ${step.endpoint} ${step.needRestore}${c}`;
}

export interface ClusterStepOptions {
  retries: number;
  opTimeoutMs: number;
  signal: AbortSignal;
  progress: Progress;
  pollMs?: number;
  /** The wait between retries (default BACKOFF). */
  backoff?: Backoff;
}

/**
 * Run one cluster-wide command, then wait for every op it started (ops with an id above
 * the highest listed before it ran). A failed op is reported, not thrown: the caller
 * looks at the partitions again and retries each one that is not where it should be.
 */
export async function runClusterStep(client: EngineCluster, step: ClusterStep, opts: ClusterStepOptions): Promise<ClusterStepRecord> {
  const started = Date.now();
  const command = describeClusterStep(step);
  const retry = { retries: opts.retries, signal: opts.signal, onRetry: (line: string) => opts.progress.info(line), ...(opts.backoff ? { backoff: opts.backoff } : {}) };
  const list = () => client.showOpStatus();
  opts.progress.info(`running: ${command}`);
  const before = await retryTransient('showopstatus', list, retry);
  const highest = Math.max(0, ...before.map((o) => o.opId));
  let attempts = 0;
  await retryTransient(
    command,
    async () => {
      attempts++;
      // An earlier attempt may have been applied before its answer was lost: never fire twice.
      if (attempts > 1 && (await list()).some((o) => o.opId > highest)) return;
      await (step.kind === 'offline-endpoint'
        ? client.offlineEndpoint(step.endpoint, step.concurrency)
        : client.recoverEndpoint(step.endpoint, step.needRestore, step.concurrency));
    },
    retry,
  );
  let last = -1;
  const waited = await waitForOps(list, {
    select: (o) => o.opId > highest,
    timeoutMs: opts.opTimeoutMs,
    signal: opts.signal,
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    onPoll: (running) => {
      if (running.length === last) return;
      last = running.length;
      if (running.length > 0) opts.progress.update(`${command}: ${running.length} ops running (${running.slice(0, 3).map(opLine).join('; ')}${running.length > 3 ? '; ...' : ''})`);
    },
  });
  const mine = waited.selected;
  const failed = mine.filter((o) => o.status === 'kFailed' || o.status === 'kCanceled');
  for (const o of failed) opts.progress.warn(`${command}: ${opLine(o)}; its partition is retried on its own`);
  const action: ClusterStepRecord = {
    step: step.kind,
    command,
    result: waited.timedOut || waited.aborted ? 'failed' : 'ok',
    attempts,
    durationMs: Date.now() - started,
    ops: mine.map((o) => ({
      opId: o.opId,
      opType: o.opType,
      ...(o.table !== undefined ? { table: o.table } : {}),
      ...(o.pid !== undefined ? { pid: o.pid } : {}),
      status: o.status,
      ...(o.task !== undefined && o.task !== '-' ? { task: o.task } : {}),
    })),
  };
  const counts = `${mine.length} ops started${failed.length ? `, ${failed.length} failed` : ''}`;
  if (waited.aborted) action.detail = `${counts}; stopped waiting (interrupted)`;
  else if (waited.timedOut) action.detail = `${counts}; still running after ${opts.opTimeoutMs / 1000}s: ${waited.running.map(opLine).join('; ')}`;
  else action.detail = counts;
  opts.progress.info(`${action.result === 'ok' ? 'done' : 'not done'}: ${command} (${action.detail})`);
  return action;
}
