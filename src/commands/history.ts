// `openmldb-recover history [show ID]`: the runs recorded in the state directory, and one
// run in full: its options, every command with its output, the plan and the report.
import type { Argv } from 'yargs';
import { renderRun, renderRunList } from '../history/render.js';
import { UnknownRun, copyRun, listRuns, readRun, resolveRun } from '../history/store.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { defineCommand } from './args.js';
import { stateDirOf } from './settings.js';

function builder(y: Argv) {
  return y
    .positional('action', { choices: ['list', 'show'] as const, default: 'list' as const, describe: 'list the runs (the default), or show one' })
    .positional('id', { type: 'string', describe: 'the run to show: its id (or a unique part of it), or last' })
    .option('json', { type: 'boolean', default: false, describe: 'list: the runs as JSON; show: the record as stored (JSON Lines)' })
    .option('limit', { type: 'number', describe: 'list only the newest N runs' })
    .option('state-dir', { type: 'string', describe: 'where the records are (default $XDG_STATE_HOME/openmldb-recover)' });
}

/** stdout with its backpressure respected: a long record is printed as fast as the reader takes it. */
function write(text: string): Promise<void> | void {
  if (process.stdout.write(text)) return;
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

export const historyCommand = defineCommand({
  command: 'history [action] [id]',
  describe: 'past runs recorded in the state directory; `history show ID|last` prints one',
  examples: [
    ['$0 history', 'every recorded run: when, what, exit code, summary'],
    ['$0 history show last', 'the newest run: options, every change and its output, the reads, the plan, the report'],
    ['$0 history show 20250508-101501 --json', 'that run\'s record as stored (JSON Lines)'],
  ],
  builder,
  handler: async (argv) => {
    const { dir } = stateDirOf(argv);
    const { json } = argv;
    if (argv.action === 'show') {
      let id: string;
      try {
        id = resolveRun(dir, argv.id ?? 'last');
      } catch (err) {
        if (err instanceof UnknownRun) throw new UsageError(err.message);
        throw err;
      }
      if (json) await copyRun(dir, id, process.stdout);
      else await renderRun(readRun(dir, id), write);
      return EXIT.ok;
    }
    if (argv.id !== undefined) throw new UsageError(`history lists runs; to print one: history show ${argv.id}`);
    const { limit } = argv;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit must be a whole number >= 1 (got ${limit})`);
    const runs = await listRuns(dir, limit);
    process.stdout.write(json ? `${JSON.stringify(runs, null, 2)}\n` : `${renderRunList(runs, dir)}\n`);
    return EXIT.ok;
  },
});
