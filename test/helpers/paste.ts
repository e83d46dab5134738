// Running a command line exactly as the tool printed it, the way an operator pastes it into
// a shell: `bash -c LINE`, with `openmldb-recover` on PATH (a wrapper around the build, as
// `npm link` or the offline install puts it there) and nothing else added.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { RECOVER_BIN, type RunResult } from './sim.js';

let binDir: string | undefined;

/** A directory holding an `openmldb-recover` that runs this checkout's build. */
function onPath(): string {
  if (binDir) return binDir;
  binDir = mkdtempSync(join(tmpdir(), 'openmldb-recover-bin-'));
  writeFileSync(join(binDir, 'openmldb-recover'), `#!/bin/sh\nexec "${process.execPath}" "${RECOVER_BIN}" "$@"\n`, { mode: 0o755 });
  return binDir;
}

/** The PATH a pasted line runs with: the tool's wrapper first. */
export function pastedPath(): string {
  return `${onPath()}:${process.env['PATH'] ?? ''}`;
}

/**
 * Run `line` in bash, in an environment of exactly `env` (plus PATH): what the operator's
 * shell holds. The line must start with `openmldb-recover`.
 */
export function runPasted(line: string, env: Record<string, string>, timeoutMs = 300_000, cwd?: string): Promise<RunResult> {
  if (!line.startsWith('openmldb-recover ')) throw new Error(`not a command of this tool: ${line}`);
  return new Promise((resolve) => {
    execFile('bash', ['-c', line], { env: { ...env, PATH: pastedPath() }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, ...(cwd !== undefined ? { cwd } : {}) }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}
