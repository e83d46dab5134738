// What the sweeps share: where the build is, and running one of its programs to its end.
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const SIM = join(REPO, 'dist/sim/cli/openmldb-sim.js');
export const RECOVER = join(REPO, 'dist/cli/openmldb-recover.js');

export interface Proc {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `file` with `args` (the environment plus `env`) to its end, within 15 minutes. */
export function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  return new Promise((done) => {
    execFile(file, args, { env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024, timeout: 900_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}
