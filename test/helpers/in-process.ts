// The simulator and the engine in one process: the simulated cluster's servers on loopback
// ports of this process, and the engine's cluster interface (src/engine/cluster.ts) on the
// tool's client reaching them over HTTP (as with `--transport http`), with the one thing it
// asks the binary for, `showns`, answered from the cluster's registry as the stand-in
// binary would print it. No process is spawned.
import { OpenMLDBClient } from '../../src/cluster/client.js';
import type { EngineCluster, SharedReads } from '../../src/engine/cluster.js';
import { openmldbCluster } from '../../src/engine/openmldb.js';
import { type CliOutput, Transport } from '../../src/cluster/transport.js';
import { formatTable } from '../../src/openmldb/tprinter.js';
import { type CheckReport, checkCluster } from '../../src/sim/check.js';
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
  check(): CheckReport;
  close(): Promise<void>;
}

/** A run's process dying: from then on nothing it sends reaches the cluster. */
export class Crashed extends Error {}

/** When a run dies: after so many calls, or so many calls after the first call of a method. */
export type CrashPoint = number | { after: string; calls: number };

/** A client's transport with `showns` answered from the registry: the binary is never run. */
class InProcessTransport extends Transport {
  constructor(private readonly cluster: SimCluster) {
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
  const servers = new SimServers(cluster);
  await servers.bind(cluster.options.nameservers, cluster.options.tablets);
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
      const t = new InProcessTransport(cluster);
      transports.push(t);
      return mortal(openmldbCluster(new OpenMLDBClient(t)), crash);
    },
    ctl: (action, body = {}) => control(cluster, action, body, () => undefined),
    check: () => checkCluster(cluster),
    close: async () => {
      if (!open.delete(sim)) return;
      for (const t of transports) t.close();
      cluster.stopClocks();
      await servers.closeAll();
    },
  };
  open.add(sim);
  return sim;
}
