// The ZooKeeper tier: each test file starts one private ZooKeeper server (Debian's
// zookeeper package, run as a plain java process on a free loopback port in a temporary
// directory), shares it among its tests, and stops it at the end.
//
// Where the package is missing the tier cannot run. It is then skipped with the reason
// printed, but only where installing it was impossible: .ci/run installs it and, if that
// fails, says why in OPENMLDB_RECOVER_ZK_UNAVAILABLE. Under CI without that variable a
// missing server fails the tests instead of skipping them quietly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type ZooKeeperServer, startZooKeeper, zooKeeperProblem } from '../../src/zk/server.js';

/** Why the tier is skipped here, or undefined when it runs. Throws when skipping would hide a broken CI. */
export function zooKeeperTierSkip(): string | undefined {
  const problem = zooKeeperProblem();
  if (!problem) return undefined;
  const why = process.env['OPENMLDB_RECOVER_ZK_UNAVAILABLE'];
  if (process.env['CI'] && !why) {
    throw new Error(`the ZooKeeper test tier cannot run (${problem}) and .ci/run did not say installing it was impossible`);
  }
  const reason = `ZooKeeper tier SKIPPED: ${why ?? problem} (install Debian's zookeeper package to run it)`;
  console.log(reason);
  return reason;
}

export interface SharedZooKeeper {
  server(): ZooKeeperServer;
  /** A root path no other test of the file uses. */
  root(name: string): string;
}

/** One server for the whole file: started before its first test, stopped after its last. */
export function sharedZooKeeper(skip: string | undefined): SharedZooKeeper {
  let server: ZooKeeperServer | undefined;
  let dir = '';
  let n = 0;
  before(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), 'openmldb-zk-test-'));
    server = await startZooKeeper({ dir });
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    server: () => {
      if (!server) throw new Error('the ZooKeeper server is not running');
      return server;
    },
    root: (name) => `/${name.replace(/[^A-Za-z0-9_-]+/g, '-')}-${++n}`,
  };
}
