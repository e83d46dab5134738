// `openmldb-recover recover`: the one-click recovery after a full restart; also the
// `--cmd=recoverdata` drop-in for openmldb_ops.py in start scripts.
import type { Argv } from 'yargs';
import { recoveryProcedure } from '../workflow/procedures/recover.js';
import { UsageError } from '../exit-codes.js';
import { type ArgsOf, type GlobalArgs, defineCommand } from './args.js';
import { connectionOptions, dryRunOption, filterOptions, outputOptions, parallelOptions, refuseOrphanedOption, runOptions } from './options.js';
import { runProcedureCommand } from './procedure-command.js';
import { filterOf, priorityOf, runSettingsOf } from './settings.js';

function recoverOptions<T>(y: Argv<T>) {
  return refuseOrphanedOption(
    runOptions(parallelOptions(dryRunOption(filterOptions(outputOptions(connectionOptions(y)))))).option('accept-data-loss', {
      type: 'boolean',
      default: false,
      describe: 'recover partitions even when that discards entries a replica holds',
    }).option('priority', {
      type: 'string',
      array: true,
      describe: 'serve these tables first, after the system tables: DB.TABLE or DB.* (repeatable); the report gives when each class was served',
    }),
  );
}

function recover(argv: ArgsOf<typeof recoverOptions> & GlobalArgs, command: string): Promise<number> {
  const settings = runSettingsOf(argv);
  const filter = filterOf(argv);
  const priority = priorityOf(argv.priority);
  return runProcedureCommand(settings, {
    command,
    procedure: () => recoveryProcedure({ acceptDataLoss: argv['accept-data-loss'], refuseOrphaned: argv['refuse-orphaned'] }),
    ...(filter ? { filter } : {}),
    priority,
  });
}

export const recoverCommand = defineCommand({
  command: 'recover',
  describe: 'one-click recovery after a full restart (observe, plan, apply, verify)',
  examples: [
    ['$0 recover --zk_cluster=zk1:2181,zk2:2181 --zk_root_path=/openmldb --openmldb_bin_path=/opt/openmldb/bin/openmldb', 'recover every table'],
    ['$0 recover --dry-run', 'print the plan as runbook commands; change nothing (recorded: see history)'],
    ['$0 recover --table demo_db.t1 --json', 'one table; the report as JSON on stdout'],
    ['$0 recover --config /etc/openmldb-recover.json --quiet', 'for cron: settings from a file, no progress, exit code says it all'],
    ['$0 recover --priority demo_db.t1 --priority \'feature_db.*\'', 'serve these tables first (after the system tables)'],
  ],
  builder: (y) => recoverOptions(y),
  handler: (argv) => recover(argv, 'recover'),
});

/** No command: `--cmd=recoverdata` as openmldb_ops.py takes it, or a usage error. */
export const defaultCommand = defineCommand({
  command: '$0',
  describe: false,
  examples: [],
  builder: (y) => recoverOptions(y).option('cmd', { type: 'string', describe: 'openmldb_ops.py compatibility: --cmd=recoverdata' }),
  handler: async (argv) => {
    if (argv['cmd'] === 'recoverdata') return recover(argv, 'recoverdata');
    if (argv['cmd'] !== undefined) throw new UsageError(`unsupported --cmd=${argv['cmd']}: openmldb_ops.py's recoverdata, showopstatus and showtablestatus are supported (or name a command, see --help)`);
    throw new UsageError('name a command: recover, status, recover-table, offline-endpoint, recover-endpoint, change-leader, plan, apply, verify, failover, ops, history, completion (see --help)');
  },
});
