// `openmldb-recover status`: the health verdict, read-only (exit 0 healthy, 1 not, 3 not
// observed), for people, as JSON, or for Prometheus' textfile collector.
import { json, writeDocument } from './redact-output.js';
import { renderStatus, runStatus } from '../workflow/status.js';
import { explain, openClient } from './common.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { renderPrometheus, renderPrometheusDown } from './prometheus.js';
import { readPendingPlan } from './run-safety.js';
import { defineCommand } from './args.js';
import { type ConnectionArgs, connectionOptions, filterOptions, leaderWaitOption, outputOptions } from './options.js';
import { filterOf, runSettingsOf } from './settings.js';

/** Names the document, as the report's `schema` does: a reader tells it from the error report. */
export const STATUS_SCHEMA = 'openmldb-recover/status@1';

const FORMATS = ['text', 'json', 'prometheus'] as const;
type Format = (typeof FORMATS)[number];

function formatOf(argv: { json: boolean; format?: Format | undefined }): Format {
  const { format } = argv;
  if (argv.json && format !== undefined && format !== 'json') throw new UsageError(`--json and --format ${format} disagree: give one`);
  return argv.json ? 'json' : (format ?? 'text');
}

export const statusCommand = defineCommand({
  command: 'status',
  describe: 'health verdict per table and partition, read-only (exit 0 healthy, 1 not, 3 unreachable)',
  examples: [
    ['$0 status', 'the verdict per table, and the problems found'],
    ['$0 status --json --table demo_db.t1', 'one table, for scripts'],
    ['$0 status --format prometheus > /var/lib/node_exporter/openmldb.prom.tmp; mv /var/lib/node_exporter/openmldb.prom.tmp /var/lib/node_exporter/openmldb.prom', 'for node_exporter\'s textfile collector, written whatever the exit code (1: unhealthy, 3: not seen; see the README for a cron line)'],
  ],
  builder: (y) =>
    filterOptions(outputOptions(leaderWaitOption(connectionOptions(y))))
      .option('format', {
        choices: FORMATS,
        describe: 'text (default), json (same as --json), or prometheus (text exposition format)',
      })
      .option('state-dir', { type: 'string', describe: 'where runs keep their journal, to tell a plan pending (default $XDG_STATE_HOME/openmldb-recover)' })
      .option('lock-path', { type: 'string', describe: 'the lock node in ZooKeeper, whose sibling `journal` tells a plan pending (default <zk_root_path>/openmldb-recover/lock)' }),
  handler: async (argv) => {
    const format = formatOf(argv);
    const filter = filterOf(argv);
    try {
      const settings = runSettingsOf(argv);
      const config = settings.connection;
      const client = openClient(config, settings.output);
      const report = await runStatus(client, filter, settings.observeWait);
      const cluster = { zkCluster: config.zkCluster, zkRootPath: config.zkRootPath };
      // A plan under review explains why auto_failover is off and nothing is served yet.
      const pending = format === 'prometheus' ? undefined : await readPendingPlan({ ...settings, retries: 2 }, client);
      const planLine = pending
        ? `plan ${pending.id} pending since ${pending.since}: auto_failover is held off until it is applied (openmldb-recover apply ${pending.file === '-' ? 'PLAN_FILE' : pending.file}) or abandoned (openmldb-recover plan --abandon ${pending.id}); other runs wait until ${pending.holdUntil}`
        : undefined;
      // JSON scrubbed string by string, metrics hold no free text: written as built.
      if (format === 'text') process.stdout.write(`${renderStatus(report)}\n${planLine ? `${planLine}\n` : ''}`);
      else writeDocument(process.stdout, format === 'json' ? json({ schema: STATUS_SCHEMA, ...report, ...(pending ? { pendingPlan: { id: pending.id, since: pending.since, holdUntil: pending.holdUntil, file: pending.file } } : {}) }) : renderPrometheus(report, cluster));
      return report.healthy ? EXIT.ok : EXIT.notRecovered;
    } catch (err) {
      // For the textfile collector, "not observed" is a value too: up 0.
      if (format === 'prometheus' && explain(err).code === EXIT.unreachable) writeDocument(process.stdout, renderPrometheusDown(labelsOf(argv)));
      throw err;
    }
  },
});

/** The cluster's labels as given, even when the connection could not be set up. */
function labelsOf(argv: Pick<ConnectionArgs, 'zk-cluster' | 'zk-root-path'>, env: NodeJS.ProcessEnv = process.env) {
  return {
    zkCluster: argv['zk-cluster'] ?? env['OPENMLDB_ZK_CLUSTER'] ?? '',
    zkRootPath: argv['zk-root-path'] ?? env['OPENMLDB_ZK_ROOT_PATH'] ?? '/openmldb',
  };
}
