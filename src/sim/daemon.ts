// The long-running simulator process (`openmldb-sim serve`, started detached by `up`).
// It builds the cluster, opens every port, applies the scenario, then writes the files a
// client needs: DIR/env, DIR/bin/openmldb and DIR/sim.json.
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimCluster, type SimOptions } from './cluster.js';
import { ControlError, control } from './control.js';
import { type ScenarioOptions, applyScenario, buildHealthy } from './scenarios.js';
import type { Json } from './rpc.js';
import { readBody, sendJson, SimServers } from './server.js';
import { SimZooKeeper } from './zk-coordinator.js';

/** Where the cluster keeps what OpenMLDB keeps in ZooKeeper. */
export interface SimZooKeeperConfig {
  /** `HOST:PORT[,HOST:PORT]` of a real ZooKeeper. */
  address: string;
  /** Started by `up --zookeeper start` (in DIR/zookeeper) and stopped by `down`. */
  managed: boolean;
}

export interface SimInfo {
  pid: number;
  dir: string;
  controlPort: number;
  registryPort: number;
  /** embedded: the private registry stands in for ZooKeeper; zookeeper: a real one. */
  registry: 'embedded' | 'zookeeper';
  zookeeper?: SimZooKeeperConfig;
  zkCluster: string;
  zkRootPath: string;
  bin: string;
  dialect: string;
  nameservers: Array<{ endpoint: string; address: string }>;
  tablets: Array<{ endpoint: string; address: string }>;
  scenario: ScenarioOptions;
  startedAt: string;
}

/** How to run the stand-in binary: compiled JS when we are compiled, else through tsx. */
function standInCommand(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const src = resolve(dirname(here), 'cli/openmldb.ts');
    return `"${process.execPath}" --import tsx "${src}"`;
  }
  return `"${process.execPath}" "${resolve(dirname(here), 'cli/openmldb.js')}"`;
}

export async function serve(dir: string, options: Partial<SimOptions>, scenario: ScenarioOptions, zookeeper?: SimZooKeeperConfig, traffic = 0): Promise<void> {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const log = (line: string) => appendFileSync(join(dir, 'daemon.log'), `${new Date().toISOString()} ${line}\n`);
  const cluster = new SimCluster(options);
  const servers = new SimServers(cluster);
  await servers.bind(cluster.options.nameservers, cluster.options.tablets);
  for (const t of cluster.tablets()) cluster.startTablet(t.endpoint);
  buildHealthy(cluster, scenario);
  let zk: SimZooKeeper | undefined;
  if (zookeeper) {
    zk = new SimZooKeeper(cluster, zookeeper.address, log);
    await zk.attach();
    log(`on ZooKeeper ${zookeeper.address}, root path ${cluster.options.rootPath}`);
  }
  for (const n of cluster.nameservers) cluster.startNameserver(n.endpoint);
  cluster.startClocks();
  log(`cluster up: ${cluster.nameservers.length} nameservers, ${cluster.tablets().length} tablets; scenario ${scenario.scenario}`);
  await applyScenario(cluster, scenario);
  // Ready means answering: wait for a nameserver to win the election.
  while (cluster.leaderEndpoint === undefined) await new Promise((r) => setTimeout(r, 20));
  log(`scenario ${scenario.scenario} applied`);
  // Clients write from now on, as soon as they find leaders (none is loaded after a restart).
  servers.attachTraffic().setRate(traffic);
  if (traffic > 0) log(`traffic: ${traffic} writes/s over the user tables`);

  let mutationsWritten = 0;
  const flushMutations = () => {
    const fresh = cluster.mutations.slice(mutationsWritten);
    if (fresh.length === 0) return;
    appendFileSync(join(dir, 'mutations.log'), fresh.map((m) => JSON.stringify(m)).join('\n') + '\n');
    mutationsWritten = cluster.mutations.length;
  };
  writeFileSync(join(dir, 'mutations.log'), '');
  const flushTimer = setInterval(flushMutations, 200);

  let shuttingDown = false;
  const shutdown = () => {
    if (shuttingDown) return;
    shuttingDown = true;
    clearInterval(flushTimer);
    flushMutations();
    cluster.stopClocks();
    void Promise.all([servers.closeAll(), new Promise<void>((r) => controlServer.close(() => r())), zk?.close()]).then(() => {
      log('stopped');
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 2000).unref();
  };

  const controlServer = http.createServer((req, res) => {
    void (async () => {
      const action = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/ctl\//, '');
      try {
        const raw = await readBody(req);
        const body = (raw.trim() === '' ? {} : JSON.parse(raw)) as Json;
        sendJson(res, 200, await control(cluster, action, body, shutdown));
      } catch (err) {
        const status = err instanceof ControlError ? 400 : 500;
        sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  await new Promise<void>((r) => controlServer.listen(0, '127.0.0.1', () => r()));
  const controlPort = (controlServer.address() as AddressInfo).port;

  const bin = join(dir, 'bin', 'openmldb');
  const registryEnv = zookeeper ? ' OPENMLDB_SIM_REGISTRY=zookeeper' : '';
  writeFileSync(bin, `#!/bin/sh\n# Stand-in openmldb binary of this simulated cluster (dialect ${cluster.options.dialect}).\nOPENMLDB_SIM_DIALECT=${cluster.options.dialect}${registryEnv} exec ${standInCommand()} "$@"\n`);
  chmodSync(bin, 0o755);
  const info: SimInfo = {
    pid: process.pid,
    dir,
    controlPort,
    registryPort: servers.registry.port,
    registry: zookeeper ? 'zookeeper' : 'embedded',
    ...(zookeeper ? { zookeeper } : {}),
    zkCluster: zookeeper ? zookeeper.address : `127.0.0.1:${servers.registry.port}`,
    zkRootPath: cluster.options.rootPath,
    bin,
    dialect: cluster.options.dialect,
    nameservers: cluster.nameservers.map((n) => ({ endpoint: n.endpoint, address: n.address })),
    tablets: cluster.tablets().map((t) => ({ endpoint: t.endpoint, address: t.address })),
    scenario,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(join(dir, 'sim.json'), JSON.stringify(info, null, 2));
  writeFileSync(
    join(dir, 'env'),
    [
      `export OPENMLDB_ZK_CLUSTER=${info.zkCluster}`,
      `export OPENMLDB_ZK_ROOT_PATH=${info.zkRootPath}`,
      `export OPENMLDB_BIN=${bin}`,
      `export OPENMLDB_SIM_DIR=${dir}`,
      '',
    ].join('\n'),
  );
  log(`ready: registry ${info.zkCluster}, control 127.0.0.1:${controlPort}`);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
