// OpenMLDB's tools/openmldb_ops.py takes its command as `--cmd=NAME`. `recoverdata` is the
// default command's (commands/recover.ts); its two read commands are this tool's `ops` and
// `status`, so a script written for openmldb_ops.py keeps working with its flags:
//   --cmd=showopstatus [--db DB] [--filter STATUS]   ->  ops [--db DB] [--status STATUS]
//   --cmd=showtablestatus                             ->  status
import { UsageError } from '../exit-codes.js';

/** The command line with openmldb_ops.py's read commands spelled as this tool's (others unchanged). */
export function fromOpsPy(args: readonly string[]): string[] {
  // Only when no command is named first: `ops --cmd=x` is another mistake, left to yargs.
  if (args[0] !== undefined && !args[0].startsWith('-')) return [...args];
  const at = args.findIndex((a) => a === '--cmd' || a.startsWith('--cmd='));
  if (at < 0) return [...args];
  const cmd = args[at] === '--cmd' ? args[at + 1] : args[at]?.slice('--cmd='.length);
  if (cmd !== 'showopstatus' && cmd !== 'showtablestatus') return [...args];
  const rest = args.filter((_a, i) => i !== at && !(args[at] === '--cmd' && i === at + 1));
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    const filter = a === '--filter' ? rest[++i] : a.startsWith('--filter=') ? a.slice('--filter='.length) : undefined;
    if (filter === undefined) out.push(a);
    else if (cmd === 'showopstatus') out.push('--status', filter);
    else throw new UsageError(`--cmd=showtablestatus --filter is not supported: run \`openmldb-recover status\` (every table) and filter its --json output`);
  }
  return [cmd === 'showopstatus' ? 'ops' : 'status', ...out];
}
