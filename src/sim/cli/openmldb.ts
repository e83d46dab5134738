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
import { main } from './openmldb/main.js';
import { closeRegistries } from './openmldb/zk.js';

function finish(code: number): void {
  // ZooKeeper sessions are closed first, so the server forgets them now, not at their timeout.
  void closeRegistries()
    .catch(() => undefined)
    .then(() => {
      // stdout/stderr writes to pipes and files are synchronous on Linux; flush anyway
      process.stdout.write('', () => process.exit(code));
    });
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
