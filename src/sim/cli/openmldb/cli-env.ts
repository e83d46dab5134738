// A run of the stand-in binary: its flags, the OpenMLDB version it plays (dialect,
// version string) and its standard input, as each role's client reads them.
import type { Flags } from './flags.js';
import type { Dialect, LineReader } from './util.js';

export interface CliEnv {
  flags: Flags;
  dialect: Dialect;
  version: string;
  stdin: LineReader;
}

/** Column width limit of TPrinter: the flag in OpenMLDB, TPrinter(cols)'s 50 in the 2018 code. */
export function maxColWidth(env: CliEnv): number {
  return env.dialect === '2018' ? 50 : env.flags.num('max_col_display_length');
}
