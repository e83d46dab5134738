// The simulator and the engine in one process, without the network: the engine's cluster
// interface (src/engine/cluster.ts) on the tool's own client and HTTP transport (as with
// `--transport http`: requests built, replies parsed and classified as always), whose one
// network call is answered by the simulated node itself (the code behind its port), and
// the one thing it asks the binary for, `showns`, answered from the cluster's registry as
// the stand-in binary prints it. No process is spawned and no port opened.
import { OpenMLDBClient } from '../../src/cluster/client.js';
import type { EngineCluster, SharedReads } from '../../src/engine/cluster.js';
import { openmldbCluster } from '../../src/engine/openmldb.js';
import { type CliOutput, Transport } from '../../src/cluster/transport.js';
import { formatTable } from '../../src/openmldb/tprinter.js';
import { type CheckOptions, type CheckReport, checkCluster } from '../../src/sim/check.js';
import { SimCluster, type SimOptions } from '../../src/sim/cluster.js';
import { control } from '../../src/sim/control.js';
import { DEFAULT_TIMING } from '../../src/sim/model.js';
import type { Json } from '../../src/sim/rpc.js';
import { DEFAULT_SCENARIO, type ScenarioOptions, applyScenario, buildHealthy } from '../../src/sim/scenarios.js';
import { SimServers } from '../../src/sim/server.js';

/** Sim timings shortened (loads, tasks, elections in milliseconds): same order of events, faster. */
export const FAST_TIMING = { ...DEFAULT_TIMING, taskMs: 5, loadBaseMs: 20, loadMsPer1000: 10, statusPollMs: 50, electionMs: 50, sendMsPer1000: 5, binlogSyncMs: 100 };

export interface InProcessSim {
  cluster: SimCluster;
  /** The engine's way to this cluster for a new tool run; after `crash`, every call fails and `died` resolves. */
  connect(crash?: CrashPoint): { cluster: EngineCluster; died: Promise<void>; dead: () => boolean };
  ctl(action: string, body?: Json): Promise<Json>;
  check(options?: CheckOptions): CheckReport;
  close(): Promise<void>;
}

/** A run's process dying: from then on nothing it sends reaches the cluster. */
export class Crashed extends Error {}

/** When a run dies: after so many calls, or so many calls after the first call of a method. */
export type CrashPoint = number | { after: string; calls: number };

/** A refused or cut connection, as the socket reports it (transport.ts reads its `code`). */
const socketError = (code: 'ECONNREFUSED' | 'ECONNRESET') => Object.assign(new Error(code), { code });

/**
 * A client's transport without the network: each HTTP call goes straight to the node it is
 * addressed to (SimServers.serveRpc: the same code the node's port runs), a stopped node
 * refuses, and a node stopped while it answers cuts the connection, as a closed port does.
 * `showns` is answered from the registry: the binary is never run.
 */
class InProcessTransport extends Transport {
  constructor(
    private readonly cluster: SimCluster,
    private readonly servers: SimServers,
  ) {
    super({ bin: '/nonexistent/openmldb', zkCluster: 'in-process', zkRootPath: cluster.options.rootPath, transport: 'http', timeoutMs: 5000 });
  }

  override async ns(cmd: string): Promise<CliOutput> {
    if (cmd !== 'showns') throw new Error(`in process, only showns goes through the binary (asked: ${cmd})`);
    // src/sim/cli/openmldb/ns-client.ts showNameServer: the election's children in order,
    // without the real_endpoint column in the 2018 dialect.
    const root = this.cluster.options.rootPath;
    const endpoints = (this.cluster.zkChildren(`${root}/leader`) ?? []).map((c) => this.cluster.zkGet(`${root}/leader/${c}`)).filter((e): e is string => e !== undefined);
    const role = (i: number) => (i === 0 ? 'leader' : 'standby');
    const stdout =
      this.cluster.dialect === '2018'
        ? formatTable(['endpoint', 'role'], endpoints.map((ep, i) => [ep, role(i)]))
        : formatTable(['endpoint', 'real_endpoint', 'role'], endpoints.map((ep, i) => [ep, '-', role(i)]));
    return { stdout, stderr: '' };
  }

  protected override async post(address: string, path: string, body: string): Promise<{ status: number; text: string }> {
    const tablet = this.cluster.tablets().find((t) => t.address === address);
    const node = tablet ?? this.cluster.nameservers.find((n) => n.address === address);
    if (!node?.running) throw socketError('ECONNREFUSED');
    // Which life of the node's process answers: one that stops (and maybe starts again)
    // while answering cuts the connection.
    const life = () => (tablet ? this.cluster.tabletService.generationOf(tablet.endpoint) : (node as { seq: number }).seq);
    const since = life();
    const reply = await this.servers.serveRpc(tablet ? 'tablet' : 'ns', node.endpoint, { method: 'POST', url: path, authorization: this.auth, client: undefined, body: async () => body });
    if ('drop' in reply || !node.running || life() !== since) throw socketError('ECONNRESET');
    return { status: reply.status, text: reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '') };
  }
}

/**
 * A run that can die: every call through its EngineCluster (and its shared reads) counts,
 * and from the crash point on each one fails before reaching the cluster.
 */
function mortal(inner: EngineCluster, crash: CrashPoint) {
  let calls = 0;
  let left = typeof crash === 'number' ? crash : Number.POSITIVE_INFINITY;
  let dead = false;
  let onDeath: () => void = () => undefined;
  const died = new Promise<void>((r) => (onDeath = r));
  const tick = (method: string): void => {
    calls++;
    if (typeof crash === 'object' && method === crash.after && left === Number.POSITIVE_INFINITY) left = crash.calls + 1;
    if (left-- <= 0) {
      if (!dead) onDeath();
      dead = true;
      throw new Crashed(`the run died (call ${calls}, ${method})`);
    }
  };
  // Every method: count the call, then pass it on.
  const guard = <T extends object>(target: T): T =>
    Object.fromEntries(
      Object.entries(target).map(([name, fn]) => [
        name,
        async (...args: unknown[]) => {
          tick(name);
          return (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        },
      ]),
    ) as T;
  const cluster: EngineCluster = { ...guard(inner), reads: (): SharedReads => guard(inner.reads()) };
  return { cluster, died, dead: () => dead };
}

const open = new Set<InProcessSim>();
let shut = false;

/**
 * Close every simulator still open and refuse new ones: a test that timed out keeps running
 * in the background, and its servers and clocks would keep the test file's process alive.
 */
export async function closeAllInProcess(): Promise<void> {
  shut = true;
  await Promise.all([...open].map((s) => s.close()));
}

export async function inProcessSim(scenario: Partial<ScenarioOptions>, options: Partial<SimOptions> = {}): Promise<InProcessSim> {
  if (shut) throw new Error('the in-process simulators were closed (the test ended)');
  const cluster = new SimCluster({ timing: FAST_TIMING, ...options });
  // Nodes without ports: addresses only name them (no socket is ever opened, so no other
  // process can take a stopped node's port).
  const servers = new SimServers(cluster);
  for (let i = 0; i < cluster.options.tablets; i++) cluster.addTablet(10000 + i, i);
  for (let i = 0; i < cluster.options.nameservers; i++) cluster.addNameserver(11000 + i, i);
  const sc = { ...DEFAULT_SCENARIO, entries: 300, ...scenario };
  for (const t of cluster.tablets()) cluster.startTablet(t.endpoint);
  buildHealthy(cluster, sc);
  for (const n of cluster.nameservers) cluster.startNameserver(n.endpoint);
  cluster.startClocks();
  await applyScenario(cluster, sc);
  while (cluster.leaderEndpoint === undefined) await new Promise((r) => setTimeout(r, 5));
  const transports: Transport[] = [];
  const sim: InProcessSim = {
    cluster,
    connect: (crash = Number.POSITIVE_INFINITY) => {
      const t = new InProcessTransport(cluster, servers);
      transports.push(t);
      return mortal(openmldbCluster(new OpenMLDBClient(t)), crash);
    },
    ctl: (action, body = {}) => control(cluster, action, body, () => undefined),
    check: (o) => checkCluster(cluster, o),
    close: async () => {
      if (!open.delete(sim)) return;
      for (const t of transports) t.close();
      cluster.stopClocks();
    },
  };
  open.add(sim);
  return sim;
}
