// Which simulated node owns which port, across every simulator on this machine.
//
// A node keeps its port while stopped (a real tablet restarts on the fixed --endpoint of
// its conf/*.flags), but a closed port is free as far as the OS knows: another simulator
// picking its ports at random could bind it meanwhile, and the node could not come back.
// So each picked port is claimed with a file created exclusively (O_EXCL) in a directory
// all simulators share, holding the claiming process's pid. A claim lasts until the node's
// server is disposed or its process exits; one left by a process that died (kill -9) is
// taken over by the next simulator that wants the port.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Shared by every simulator of this machine; `OPENMLDB_SIM_PORT_CLAIMS` moves it. */
export function claimsDir(): string {
  return process.env['OPENMLDB_SIM_PORT_CLAIMS'] ?? join(tmpdir(), 'openmldb-sim-ports');
}

const held = new Set<number>();
let exitHook = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Claim `port`: true when it is the caller's now, false when it is someone's (a live
 * process's, this one's included: another node of it). A claim whose holder is gone is
 * taken over.
 */
export function claimPort(port: number): boolean {
  if (held.has(port)) return false;
  const dir = claimsDir();
  const file = join(dir, String(port));
  mkdirSync(dir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      held.add(port);
      if (!exitHook) {
        exitHook = true;
        process.on('exit', releaseAll);
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = ownerOf(file);
      // A claim being written has no pid yet: someone is at it, it is theirs.
      if (owner === undefined || owner === process.pid || alive(owner)) return false;
      try {
        unlinkSync(file);
      } catch {
        // another simulator took the stale claim over first; the next attempt tells
      }
    }
  }
  return false;
}

/** Give the port up (its node's server is gone for good). */
export function releasePort(port: number): void {
  if (!held.delete(port)) return;
  const file = join(claimsDir(), String(port));
  try {
    if (ownerOf(file) === process.pid) unlinkSync(file);
  } catch {
    // already gone
  }
}

function releaseAll(): void {
  for (const port of [...held]) releasePort(port);
}
