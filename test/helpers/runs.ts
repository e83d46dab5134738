// A recovery run as a child process a test can signal, and what it leaves behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RECOVER_BIN, type Sim } from './sim.js';

export interface Finished {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** `openmldb-recover recover --json ARGS` in the background. */
export function startRecover(sim: Sim, args: string[] = [], command = 'recover'): { child: ChildProcess; done: Promise<Finished>; stderr: () => string } {
  const child = spawn(process.execPath, [RECOVER_BIN, command, '--json', ...args], { env: { ...process.env, ...sim.env, XDG_STATE_HOME: sim.stateHome }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Finished>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

/** Files in the state directory (runs/ holds the run records, kept by design). */
export function stateFiles(sim: Sim): string[] {
  const dir = join(sim.stateHome, 'openmldb-recover');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f !== 'runs') : [];
}

/**
 * What a finished run must not leave behind: locks, the journal, temporary or stale files,
 * anything else. Only the evidence record (while partitions are not served) and the
 * cluster's key files stay.
 */
export const lockAndJournal = (sim: Sim): string[] => stateFiles(sim).filter((f) => !f.endsWith('.evidence.jsonl') && !/^id-[0-9a-f]+\.key$/.test(f));

export async function autoFailover(sim: Sim): Promise<boolean> {
  return (await sim.ctl<{ autoFailover: boolean }>('state')).autoFailover;
}

/**
 * Make the loads of demo_db.t0 pid 0 take minutes (or `extraMs`), so a run is surely still
 * at work when signalled. A load already running keeps its length after `clear-faults`.
 */
export async function slowLoads(sim: Sim, extraMs = 600000): Promise<void> {
  const state = await sim.ctl<{ tables: Array<{ db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string }> }> }> }>('state');
  const replicas = state.tables.find((t) => t.db === 'demo_db' && t.name === 't0')?.partitions[0]?.replicas ?? [];
  if (replicas.length === 0) throw new Error('slowLoads: no demo_db.t0 pid 0 to slow down');
  for (const r of replicas) {
    await sim.ctl('load', { table: 'demo_db.t0', pid: 0, endpoint: r.endpoint, extraMs });
  }
}

/** Wait until the run switched auto_failover off and sent a load (it is at work). */
export async function atWork(sim: Sim): Promise<void> {
  await sim.waitFor('a load in flight', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 240000);
}
