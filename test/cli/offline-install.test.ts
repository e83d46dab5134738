// For hosts without a registry: `npm pack` makes one tarball with every dependency bundled
// (package.json bundleDependencies), and it installs into an empty prefix with npm
// --offline and an empty cache, so nothing can come from a registry. The installed tool
// answers --version and runs status against the simulator from outside the repository; the
// README's cron lines and systemd unit then run as printed, from that install, with a
// scratch directory standing for `/` (its /opt, /etc and /var).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
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

    // The prefix the README installs into, under the scratch root.
    const prefix = join(dir, 'root', 'opt', 'openmldb-recover');
    const cache = join(dir, 'empty-cache');
    mkdirSync(prefix, { recursive: true });
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
    // What the README points operators to ships with it: the output schemas and the alert rules.
    assert.deepEqual(readdirSync(join(installed, 'docs')).filter((f) => f.endsWith('.schema.json') || f.endsWith('.yml')).sort(), readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.schema.json') || f.endsWith('.yml')).sort());
    assert.ok(existsSync(join(installed, 'docs', 'prometheus-alerts.yml')));
  });

  it("the README's cron lines and systemd unit, as printed, from that install: metrics written while unhealthy, the unit's recovery in a 0755 state directory, the cron recovery", async () => {
    const root = join(dir, 'root');
    const bin = join(root, 'opt', 'openmldb-recover', 'bin', 'openmldb-recover');
    assert.ok(existsSync(bin), 'installed by the test before');
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const blocks = (lang: string) => [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');
    // Absolute paths of the examples, under the scratch root.
    const rooted = (text: string) => text.replace(/(^|[\s=>'"])\/(opt|etc|var)\//g, `$1${root}/$2/`);
    // The site's configuration, as the README shows it, naming the simulated cluster.
    const config = JSON.parse(blocks('json').find((b) => b.includes('"zk_cluster"')) ?? '{}') as Record<string, unknown>;
    const broken = await startSim(['--no-system-tables', '--scenario', 'full-restart', '--tables', '2', '--partitions', '2']);
    try {
      Object.assign(config, { zk_cluster: broken.info.zkCluster, zk_root_path: broken.info.zkRootPath, openmldb_bin_path: broken.info.bin });
      const configPath = join(root, 'etc', 'openmldb-recover.json');
      mkdirSync(dirname(configPath), { recursive: true });
      writeFileSync(configPath, rooted(JSON.stringify(config)), { mode: 0o600 });
      const passwordFile = rooted(String(config['password-file'] ?? ''));
      if (passwordFile !== '') {
        mkdirSync(dirname(passwordFile), { recursive: true });
        writeFileSync(passwordFile, '', { mode: 0o600 });
      }
      for (const d of ['var/lib/node_exporter', 'var/log/openmldb-recover']) mkdirSync(join(root, d), { recursive: true });
      // Node's own directory first, wherever this machine keeps it (on an operations host: /usr/local/bin or /usr/bin).
      const withNode = (path: string) => `${dirname(process.execPath)}:${path}`;

      /** A cron.d file's lines, run as cron runs them: its variables, `sh -c` the command. */
      const cronJobs = (block: string) => {
        const env: Record<string, string> = { HOME: dir, SHELL: '/bin/sh', PATH: '/usr/bin:/bin' };
        const jobs: string[] = [];
        for (const line of block.split('\n')) {
          if (line.trim() === '' || line.startsWith('#')) continue;
          const v = /^([A-Z_]+)=(.*)$/.exec(line);
          if (v) env[v[1] as string] = v[2] as string;
          else jobs.push(rooted(/^(?:\S+\s+){5}\S+\s+(.*)$/.exec(line)?.[1] ?? ''));
        }
        env['PATH'] = withNode(env['PATH'] ?? '');
        return jobs.map((command) => () => run('/bin/sh', ['-c', command], { cwd: dir, env, timeout: 300000 }).catch((e: { code?: number; stderr?: string }) => e));
      };
      const [statusJob] = cronJobs(blocks('cron').find((b) => b.includes('openmldb-status')) ?? '');
      const [recoverJob] = cronJobs(blocks('cron').find((b) => b.includes('openmldb-recover recover')) ?? '');
      assert.ok(statusJob && recoverJob, 'both cron lines found');
      const metrics = () => {
        const fams = parsePrometheus(readFileSync(join(root, 'var/lib/node_exporter/openmldb.prom'), 'utf8'));
        return Number(fams.find((f) => f.name === 'openmldb_recover_cluster_healthy')?.metrics[0]?.value);
      };

      // The status line while the cluster is not served: status exits 1, the file is written all the same.
      await statusJob();
      assert.equal(metrics(), 0, 'unhealthy, and said so');
      assert.deepEqual(readdirSync(join(root, 'var/lib/node_exporter')), ['openmldb.prom'], 'no temporary file left');

      // The unit, as systemd runs it: its environment, StateDirectory= made 0755, ExecStart split on blanks.
      const unit = blocks('ini').find((b) => b.includes('ExecStart=')) ?? '';
      const setting = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] ?? '');
      const env: Record<string, string> = { HOME: dir };
      for (const e of setting('Environment')) {
        const [k, ...v] = e.split('=');
        env[k as string] = rooted(` ${v.join('=')}`).slice(1);
      }
      env['PATH'] = withNode(env['PATH'] ?? '/usr/bin:/bin');
      const stateDir = join(env['XDG_STATE_HOME'] ?? '', setting('StateDirectory')[0] ?? '');
      assert.equal(rooted(` ${String(config['state-dir'])}`).slice(1), stateDir, "the config's state-dir is the unit's StateDirectory");
      mkdirSync(stateDir, { recursive: true });
      chmodSync(stateDir, 0o755);
      const [exe, ...args] = rooted(setting('ExecStart')[0] ?? '').split(/\s+/);
      assert.equal(exe, bin, 'ExecStart names the installed binary');
      const service = await run(exe as string, args, { cwd: '/', env, timeout: 300000 }).then(
        () => 0,
        (e: { code?: number; stderr?: string }) => {
          if (!setting('SuccessExitStatus').join(' ').split(/\s+/).includes(String(e.code))) assert.fail(`the unit failed (exit ${e.code}): ${e.stderr}`);
          return e.code;
        },
      );
      assert.equal(service, 0, 'the unit recovered the cluster');
      assert.equal(statSync(stateDir).mode & 0o777, 0o755, 'the state directory left as systemd made it');
      assert.deepEqual((await broken.check()).problems, []);

      // The cron recovery on the served cluster: exit 0, its log written, nothing for logger.
      const again = await recoverJob();
      assert.ok(!('code' in again) || again.code === undefined || again.code === 0, `the cron recovery: ${JSON.stringify(again).slice(0, 300)}`);
      assert.match(readFileSync(join(root, 'var/log/openmldb-recover/cron.log'), 'utf8'), /\S/, 'its lines in the log');
      await statusJob();
      assert.equal(metrics(), 1, 'served, and said so');
    } finally {
      await broken.down();
    }
  });
});
