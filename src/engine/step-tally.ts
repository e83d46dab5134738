// What a person watching a run wants from its counter line: how far each kind of work has
// got (loads, leaders chosen, followers rebuilt), how long it has taken, and roughly how
// long is left. Loads dominate a recovery after a full restart (they are the procedure's
// critical path), so the estimate comes from the rate loads have finished at so far, and
// from the rate partitions have once no load is left to wait for.
import type { Step } from './procedure.js';

export interface PartitionCounts {
  done: number;
  total: number;
  failed: number;
  interrupted: number;
}

/** Seconds as a person reads them: 45s, 3m05s, 1h02m. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Below this much evidence an estimate would be noise: say nothing rather than something wild. */
const MIN_SAMPLES = 3;
const MIN_ELAPSED_MS = 3_000;

export class StepTally {
  /** Loads the plans run so far send (or find done), one per partition and replica however often planned. */
  private readonly plannedLoads = new Set<string>();
  /** Of those, found already done (the replica was loaded): nothing to wait for. */
  private readonly foundLoads = new Set<string>();
  private loadsSent = 0;
  /** Sent loads seen to end (the replica serves, or the load failed). */
  private loadsEnded = 0;
  private firstLoadAt: number | undefined;
  private leaders = 0;
  private rebuilt = 0;
  private partitionsStartedAt: number | undefined;
  /** Called when a count moves outside a step (a load ending): the counter line is redrawn. */
  onChange: (() => void) | undefined;

  constructor(
    readonly startedAt: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A partition's plan (`partition`: its key) is about to run: the loads it sends are added to the whole. */
  planned(partition: string, steps: readonly Step[]): void {
    this.partitionsStartedAt ??= this.now();
    for (const s of steps) if (s.kind === 'load') this.plannedLoads.add(`${partition}|${s.endpoint}`);
  }

  private get loadsPlanned(): number {
    return this.plannedLoads.size;
  }

  private get loadsFound(): number {
    return this.foundLoads.size;
  }

  /** A sent load ended, as the run's load slots saw it. */
  loadEnded(): void {
    this.loadsEnded++;
    this.onChange?.();
  }

  /** A step of a partition (its key) ended (skipped or done): the counts it moves. */
  ended(partition: string, step: Step, skipped: boolean): void {
    switch (step.kind) {
      case 'load':
        if (skipped) this.foundLoads.add(`${partition}|${step.endpoint}`);
        else {
          this.loadsSent++;
          this.firstLoadAt ??= this.now();
        }
        break;
      case 'change-role':
        if (step.mode === 'kTableLeader') this.leaders++;
        break;
      case 'change-leader':
        this.leaders++;
        break;
      case 'recover-replica':
        if (!skipped) this.rebuilt++;
        break;
      default:
        break;
    }
  }

  /** The estimate of what is left, if the rates seen so far say enough. */
  remainingMs(p: PartitionCounts): number | undefined {
    const now = this.now();
    const loadsLeft = this.loadsPlanned - this.loadsFound - this.loadsEnded;
    if (loadsLeft > 0) {
      const since = this.firstLoadAt;
      if (since === undefined || this.loadsEnded < MIN_SAMPLES || now - since < MIN_ELAPSED_MS) return undefined;
      return (loadsLeft * (now - since)) / this.loadsEnded;
    }
    const left = p.total - p.done - p.failed - p.interrupted;
    const since = this.partitionsStartedAt;
    const ended = p.done + p.failed + p.interrupted;
    if (left <= 0) return 0;
    if (since === undefined || ended < MIN_SAMPLES || now - since < MIN_ELAPSED_MS) return undefined;
    return (left * (now - since)) / ended;
  }

  /**
   * The counter line. What precedes the first `;` names the phase (progress.ts prints a new
   * phase at once and a moving count at most every 10 s), so only the partition counts go there.
   */
  line(round: number, p: PartitionCounts): string {
    const others = [p.failed ? `${p.failed} failed` : '', p.interrupted ? `${p.interrupted} interrupted` : ''].filter(Boolean);
    const parts = [`round ${round}: partitions ${p.done}/${p.total} done${others.length ? `, ${others.join(', ')}` : ''}`];
    if (this.loadsPlanned > 0) parts.push(`loads ${this.loadsFound + this.loadsEnded}/${this.loadsPlanned} done, ${this.loadsSent - this.loadsEnded} in flight`);
    if (this.leaders > 0) parts.push(`${this.leaders} leader${this.leaders === 1 ? '' : 's'} chosen`);
    if (this.rebuilt > 0) parts.push(`${this.rebuilt} follower${this.rebuilt === 1 ? '' : 's'} rebuilt`);
    const left = this.remainingMs(p);
    parts.push(`${formatDuration(this.now() - this.startedAt)} elapsed${left !== undefined && left > 0 ? `, about ${formatDuration(left)} left` : ''}`);
    return parts.join('; ');
  }
}
