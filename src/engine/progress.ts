// Progress for people and for logs: an ora spinner on a terminal, plain timestamped
// lines otherwise (cron), nothing with --quiet. Always on stderr, so --json stdout stays clean.
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
}

/** NO_COLOR is honoured when present and not empty. */
export function colorAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env['NO_COLOR'];
  return v === undefined || v === '';
}

const stamp = () => new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { update: () => {}, info: () => {}, detail: () => {}, warn: (t) => stream.write(`${stamp()} WARN ${t}\n`), stop: () => {} };
  // A terminal that reports no width (a pty nobody sized) would make the spinner's
  // line arithmetic divide by zero and flood the screen: plain lines there too.
  if (opts.plain || !stream.isTTY || !(stream.columns > 0)) {
    return {
      update: (t) => stream.write(`${stamp()} ${t}\n`),
      info: (t) => stream.write(`${stamp()} ${t}\n`),
      detail: (t) => stream.write(`${stamp()} ${t}\n`),
      warn: (t) => stream.write(`${stamp()} WARN ${t}\n`),
      stop: () => {},
    };
  }
  const color = opts.color ?? colorAllowed();
  const spinner: Ora = ora({ stream, text: '', color: color ? 'cyan' : false, ...(opts.interactive !== undefined ? { isEnabled: opts.interactive } : {}) }).start();
  return {
    update: (t) => {
      spinner.text = t;
    },
    info: (t) => {
      spinner.clear();
      stream.write(`${t}\n`);
      spinner.render();
    },
    detail: (t) => {
      spinner.clear();
      stream.write(`${t}\n`);
      spinner.render();
    },
    // log-symbols' warning sign is coloured unless the process has no colours at all.
    warn: (t) => (color ? spinner.warn(t) : spinner.stopAndPersist({ symbol: '!', text: t })).start(),
    stop: () => spinner.stop(),
  };
}
