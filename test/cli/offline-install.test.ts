// For hosts without a registry: `npm pack` makes one tarball with every dependency bundled
// (package.json bundleDependencies), and it installs into an empty prefix with npm
// --offline and an empty cache, so nothing can come from a registry. The installed tool
// answers --version and runs status against the simulator from outside the repository.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { REPO, type Sim, startSim } from '../helpers/sim.js';

const run = promisify(execFile);

/** The environment without npm's own variables (set when the suite runs under npm test). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

describe('offline install from one artifact', () => {
  let dir: string;
  let sim: Sim;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmldb-offline-'));
    sim = await startSim(['--no-system-tables', '--scenario', 'healthy', '--tables', '1', '--partitions', '1']);
  });
  after(async () => {
    await sim.down();
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm pack bundles the dependencies; the tarball installs offline into an empty prefix and runs', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; bundleDependencies: string[] };
    assert.deepEqual([...pkg.bundleDependencies].sort(), Object.keys(pkg.dependencies).sort(), 'every runtime dependency is bundled');
    // dist/ is built by npm test; --ignore-scripts: no lifecycle script may run here.
    const packDir = join(dir, 'pack');
    mkdirSync(packDir);
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', packDir], { cwd: REPO, env: cleanEnv({}), timeout: 120000 });
    const [tarball] = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'a tarball');

    const prefix = join(dir, 'prefix');
    const cache = join(dir, 'empty-cache');
    mkdirSync(prefix);
    await run('npm', ['install', '--global', '--prefix', prefix, '--offline', '--cache', cache, '--no-audit', '--no-fund', '--ignore-scripts', join(packDir, tarball)], {
      cwd: dir,
      env: cleanEnv({}),
      timeout: 120000,
    });
    const bin = join(prefix, 'bin', 'openmldb-recover');
    // Only node on PATH, run from outside the repository: nothing of the checkout is used.
    const env = cleanEnv({ PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, ...sim.env, XDG_STATE_HOME: sim.stateHome });
    const version = await run(bin, ['--version'], { cwd: dir, env });
    assert.equal(version.stdout.trim(), pkg.version);
    const status = await run(bin, ['status'], { cwd: dir, env, timeout: 120000 });
    assert.match(status.stdout, /^cluster HEALTHY: 1\/1 tables served/);
    const installed = join(prefix, 'lib', 'node_modules', 'openmldb-recover');
    assert.ok(readdirSync(join(installed, 'node_modules')).includes('yargs'), 'dependencies came from the tarball');
  });
});
