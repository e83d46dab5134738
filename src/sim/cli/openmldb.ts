#!/usr/bin/env node
// The stand-in `openmldb` binary of the simulated cluster (docs/architecture.md).
//
// A pure client, like the real one in its `ns_client`, `client` (tablet) and `sql_client`
// roles: it reads ZooKeeper (or the embedded simulator's registry standing in for it) and calls the
// nameserver / tablet brpc methods over HTTP+JSON, and prints what OpenMLDB's
// src/cmd/openmldb.cc prints. Output dialect: env OPENMLDB_SIM_DIALECT = modern (default,
// OpenMLDB HEAD / v0.9.x) or 2018 (the layouts of the 2018-era docs).
//
// Exit status is always 0, except gflags errors (1) and `--version` (0, before anything).
import { Flags, parseFlags } from './openmldb/flags.js';
import type { CliEnv } from './openmldb/ns-client.js';
import { type Dialect, LineReader, println } from './openmldb/util.js';
import { closeRegistries } from './openmldb/zk.js';

function dialectFromEnv(): Dialect {
  return process.env['OPENMLDB_SIM_DIALECT'] === '2018' ? '2018' : 'modern';
}

function versionString(dialect: Dialect): string {
  const v = process.env['OPENMLDB_SIM_VERSION'];
  if (v !== undefined && v !== '') return v;
  return dialect === '2018' ? '0.2.2-sim' : '0.9.3-sim';
}

function finish(code: number): void {
  // ZooKeeper sessions are closed first, so the server forgets them now, not at their timeout.
  void closeRegistries()
    .catch(() => undefined)
    .then(() => {
      // stdout/stderr writes to pipes and files are synchronous on Linux; flush anyway
      process.stdout.write('', () => process.exit(code));
    });
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv);
  const flags = new Flags(parsed);
  const dialect = dialectFromEnv();
  const version = versionString(dialect);

  // gflags: help/version are handled before errors are reported
  if (flags.bool('help') || flags.bool('helpfull') || flags.bool('helpshort')) {
    println('openmldb: Warning: SetUsageMessage() never called');
    return 1;
  }
  if (flags.bool('version')) {
    println(`openmldb version ${version}`);
    return 0;
  }
  if (parsed.errors !== '') {
    process.stderr.write(parsed.errors);
    return 1;
  }

  const stdin = new LineReader();
  const env: CliEnv = { flags, dialect, version, stdin };
  const role = flags.str('role');
  try {
    if (role === '') {
      const { startStandaloneSqlClient } = await import('./openmldb/sql-client.js');
      startStandaloneSqlClient(env);
    } else if (role === 'ns_client') {
      const { startNsClient } = await import('./openmldb/ns-client.js');
      await startNsClient(env);
    } else if (role === 'sql_client') {
      const { startSqlClient } = await import('./openmldb/sql-client.js');
      await startSqlClient(env);
    } else if (role === 'client') {
      const { startTabletClient } = await import('./openmldb/tablet-client.js');
      await startTabletClient(env);
    } else if (role === 'tablet' || role === 'nameserver' || role === 'apiserver') {
      process.stderr.write(`the simulated openmldb binary does not run servers (role ${role}); use openmldb-sim\n`);
      return 1;
    } else {
      println(`Invalid role: ${role}`);
    }
  } finally {
    stdin.close();
  }
  return 0;
}

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  // reader went away (EPIPE): the real binary would die of SIGPIPE
  if (err.code === 'EPIPE') process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => finish(code),
  (err: unknown) => {
    process.stderr.write(`openmldb (simulated): internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    finish(0);
  },
);
