#!/usr/bin/env node
// `openmldb-recover`: registers the commands (src/commands/<name>.ts) with their examples,
// the options every command shares (--config, --verbose), shell completion, and maps
// errors to one line and an exit code; nothing else.
import { json, writeDocument } from '../commands/redact-output.js';
import { releaseHungUpTerminal } from '../commands/terminal.js';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { explain } from '../commands/common.js';
import { type KnownCluster, clusterOf, commandOf, errorReport, flag, wantsJson } from '../commands/error-report.js';
import { writeRunMetrics } from '../commands/run-metrics.js';
import { fromOpsPy } from '../commands/ops-py.js';
import { readConfigFile } from '../commands/config-file.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { VERSION } from '../commands/version.js';
import { COMMANDS, COMPLETION_HELP, TOP_EXAMPLES } from './commands.js';
import { Interrupt } from '../engine/interrupt.js';

/** Under every command's help (the top level shows the default command's, so it is there too). */
const EPILOGUE = `Exit codes: 0 done (or healthy), 1 not done (or unhealthy; the report says why), 2 usage error or refused (nothing changed), 3 cluster unreachable or binary missing, 4 another run holds the cluster lock (or a plan is pending review), 5 auto_failover could not be put back (the next run or failover on does), 6 changes pending (--dry-run --detailed-exitcode), 129/130/143 SIGHUP/SIGINT/SIGTERM (auto_failover put back).
Connection settings also come from OPENMLDB_ZK_CLUSTER, OPENMLDB_ZK_ROOT_PATH, OPENMLDB_BIN, OPENMLDB_USER, OPENMLDB_PASSWORD, and --config FILE.`;

/** The option names (every spelling) a yargs instance knows; yargs has no typed accessor for them. */
function optionNames(y: Argv<unknown>): Set<string> {
  const options = (y as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
  return new Set([...Object.keys(options.key), ...Object.values(options.alias).flat()]);
}

/** Every option of every command, for telling a typo in --config from another command's option. */
function allOptionNames(): Set<string> {
  const all = new Set<string>(['config', 'verbose']);
  for (const c of COMMANDS) for (const n of optionNames(c.builder(yargs([])))) all.add(n);
  return all;
}

async function main(): Promise<number> {
  const raw = hideBin(process.argv);
  if (raw[0] === 'completion' && raw.slice(1).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(COMPLETION_HELP);
    return EXIT.ok;
  }
  let code: number = EXIT.ok;
  // The options of the command being run, known once its builder ran: a --config file
  // gives it only the keys it has options for.
  let commandOptions: Set<string> | undefined;
  let cli = yargs(fromOpsPy(hideBin(process.argv)))
    .scriptName('openmldb-recover')
    .usage('$0 <command> [options]\n\nBrings an OpenMLDB cluster back to a fully served state.')
    .option('verbose', { type: 'boolean', default: false, global: true, describe: 'print every command and RPC sent, with its output, on stderr' })
    .config('config', 'JSON file of option values, e.g. {"zk_cluster": "zk1:2181", "zk_root_path": "/openmldb"} (flags win over it; it wins over OPENMLDB_* variables)', (path) =>
      readConfigFile(path, process.env, { all: allOptionNames(), ...(commandOptions ? { command: commandOptions } : {}) }),
    );
  for (const c of COMMANDS) {
    cli = cli.command({
      command: c.command,
      describe: c.describe,
      builder: (y) => {
        const built = c.examples.reduce((acc, [example, what]) => acc.example(example, what), c.builder(y)).epilogue(EPILOGUE);
        commandOptions = optionNames(built);
        return built;
      },
      handler: async (argv) => {
        code = await c.handler(argv as Record<string, unknown>);
      },
    });
  }
  cli = TOP_EXAMPLES.reduce((acc, [example, what]) => acc.example(example, what), cli);
  await cli
    .completion('completion', 'print a bash/zsh completion script: openmldb-recover completion >> ~/.bashrc')
    // `json: true` may come from --config or the environment: remember the parsed value for
    // an error report printed after the command started.
    .middleware((argv) => {
      if (argv['json'] === true) jsonAsked = true;
      // The cluster as parsed (a flag in either form, or --config), for that report too.
      cluster = { zkCluster: argv['zk-cluster'], zkRootPath: argv['zk-root-path'] };
      if (typeof argv['metrics-file'] === 'string') metricsFile = argv['metrics-file'];
      if (argv['dry-run'] === true) dryRun = true;
    })
    .strict()
    .fail((msg, err) => {
      // yargs' own complaints (and a --config file it could not use, which it wraps in a
      // YError) are usage errors; anything a command threw keeps its class.
      // Its messages span lines ("Invalid values:\n  Argument: ..."): the operator gets one.
      if (err === undefined || err === null || err.name === 'YError') throw new UsageError(tidyUsage((err?.message ?? msg).replace(/\s*\n\s*/g, ' ').trim()));
      throw err;
    })
    .help()
    .version(VERSION)
    // Never wrapped: a wrapped example pastes as two commands (`... demo_db.t1` run without
    // the `--dry-run` on the next line); the terminal folds long lines, which paste whole.
    .wrap(null)
    .parseAsync();
  return code;
}

/** yargs names an unknown `--bogus-flag` twice (`bogus-flag, bogusFlag`): name it once, as typed. */
function tidyUsage(msg: string): string {
  const m = /^Unknown arguments?: (.*)$/.exec(msg);
  if (!m) return msg;
  const names = (m[1] ?? '').split(', ');
  const camel = (n: string) => n.replace(/-([a-z])/g, (_x, c: string) => c.toUpperCase());
  const kept = names.filter((n) => !names.some((o) => o !== n && o.includes('-') && camel(o) === n));
  return `Unknown argument${kept.length === 1 ? '' : 's'}: ${kept.join(', ')}`;
}

const started = Date.now();
let jsonAsked = false;
let cluster: KnownCluster = {};
let metricsFile: string | undefined;
let dryRun = false;

/** --metrics-file: the run's outcome, whatever ended it (read as typed when yargs never parsed the line). */
function writeMetrics(code: number): void {
  const args = fromOpsPyQuietly(hideBin(process.argv));
  const file = metricsFile ?? flag(args, ['metrics-file']);
  // A dry run is a look, not a run: its exit code (0, or 6 with --detailed-exitcode) must not pass for one.
  if (file === undefined || file === '' || dryRun || args.some((a) => a === '--dry-run' || a === '--dry-run=true')) return;
  writeRunMetrics(file, { command: commandOf(args), cluster: clusterOf(args, process.env, cluster), exitCode: code, startedAt: started, finishedAt: Date.now() }, (line) =>
    writeQuietly(process.stderr, `openmldb-recover: WARN ${line}\n`),
  );
}

function fromOpsPyQuietly(args: string[]): string[] {
  try {
    return fromOpsPy(args);
  } catch {
    return args;
  }
}

// A reader that goes away (`recover 2>&1 | head -2`) must not kill a run half done: output
// to a closed pipe is dropped, the run goes on, restores auto_failover and exits as usual.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
// A terminal hung up under the run must not turn its exit code into Node's abort (134).
process.on('exit', releaseHungUpTerminal);
// Anything unexpected stops a run the way a signal does: no new steps, auto_failover put
// back, the report printed. Outside a run it ends the process with one line.
const unexpected = (err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  if (Interrupt.current) return Interrupt.current.fail(e);
  // Ended here: the command must not print a second document or set another code.
  fatal(e);
  process.exit();
};
process.on('uncaughtException', unexpected);
process.on('unhandledRejection', unexpected);

function fatal(err: unknown): void {
  const { line, code } = explain(err);
  writeQuietly(process.stderr, `openmldb-recover: ${line}\n`);
  const args = hideBin(process.argv);
  if (jsonAsked || wantsJson(args)) writeQuietly(process.stdout, json(errorReport(err, line, code, args, started, process.env, cluster)), true);
  process.exitCode = code;
  writeMetrics(code);
}

function writeQuietly(stream: NodeJS.WriteStream, text: string, document = false): void {
  try {
    if (document) writeDocument(stream, text);
    else stream.write(text);
  } catch {
    // a closed pipe: nobody is reading
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    writeMetrics(code);
  },
  fatal,
);
