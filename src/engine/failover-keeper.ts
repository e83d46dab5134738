// Keeps auto_failover safe across a run and across crashed runs. Before the first change
// the value found is written to the run journal; at the end it is put back to the value
// before ANY run touched it (the journal's, when an earlier run died with it off) and the
// journal is cleared. Without a journal store it still restores within one run.
import { randomUUID } from 'node:crypto';
import { BinaryMissing, CommandError } from '../cluster/errors.js';
import type { EngineCluster } from './cluster.js';
import { type Journal, type PendingPlan, newJournal } from './journal-content.js';
import type { Progress } from './progress.js';
import { type Backoff, retryTransient } from './retry.js';
import { errorMessage } from '../exit-codes.js';

/** Where the journal lives: a local file, or a node in the cluster's ZooKeeper (asynchronous). */
export interface JournalStore {
  read(): Journal | undefined;
  write(j: Journal): void | Promise<void>;
  clear(): void | Promise<void>;
}

export class FailoverKeeper {
  /** The value to leave behind. */
  original: boolean | undefined;
  /** An earlier run died and left its journal: this run finishes its job. */
  resumed: Journal | undefined;
  switchedOff = false;
  /** Tries at putting auto_failover back; fewer once the cluster is known out of reach (lost ZooKeeper). */
  restoreAttempts = 8;
  /** The wait between those attempts: 0.4 s doubling up to 10 s (about a minute in all). */
  restoreBackoff: Backoff = { minTimeout: 400, maxTimeout: 10_000 };
  private journaled = false;
  constructor(
    private readonly store: JournalStore | undefined,
    private readonly meta: { command: string; cluster: Journal['cluster']; identifiers?: string[] },
    private readonly progress: Progress,
    readonly runId: string = randomUUID(),
  ) {}

  /** auto_failover could not be put back at the end: the journal stays for the next run. */
  owed = false;

  /**
   * Reads `config/auto_failover` from ZooKeeper, where the run can (its lock holds a
   * ZooKeeper session): the value an operator chose, which a nameserver's memory may not
   * hold (`raced`). Without it the value in memory is all the run can know.
   */
  readStored: (() => Promise<boolean | undefined>) | undefined;

  /**
   * The leader nameserver runs with auto_failover on while ZooKeeper says off: it won its
   * election while its own start was still running, and the end of NameServerImpl::Init
   * stored FLAGS_auto_failover (true in the template) over what OnLocked had read. The
   * stored value is the operator's choice; this run keeps it and puts memory back in line.
   */
  raced = false;
  /** The raced nameserver was put back to the stored `false` (restore). */
  raceSettled = false;

  private async storedValue(): Promise<boolean | undefined> {
    try {
      return await this.readStored?.();
    } catch (err) {
      this.progress.warn(`config/auto_failover could not be read from ZooKeeper (${errorMessage(err)}): the nameserver's value is taken as it is`);
      return undefined;
    }
  }

  private noteRace(): void {
    if (this.raced) return;
    this.raced = true;
    this.progress.warn(
      "auto_failover is on in the leader nameserver but off in ZooKeeper (config/auto_failover): the nameserver applied its auto_failover flag at the end of its start, after it had read ZooKeeper (NameServerImpl::Init); off is the value chosen, and this run puts the nameserver back to it",
    );
  }

  /** The value observed at the start, as chosen: off when the nameserver's `true` is only the start race. */
  async chosenValue(observed: boolean): Promise<boolean> {
    // A dead run's journal says what to leave; this only tells an operator's stored choice.
    if (!observed || !this.readStored || this.store?.read()) return observed;
    if ((await this.storedValue()) !== false) return observed;
    this.noteRace();
    return false;
  }

  /**
   * First thing after the lock is taken: an earlier run that died left its journal. This
   * run takes its job over; auto_failover goes back to the value before that run when this
   * one ends, whichever way it ends (`restore`).
   */
  adoptEarlierRun(): void {
    const earlier = this.store?.read();
    if (!earlier) return;
    if (earlier.plan) {
      // Not a dead run: the plan's probe, left for review (apply, --abandon, or a later run taking it over).
      this.progress.info(`plan ${earlier.plan.id} (probed ${earlier.plan.since}) holds auto_failover off; it was ${earlier.autoFailoverOriginal} before: this run leaves it ${earlier.autoFailoverOriginal}`);
    } else this.progress.warn(
      `an earlier run (${earlier.command}, pid ${earlier.pid} on ${earlier.host}, started ${earlier.startedAt}) did not finish; auto_failover was ${earlier.autoFailoverOriginal} before it: this run finishes the job and leaves it ${earlier.autoFailoverOriginal}`,
    );
    this.resumed = earlier;
    this.original = earlier.autoFailoverOriginal;
  }

  /** auto_failover was changed after the dead run whose journal this run found: that value stands (the report says so). */
  changedSince: { journal: boolean; found: boolean } | undefined;

  /**
   * Found off with no journal of this tool's explaining it: an operator's choice, or a run
   * that does not share this run's lock switched it off. This run does not own that value:
   * it leaves it as it finds it, unless it has to switch it off itself (`ensureOff`).
   */
  foundOff = false;

  /** Called with the value observed at the start of the run. */
  begin(observed: boolean): void {
    if (!this.resumed) {
      this.resumed = this.store?.read();
      this.original = this.resumed?.autoFailoverOriginal ?? observed;
      if (this.resumed) {
        this.progress.warn(
          `an earlier run (${this.resumed.command}, pid ${this.resumed.pid} on ${this.resumed.host}, started ${this.resumed.startedAt}) did not finish; auto_failover was ${this.resumed.autoFailoverOriginal} before it and will be left so`,
        );
      } else if (!observed) {
        this.foundOff = true;
        if (!this.raced) this.progress.info(
          'auto_failover is off and no journal of this tool explains it: an operator switched it off, or a run that does not share this run\'s lock (another --state-dir, --lock or --lock-path) holds it off; this run leaves it as it finds it, and switches it back on only if it has to switch it off itself',
        );
      }
    }
    // The dead run left auto_failover as it set it (or as it found it). Found otherwise,
    // someone chose a value since (an operator's confset): that choice stands.
    const left = this.resumed ? (this.resumed.autoFailoverSet ?? false) : undefined;
    if (this.resumed && left !== observed) {
      this.progress.warn(`auto_failover is ${observed}, but the earlier run left it ${left}: someone changed it since, so ${observed} stands (not the ${this.resumed.autoFailoverOriginal} from before that run)`);
      this.changedSince = { journal: this.resumed.autoFailoverOriginal, found: observed };
      this.original = observed;
    }
  }

  /** At its end the run switches auto_failover on (back to the value before it, or before a dead run). */
  get switchesOn(): boolean {
    return this.original === true && (this.switchedOff || this.resumed !== undefined);
  }

  /** Something must be restored even if this run changes nothing else. */
  get pendingRestore(): boolean {
    return this.resumed !== undefined;
  }

  /**
   * Before the first change of a round: journal first, then switch auto_failover off if it
   * is on. Found on although the value to leave is false (this run found it off, or an
   * earlier run left it off), someone switched it on since (another run's restore, an
   * operator): that choice is the one to put back, so the journal is written anew first.
   * A run that switches auto_failover off always switches it back on.
   */
  async ensureOff(client: EngineCluster, current: boolean): Promise<void> {
    if (current && this.original === false) {
      // On although off is the value to leave: the start race while ZooKeeper still says
      // off, else someone's choice, which stands: a run that switches it off then always
      // switches it back on. ZooKeeper's `false` tells only while it is the chosen value,
      // not one this run wrote over an operator's `true`.
      const tells = this.readStored && !this.resumed && (!this.switchedOff || this.raced);
      const stored = tells ? await this.storedValue() : undefined;
      if (stored === false) {
        this.noteRace();
      } else {
        this.progress.warn('auto_failover was switched on by someone else during this run (another run\'s restore, an operator): this run switches it off for its work and back on at its end');
        this.original = true;
        this.journaled = false;
      }
    } else if (current && this.switchedOff) {
      this.progress.warn('auto_failover is on again during this run (a nameserver that took over applied its auto_failover flag, another run, an operator): this run switches it off again for its work');
    }
    await this.writeJournal();
    if (current) {
      this.progress.info('auto_failover is on: switching it off for the run (confset auto_failover false)');
      this.switchedOff = true; // set first: a failed confset may still have applied
      await client.confSet(false);
    }
  }

  private async writeJournal(): Promise<void> {
    if (this.journaled || !this.store || this.original === undefined) return;
    const found = this.resumed
      ? { ...this.resumed, autoFailoverOriginal: this.original, resumedBy: [...this.resumed.resumedBy, this.runId] }
      : newJournal(this.meta.command, this.meta.cluster, this.original, this.runId);
    const { plan: _found, ...base } = found;
    // From here on this run leaves auto_failover off until it restores it.
    await this.store.write({ ...base, ...(this.meta.identifiers ? { identifiers: this.meta.identifiers } : {}), autoFailoverSet: false, ...(this.plan ? { plan: this.plan } : {}) });
    this.journaled = true;
  }

  /** The reviewed plan the journal names (a pending one an earlier `plan` left, or this run's). */
  plan: PendingPlan | undefined;

  /** The plan pending in the journal as found (before this run adopted it). */
  foundPlan(): PendingPlan | undefined {
    return (this.resumed ?? this.store?.read())?.plan;
  }

  /**
   * `apply` of the pending plan: it keeps the plan in the journal, marked begun, until it
   * restores auto_failover (a second `apply` after a crash resumes it).
   */
  continuePlan(id: string): void {
    const found = this.foundPlan();
    if (found?.id === id) this.plan = { ...found, applying: true };
  }

  /**
   * At the end of `plan`: auto_failover stays off and the journal names the plan, so the
   * next run knows a person is reviewing it (exit 4 within its hold) and `apply` resumes
   * from here. Journal first, then off (if a look still found it on).
   */
  async hold(client: EngineCluster, current: boolean, plan: PendingPlan): Promise<void> {
    this.plan = plan;
    this.journaled = false;
    await this.ensureOff(client, current);
    this.progress.info(`auto_failover stays off while plan ${plan.id} is reviewed: apply it, or abandon it (openmldb-recover plan --abandon ${plan.id}) to switch it back`);
  }

  /**
   * Put auto_failover back to the original value, trying hard (leaving it off is the one
   * thing we must not do), then clear the journal. Returns the value left behind.
   */
  async restore(client: EngineCluster, errors: string[]): Promise<boolean | undefined> {
    if (this.original === undefined) return undefined;
    if (this.raced && !this.original && !this.switchedOff) await this.settleRace(client, errors);
    const needed = this.original && (this.switchedOff || this.resumed !== undefined);
    if (needed && !(await this.putBack(client, errors))) {
      this.owed = true;
      // Owed, not held for review: the next run (cron) must put it back, not wait for a plan.
      if (this.plan || this.resumed?.plan) {
        this.plan = undefined;
        if (this.resumed) this.resumed = { ...this.resumed, plan: undefined };
        this.journaled = false;
        await Promise.resolve(this.writeJournal()).catch(() => undefined);
      }
      return false;
    }
    await this.store?.clear();
    return this.original;
  }

  /** The run did not need auto_failover off, but the nameserver still runs with the raced `true`: back to the stored `false`. */
  private async settleRace(client: EngineCluster, errors: string[]): Promise<void> {
    try {
      await retryTransient('putting the nameserver back to the stored auto_failover (confset auto_failover false)', () => client.confSet(false), {
        retries: 3,
        backoff: this.restoreBackoff,
        onRetry: (line) => this.progress.warn(line),
      });
      this.raceSettled = true;
      this.progress.info('auto_failover set to false in the nameserver, as ZooKeeper holds it (confset auto_failover false)');
    } catch (err) {
      errors.push(`auto_failover is on in the nameserver but off in ZooKeeper, and could not be set back (${errorMessage(err)}): run \`openmldb-recover failover off\``);
    }
  }

  /**
   * `confset auto_failover true`, trying hard (about a minute): a signal does not shorten
   * it, since leaving auto_failover off is the one thing a run must not do. Every failure
   * of the cluster is tried again (a crashed binary, an answer it cannot read: likely while
   * ZooKeeper or the nameserver settle) except a wrong credential or a malformed command.
   */
  private async putBack(client: EngineCluster, errors: string[]): Promise<boolean> {
    if (!this.original) return true; // it was off before: nothing to put back
    let last = '';
    try {
      await retryTransient('restoring auto_failover (confset auto_failover true)', () => client.confSet(true), {
        retries: Math.max(0, this.restoreAttempts - 1),
        backoff: this.restoreBackoff,
        onRetry: (line) => this.progress.warn(line),
        alsoRetry: (err) => !(err instanceof BinaryMissing) && !(err instanceof CommandError && (err.kind === 'auth' || err.kind === 'bad_format')),
      });
      this.progress.info('auto_failover restored to true (confset auto_failover true)');
      return true;
    } catch (err) {
      last = errorMessage(err);
      this.progress.warn(`restoring auto_failover failed: ${last}`);
    }
    // Keep the journal: the next run restores it.
    errors.push(`auto_failover is still false and must go back to true (${last}): run \`openmldb-recover failover on\` (or \`confset auto_failover true\` on the nameserver) once it answers; the next run of this tool does it`);
    return false;
  }
}
