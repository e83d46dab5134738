// Apply: run each partition's planned steps against the live cluster (cluster-wide steps:
// cluster-steps.ts; waiting for ops: op-wait.ts). Every step looks
// at the cluster first and does only what is missing, so a rerun after a crash (or a
// retry after an ambiguous timeout) converges. Steps of one partition run in order;
// partitions run concurrently, bounded globally and per tablet. Transient failures are
// retried with backoff (retry.ts); a partition whose steps failed is run again from the
// top a few times, since every step skips what is already done.
import type { ShowTableRow } from '../cluster/client.js';
import { ClusterError } from '../cluster/errors.js';
import { type Backoff, retryTransient } from './retry.js';
import { type Op, SERVING_STATES, isUnfinished } from '../cluster/types.js';
import type { EngineCluster, SharedReads } from './cluster.js';
import { type RunMemory, partitionKey } from './run-memory.js';
import { type AliveFlags, NotAReplica } from './alive-flags.js';
import { inServiceOrder, type PriorityPattern, SERVICE_CLASSES, serviceClass } from './priority.js';
import type { LoadSlots } from './load-slots.js';
import { type PartitionPlan, type Step, describeStep } from './procedure.js';
import { pollDelay, sleep } from './poll.js';
import type { Progress } from './progress.js';
import { StepTally } from './step-tally.js';
import { Admission } from './admission.js';
import type { Replanned, Replanner } from './replan-together.js';
import { errorMessage } from '../exit-codes.js';

export { pollDelay } from './poll.js';

export interface ApplyOptions {
  /** Partitions worked on at once. */
  concurrency: number;
  /** Loads one tablet runs at once (its task pool: OpenMLDB's task_pool_size). */
  perTablet: number;
  loadTimeoutMs: number;
  opTimeoutMs: number;
  /** Attempts for one command on transient failures. */
  retries: number;
  /** Runs of a partition's whole step list before giving up. */
  partitionAttempts: number;
  /** Ops with a higher id were created by this run. */
  opBaseline: number;
  /** Ops already ended when this round was planned: the plan accounts for their failures. */
  ended?: ReadonlySet<number>;
  /** What must survive the run: loads sent, replicas that cannot be read. */
  memory?: RunMemory;
  signal: AbortSignal;
  progress: Progress;
  pollMs?: number;
  /** The wait between retries of a step (default BACKOFF). */
  backoff?: Backoff;
  /** The run's shared reads of the cluster: every step looks through them. */
  watch: SharedReads;
  /** The run's load slots per tablet. */
  loads: LoadSlots;
  /** Tables served before the others (--priority; system tables always first). */
  priority?: readonly PriorityPattern[];
  /** The run's alive flags, set a table and endpoint at a time where every partition there asks the same. */
  alive: AliveFlags;
  /**
   * After a partition's probe (or wait) ran to its end, its next plan from a fresh look at
   * it and its table's others (replan-together.ts), so it goes on without waiting for every
   * other partition. Plain rounds run each plan once.
   */
  replan?: Replanner;
  /** The run's counts for the counter line (loads, leaders, rebuilds, time left); one per applyPlan if absent. */
  tally?: StepTally;
  /** The round, as the counter line names it. */
  round?: number;
  /** Called as each step ends (the counter line moves). */
  onStep?: () => void;
}

/** Plans after which a partition is planned again within the round (their work only prepares a decision). */
const PREPARES: ReadonlySet<PartitionPlan['action']> = new Set(['probe', 'wait']);
/** Plans one partition goes through within a round at most (a wait, a probe, the recovery). */
const PLANS_PER_ROUND = 4;

export type StepResult = 'ok' | 'skipped' | 'failed';

export interface StepRecord {
  step: Step['kind'];
  command: string;
  result: StepResult;
  detail?: string;
  attempts: number;
  durationMs: number;
}

export interface PartitionOutcome {
  /** The last plan run. */
  plan: PartitionPlan;
  /** Every plan run this round, in order (the first is the round's plan). */
  plans: PartitionPlan[];
  status: 'done' | 'failed' | 'interrupted' | 'not-run';
  actions: StepRecord[];
  errors: string[];
  /** When its last plan ended (ms since the epoch). */
  endedAt?: number;
}

class StepFailed extends Error {}

/** A replica's data cannot be read (its load failed, or a disk load never showed): its partition is planned again, not retried. */
class ReplicaUnreadable extends StepFailed {}

class Interrupted extends Error {}

export async function applyPlan(client: EngineCluster, partitions: PartitionPlan[], opts: ApplyOptions): Promise<PartitionOutcome[]> {
  const admission = new Admission(opts.concurrency);
  const total = partitions.filter((p) => p.steps.length > 0).length;
  // Counted by outcome: a partition a signal stopped is interrupted, never done.
  const ended = { done: 0, failed: 0, interrupted: 0 };
  const tally = opts.tally ?? new StepTally(Date.now());
  // The counter moves as steps end, so a long probe phase shows its loads finishing: at most
  // every COUNTER_EVERY_MS (thousands of steps end each minute; the progress pacer keeps a
  // log to one counter line per 10 s), and as the round ends.
  let shown: NodeJS.Timeout | undefined;
  const show = () => {
    clearTimeout(shown);
    shown = undefined;
    opts.progress.update(tally.line(opts.round ?? 1, { ...ended, total }));
  };
  const counter = () => {
    shown ??= setTimeout(show, COUNTER_EVERY_MS);
  };
  opts = { ...opts, tally, onStep: counter };
  tally.onChange = counter;
  for (const p of partitions) tally.planned(label(p), p.steps);
  // Started in service order (priority.ts), a table's partitions together (admission.ts):
  // their loads queue on each tablet in that order. The outcomes come back in the order of `partitions`.
  const outcomes = new Map<PartitionPlan, Promise<PartitionOutcome>>();
  const run = (plan: PartitionPlan) => async () => {
    const outcome = await runPartition(client, plan, opts);
    outcome.endedAt = Date.now();
    if (outcome.status !== 'not-run') ended[outcome.status]++;
    counter();
    return outcome;
  };
  let group: PartitionPlan[] = [];
  const start = () => {
    admission.group(group.map(run)).forEach((p, i) => outcomes.set(group[i] as PartitionPlan, p));
    group = [];
  };
  for (const plan of inServiceOrder(partitions, opts.priority ?? [], (p) => ({ db: p.db, table: p.table }))) {
    if (plan.steps.length === 0) {
      outcomes.set(plan, Promise.resolve({ plan, plans: [plan], status: 'not-run', actions: [], errors: [] }));
      continue;
    }
    const last = group[0];
    if (last && (last.db !== plan.db || last.table !== plan.table)) start();
    group.push(plan);
  }
  start();
  try {
    return await Promise.all(partitions.map((p) => outcomes.get(p) as Promise<PartitionOutcome>));
  } finally {
    // A load ending after the round must not bring its counter back over the next phase.
    if (tally.onChange === counter) tally.onChange = undefined;
    if (shown !== undefined) show();
  }
}

const label = (p: PartitionPlan) => `${p.db}.${p.table} pid ${p.pid}`;

/** The counter line is made again at most this often. */
const COUNTER_EVERY_MS = 250;

/** One partition's plan, then (pipelined rounds) the plans that follow from fresh looks at it. */
async function runPartition(client: EngineCluster, first: PartitionPlan, opts: ApplyOptions): Promise<PartitionOutcome> {
  const outcome: PartitionOutcome = { plan: first, plans: [first], status: 'failed', actions: [], errors: [] };
  let plan = first;
  let ended = opts.ended;
  for (let n = 1; ; n++) {
    // The first plans were counted when the round began; the ones after a probe add theirs.
    if (n > 1) opts.tally?.planned(label(plan), plan.steps);
    const replan = opts.replan && PREPARES.has(plan.action) && n < PLANS_PER_ROUND ? opts.replan : undefined;
    replan?.preparing(plan);
    let result: PartitionOutcome['status'] = 'failed';
    try {
      result = await runPlan(client, plan, { ...opts, ...(ended ? { ended } : {}) }, outcome);
    } finally {
      // Its table's others stop waiting for it.
      if (result !== 'done' || opts.signal.aborted) replan?.left(plan);
    }
    outcome.status = result;
    if (!replan || result !== 'done' || opts.signal.aborted) return outcome;
    let next: Replanned | undefined;
    try {
      next = await replan.replan(plan);
    } catch (err) {
      // The round's next look at the whole cluster plans it instead.
      opts.progress.info(`${label(plan)}: looking at it again failed (${errorMessage(err)}); the next round takes it from here`);
      return outcome;
    }
    if (!next) return outcome;
    plan = next.plan;
    ended = next.ended;
    outcome.plan = plan;
    outcome.plans.push(plan);
    if (plan.steps.length === 0) return outcome;
  }
}

/** Run one plan's steps, from the top again on a failure that a rerun can fix (each step skips what is done). */
async function runPlan(client: EngineCluster, plan: PartitionPlan, opts: ApplyOptions, outcome: PartitionOutcome): Promise<PartitionOutcome['status']> {
  const runner = new StepRunner(client, plan, opts);
  for (let attempt = 1; attempt <= opts.partitionAttempts; attempt++) {
    if (opts.signal.aborted) return 'interrupted';
    try {
      for (const group of stepGroups(plan.steps)) {
        if (opts.signal.aborted) throw new Interrupted();
        // Flags in a row are independent: set together, so each table and endpoint is asked once for all its partitions.
        const results = await Promise.allSettled(group.map((step) => runner.run(step)));
        for (const r of results) if (r.status === 'fulfilled') outcome.actions.push(r.value);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      return 'done';
    } catch (err) {
      if (err instanceof Interrupted || opts.signal.aborted) return 'interrupted';
      const msg = errorMessage(err);
      outcome.errors.push(`attempt ${attempt}: ${msg}`);
      if (err instanceof ReplicaUnreadable) {
        // The next round plans the partition without that replica's data (or refuses it).
        opts.progress.warn(`${label(plan)}: ${msg}`);
        return 'failed';
      }
      if (err instanceof StepFailed || (err instanceof ClusterError && err.transient)) {
        opts.progress.warn(`${label(plan)}: ${msg}${attempt < opts.partitionAttempts ? '; running its steps again' : ''}`);
        continue;
      }
      opts.progress.warn(`${label(plan)}: ${msg}`);
      return 'failed';
    }
  }
  return 'failed';
}

/** The steps in order, with set-alive steps in a row grouped (each other step alone). */
function stepGroups(steps: readonly Step[]): Step[][] {
  const groups: Step[][] = [];
  for (const step of steps) {
    const last = groups.at(-1);
    if (step.kind === 'set-alive' && last?.[0]?.kind === 'set-alive') last.push(step);
    else groups.push([step]);
  }
  return groups;
}

/** Executes one step, idempotently: observe first, act only when needed, confirm. */
class StepRunner {
  /** Attempt of the step running now (1 = first): a retry may follow an applied call. */
  private attempt = 1;

  constructor(
    private readonly client: EngineCluster,
    private readonly plan: PartitionPlan,
    private readonly opts: ApplyOptions,
  ) {}

  async run(step: Step): Promise<StepRecord> {
    const started = Date.now();
    const command = describeStep(step, this.plan);
    let attempts = 0;
    // The runbook step as it starts, so a log shows where a run was when it stopped.
    this.opts.progress.detail(`${label(this.plan)}: running: ${command}`);
    // Only transient failures are retried: a StepFailed (the step cannot succeed as planned)
    // or a permanent answer ends the attempt, and the partition is planned again.
    const result = await retryTransient(
      `${label(this.plan)}: ${command}`,
      () => {
        attempts++;
        this.attempt = attempts;
        return this.execute(step);
      },
      {
        retries: this.opts.retries,
        signal: this.opts.signal,
        ...(this.opts.backoff ? { backoff: this.opts.backoff } : {}),
        onRetry: (line) => this.opts.progress.info(line),
      },
    );
    const action: StepRecord = { step: step.kind, command, result: result.skipped ? 'skipped' : 'ok', attempts, durationMs: Date.now() - started };
    if (result.detail !== undefined) action.detail = result.detail;
    this.opts.progress.detail(`${label(this.plan)}: ${result.skipped ? 'already done' : 'done'}: ${command}${result.detail ? ` (${result.detail})` : ''}`);
    this.opts.tally?.ended(label(this.plan), step, result.skipped);
    this.opts.onStep?.();
    return action;
  }

  /** This partition's replicas as showtable lists them now (a read shared with the table's other partitions). */
  private async rows(): Promise<ShowTableRow[]> {
    const rows = await this.opts.watch.tableRows(this.plan.db, this.plan.table);
    return rows.filter((r) => r.pid === this.plan.pid);
  }

  private async replica(endpoint: string) {
    const row = (await this.rows()).find((r) => r.endpoint === endpoint);
    if (!row) throw new StepFailed(`replica ${endpoint} of ${label(this.plan)} is not in showtable`);
    return row;
  }

  private async ops(since?: number): Promise<Op[]> {
    const ops = await this.opts.watch.tableOps(this.plan.db, this.plan.table, since);
    return ops.filter((o) => o.pid === this.plan.pid);
  }

  private loadedState(endpoint: string) {
    return this.opts.watch.loaded(endpoint, this.plan.tid, this.plan.pid);
  }

  private async execute(step: Step): Promise<{ skipped: boolean; detail?: string }> {
    const { db, table, pid } = this.plan;
    switch (step.kind) {
      case 'set-alive': {
        // AliveFlags reads the table afresh before it changes anything, and changes only what differs.
        const how = await this.opts.alive.set({ db, table, pid, endpoint: step.endpoint, alive: step.alive }).catch((err: unknown) => {
          throw err instanceof NotAReplica ? new StepFailed(err.message) : err;
        });
        if (how === 'already') return { skipped: true };
        return how === 'table' ? { skipped: false, detail: `with the table's other partitions there: updatetablealive ${table} * ${step.endpoint} ${step.alive ? 'yes' : 'no'}` } : { skipped: false };
      }
      case 'load': {
        const loaded = await this.loadedState(step.endpoint);
        if (loaded) {
          if (loaded.mode !== step.mode) throw new StepFailed(`${step.endpoint} already runs it as ${loaded.mode}, want ${step.mode}`);
          return { skipped: true, detail: loaded.state };
        }
        const memory = this.opts.memory;
        const key = partitionKey(db, table, pid);
        const known = memory?.partition(key)[step.endpoint]?.snapshot;
        if (this.attempt > 1 && known && known.offset > 0) {
          // An earlier attempt may have been applied and failed at once: a failed load moves
          // the directory to the recycle bin, and loading again would read an empty table.
          const tp = await this.client.getTermPair(step.endpoint, this.plan.tid, pid, this.plan.storageMode);
          if (!tp.hasTable && tp.offset === 0) {
            const why = `its snapshot (offset ${known.offset}) is gone from ${step.endpoint}: a load failed and the tablet moved the partition to its recycle bin`;
            memory?.noteUnreadable(key, step.endpoint, why);
            await memory?.save();
            throw new ReplicaUnreadable(`${label(this.plan)}: ${why}`);
          }
        }
        const spec = { ...this.loadSpec(step.endpoint), mode: step.mode };
        const r = await this.opts.loads.load(
          step.endpoint,
          { tid: this.plan.tid, pid, visibleAtOnce: this.plan.storageMode === 'kMemory', rank: SERVICE_CLASSES.indexOf(serviceClass(this.opts.priority ?? [], db, table)) },
          async () => {
            // The slot may come after a stop: nothing new is sent then.
            if (this.opts.signal.aborted) throw new Interrupted();
            if (memory && this.plan.storageMode !== 'kMemory') {
              // A disk load may sit in the tablet's queue, invisible: recorded (durably) once
              // its slot is free and before it is sent, so no later attempt or run sends a second one.
              memory.noteLoadSent(key, step.endpoint, { mode: step.mode, storageMode: this.plan.storageMode });
              await memory.save();
            }
            return this.client.loadTable(step.endpoint, spec);
          },
          (result) => result === 'started',
        );
        if (memory && this.plan.storageMode === 'kMemory') {
          // A memory table exists as soon as the tablet accepts the load.
          memory.noteLoadSent(key, step.endpoint, { mode: step.mode, storageMode: this.plan.storageMode });
          memory.noteLoadSeen(key, step.endpoint);
          await memory.save();
        }
        return { skipped: r === 'already-loaded' };
      }
      case 'wait-loaded':
        return this.waitLoaded(step.endpoint);
      case 'change-role': {
        const loaded = await this.loadedState(step.endpoint);
        if (!loaded) throw new StepFailed(`${step.endpoint} has not loaded ${label(this.plan)}: nothing to change the role of`);
        if (loaded.mode === step.mode) return { skipped: true, detail: `already ${loaded.mode}` };
        await this.client.changeRole(step.endpoint, { tid: this.plan.tid, pid, mode: step.mode, term: step.term, replicas: step.followers });
        return { skipped: false };
      }
      case 'change-leader': {
        const moved = leaderMoved(step, await this.rows());
        if (moved !== undefined) return { skipped: true, detail: `leader is ${moved}` };
        // `change leader ok` is also the answer when no follower could be chosen and no op was made.
        const created = await this.fireOp(
          () => this.client.changeLeader(db, table, pid, step.endpoint),
          `changeleader ${table} ${pid} ${step.endpoint} answered ok but created no op (is there an alive follower on a healthy tablet?)`,
        );
        if (created === 'waited') return this.execute(step);
        await this.waitOps();
        return { skipped: false, detail: describeOps(created) };
      }
      case 'recover-replica': {
        const r = await this.replica(step.endpoint);
        if (r.isAlive) return { skipped: true };
        // `recover table ok` can mean nothing was queued (no alive leader): confirm.
        const created = await this.fireOp(
          () => this.client.recoverTable(db, table, pid, step.endpoint),
          `recovertable ${table} ${pid} ${step.endpoint} answered ok but created no op (is the leader alive and loaded?)`,
        );
        if (created === 'waited') return this.execute(step);
        return { skipped: false, detail: describeOps(created) };
      }
      case 'wait-ops':
        return this.waitOps();
    }
  }

  /**
   * Sends a command that must create an op on this partition, and confirms it did: the ops
   * it created (their ids above the highest before it), or a StepFailed with `noOp` when
   * there is none. Never fires twice: when an op already works on the partition, it is
   * waited for and nothing is sent ('waited': the step runs again from its own look).
   */
  private async fireOp(send: () => Promise<unknown>, noOp: string): Promise<Op[] | 'waited'> {
    const before = await this.ops(this.opsEndedAt);
    if (before.some(isUnfinished)) {
      await this.waitOps();
      return 'waited';
    }
    const highest = Math.max(0, ...before.map((o) => o.opId));
    this.opsEndedAt = undefined;
    await send();
    const created = (await this.ops()).filter((o) => o.opId > highest);
    if (created.length === 0) throw new StepFailed(noOp);
    return created;
  }

  /**
   * Poll until the partition serves. Never sends LoadTable again: a disk table stays
   * invisible while its load is queued, and a second load would run after the first and
   * move the live data aside (tablet_impl.cc LoadDiskTableInternal). A partition that
   * showed and vanished failed to load: the tablet moved its directory to the recycle bin,
   * so its data can no longer be read by loading it again.
   */
  private async waitLoaded(endpoint: string): Promise<{ skipped: boolean; detail?: string }> {
    const started = Date.now();
    const deadline = started + this.opts.loadTimeoutMs;
    const key = partitionKey(this.plan.db, this.plan.table, this.plan.pid);
    const memory = this.opts.memory;
    let seen = false;
    for (let poll = 0; ; poll++) {
      const s = await this.loadedState(endpoint);
      if (s && !seen) {
        seen = true;
        memory?.noteLoadSeen(key, endpoint);
      }
      if (s && SERVING_STATES.has(s.state)) {
        await memory?.save();
        return { skipped: false, detail: `offset ${s.offset}` };
      }
      if (!s && (seen || this.plan.storageMode === 'kMemory')) {
        // Gone with a tablet restart (its data is intact), or a failed load (its data moved)?
        const sentAt = memory?.partition(key)[endpoint]?.load?.sentAt ?? started;
        const tablet = (await this.opts.watch.tablets()).find((t) => t.endpoint === endpoint || t.address === endpoint);
        const changedAt = tablet?.changedAfter;
        if (!tablet || tablet.state !== 'healthy' || (changedAt !== undefined && changedAt >= sentAt)) {
          throw new StepFailed(`${label(this.plan)}: the load on ${endpoint} is gone with its tablet (restarted or offline); it is loaded again once the tablet serves`);
        }
        const why = `its load on ${endpoint} failed (the partition vanished from gettablestatus): the tablet moved its data directory to the recycle bin`;
        memory?.noteUnreadable(key, endpoint, why);
        await memory?.save();
        throw new ReplicaUnreadable(`${label(this.plan)}: ${why}`);
      }
      if (Date.now() > deadline) {
        if (!s && memory) {
          const why = `a LoadTable sent to ${endpoint} never became visible within ${this.opts.loadTimeoutMs / 1000} s and may still be queued there; a second one would move the live data to old_data, so none is sent: check the tablet, then run again`;
          memory.noteUnreadable(key, endpoint, why);
          await memory.save();
          throw new ReplicaUnreadable(`${label(this.plan)}: ${why}`);
        }
        throw new StepFailed(`load of ${label(this.plan)} on ${endpoint} did not finish within ${this.opts.loadTimeoutMs / 1000}s (state ${s?.state ?? 'not visible'})`);
      }
      if (this.opts.signal.aborted) throw new Interrupted();
      await sleep(pollDelay(poll, this.opts.pollMs), this.opts.signal);
    }
  }

  private loadSpec(endpoint: string) {
    const step = this.plan.steps.find((s): s is Extract<Step, { kind: 'load' }> => s.kind === 'load' && s.endpoint === endpoint);
    const mode = step?.mode ?? 'kTableFollower';
    return { name: this.plan.table, tid: this.plan.tid, pid: this.plan.pid, segCnt: this.plan.segCnt, storageMode: this.plan.storageMode, mode } as const;
  }

  private async waitOps(): Promise<{ skipped: boolean; detail?: string }> {
    const deadline = Date.now() + this.opts.opTimeoutMs;
    for (let poll = 0; ; poll++) {
      const asked = Date.now();
      // Its ops seen ended, and none fired since: that answer still says so.
      const ops = await this.ops(poll === 0 ? this.opsEndedAt : undefined);
      const failed = ops.filter((o) => o.status === 'kFailed' && o.opId > this.opts.opBaseline && !this.opts.ended?.has(o.opId) && !this.failedSeen.has(o.opId));
      if (failed.length > 0) {
        for (const o of failed) this.failedSeen.add(o.opId);
        throw new StepFailed(failed.map((o) => `op ${o.opId} ${o.opType} failed at ${o.task ?? '?'}`).join('; '));
      }
      const running = ops.filter(isUnfinished);
      if (running.length === 0) {
        this.opsEndedAt ??= asked;
        return { skipped: false };
      }
      if (Date.now() > deadline) throw new StepFailed(`ops still running after ${this.opts.opTimeoutMs / 1000}s: ${running.map((o) => `op ${o.opId} ${o.opType} ${o.status}`).join(', ')}`);
      if (this.opts.signal.aborted) throw new Interrupted();
      await sleep(pollDelay(poll, this.opts.pollMs), this.opts.signal);
    }
  }

  /**
   * When this partition's ops were last seen ended (the look's question, so any answer begun
   * since says so too), while it fired none after: the partition's own ops are the only ones
   * this run's lock lets appear on it, so a look at its ops need not be asked again.
   */
  private opsEndedAt: number | undefined;

  private readonly failedSeen = new Set<number>();
}

/** The ops a command created, as a step's detail: `op 12 kChangeLeaderOP, ...`. */
function describeOps(ops: readonly Op[]): string {
  return ops.map((o) => `op ${o.opId} ${o.opType}`).join(', ');
}

/**
 * Has a change-leader step already happened? Returns the alive leader if so. A named
 * candidate: it is the alive leader. `auto`: an alive leader exists and it is not `from`.
 */
function leaderMoved(step: Extract<Step, { kind: 'change-leader' }>, rows: ShowTableRow[]): string | undefined {
  const leaders = rows.filter((r) => r.role === 'leader' && r.isAlive).map((r) => r.endpoint);
  if (step.endpoint !== 'auto') {
    if (!rows.some((r) => r.endpoint === step.endpoint)) throw new StepFailed(`replica ${step.endpoint} is not in showtable`);
    return leaders.includes(step.endpoint) ? step.endpoint : undefined;
  }
  if (leaders.length === 0 || (step.from !== undefined && leaders.includes(step.from))) return undefined;
  return leaders.join(', ');
}
