// `--config FILE`: option values from a JSON file (yargs' config support), e.g. the
// connection settings and the defaults of a site. Precedence, highest first: flags, the
// file, the environment (OPENMLDB_*), built-in defaults. A file is named on the command
// line; the environment is ambient (OpenMLDB's conf/openmldb-env.sh exports
// OPENMLDB_ZK_CLUSTER into every shell that sourced it), and must never turn a run meant
// for the file's cluster onto another one. Where the two disagree, a warning says so. One
// file serves every command: each takes the keys it has options for; a key no command
// knows is a mistake (a usage error).
import { readFileSync } from 'node:fs';
import { UsageError } from '../exit-codes.js';
import { ENV_OPTIONS, noteConfigRead, privateSecretFile } from './connection.js';
import { printable } from '../safety/files.js';

/** yargs may read the file more than once in a run: each warning is said once. */
const warned = new Set<string>();
function warnOnce(line: string): void {
  if (warned.has(line)) return;
  warned.add(line);
  process.stderr.write(`openmldb-recover: WARN ${line}\n`);
}


export interface ConfigScope {
  /** Option names (every spelling) of the command being run; undefined: keep every key. */
  command?: ReadonlySet<string>;
  /** Option names of every command, to tell a typo from another command's option. */
  all?: ReadonlySet<string>;
}

export function readConfigFile(path: string, env: NodeJS.ProcessEnv = process.env, scope: ConfigScope = {}): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? `not valid JSON (${err.message})` : ((err as NodeJS.ErrnoException).code ?? String(err));
    throw new UsageError(`cannot read --config ${path}: ${why}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`--config ${path} must hold a JSON object of option names and values`);
  const options = { ...(value as Record<string, unknown>) };
  if (['password', 'Password'].some((k) => options[k] !== undefined)) privateSecretFile(path, '--config');
  const unknown = scope.all ? Object.keys(options).filter((k) => !scope.all?.has(k)) : [];
  if (unknown.length > 0) throw new UsageError(`--config ${path}: no command has an option ${unknown.map((k) => `'${k}'`).join(', ')}: check the spelling (see --help)`);
  for (const [variable, names] of ENV_OPTIONS) {
    const fromEnv = env[variable];
    const key = names.find((n) => options[n] !== undefined);
    if (fromEnv === undefined || fromEnv === '' || key === undefined) continue;
    const secret = variable === 'OPENMLDB_PASSWORD';
    if (secret || String(options[key]) !== fromEnv) {
      const values = secret ? '' : ` (${printable(options[key], 80)}, not ${printable(fromEnv, 80)})`;
      warnOnce(`--config ${path} sets ${key} and the environment sets ${variable}${values}: the file's is used (--config beats the environment; a flag beats both)`);
    }
  }
  if (scope.command) for (const k of Object.keys(options)) if (!scope.command.has(k)) delete options[k];
  noteConfigRead(path, new Set(Object.keys(options)));
  return options;
}
