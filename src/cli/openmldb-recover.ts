#!/usr/bin/env node
// `openmldb-recover`: registers the commands (src/commands/<name>.ts) and maps errors to
// one line and an exit code; nothing else.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { changeLeaderCommand } from '../commands/change-leader.js';
import { explain } from '../commands/common.js';
import { EXIT, UsageError } from '../commands/exit-codes.js';
import { failoverCommand } from '../commands/failover.js';
import { offlineEndpointCommand } from '../commands/offline-endpoint.js';
import { opsCommand } from '../commands/ops.js';
import { recoverEndpointCommand } from '../commands/recover-endpoint.js';
import { recoverTableCommand } from '../commands/recover-table.js';
import { defaultCommand, recoverCommand } from '../commands/recover.js';
import type { CliCommand } from '../commands/run.js';
import { statusCommand } from '../commands/status.js';

const COMMANDS: CliCommand[] = [
  recoverCommand,
  statusCommand,
  recoverTableCommand,
  offlineEndpointCommand,
  recoverEndpointCommand,
  changeLeaderCommand,
  failoverCommand,
  opsCommand,
  defaultCommand,
];

async function main(): Promise<number> {
  let code: number = EXIT.ok;
  let cli = yargs(hideBin(process.argv))
    .scriptName('openmldb-recover')
    .usage('$0 <command> [options]\n\nBrings an OpenMLDB cluster back to a fully served state.');
  for (const c of COMMANDS) {
    cli = cli.command({
      command: c.command,
      describe: c.describe,
      builder: c.builder,
      handler: async (argv) => {
        code = await c.handler(argv as Record<string, unknown>);
      },
    });
  }
  await cli
    .strict()
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .help()
    .version()
    .parseAsync();
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const { line, code } = explain(err);
    process.stderr.write(`openmldb-recover: ${line}\n`);
    process.exitCode = code;
  },
);
