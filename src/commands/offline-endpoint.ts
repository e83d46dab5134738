// `openmldb-recover offline-endpoint ENDPOINT`: take a tablet that is down out of service
// (auto_failover off): its leaders move to other replicas, its replicas are marked not alive.
import type { Argv } from 'yargs';
import { type ArgsOf, defineCommand } from './args.js';
import { offlineEndpointProcedure } from '../workflow/procedures/offline-endpoint.js';
import { UsageError } from '../exit-codes.js';
import { connectionOptions, dryRunOption, outputOptions, runOptions } from './options.js';
import { runProcedureCommand } from './procedure-command.js';
import { parseEndpoint, runSettingsOf } from './settings.js';

/** `name_server_task_max_concurrency`: the nameserver refuses more (307 invalid parameter). */
const MAX_CONCURRENCY = 8;

/**
 * `--op-concurrency`: the CONCURRENCY argument of offlineendpoint/recoverendpoint. Not
 * `--concurrency`, which is recover's partitions at once (one meaning per flag name); given
 * here it is an unknown option (and a --config file's `concurrency`, meant for recover, is
 * left out for these commands).
 */
export function opConcurrencyOption<T>(y: Argv<T>) {
  return y.option('op-concurrency', { type: 'number', describe: `ops the nameserver runs at once for it (1-${MAX_CONCURRENCY}; default the nameserver's)` });
}

export function endpointConcurrency(argv: ArgsOf<typeof opConcurrencyOption>): number | undefined {
  const n = argv['op-concurrency'];
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) throw new UsageError(`--op-concurrency must be a whole number from 1 to ${MAX_CONCURRENCY} (got ${n})`);
  return n;
}

function builder(y: Argv) {
  return opConcurrencyOption(runOptions(dryRunOption(outputOptions(connectionOptions(y))))).positional('endpoint', { type: 'string', describe: 'the tablet, as showtablet lists it' });
}

export const offlineEndpointCommand = defineCommand({
  command: 'offline-endpoint <endpoint>',
  describe: 'take a tablet that is down out of service: offlineendpoint, wait its ops, retry failed partitions, verify',
  examples: [
    ['$0 offline-endpoint 10.0.0.13:9527', 'after that tablet died with auto_failover off'],
    ['$0 offline-endpoint 10.0.0.13:9527 --dry-run', 'print the runbook commands it would run'],
  ],
  builder,
  handler: async (argv) => {
    const concurrency = endpointConcurrency(argv);
    const procedure = offlineEndpointProcedure({ endpoint: parseEndpoint(argv.endpoint), ...(concurrency !== undefined ? { concurrency } : {}) });
    return runProcedureCommand(runSettingsOf(argv), { command: 'offline-endpoint', procedure });
  },
});
