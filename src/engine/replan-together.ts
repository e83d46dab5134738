// A table's partitions planned again together. In a pipelined round (rounds.ts) a partition
// whose probe (or wait) ended is planned again at once from a fresh look at it. One look per
// partition read its table's metadata, its database's ops and the tablets once per
// partition, and started its next steps at its own moment, so the alive flags a table and
// endpoint at a time (alive-flags.ts) went out partition by partition. Here a partition that
// asks waits until the other partitions of its table that are still preparing have asked
// too (or ended, or GATHER_CAP_MS passed): one look then plans them all, and their steps
// start together. Only partitions already running are waited for, never one still waiting
// for its turn (apply.ts concurrency): no partition waits on one that waits on it.
import type { PartitionPlan } from './procedure.js';
import { partitionKey } from './run-memory.js';

/** A partition planned again from a fresh look at it. */
export interface Replanned {
  plan: PartitionPlan;
  /** Ops already ended when it was planned (their failures are accounted for). */
  ended: ReadonlySet<number>;
}

/** What the applier tells the replanner of a pipelined round. */
export interface Replanner {
  /** A partition began a plan at whose end it asks to be planned again. */
  preparing(plan: PartitionPlan): void;
  /** ... and ended that plan without asking (it failed, or the run stops). */
  left(plan: PartitionPlan): void;
  /** Its next plan, from a look shared with its table's others; undefined ends its work for this round. */
  replan(plan: PartitionPlan): Promise<Replanned | undefined>;
}

/** Plans some partitions of one table again, from one fresh look at them; keyed by partitionKey. */
export type PlanTogether = (db: string, table: string, plans: readonly PartitionPlan[]) => Promise<Map<string, Replanned | undefined>>;

/**
 * A partition waits at most this long for its table's others (a replica whose load takes
 * long must not hold up the rest); those still preparing then form the next group.
 */
export const GATHER_CAP_MS = 5000;

interface Waiter {
  plan: PartitionPlan;
  resolve: (r: Replanned | undefined) => void;
  reject: (err: unknown) => void;
}

interface TableGroup {
  db: string;
  table: string;
  /** Running a prepare plan, not asked yet. */
  preparing: Set<string>;
  waiting: Waiter[];
  timer: NodeJS.Timeout | undefined;
}

export class TableReplans implements Replanner {
  private readonly tables = new Map<string, TableGroup>();

  constructor(
    private readonly planTogether: PlanTogether,
    private readonly capMs = GATHER_CAP_MS,
  ) {}

  private group(p: PartitionPlan): TableGroup {
    const k = `${p.db}\0${p.table}`;
    let g = this.tables.get(k);
    if (!g) this.tables.set(k, (g = { db: p.db, table: p.table, preparing: new Set(), waiting: [], timer: undefined }));
    return g;
  }

  preparing(plan: PartitionPlan): void {
    this.group(plan).preparing.add(partitionKey(plan.db, plan.table, plan.pid));
  }

  left(plan: PartitionPlan): void {
    const g = this.group(plan);
    g.preparing.delete(partitionKey(plan.db, plan.table, plan.pid));
    if (g.preparing.size === 0 && g.waiting.length > 0) this.flush(g);
  }

  replan(plan: PartitionPlan): Promise<Replanned | undefined> {
    const g = this.group(plan);
    g.preparing.delete(partitionKey(plan.db, plan.table, plan.pid));
    return new Promise((resolve, reject) => {
      g.waiting.push({ plan, resolve, reject });
      if (g.preparing.size === 0) this.flush(g);
      else g.timer ??= setTimeout(() => this.flush(g), this.capMs);
    });
  }

  private flush(g: TableGroup): void {
    clearTimeout(g.timer);
    g.timer = undefined;
    const waiting = g.waiting;
    g.waiting = [];
    if (waiting.length === 0) return;
    this.planTogether(
      g.db,
      g.table,
      waiting.map((w) => w.plan),
    ).then(
      (next) => {
        for (const w of waiting) w.resolve(next.get(partitionKey(w.plan.db, w.plan.table, w.plan.pid)));
      },
      (err: unknown) => {
        for (const w of waiting) w.reject(err);
      },
    );
  }
}
