// SIGINT/SIGTERM/SIGHUP during a mutating run: stop starting new steps, let running ones
// end within a short bound, restore auto_failover, write the report, exit 130/143/129. A
// second signal while restoring is refused with a message: leaving auto_failover off would
// be worse. SIGHUP counts too: Node resets it to "terminate" at start even under nohup, and
// a closed terminal must not leave the cluster half recovered. An unexpected error anywhere
// in the process stops the run the same way (`fail`).
import { setMaxListeners } from 'node:events';
import { EXIT } from '../exit-codes.js';

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

const SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class Interrupt {
  readonly controller = new AbortController();
  signal: StopSignal | undefined;
  /** Set while auto_failover is being restored: further signals are ignored. */
  restoring = false;
  private handlers: Array<[StopSignal, () => void]> = [];

  constructor(private readonly say: (line: string) => void) {
    // Every partition's wait and every load being watched listens for the stop (hundreds at
    // once on a large cluster) and stops listening when it ends; a leak still shows, later.
    setMaxListeners(4096, this.controller.signal);
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  get exitCode(): number {
    return this.signal === 'SIGTERM' ? EXIT.terminated : this.signal === 'SIGHUP' ? EXIT.hangup : EXIT.interrupted;
  }

  /** Set when an unexpected error stopped the run (not a signal). */
  failure: Error | undefined;

  /** The run in progress, for process-wide handlers (uncaught errors, a broken pipe). */
  static current: Interrupt | undefined;

  /** Stop the run because something unexpected broke; it still restores and reports. */
  fail(err: Error): void {
    if (this.aborted) {
      // Already stopping: the restore goes on; the error is still said.
      this.say(`while stopping: ${err.message}`);
      return;
    }
    this.failure = err;
    this.say(`stopping: ${err.message}; restoring auto_failover first`);
    this.controller.abort(err);
  }

  install(): void {
    Interrupt.current = this;
    for (const sig of SIGNALS) {
      const handler = () => {
        if (this.restoring || this.aborted) {
          this.say(`${sig} ignored: restoring auto_failover first, the run ends right after`);
          return;
        }
        this.signal = sig;
        this.say(`${sig}: no new steps; finishing running ones, then restoring auto_failover`);
        this.controller.abort(new Error(`interrupted by ${sig}`));
      };
      process.on(sig, handler);
      this.handlers.push([sig, handler]);
    }
  }

  uninstall(): void {
    for (const [sig, handler] of this.handlers) process.off(sig, handler);
    this.handlers = [];
    if (Interrupt.current === this) Interrupt.current = undefined;
  }
}
