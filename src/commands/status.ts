// `openmldb-recover status`: the health verdict, read-only (exit 0 healthy, 1 not).
import { renderStatus, runStatus } from '../workflow/status.js';
import { connect, parseFilter } from './common.js';
import { connectionOptions } from './config.js';
import { EXIT } from './exit-codes.js';
import { type CliCommand, filterOptions, outputOptions } from './run.js';

export const statusCommand: CliCommand = {
  command: 'status',
  describe: 'health verdict per table and partition, read-only (exit 0 healthy, 1 not)',
  builder: (y) => filterOptions(outputOptions(connectionOptions(y))),
  handler: async (argv) => {
    const filter = parseFilter(argv['db'], argv['table']);
    const { client } = connect(argv);
    const report = await runStatus(client, filter);
    process.stdout.write(argv['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderStatus(report)}\n`);
    return report.healthy ? EXIT.ok : EXIT.notRecovered;
  },
};
