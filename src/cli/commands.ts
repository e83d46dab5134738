// What `openmldb-recover` registers and shows in its help: the commands in order, the
// top-level examples and `completion --help`. Apart from the entry point, which runs on
// import, so the tests can read the examples as declared.
import { changeLeaderCommand } from '../commands/change-leader.js';
import { failoverCommand } from '../commands/failover.js';
import { historyCommand } from '../commands/history.js';
import { offlineEndpointCommand } from '../commands/offline-endpoint.js';
import { opsCommand } from '../commands/ops.js';
import { recoverEndpointCommand } from '../commands/recover-endpoint.js';
import { recoverTableCommand } from '../commands/recover-table.js';
import { defaultCommand, recoverCommand } from '../commands/recover.js';
import type { CliCommand } from '../commands/args.js';
import { statusCommand } from '../commands/status.js';
import { applyCommand, planCommand, verifyCommand } from '../commands/reviewed-plan.js';

export const COMMANDS: CliCommand[] = [
  recoverCommand,
  statusCommand,
  recoverTableCommand,
  offlineEndpointCommand,
  recoverEndpointCommand,
  changeLeaderCommand,
  planCommand,
  applyCommand,
  verifyCommand,
  failoverCommand,
  opsCommand,
  historyCommand,
  defaultCommand,
];

/** Under the top level's --help. */
export const TOP_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ['$0 status --zk_cluster=zk1:2181 --zk_root_path=/openmldb', 'is every partition served? (exit 0 yes, 1 no, 3 unreachable)'],
  ['$0 recover --config /etc/openmldb-recover.json', 'recover after a full restart, connection settings from a file'],
  ['$0 history show last', 'what the last run did: its commands, their output, the plan, the report'],
];

export const COMPLETION_EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ['$0 completion >> ~/.bashrc', 'complete commands and options in new bash shells'],
  ['$0 completion >> ~/.zshrc', 'the same for zsh'],
];

/** yargs' completion command answers --help with the script itself: a person asking gets help. */
export const COMPLETION_HELP = `openmldb-recover completion

Print a bash/zsh completion script for openmldb-recover on stdout.

Examples:
${(() => {
  const lines = COMPLETION_EXAMPLES.map(([example, what]) => [example.replace(/\$0/g, 'openmldb-recover'), what] as const);
  const width = Math.max(...lines.map(([example]) => example.length)) + 4;
  return lines.map(([example, what]) => `  ${example.padEnd(width)}${what}\n`).join('');
})()}`;
