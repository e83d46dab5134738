// Apply: run each partition's planned steps against the live cluster. Every step looks
// at the cluster first and does only what is missing, so a rerun after a crash (or a
// retry after an ambiguous timeout) converges. Steps of one partition run in order;
// partitions run concurrently, bounded globally and per tablet. Transient failures are
// retried with backoff (p-retry); a partition whose steps failed is run again from the
// top a few times, since every step skips what is already done.
import pLimit, { type LimitFunction } from 'p-limit';
import pRetry, { AbortError } from 'p-retry';
import type { OpenMLDBClient } from '../cluster/client.js';
import { ClusterError } from '../cluster/errors.js';
import type { Op } from '../cluster/types.js';
import { SERVING_STATES, isUnfinished } from '../cluster/types.js';
import { type PartitionPlan, type Step, describeStep } from './plan.js';
import type { Progress } from './progress.js';

export interface ApplyOptions {
  /** Partitions worked on at once. */
  concurrency: number;
  /** Partitions at once whose leader sits on one tablet (loads are its heaviest work). */
  perTablet: number;
  loadTimeoutMs: number;
  opTimeoutMs: number;
  /** Attempts for one command on transient failures. */
  retries: number;
  /** Runs of a partition's whole step list before giving up. */
  partitionAttempts: number;
  /** Ops with a higher id were created by this run. */
  opBaseline: number;
  signal: AbortSignal;
  progress: Progress;
  pollMs?: number;
}

export type ActionResult = 'ok' | 'skipped' | 'failed';

export interface Action {
  step: Step['kind'];
  command: string;
  result: ActionResult;
  detail?: string;
  attempts: number;
  durationMs: number;
}

export interface PartitionOutcome {
  plan: PartitionPlan;
  status: 'done' | 'failed' | 'interrupted' | 'not-run';
  actions: Action[];
  errors: string[];
}

class StepFailed extends Error {}
class Interrupted extends Error {}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

export async function applyPlan(client: OpenMLDBClient, partitions: PartitionPlan[], opts: ApplyOptions): Promise<PartitionOutcome[]> {
  const global = pLimit(Math.max(1, opts.concurrency));
  const perTablet = new Map<string, LimitFunction>();
  const tabletLimit = (endpoint: string) => {
    let l = perTablet.get(endpoint);
    if (!l) perTablet.set(endpoint, (l = pLimit(Math.max(1, opts.perTablet))));
    return l;
  };
  const total = partitions.filter((p) => p.steps.length > 0).length;
  let finished = 0;
  return Promise.all(
    partitions.map(async (plan): Promise<PartitionOutcome> => {
      if (plan.steps.length === 0) return { plan, status: 'not-run', actions: [], errors: [] };
      const key = plan.leader?.endpoint ?? '';
      return global(() =>
        tabletLimit(key)(async () => {
          const outcome = await runPartition(client, plan, opts);
          finished++;
          opts.progress.update(`partitions ${finished}/${total} done; ${label(plan)} ${outcome.status}`);
          return outcome;
        }),
      );
    }),
  );
}

const label = (p: PartitionPlan) => `${p.db}.${p.table} pid ${p.pid}`;

async function runPartition(client: OpenMLDBClient, plan: PartitionPlan, opts: ApplyOptions): Promise<PartitionOutcome> {
  const outcome: PartitionOutcome = { plan, status: 'failed', actions: [], errors: [] };
  const runner = new StepRunner(client, plan, opts);
  for (let attempt = 1; attempt <= opts.partitionAttempts; attempt++) {
    if (opts.signal.aborted) {
      outcome.status = 'interrupted';
      return outcome;
    }
    try {
      for (const step of plan.steps) {
        if (opts.signal.aborted) throw new Interrupted();
        outcome.actions.push(await runner.run(step));
      }
      outcome.status = 'done';
      return outcome;
    } catch (err) {
      if (err instanceof Interrupted || opts.signal.aborted) {
        outcome.status = 'interrupted';
        return outcome;
      }
      const msg = err instanceof Error ? err.message : String(err);
      outcome.errors.push(`attempt ${attempt}: ${msg}`);
      if (err instanceof StepFailed || (err instanceof ClusterError && err.transient)) {
        opts.progress.warn(`${label(plan)}: ${msg}${attempt < opts.partitionAttempts ? '; running its steps again' : ''}`);
        continue;
      }
      opts.progress.warn(`${label(plan)}: ${msg}`);
      return outcome;
    }
  }
  return outcome;
}

/** Executes one step, idempotently: observe first, act only when needed, confirm. */
class StepRunner {
  private readonly address = new Map<string, string>();

  constructor(
    private readonly client: OpenMLDBClient,
    private readonly plan: PartitionPlan,
    private readonly opts: ApplyOptions,
  ) {}

  async run(step: Step): Promise<Action> {
    const started = Date.now();
    const command = describeStep(step, this.plan);
    let attempts = 0;
    const result = await pRetry(
      async () => {
        attempts++;
        try {
          return await this.execute(step);
        } catch (err) {
          // Permanent answers (table does not exist, ...) are not retried here.
          if (err instanceof ClusterError && !err.transient) throw new AbortError(err);
          throw err;
        }
      },
      {
        retries: this.opts.retries,
        minTimeout: 200,
        maxTimeout: 3000,
        signal: this.opts.signal,
        shouldRetry: ({ error }) => !(error instanceof StepFailed),
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0) this.opts.progress.info(`${label(this.plan)}: ${command}: attempt ${attemptNumber} failed (${error.message}); retrying`);
        },
      },
    );
    const action: Action = { step: step.kind, command, result: result.skipped ? 'skipped' : 'ok', attempts, durationMs: Date.now() - started };
    if (result.detail !== undefined) action.detail = result.detail;
    this.opts.progress.info(`${label(this.plan)}: ${result.skipped ? 'already done' : 'done'}: ${command}${result.detail ? ` (${result.detail})` : ''}`);
    return action;
  }

  private async replica(endpoint: string) {
    const rows = await this.client.showTable(this.plan.db, this.plan.table);
    const row = rows.find((r) => r.pid === this.plan.pid && r.endpoint === endpoint);
    if (!row) throw new StepFailed(`replica ${endpoint} of ${label(this.plan)} is not in showtable`);
    return row;
  }

  private async ops(): Promise<Op[]> {
    return this.client.showOpStatus(this.plan.db, this.plan.table, this.plan.pid);
  }

  private async loadedState(endpoint: string) {
    const rows = await this.client.getTableStatus(endpoint, this.plan.tid, this.plan.pid);
    return rows[0];
  }

  private async execute(step: Step): Promise<{ skipped: boolean; detail?: string }> {
    const { db, table, pid } = this.plan;
    switch (step.kind) {
      case 'set-alive': {
        const r = await this.replica(step.endpoint);
        if (r.isAlive === step.alive) return { skipped: true };
        await this.client.updateTableAlive(db, table, pid, step.endpoint, step.alive);
        return { skipped: false };
      }
      case 'load': {
        const loaded = await this.loadedState(step.endpoint);
        if (loaded) {
          if (loaded.mode !== step.mode) throw new StepFailed(`${step.endpoint} already runs it as ${loaded.mode}, want ${step.mode}`);
          return { skipped: true, detail: loaded.state };
        }
        const r = await this.client.loadTable(step.endpoint, { ...this.loadSpec(step.endpoint), mode: step.mode });
        return { skipped: r === 'already-loaded' };
      }
      case 'wait-loaded':
        return this.waitLoaded(step.endpoint);
      case 'change-leader': {
        const r = await this.replica(step.endpoint);
        if (r.role === 'leader' && r.isAlive) return { skipped: true };
        if ((await this.ops()).some(isUnfinished)) {
          await this.waitOps();
          return this.execute(step);
        }
        await this.client.changeLeader(db, table, pid, step.endpoint);
        await this.waitOps();
        return { skipped: false };
      }
      case 'recover-replica': {
        const r = await this.replica(step.endpoint);
        if (r.isAlive) return { skipped: true };
        const before = await this.ops();
        if (before.some(isUnfinished)) {
          // Never fire twice: an op already works on this partition.
          await this.waitOps();
          return this.execute(step);
        }
        const highest = Math.max(0, ...before.map((o) => o.opId));
        await this.client.recoverTable(db, table, pid, step.endpoint);
        // `recover table ok` can mean nothing was queued (no alive leader): confirm.
        const after = await this.ops();
        const created = after.filter((o) => o.opId > highest);
        if (created.length === 0) throw new StepFailed(`recovertable ${table} ${pid} ${step.endpoint} answered ok but created no op (is the leader alive and loaded?)`);
        return { skipped: false, detail: created.map((o) => `op ${o.opId} ${o.opType}`).join(', ') };
      }
      case 'wait-ops':
        return this.waitOps();
    }
  }

  private async waitLoaded(endpoint: string): Promise<{ skipped: boolean; detail?: string }> {
    const deadline = Date.now() + this.opts.loadTimeoutMs;
    let seen = false;
    let lastNudge = Date.now();
    for (;;) {
      const s = await this.loadedState(endpoint);
      if (s && SERVING_STATES.has(s.state)) return { skipped: false, detail: `offset ${s.offset}` };
      if (s) seen = true;
      // A failed background load deletes the table: no trace, no error state.
      if (!s && seen) throw new StepFailed(`the load of ${label(this.plan)} on ${endpoint} failed (the partition vanished from gettablestatus)`);
      if (!s && Date.now() - lastNudge > 2000) {
        // Not visible yet (a disk table is invisible until linked, or the request was
        // lost): asking again is harmless, the tablet answers "already exists" if queued.
        lastNudge = Date.now();
        await this.client.loadTable(endpoint, this.loadSpec(endpoint));
      }
      if (Date.now() > deadline) throw new StepFailed(`load of ${label(this.plan)} on ${endpoint} did not finish within ${this.opts.loadTimeoutMs / 1000}s (state ${s?.state ?? 'not visible'})`);
      if (this.opts.signal.aborted) throw new Interrupted();
      await sleep(this.opts.pollMs ?? 250, this.opts.signal);
    }
  }

  private loadSpec(endpoint: string) {
    const step = this.plan.steps.find((s): s is Extract<Step, { kind: 'load' }> => s.kind === 'load' && s.endpoint === endpoint);
    const mode = step?.mode ?? (this.plan.leader?.flaggedLeader === false ? 'kTableFollower' : 'kTableLeader');
    return { name: this.plan.table, tid: this.plan.tid, pid: this.plan.pid, segCnt: this.plan.segCnt, storageMode: this.plan.storageMode, mode } as const;
  }

  private async waitOps(): Promise<{ skipped: boolean; detail?: string }> {
    const deadline = Date.now() + this.opts.opTimeoutMs;
    for (;;) {
      const ops = await this.ops();
      const failed = ops.filter((o) => o.status === 'kFailed' && o.opId > this.opts.opBaseline && !this.failedSeen.has(o.opId));
      if (failed.length > 0) {
        for (const o of failed) this.failedSeen.add(o.opId);
        throw new StepFailed(failed.map((o) => `op ${o.opId} ${o.opType} failed at ${o.task ?? '?'}`).join('; '));
      }
      const running = ops.filter(isUnfinished);
      if (running.length === 0) return { skipped: false };
      if (Date.now() > deadline) throw new StepFailed(`ops still running after ${this.opts.opTimeoutMs / 1000}s: ${running.map((o) => `op ${o.opId} ${o.opType} ${o.status}`).join(', ')}`);
      if (this.opts.signal.aborted) throw new Interrupted();
      await sleep(this.opts.pollMs ?? 250, this.opts.signal);
    }
  }

  private readonly failedSeen = new Set<number>();
}
