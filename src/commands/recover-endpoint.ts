// `openmldb-recover recover-endpoint ENDPOINT`: after offline-endpoint and the tablet's
// return, rebuild its replicas from their leaders.
import type { Argv } from 'yargs';
import { recoverEndpointProcedure } from '../workflow/procedures/recover-endpoint.js';
import { defineCommand } from './args.js';
import { endpointConcurrency, opConcurrencyOption } from './offline-endpoint.js';
import { connectionOptions, dryRunOption, outputOptions, runOptions } from './options.js';
import { runProcedureCommand } from './procedure-command.js';
import { parseEndpoint, runSettingsOf } from './settings.js';

function builder(y: Argv) {
  return opConcurrencyOption(runOptions(dryRunOption(outputOptions(connectionOptions(y)))))
    .positional('endpoint', { type: 'string', describe: 'the tablet, as showtablet lists it' })
    .option('need-restore', { type: 'boolean', default: false, describe: 'recoverendpoint ... true: full sync, and leaders move back to this tablet' });
}

export const recoverEndpointCommand = defineCommand({
  command: 'recover-endpoint <endpoint>',
  describe: "bring a returned tablet's replicas back after offline-endpoint: recoverendpoint, wait, retry failed partitions, verify",
  examples: [
    ['$0 recover-endpoint 10.0.0.13:9527', 'once the tablet is back and kHealthy'],
    ['$0 recover-endpoint 10.0.0.13:9527 --need-restore', 'full sync, and leaders move back to it'],
  ],
  builder,
  handler: async (argv) => {
    const concurrency = endpointConcurrency(argv);
    const procedure = recoverEndpointProcedure({
      endpoint: parseEndpoint(argv.endpoint),
      needRestore: argv['need-restore'],
      ...(concurrency !== undefined ? { concurrency } : {}),
    });
    return runProcedureCommand(runSettingsOf(argv), { command: 'recover-endpoint', procedure });
  },
});
