// SIGINT/SIGTERM during a mutating run: stop starting new steps, let running ones end
// within a short bound, restore auto_failover, write the report, exit 130/143. A second
// signal while restoring is refused with a message: leaving auto_failover off would be worse.
import { EXIT } from '../commands/exit-codes.js';

export type StopSignal = 'SIGINT' | 'SIGTERM';

export class Interrupt {
  readonly controller = new AbortController();
  signal: StopSignal | undefined;
  /** Set while auto_failover is being restored: further signals are ignored. */
  restoring = false;
  private handlers: Array<[StopSignal, () => void]> = [];

  constructor(private readonly say: (line: string) => void) {}

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  get exitCode(): number {
    return this.signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
  }

  install(): void {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
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
  }
}
