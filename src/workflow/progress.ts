// Progress for people and for logs: an ora spinner on a terminal, plain timestamped
// lines otherwise (cron), nothing with --quiet. Always on stderr, so --json stdout stays clean.
import ora, { type Ora } from 'ora';

export interface Progress {
  /** A step of the workflow began or moved on (replaces the spinner text). */
  update(text: string): void;
  /** A line worth keeping in the log. */
  info(text: string): void;
  warn(text: string): void;
  stop(): void;
}

export interface ProgressOptions {
  quiet: boolean;
  stream?: NodeJS.WriteStream;
  /** Force plain lines (tests, --no-tty). */
  plain?: boolean;
}

const stamp = () => new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { update: () => {}, info: () => {}, warn: (t) => stream.write(`${stamp()} WARN ${t}\n`), stop: () => {} };
  if (opts.plain || !stream.isTTY) {
    return {
      update: (t) => stream.write(`${stamp()} ${t}\n`),
      info: (t) => stream.write(`${stamp()} ${t}\n`),
      warn: (t) => stream.write(`${stamp()} WARN ${t}\n`),
      stop: () => {},
    };
  }
  const spinner: Ora = ora({ stream, text: '' }).start();
  return {
    update: (t) => {
      spinner.text = t;
    },
    info: (t) => {
      spinner.clear();
      stream.write(`${t}\n`);
      spinner.render();
    },
    warn: (t) => spinner.warn(t).start(),
    stop: () => spinner.stop(),
  };
}
