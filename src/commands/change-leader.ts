// `openmldb-recover change-leader DB.TABLE PID [--to ENDPOINT|auto]`: changeleader with
// auto_failover off around it, wait its op, verify the new leader serves.
import type { Argv } from 'yargs';
import { changeLeaderProcedure } from '../workflow/procedures/change-leader.js';
import { defineCommand } from './args.js';
import { connectionOptions, dryRunOption, outputOptions, runOptions } from './options.js';
import { runProcedureCommand } from './procedure-command.js';
import { parseEndpoint, parsePid, parseTableName, runSettingsOf } from './settings.js';

function builder(y: Argv) {
  return runOptions(dryRunOption(outputOptions(connectionOptions(y))))
    .positional('table', { type: 'string', describe: 'the table, DB.TABLE' })
    .positional('pid', { type: 'string', describe: 'the partition' })
    .option('to', { type: 'string', default: 'auto', describe: 'the follower to make leader, or auto (the nameserver picks the one with the most data)' });
}

export const changeLeaderCommand = defineCommand({
  command: 'change-leader <table> <pid>',
  describe: "move a partition's leadership: changeleader, wait its op, verify the new leader serves",
  examples: [
    ['$0 change-leader demo_db.t1 0', 'let the nameserver pick the follower with the most data'],
    ['$0 change-leader demo_db.t1 0 --to 10.0.0.12:9527', 'make that follower the leader of partition 0'],
  ],
  builder,
  handler: async (argv) => {
    const { db, name } = parseTableName(argv['table']);
    const pid = parsePid(argv['pid']);
    const to = parseEndpoint(argv.to);
    const procedure = changeLeaderProcedure({ db, name, pid, to });
    return runProcedureCommand(runSettingsOf(argv), {
      command: 'change-leader',
      procedure,
      filter: { tables: [{ db, name }] },
      headline: (r) => {
        const p = r.tables[0]?.partitions[0];
        if (!p || r.dryRun) return undefined;
        const what = p.status === 'recovered' ? 'leader changed' : p.status === 'healthy' ? 'nothing to do' : 'leader NOT changed';
        return [`${db}.${name} pid ${pid}: ${what}: ${p.reason}`, ...(p.warnings ?? []).map((w) => `note: ${w}`)].join('\n');
      },
    });
  },
});
