// Start a simulator for one test file, in its own temp dir on free ports, so test
// files can run in parallel. Uses the built simulator (npm test builds first).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CheckReport } from '../../src/sim/check.js';
import type { MutationRecord } from '../../src/sim/ledger.js';
import type { SimInfo } from '../../src/sim/daemon.js';

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, '../..');
export const SIM_BIN = join(REPO, 'dist/sim/cli/openmldb-sim.js');

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export async function runNode(script: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180000): Promise<RunResult> {
  try {
    const r = await run(process.execPath, [script, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}

export class Sim {
  constructor(
    readonly dir: string,
    readonly info: SimInfo,
  ) {}

  /** XDG_STATE_HOME for the tool's lock and journal, private to this simulator. */
  get stateHome(): string {
    return join(this.dir, 'state');
  }

  get env(): Record<string, string> {
    return {
      OPENMLDB_ZK_CLUSTER: this.info.zkCluster,
      OPENMLDB_ZK_ROOT_PATH: this.info.zkRootPath,
      OPENMLDB_BIN: this.info.bin,
    };
  }

  async ctl<T = Record<string, unknown>>(action: string, body: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${this.info.controlPort}/ctl/${action}`, { method: 'POST', body: JSON.stringify(body) });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`ctl ${action}: ${json.error}`);
    return json;
  }

  check(): Promise<CheckReport> {
    return this.ctl<CheckReport>('check');
  }

  async mutations(since = 0): Promise<MutationRecord[]> {
    return (await this.ctl<{ mutations: MutationRecord[] }>('mutations', { since })).mutations;
  }

  /** Call a brpc method over HTTP on the current leader nameserver, or on a given address. */
  async rpc(method: string, body: Record<string, unknown> = {}, address?: string, service = 'NameServer'): Promise<Record<string, unknown>> {
    const target = address ?? (await this.leaderAddress());
    const res = await fetch(`http://${target}/${service}/${method}`, {
      method: 'POST',
      headers: { Authorization: 'foo', 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} on ${target}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  }

  tabletRpc(address: string, method: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.rpc(method, body, address, 'TabletServer');
  }

  async leaderAddress(): Promise<string> {
    const state = await this.ctl<{ leader: string | null; nameservers: Array<{ endpoint: string; address: string }> }>('state');
    const ns = state.nameservers.find((n) => n.endpoint === state.leader);
    if (!ns) throw new Error('no leader nameserver');
    return ns.address;
  }

  /** Run the cluster's stand-in `openmldb` binary. */
  async openmldb(args: string[]): Promise<RunResult> {
    try {
      const r = await run(this.info.bin, args, { timeout: 30000 });
      return { stdout: r.stdout, stderr: r.stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
    }
  }

  ns(cmd: string, database?: string): Promise<RunResult> {
    const args = [`--zk_cluster=${this.info.zkCluster}`, `--zk_root_path=${this.info.zkRootPath}`, '--role=ns_client', '--interactive=false', `--cmd=${cmd}`];
    if (database !== undefined) args.push(`--database=${database}`);
    return this.openmldb(args);
  }

  tablet(endpoint: string, cmd: string): Promise<RunResult> {
    return this.openmldb([`--endpoint=${endpoint}`, '--role=client', '--interactive=false', `--cmd=${cmd}`]);
  }

  /** Poll until cond() holds; conditions, not sleeps. */
  async waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  async down(): Promise<void> {
    await runNode(SIM_BIN, ['down', '--dir', this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startSim(args: string[] = []): Promise<Sim> {
  const dir = mkdtempSync(join(tmpdir(), 'openmldb-sim-test-'));
  // The simulated tablets run with zk_session_timeout=3000 (the template's is 10000): a
  // stopped tablet is listed healthy for 3 s, and a test restarting one waits less.
  const session = args.some((a) => a.startsWith('--zk-session-timeout-ms')) ? [] : ['--zk-session-timeout-ms', '3000'];
  const r = await runNode(SIM_BIN, ['up', '--dir', dir, ...session, ...args]);
  if (r.code !== 0) throw new Error(`openmldb-sim up failed (${r.code}): ${r.stderr}${r.stdout}`);
  const info = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as SimInfo;
  return new Sim(dir, info);
}

export const RECOVER_BIN = join(REPO, 'dist/cli/openmldb-recover.js');

/** Run `openmldb-recover` against a simulator (its env: zk address, root path, binary). */
export function recoverCli(sim: Sim, args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 600000): Promise<RunResult> {
  return runNode(RECOVER_BIN, args, { ...sim.env, XDG_STATE_HOME: sim.stateHome, ...extraEnv }, timeoutMs);
}

/** Run fn against a fresh simulator, always taking it down afterwards. */
export async function withSim<T>(args: string[], fn: (sim: Sim) => Promise<T>): Promise<T> {
  const sim = await startSim(args);
  try {
    return await fn(sim);
  } finally {
    await sim.down();
  }
}
