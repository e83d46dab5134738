// Typed options: each option group's builder (options.ts) is the one place an option is
// declared, and its type is inferred from it, so a handler reading an option the command
// does not have (a misspelt name) fails tsc.
import type { Argv } from 'yargs';

/** The options a builder adds, as yargs infers them. No index signature. */
export type ArgsOf<B> = B extends (y: Argv<any>) => Argv<infer A> ? A : never;

/** Options every command has (src/cli registers them). */
export interface GlobalArgs {
  verbose?: boolean;
  /** --config FILE (its values are merged into the options by yargs). */
  config?: string;
}

/** A command as yargs registers it; the handler resolves to the exit code. */
export interface CliCommand<A = any> {
  command: string;
  describe: string | false;
  builder: (y: Argv) => Argv<A>;
  /** Shown under Examples in the command's --help: [command line, what it does]. */
  examples: ReadonlyArray<readonly [string, string]>;
  /** Its options, typed by its builder. */
  handler: (argv: A & GlobalArgs) => Promise<number>;
}

/** A command whose handler's options are inferred from its builder. */
export function defineCommand<A>(c: CliCommand<A>): CliCommand<A> {
  return c;
}
