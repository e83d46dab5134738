// Runs the stand-in `openmldb` binary from source (`node --import tsx src/sim/cli/openmldb.ts`),
// so its tests do not depend on `npm run build`.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../../..');
export const CLI = resolve(REPO, 'src/sim/cli/openmldb.ts');

export interface CliResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when killed (see `killAfterMs` / `until`). */
  code: number | null;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Written to stdin, then stdin is closed. Without it stdin is closed at once. */
  stdin?: string;
  /** Kill the process after this long (default 60 s; tsx start-up is slow on a busy machine). */
  killAfterMs?: number;
  /** Kill the process as soon as stdout satisfies this. */
  until?: (stdout: string) => boolean;
}

// Each `node --import tsx` start costs about a CPU-second: run a few at a time.
const MAX_RUNNING = Math.max(2, availableParallelism());
let running = 0;
const waiting: Array<() => void> = [];

async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_RUNNING) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return slot(() => spawnCli(args, opts));
}

function spawnCli(args: string[], opts: CliOptions): Promise<CliResult> {
  return spawnCapture(process.execPath, ['--import', 'tsx', CLI, ...args], { ...opts, cwd: REPO, env: { TZ: 'UTC', ...opts.env } });
}

/**
 * Spawn a process, feed it stdin, capture its output; kill it when `until` holds or
 * after `killAfterMs` (a safety net). Shared by every test that runs the binary.
 */
export function spawnCapture(file: string, args: string[], opts: CliOptions & { cwd?: string }): Promise<CliResult & { ms: number }> {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const child = spawn(file, args, {
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const kill = () => {
      if (!killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(kill, opts.killAfterMs ?? 60000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      if (opts.until?.(stdout)) kill();
    });
    child.stderr.on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => {});
    if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
    child.stdin.end();
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ stdout, stderr, code: killed ? null : code, ms: Date.now() - started });
    });
  });
}

/** Lines of a TPrinter table with trailing spaces removed (for readable expectations). */
export function trimLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/ +$/, ''))
    .join('\n');
}
