// Progress for people and for logs: an ora spinner on a terminal, plain timestamped
// lines otherwise (cron), only warnings with --quiet (the command prints the final line). Always on stderr, so --json stdout stays clean.
// No colour when NO_COLOR is set (https://no-color.org): ora's chalk does not look at it.
import ora, { type Ora } from 'ora';

export interface Progress {
  /** A step of the workflow began or moved on (replaces the spinner text). */
  update(text: string): void;
  /** A line worth keeping in the log. */
  info(text: string): void;
  /** A line about one partition's step (printed like info; the run record leaves it out: the report has each step). */
  detail(text: string): void;
  warn(text: string): void;
  stop(): void;
}

export interface ProgressOptions {
  quiet: boolean;
  stream?: NodeJS.WriteStream;
  /** Force plain lines (tests, --no-tty). */
  plain?: boolean;
  /** Colour on a terminal (default: unless NO_COLOR is set and not empty). */
  color?: boolean;
  /** Animate even where ora would not (tests driving a fake terminal). */
  interactive?: boolean;
  /** Every line (--verbose): each partition's steps, each counter update. */
  details?: boolean;
}

/**
 * Without --verbose a large run must stay readable in a log (and on a terminal): the lines
 * of partitions' steps are printed up to DETAIL_LINES (a manual procedure on a partition or
 * two shows them all), and a counter that moves ("partitions 12/166 done") at most every COUNTER_MS
 * while a new phase is printed at once. The run record and the report keep every step.
 */
export const DETAIL_LINES = 25;
export const COUNTER_MS = 10_000;

/** A line's phase: its text with the numbers and what follows a `;` left out. */
const phaseOf = (t: string) => (t.split(';')[0] ?? '').replace(/\d+/g, '#');

/** Counts the detail lines and throttles the counters, as DETAIL_LINES and COUNTER_MS say. */
function pacer(all: boolean, write: (t: string) => void) {
  let details = 0;
  let phase: string | undefined;
  let at = 0;
  let pending: string | undefined;
  // A counter held back is written when its time comes even if nothing follows (a long wait).
  let timer: NodeJS.Timeout | undefined;
  const later = () => {
    timer = undefined;
    if (pending !== undefined) {
      write(pending);
      at = Date.now();
      pending = undefined;
    }
  };
  return {
    detail(t: string): void {
      if (all || details < DETAIL_LINES) write(t);
      else if (details === DETAIL_LINES) write('(each partition\'s further steps are not printed: --verbose prints them; the report and `history show last` list them all)');
      details++;
    },
    update(t: string): void {
      const now = Date.now();
      // A new phase: the last count of the one before first, so the log says where it ended.
      if (phaseOf(t) !== phase) this.flush();
      if (all || phaseOf(t) !== phase || now - at >= COUNTER_MS) {
        write(t);
        phase = phaseOf(t);
        at = now;
        pending = undefined;
      } else {
        pending = t;
        timer ??= setTimeout(later, Math.max(0, at + COUNTER_MS - now)).unref();
      }
    },
    /** The last counter held back, so a log ends with where the run got to. */
    flush(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (pending !== undefined) write(pending);
      pending = undefined;
    },
  };
}

/** NO_COLOR is honoured when present and not empty. */
export function colorAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env['NO_COLOR'];
  return v === undefined || v === '';
}

/** A log line's timestamp (UTC, to the second). */
export const stamp = (): string => new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { update: () => {}, info: () => {}, detail: () => {}, warn: (t) => stream.write(`${stamp()} WARN ${t}\n`), stop: () => {} };
  // A terminal that reports no width (a pty nobody sized) would make the spinner's
  // line arithmetic divide by zero and flood the screen: plain lines there too.
  if (opts.plain || !stream.isTTY || !(stream.columns > 0)) {
    const line = (t: string) => stream.write(`${stamp()} ${t}\n`);
    const pace = pacer(opts.details === true, line);
    return {
      update: (t) => pace.update(t),
      info: (t) => {
        pace.flush();
        line(t);
      },
      detail: (t) => pace.detail(t),
      warn: (t) => stream.write(`${stamp()} WARN ${t}\n`),
      stop: () => pace.flush(),
    };
  }
  const color = opts.color ?? colorAllowed();
  const spinner: Ora = ora({ stream, text: '', color: color ? 'cyan' : false, ...(opts.interactive !== undefined ? { isEnabled: opts.interactive } : {}) }).start();
  // On a terminal the spinner shows every counter; details are counted as in a log.
  const details = pacer(opts.details === true, (t) => {
    spinner.clear();
    stream.write(`${t}\n`);
    spinner.render();
  });
  return {
    update: (t) => {
      spinner.text = t;
    },
    info: (t) => {
      spinner.clear();
      stream.write(`${t}\n`);
      spinner.render();
    },
    detail: (t) => details.detail(t),
    // log-symbols' warning sign is coloured unless the process has no colours at all.
    warn: (t) => (color ? spinner.warn(t) : spinner.stopAndPersist({ symbol: '!', text: t })).start(),
    stop: () => spinner.stop(),
  };
}
