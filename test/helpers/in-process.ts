// The simulator and the engine in one process, without the network: the engine's cluster
// interface (src/engine/cluster.ts) on the tool's own client and transport (requests
// built, replies and the binary's output parsed and classified as always). Its network
// calls are answered by the simulated node itself (the code behind its port), and the
// binary it runs is the stand-in binary's own code, run in process on a host
// (src/sim/cli/openmldb/host.ts) whose calls go the same way and whose registry is the
// cluster's. `--transport http` or `cli`. No process is spawned and no port opened.
import { OpenMLDBClient } from '../../src/cluster/client.js';
import type { EngineCluster, SharedReads } from '../../src/engine/cluster.js';
import { openmldbCluster } from '../../src/engine/openmldb.js';
import { type BinaryRun, Transport, type TransportMode } from '../../src/cluster/transport.js';
import { runOnHost } from '../../src/sim/cli/openmldb/main.js';
import type { BinaryHost, PostReply, Registry } from '../../src/sim/cli/openmldb/host.js';
import { type CheckOptions, type CheckReport, checkCluster } from '../../src/sim/check.js';
import { SimCluster, type SimOptions } from '../../src/sim/cluster.js';
import { control } from '../../src/sim/control.js';
import { DEFAULT_TIMING } from '../../src/sim/model.js';
import type { Json } from '../../src/sim/rpc.js';
import { DEFAULT_SCENARIO, type ScenarioOptions, applyScenario, buildHealthy } from '../../src/sim/scenarios.js';
import { CLIENT_HEADER, SimServers } from '../../src/sim/server.js';

/** Sim timings shortened (loads, tasks, elections in milliseconds): same order of events, faster. */
export const FAST_TIMING = { ...DEFAULT_TIMING, taskMs: 5, loadBaseMs: 20, loadMsPer1000: 10, statusPollMs: 50, electionMs: 50, sendMsPer1000: 5, binlogSyncMs: 100, zkSessionTimeoutMs: 1000, nsInitMs: 100 };

export interface InProcessSim {
  cluster: SimCluster;
  /**
   * The engine's way to this cluster for a new tool run, over `transport` (default http);
   * after `crash`, every call fails and `died` resolves.
   */
  connect(crash?: CrashPoint, transport?: TransportMode): { cluster: EngineCluster; died: Promise<void>; dead: () => boolean };
  ctl(action: string, body?: Json): Promise<Json>;
  /** Commands sent so far by every run: `cli showtable`, `http NameServer/ConfSet`... and how often. */
  sent(): Map<string, number>;
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
 * The binary is the stand-in binary's code, run in process, its calls delivered the same way.
 */
class InProcessTransport extends Transport {
  private runs = 0;

  constructor(
    private readonly cluster: SimCluster,
    private readonly servers: SimServers,
    mode: TransportMode,
  ) {
    super({ bin: '/nonexistent/openmldb', zkCluster: '127.0.0.1:2181', zkRootPath: cluster.options.rootPath, transport: mode, timeoutMs: 5000 });
  }

  override checkBinary(): Promise<void> {
    return Promise.resolve();
  }

  protected override async exec(argv: string[]): Promise<BinaryRun> {
    let stdout = '';
    let stderr = '';
    const binary: BinaryHost = {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: { OPENMLDB_SIM_DIALECT: this.cluster.dialect },
      pid: 40000 + (this.runs++ % 20000),
      stdin: undefined,
      post: async (address, path, headers, body): Promise<PostReply> => {
        try {
          return await this.deliver(address, path, body, headers[CLIENT_HEADER], headers['Authorization'] ?? '');
        } catch (err) {
          return { failed: (err as { code?: string }).code === 'ECONNREFUSED' ? 'refused' : 'reset' };
        }
      },
      registry: () => this.registry(),
      state: { glogNoticePrinted: false, nextSocketId: 0 },
    };
    // A binary run that outlives the timeout is killed, as the transport kills the process.
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<'killed'>((resolve) => (timer = setTimeout(() => resolve('killed'), this.timeoutMs)));
    try {
      const code = await Promise.race([runOnHost(binary, argv), killed]);
      if (code === 'killed') return { stdout, stderr, exitCode: null, signal: 'SIGKILL' };
      return { stdout, stderr, exitCode: code, signal: null };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The embedded registry, read as the stand-in binary's RegistryClient reads it over HTTP. */
  private registry(): Registry {
    const c = this.cluster;
    return {
      init: async () => true,
      getChildren: async (path) => c.zkChildren(path)?.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      getValue: async (path) => c.zkGet(path),
      // As over HTTP: `/zk/get` answers 404 for a node without a value.
      exists: async (path) => (c.zkGet(path) !== undefined ? 0 : 1),
    };
  }

  protected override async post(address: string, path: string, body: string): Promise<{ status: number; text: string }> {
    const r = await this.deliver(address, path, body, undefined, this.auth);
    return { status: r.status, text: r.text };
  }

  /** One call to the node at `address`, or the socket error a client would see. */
  private async deliver(address: string, path: string, body: string, client: string | undefined, authorization: string): Promise<{ status: number; headers: Record<string, string>; text: string }> {
    const tablet = this.cluster.tablets().find((t) => t.address === address);
    const node = tablet ?? this.cluster.nameservers.find((n) => n.address === address);
    if (!node?.running) throw socketError('ECONNREFUSED');
    // Which life of the node's process answers: one that stops (and maybe starts again)
    // while answering cuts the connection.
    const life = () => (tablet ? this.cluster.tabletService.generationOf(tablet.endpoint) : (node as { seq: number }).seq);
    const since = life();
    const reply = await this.servers.serveRpc(tablet ? 'tablet' : 'ns', node.endpoint, { method: 'POST', url: path, authorization, client, body: async () => body });
    if ('drop' in reply || !node.running || life() !== since) throw socketError('ECONNRESET');
    return { status: reply.status, headers: reply.headers ?? {}, text: reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '') };
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
  const sent = new Map<string, number>();
  const sim: InProcessSim = {
    cluster,
    connect: (crash = Number.POSITIVE_INFINITY, transport = 'http') => {
      const t = new InProcessTransport(cluster, servers, transport);
      transports.push(t);
      t.log.onEntry((e) => {
        const key = `${e.kind} ${e.kind === 'cli' ? e.command.split(' ')[0] : e.command}`;
        sent.set(key, (sent.get(key) ?? 0) + 1);
      });
      return mortal(openmldbCluster(new OpenMLDBClient(t)), crash);
    },
    ctl: (action, body = {}) => control(cluster, action, body, () => undefined),
    sent: () => new Map(sent),
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
