// Typed options: each option group's builder is the one place an option is declared, and its
// type is inferred from it, so a handler or helper reading an option the command does not
// have (a misspelt name) fails tsc.
import type { Argv } from 'yargs';

/** The options a builder adds, as yargs infers them. No index signature. */
export type ArgsOf<B> = B extends (y: Argv<any>) => Argv<infer A> ? A : never;

/** Options every command has (src/cli registers them). */
export interface GlobalArgs {
  verbose?: boolean;
  /** --config FILE (its values are merged into the options by yargs). */
  config?: string;
}
