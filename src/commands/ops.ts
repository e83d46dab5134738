// `openmldb-recover ops`: the op list (showopstatus) as a table or JSON; `--wait` until none
// is kInited or kDoing.
import { json, writeDocument } from './redact-output.js';
import type { Argv } from 'yargs';
import { Interrupt } from '../engine/interrupt.js';
import { type OpsQuery, renderOps, runOps } from '../workflow/ops.js';
import { openClient, progressFor } from './common.js';
import { UsageError } from '../exit-codes.js';
import { defineCommand } from './args.js';
import { connectionOptions, outputOptions, retriesOption } from './options.js';
import { parsePid, parseTableName, runSettingsOf, seconds } from './settings.js';

const STATUSES = ['kInited', 'kDoing', 'kDone', 'kFailed', 'kCanceled'] as const;

function builder(y: Argv) {
  return retriesOption(outputOptions(connectionOptions(y)))
    .option('db', { type: 'string', describe: "only this database's ops" })
    .option('table', { type: 'string', describe: "only this table's ops, DB.TABLE" })
    .option('status', { choices: STATUSES, describe: 'show only ops in this status' })
    .option('since', { type: 'number', describe: 'only ops with an id above this one' })
    .option('wait', { type: 'boolean', default: false, describe: 'wait until none is kInited or kDoing; exit 1 on timeout or if any is kFailed' })
    .option('timeout', { type: 'number', default: 1800, describe: 'seconds --wait waits at most' });
}

export const opsCommand = defineCommand({
  command: 'ops',
  describe: 'list the ops (showopstatus); --wait until none is running; read-only',
  examples: [
    ['$0 ops --status kDoing', 'the ops still running'],
    ['$0 ops --wait --timeout 600', 'wait until no op is running (exit 1 on timeout or a failed op)'],
    ['$0 ops --table demo_db.t1 --json', 'one table\'s ops, for scripts'],
  ],
  builder,
  handler: async (argv) => {
    const q: OpsQuery = {};
    if (argv.table !== undefined) q.table = parseTableName(argv.table, '--table');
    if (argv.db !== undefined) {
      const { db } = argv;
      if (!/^[A-Za-z0-9_$-]+$/.test(db)) throw new UsageError(`--db '${db}' is not a database name`);
      if (q.table && q.table.db !== db) throw new UsageError(`--db ${db} and --table ${q.table.db}.${q.table.name} name different databases`);
      q.db = db;
    }
    if (argv.status !== undefined) q.status = argv.status;
    if (argv.since !== undefined) q.since = parsePid(argv.since, '--since');
    const timeoutMs = seconds('timeout', argv.timeout) * 1000;
    const settings = runSettingsOf(argv);
    const { retries } = settings;
    const client = openClient(settings.connection, settings.output);
    const progress = progressFor(settings.output);
    const interrupt = new Interrupt((line) => progress.warn(line));
    interrupt.install();
    try {
      const r = await runOps(client, q, { wait: argv.wait, timeoutMs, retries, progress, interrupt });
      progress.stop();
      if (settings.output.json) writeDocument(process.stdout, json(r));
      else process.stdout.write(`${renderOps(r, timeoutMs)}\n`);
      return r.exitCode;
    } finally {
      progress.stop();
      interrupt.uninstall();
    }
  },
});
