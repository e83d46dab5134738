#!/usr/bin/env node
// `openmldb-recover`: wires command-line arguments to workflows; nothing else.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { connect, explain, parseFilter, positive } from '../commands/common.js';
import { connectionOptions } from '../commands/config.js';
import { EXIT, UsageError } from '../commands/exit-codes.js';
import { openRunSafety } from '../commands/safety.js';
import { Interrupt } from '../workflow/interrupt.js';
import { createProgress } from '../workflow/progress.js';
import { runRecover } from '../workflow/recover.js';
import { renderReport } from '../workflow/report.js';
import { renderStatus, runStatus } from '../workflow/status.js';

function outputOptions<T>(y: Argv<T>) {
  return y
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable report on stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress output' })
    .option('db', { type: 'string', array: true, describe: 'only this database (repeatable)' })
    .option('table', { type: 'string', array: true, describe: 'only this table, DB.TABLE (repeatable)' });
}

function recoverOptions<T>(y: Argv<T>) {
  return outputOptions(connectionOptions(y))
    .option('dry-run', { type: 'boolean', default: false, describe: 'observe and plan, print the plan, change nothing' })
    .option('accept-data-loss', { type: 'boolean', default: false, describe: 'recover partitions even when that discards entries a replica holds' })
    .option('concurrency', { type: 'number', default: 4, describe: 'partitions worked on at once' })
    .option('per-tablet', { type: 'number', default: 2, describe: 'partitions at once per leader tablet' })
    .option('load-timeout', { type: 'number', default: 600, describe: 'seconds a partition load may take' })
    .option('op-timeout', { type: 'number', default: 1800, describe: "seconds to wait for a partition's ops" })
    .option('retries', { type: 'number', default: 4, describe: 'retries of a command on transient errors' })
    .option('state-dir', { type: 'string', describe: 'lock and run journal (default $XDG_STATE_HOME/openmldb-recover)' });
}

async function recover(argv: Record<string, unknown>, command: string): Promise<number> {
  const filter = parseFilter(argv['db'], argv['table']);
  const apply = {
    concurrency: positive('concurrency', argv['concurrency']),
    perTablet: positive('per-tablet', argv['per-tablet']),
    loadTimeoutMs: positive('load-timeout', argv['load-timeout'], false) * 1000,
    opTimeoutMs: positive('op-timeout', argv['op-timeout'], false) * 1000,
    retries: Number.isInteger(Number(argv['retries'])) && Number(argv['retries']) >= 0 ? Number(argv['retries']) : (() => { throw new UsageError(`--retries must be a whole number >= 0 (got ${String(argv['retries'])})`); })(),
    partitionAttempts: 3,
  };
  const { client, config } = connect(argv);
  const json = argv['json'] === true;
  const progress = createProgress({ quiet: argv['quiet'] === true });
  const interrupt = new Interrupt((line) => progress.warn(line));
  const dryRun = argv['dry-run'] === true;
  // Mutating runs take the cluster lock and keep the run journal; a dry run takes neither.
  const safety = dryRun ? undefined : openRunSafety(argv, config, command, progress);
  interrupt.install();
  try {
    const report = await runRecover(client, {
      ...(safety ? { keeper: safety.keeper } : {}),
      command,
      dryRun,
      plan: { acceptDataLoss: argv['accept-data-loss'] === true },
      ...(filter ? { filter } : {}),
      apply,
      progress,
      interrupt,
      cluster: { zkCluster: config.zkCluster, zkRootPath: config.zkRootPath },
    });
    progress.stop();
    if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      if (report.dryRun) {
        for (const t of report.tables) for (const p of t.partitions) if (p.plan.length) process.stdout.write(`${t.db}.${t.name} pid ${p.pid}: ${p.reason}\n${p.plan.map((s) => `    ${s}`).join('\n')}\n`);
      }
      process.stdout.write(`${renderReport(report)}\n`);
    }
    return report.exitCode;
  } finally {
    progress.stop();
    interrupt.uninstall();
    safety?.release();
  }
}

async function status(argv: Record<string, unknown>): Promise<number> {
  const filter = parseFilter(argv['db'], argv['table']);
  const { client } = connect(argv);
  const report = await runStatus(client, filter);
  process.stdout.write(argv['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderStatus(report)}\n`);
  return report.healthy ? EXIT.ok : EXIT.notRecovered;
}

async function main(): Promise<number> {
  let code: number = EXIT.ok;
  await yargs(hideBin(process.argv))
    .scriptName('openmldb-recover')
    .usage('$0 <command> [options]\n\nBrings an OpenMLDB cluster back to a fully served state.')
    .command('recover', 'one-click recovery after a full restart (observe, plan, apply, verify)', recoverOptions, async (a) => {
      code = await recover(a as Record<string, unknown>, 'recover');
    })
    .command('status', 'health verdict per table and partition, read-only (exit 0 healthy, 1 not)', (y) => outputOptions(connectionOptions(y)), async (a) => {
      code = await status(a as Record<string, unknown>);
    })
    .command(
      '$0',
      false,
      (y) => recoverOptions(y).option('cmd', { type: 'string', describe: 'openmldb_ops.py compatibility: --cmd=recoverdata' }),
      async (a) => {
        // Drop-in for `openmldb_ops.py --cmd=recoverdata` in start scripts.
        if (a.cmd === 'recoverdata') code = await recover(a as Record<string, unknown>, 'recoverdata');
        else if (a.cmd !== undefined) throw new UsageError(`unsupported --cmd=${a.cmd}: only --cmd=recoverdata is supported (or use the recover command)`);
        else throw new UsageError('name a command: recover, status (see --help)');
      },
    )
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
