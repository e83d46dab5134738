// Talking to a running simulator from another process: its files in DIR, and its control API.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimInfo } from './daemon.js';

export class SimNotRunning extends Error {}

export function readInfo(dir: string): SimInfo {
  const file = join(dir, 'sim.json');
  if (!existsSync(file)) throw new SimNotRunning(`no simulator in ${dir} (no sim.json); start one with: openmldb-sim up --dir ${dir}`);
  return JSON.parse(readFileSync(file, 'utf8')) as SimInfo;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function ctl<T = Record<string, unknown>>(dir: string, action: string, body: Record<string, unknown> = {}): Promise<T> {
  const info = readInfo(dir);
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${info.controlPort}/ctl/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    throw new SimNotRunning(`the simulator in ${dir} does not answer (pid ${info.pid}); start one with: openmldb-sim up --dir ${dir}`);
  }
  const reply = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(reply.error ?? `control ${action} failed with HTTP ${res.status}`);
  return reply;
}
