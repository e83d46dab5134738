// Which simulated node owns which port, across every simulator on this machine.
//
// A node keeps its port while stopped (a real tablet restarts on the fixed --endpoint of
// its conf/*.flags), but a closed port is free as far as the OS knows: another simulator
// picking its ports at random could bind it meanwhile, and the node could not come back.
// So each picked port is claimed with a file created exclusively (O_EXCL) in a directory
// all simulators share, holding the claiming process's pid. A claim lasts until the node's
// server is disposed or its process exits; one left by a process that died (kill -9) is
// taken over by the next simulator that wants the port.
//
// Claims only help: when the directory cannot be used (permissions, a read-only /tmp) a
// simulator says so once and picks ports as before, unclaimed.
import { chmodSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Shared by every simulator of this machine; `OPENMLDB_SIM_PORT_CLAIMS` moves it. */
export function claimsDir(): string {
  const dir = process.env['OPENMLDB_SIM_PORT_CLAIMS'];
  return dir !== undefined && dir !== '' ? dir : join(tmpdir(), 'openmldb-sim-ports');
}

/** An empty claim this old was left by a process that died between creating and writing it. */
const EMPTY_CLAIM_STALE_MS = 10_000;

/** This process's claims, with the file each one is in. */
const held = new Map<number, string>();
let exitHook = false;
let warned = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder's pid; undefined when there is no file; 0 for a claim whose pid is not written yet. */
function ownerOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return undefined;
  }
}

function stale(file: string): boolean {
  const owner = ownerOf(file);
  if (owner === undefined) return true;
  if (owner === 0) {
    try {
      return Date.now() - statSync(file).mtimeMs > EMPTY_CLAIM_STALE_MS;
    } catch {
      return true;
    }
  }
  return owner !== process.pid && !alive(owner);
}

function create(file: string): boolean {
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function openDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  // Shared by every user, like /tmp: anyone may claim, only the claimant may release.
  try {
    chmodSync(dir, 0o1777);
  } catch {
    // someone else's directory: it is as they made it
  }
}

/**
 * Claim `port`: true when the caller may use it (its claim is recorded, or claims cannot be
 * made here at all), false when it is someone's (a live process's, this one's included:
 * another node of it).
 */
export function claimPort(port: number): boolean {
  if (held.has(port)) return false;
  const dir = claimsDir();
  const file = join(dir, String(port));
  try {
    openDir(dir);
    if (!create(file)) {
      if (!stale(file)) return false;
      // Taking a dead holder's claim over is itself claimed, so two simulators doing it at
      // once cannot both win (one would delete the claim the other just made).
      const lock = `${file}.takeover`;
      if (!create(lock)) {
        // One left by a process that died while taking over goes, for the next try.
        if (Date.now() - statSync(lock).mtimeMs > EMPTY_CLAIM_STALE_MS) unlinkSync(lock);
        return false;
      }
      try {
        if (!stale(file)) return false;
        try {
          unlinkSync(file);
        } catch {
          // gone already
        }
        if (!create(file)) return false;
      } finally {
        unlinkSync(lock);
      }
    }
  } catch (err) {
    if (!warned) {
      warned = true;
      console.error(`openmldb-sim: ports are picked unclaimed (${dir}: ${err instanceof Error ? err.message : String(err)})`);
    }
    return true;
  }
  held.set(port, file);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', releaseAll);
  }
  return true;
}

/** Give the port up (its node's server is gone for good). */
export function releasePort(port: number): void {
  const file = held.get(port);
  if (file === undefined) return;
  held.delete(port);
  try {
    if (ownerOf(file) === process.pid) unlinkSync(file);
  } catch {
    // already gone
  }
}

function releaseAll(): void {
  for (const port of [...held.keys()]) releasePort(port);
}
