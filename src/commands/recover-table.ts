// `openmldb-recover recover-table DB.TABLE`: the runbook's manual data recovery for one
// table (or some of its partitions), whether or not the metadata says they are served.
import type { Argv } from 'yargs';
import { recoverTableProcedure } from '../workflow/procedures/recover-table.js';
import { UsageError } from '../exit-codes.js';
import { defineCommand } from './args.js';
import { connectionOptions, dryRunOption, outputOptions, parallelOptions, refuseOrphanedOption, runOptions } from './options.js';
import { runProcedureCommand } from './procedure-command.js';
import { listOf, parsePid, parseTableName, runSettingsOf, texts } from './settings.js';

function builder(y: Argv) {
  return refuseOrphanedOption(runOptions(parallelOptions(dryRunOption(outputOptions(connectionOptions(y))))))
    .positional('table', { type: 'string', describe: 'the table, DB.TABLE' })
    .option('pid', { type: 'number', array: true, describe: 'only these partitions (default: all)' })
    .option('leader', { type: 'string', array: true, describe: 'PID=ENDPOINT: the replica to make leader (default: the one holding the most data)' })
    .option('accept-data-loss', { type: 'boolean', default: false, describe: 'allow a leader that discards entries another replica holds' });
}

/** `--leader PID=ENDPOINT`, repeatable, one endpoint per pid. */
export function parseLeaders(values: readonly string[] | undefined): Map<number, string> {
  const leaders = new Map<number, string>();
  for (const v of texts('leader', values)) {
    const m = /^(\d+)=(\S+)$/.exec(v);
    if (!m) throw new UsageError(`--leader '${v}' must be PID=ENDPOINT`);
    const pid = Number(m[1]);
    if (leaders.has(pid) && leaders.get(pid) !== m[2]) throw new UsageError(`--leader names two leaders for pid ${pid}`);
    leaders.set(pid, m[2] as string);
  }
  return leaders;
}

export const recoverTableCommand = defineCommand({
  command: 'recover-table <table>',
  describe: "the runbook's manual data recovery for one table, whether or not it looks served",
  examples: [
    ['$0 recover-table demo_db.t1', 'every partition of demo_db.t1, leader = the replica holding the most data'],
    ['$0 recover-table demo_db.t1 --pid 3 --leader 3=10.0.0.12:9527', 'partition 3 only, with that leader'],
    ['$0 recover-table demo_db.t1 --dry-run', 'print the runbook commands it would run'],
  ],
  builder,
  handler: async (argv) => {
    const { db, name } = parseTableName(argv['table']);
    const pids = listOf(argv.pid).map((p) => parsePid(p, '--pid'));
    const procedure = recoverTableProcedure({
      db,
      name,
      ...(pids.length > 0 ? { pids: [...new Set(pids)] } : {}),
      leaders: parseLeaders(argv['leader']),
      acceptDataLoss: argv['accept-data-loss'],
      refuseOrphaned: argv['refuse-orphaned'],
    });
    return runProcedureCommand(runSettingsOf(argv), { command: 'recover-table', procedure, filter: { tables: [{ db, name }] } });
  },
});
