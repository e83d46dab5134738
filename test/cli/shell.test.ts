// The conventions of the operator's shell: completion (yargs' own), examples in every
// command's --help, --config FILE, NO_COLOR on a terminal, and `status --format prometheus`
// read back with a real exposition-format parser.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import parsePrometheus, { type Family } from 'parse-prometheus-text-format';
import { errorLines, parseJson } from '../helpers/report.js';
import { REPO, RECOVER_BIN, type Sim, recoverCli, runNode, startSim } from '../helpers/sim.js';

const COMMANDS = ['recover', 'status', 'recover-table', 'offline-endpoint', 'recover-endpoint', 'change-leader', 'failover', 'ops', 'history'];

describe('shell conventions', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--no-system-tables', '--scenario', 'healthy', '--tables', '1', '--partitions', '2']);
  });
  after(() => sim.down());

  it('completion: a bash/zsh script, and completions of commands and options', async () => {
    const script = await runNode(RECOVER_BIN, ['completion']);
    assert.equal(script.code, 0, script.stderr);
    assert.match(script.stdout, /###-begin-openmldb-recover-completions-###/);
    assert.match(script.stdout, /--get-yargs-completions/);
    const commands = await runNode(RECOVER_BIN, ['--get-yargs-completions', 'openmldb-recover', 'rec']);
    for (const c of ['recover', 'recover-table', 'recover-endpoint']) assert.match(commands.stdout, new RegExp(`^${c}$`, 'm'));
    const options = await runNode(RECOVER_BIN, ['--get-yargs-completions', 'openmldb-recover', 'status', '--']);
    for (const o of ['--format', '--zk-cluster', '--password-file', '--config', '--verbose']) assert.match(options.stdout, new RegExp(`^${o}$`, 'm'));
  });

  it('every command has examples in its --help, and the exit codes', async () => {
    for (const c of COMMANDS) {
      const h = await runNode(RECOVER_BIN, [c, '--help']);
      assert.equal(h.code, 0, `${c}: ${h.stderr}`);
      assert.match(h.stdout, new RegExp(`Examples:\\n {2}openmldb-recover ${c}\\b`), c);
      assert.match(h.stdout, /Exit codes: 0 done/, c);
      assert.match(h.stdout, /--config/, c);
    }
    const top = await runNode(RECOVER_BIN, ['--help']);
    assert.match(top.stdout, /completion\s+print a bash\/zsh completion script/);
    assert.match(top.stdout, /history \[action\] \[id\]/);
    // Every exit code a run can end with is in the help.
    for (const code of ['0 done', '1 not done', '2 usage', '3 cluster unreachable', '4 another run', '5 auto_failover could not be put back', '129/130/143 SIGHUP/SIGINT/SIGTERM']) assert.ok(top.stdout.replace(/\s+/g, ' ').includes(code), code);
    // completion --help is help, not the script; no command names every command.
    const completionHelp = await runNode(RECOVER_BIN, ['completion', '--help']);
    assert.equal(completionHelp.code, 0);
    assert.match(completionHelp.stdout, /^openmldb-recover completion\n\nPrint a bash\/zsh completion script/);
    assert.doesNotMatch(completionHelp.stdout, /completions-###/);
    const none = await runNode(RECOVER_BIN, []);
    assert.equal(none.code, 2);
    for (const c of [...COMMANDS, 'completion']) assert.match(none.stderr, new RegExp(`[:,] ${c}[, ]`), c);
  });

  it('--config: connection settings and defaults from a file; flags win over it, it wins over OPENMLDB_* (with a warning when they differ)', async () => {
    const file = join(sim.dir, 'openmldb-recover.json');
    const { zkCluster, zkRootPath, bin } = sim.info;
    // one file for a site: each command takes the keys it has options for (status has no --concurrency)
    writeFileSync(file, JSON.stringify({ zk_cluster: zkCluster, zk_root_path: zkRootPath, openmldb_bin_path: bin, format: 'json', concurrency: 8, 'keep-runs': 5 }));
    const noEnv = { OPENMLDB_ZK_CLUSTER: '', OPENMLDB_ZK_ROOT_PATH: '', OPENMLDB_BIN: '' };
    // the file alone: settings, and a default (--format json)
    const fromFile = await recoverCli(sim, ['status', '--config', file], noEnv);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(parseJson<{ healthy: boolean }>(fromFile).healthy, true);
    // a flag beats the file
    assert.match((await recoverCli(sim, ['status', '--config', file, '--format', 'text'], noEnv)).stdout, /^cluster HEALTHY/);
    // the file beats the environment (conf/openmldb-env.sh's, another cluster's), and says so
    const env = await recoverCli(sim, ['status', '--config', file], { ...noEnv, OPENMLDB_ZK_ROOT_PATH: '/from_env' });
    assert.equal(env.code, 0, env.stderr);
    assert.equal(parseJson<{ healthy: boolean }>(env).healthy, true);
    assert.equal(env.stderr.match(/WARN/g)?.length, 1, env.stderr);
    assert.match(env.stderr, /WARN --config \S+ sets zk_root_path and the environment sets OPENMLDB_ZK_ROOT_PATH \(\/openmldb, not \/from_env\): the file's is used/);
    // the environment fills in what the file leaves out
    writeFileSync(file, JSON.stringify({ zk_cluster: zkCluster, openmldb_bin_path: bin, format: 'json' }));
    const filled = await recoverCli(sim, ['status', '--config', file], { ...noEnv, OPENMLDB_ZK_ROOT_PATH: '/from_env' });
    assert.equal(filled.code, 3);
    assert.match(errorLines(filled.stderr)[0] ?? '', /\/from_env/);
    // a flag beats both
    const flag = await recoverCli(sim, ['status', '--config', file, '--zk_root_path', zkRootPath], { ...noEnv, OPENMLDB_ZK_ROOT_PATH: '/from_env' });
    assert.equal(flag.code, 0, flag.stderr);
    // mistakes in the file are usage errors, one line
    const unknown = join(sim.dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ zk_cluster: zkCluster, concurency: 2 }));
    const bad = join(sim.dir, 'bad.json');
    writeFileSync(bad, '{"zk_cluster": ');
    for (const [f, msg] of [
      [unknown, /--config \S+unknown\.json: no command has an option 'concurency'/],
      [bad, /cannot read --config \S+bad\.json: not valid JSON/],
      [join(sim.dir, 'missing.json'), /cannot read --config \S+missing\.json: ENOENT/],
    ] as const) {
      const r = await recoverCli(sim, ['status', '--config', f]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(errorLines(r.stderr).length, 1);
      assert.match(r.stderr, msg);
    }
  });

  it('a run names the cluster first, and where each setting came from; its report says it too', async () => {
    const file = join(sim.dir, 'root-only.json');
    writeFileSync(file, JSON.stringify({ zk_root_path: sim.info.zkRootPath }));
    const r = await recoverCli(sim, ['recover', '--config', file, '--openmldb_bin_path', sim.info.bin, '--dry-run'], { OPENMLDB_BIN: '' });
    assert.equal(r.code, 0, r.stderr);
    const first = r.stderr.split('\n')[0] ?? '';
    assert.match(first, new RegExp(`cluster ${sim.info.zkCluster}${sim.info.zkRootPath}: zk_cluster from OPENMLDB_ZK_CLUSTER, zk_root_path from --config \\S+root-only\\.json, the binary from the command line; run \\S+$`));
    assert.match(r.stdout.split('\n')[0] ?? '', new RegExp(`^cluster ${sim.info.zkCluster}${sim.info.zkRootPath}$`), 'the report text starts with the cluster (a dry run holds no lock)');
    const j = await recoverCli(sim, ['recover', '--json', '--zk_cluster', sim.info.zkCluster]);
    assert.equal(j.code, 0, j.stderr);
    const rep = parseJson<{ cluster: { from: Record<string, string> } }>(j);
    assert.deepEqual(rep.cluster.from, { zkCluster: 'flag', zkRootPath: 'environment', bin: 'environment' });
    const text = await recoverCli(sim, ['recover']);
    assert.match(text.stdout.split('\n')[0] ?? '', new RegExp(`^cluster ${sim.info.zkCluster}${sim.info.zkRootPath}; lock: local file \\S+`), 'and the lock it held, before the result');
    // The run's id on its first line and its last, with the command that shows its record: run as printed.
    const id = /; run (\S+)$/.exec(text.stderr.split('\n')[0] ?? '')?.[1];
    assert.ok(id, text.stderr);
    const last = text.stdout.trim().split('\n').at(-1) ?? '';
    const shown = new RegExp(`^run ${id} ended \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: (openmldb-recover history show \\S+)$`).exec(last);
    assert.ok(shown, last);
    const record = await recoverCli(sim, (shown[1] ?? '').split(' ').slice(1));
    assert.equal(record.code, 0, record.stderr);
    assert.match(record.stdout, new RegExp(id));
  });

  it('docs/prometheus-alerts.yml: its rules name only metrics status writes, and alert on absent and stale ones', async () => {
    const rules = readFileSync(join(REPO, 'docs', 'prometheus-alerts.yml'), 'utf8');
    const r = await recoverCli(sim, ['status', '--format', 'prometheus']);
    const runFile = join(sim.dir, 'run.prom');
    assert.equal((await recoverCli(sim, ['recover', '--metrics-file', runFile])).code, 0);
    const written = new Set([...parsePrometheus(r.stdout), ...parsePrometheus(readFileSync(runFile, 'utf8'))].map((f) => f.name));
    const exprs = [...rules.matchAll(/^\s+expr: (.*)$/gm)].map((m) => m[1] ?? '');
    assert.ok(exprs.length >= 4, 'rules found');
    for (const e of exprs) for (const name of e.match(/openmldb_recover_\w+/g) ?? []) assert.ok(written.has(name), `${name} (in \`${e}\`) is written by status`);
    assert.ok(exprs.some((e) => /^absent\(openmldb_recover_check_timestamp_seconds\)$/.test(e)), 'an alert when the metrics are absent');
    assert.ok(exprs.some((e) => /time\(\) - openmldb_recover_check_timestamp_seconds > \d+/.test(e)), 'an alert when they are stale');
  });

  it('promtool accepts docs/prometheus-alerts.yml (check rules) and what status writes (check metrics)', async (t) => {
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
    if (!promtool) return t.skip('promtool is not installed here (Debian: apt-get install prometheus)');
    const r = await promisify(execFile)(promtool, ['check', 'rules', join(REPO, 'docs', 'prometheus-alerts.yml')]);
    assert.match(r.stdout, /SUCCESS: 7 rules found/);
    const metrics = await recoverCli(sim, ['status', '--format', 'prometheus']);
    const checked = spawnSync(promtool, ['check', 'metrics'], { input: metrics.stdout, encoding: 'utf8' });
    assert.equal(checked.status, 0, `${checked.stdout}${checked.stderr}`);
  });

  it('status --format prometheus: valid exposition text; up 0 (and exit 3) when the cluster is not seen', async () => {
    const r = await recoverCli(sim, ['status', '--format', 'prometheus']);
    assert.equal(r.code, 0, r.stderr);
    const families = new Map<string, Family>(parsePrometheus(r.stdout).map((f) => [f.name, f]));
    const value = (name: string, labels: Record<string, string> = {}) => {
      const f = families.get(name);
      assert.ok(f, `${name} in\n${r.stdout}`);
      assert.equal(f.type, 'GAUGE');
      assert.ok(f.help.length > 0);
      const sample = f.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
      assert.ok(sample, `${name} ${JSON.stringify(labels)}`);
      assert.equal(sample.labels?.['zk_cluster'], sim.info.zkCluster);
      assert.equal(sample.labels?.['zk_root_path'], '/openmldb');
      const n = Number(sample.value);
      assert.ok(Number.isFinite(n), `${name} = ${sample.value}`);
      return n;
    };
    assert.equal(value('openmldb_recover_up'), 1);
    assert.equal(value('openmldb_recover_cluster_healthy'), 1);
    assert.equal(value('openmldb_recover_partitions', { verdict: 'healthy' }), 2);
    assert.equal(value('openmldb_recover_partitions', { verdict: 'unhealthy' }), 0);
    assert.equal(value('openmldb_recover_tablets', { state: 'healthy' }), 3);
    assert.equal(value('openmldb_recover_auto_failover'), 1);
    const observed = value('openmldb_recover_observation_timestamp_seconds');
    assert.ok(Math.abs(observed - Date.now() / 1000) < 120, `observation time ${observed}`);

    // one tablet down: unhealthy partitions, still exit-code 1 and up 1
    const tablet = sim.info.tablets[0]?.endpoint as string;
    await sim.ctl('tablet', { endpoint: tablet, action: 'stop' });
    try {
      const down = await recoverCli(sim, ['status', '--format', 'prometheus']);
      assert.equal(down.code, 1, down.stderr);
      const f = new Map(parsePrometheus(down.stdout).map((x) => [x.name, x]));
      assert.equal(f.get('openmldb_recover_cluster_healthy')?.metrics[0]?.value, '0');
      assert.equal(f.get('openmldb_recover_partitions')?.metrics.find((m) => m.labels?.['verdict'] === 'unhealthy')?.value, '2');
    } finally {
      await sim.ctl('tablet', { endpoint: tablet, action: 'start', wait: true });
    }

    const gone = await recoverCli(sim, ['status', '--format', 'prometheus'], { OPENMLDB_ZK_ROOT_PATH: '/nowhere' });
    assert.equal(gone.code, 3);
    const g = new Map(parsePrometheus(gone.stdout).map((x) => [x.name, x]));
    assert.equal(g.get('openmldb_recover_up')?.metrics[0]?.value, '0');
    assert.equal(g.get('openmldb_recover_up')?.metrics[0]?.labels?.['zk_root_path'], '/nowhere');
    assert.equal(g.has('openmldb_recover_cluster_healthy'), false, 'no verdict about a cluster not seen');
    const both = await recoverCli(sim, ['status', '--json', '--format', 'prometheus']);
    assert.equal(both.code, 2);
  });

  // A real terminal through util-linux `script` (a pty sized with stty): the spinner is
  // coloured, and NO_COLOR takes every colour code away.
  const scriptBin = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
  it('NO_COLOR on a terminal: no colour codes at all', { skip: scriptBin === undefined ? 'util-linux script is not installed' : false }, async () => {
    const run = promisify(execFile);
    const onTerminal = async (extra: Record<string, string>, args = 'recover --dry-run') => {
      const env: NodeJS.ProcessEnv = { ...process.env, ...sim.env, XDG_STATE_HOME: sim.stateHome, TERM: 'xterm', ...extra };
      delete env['CI']; // ora stays still under CI
      delete env['FORCE_COLOR'];
      if (extra['NO_COLOR'] === undefined) delete env['NO_COLOR'];
      const cmd = `stty cols 120 rows 40; '${process.execPath}' '${RECOVER_BIN}' ${args}; echo "exit=$?"`;
      const r = await run(scriptBin as string, ['-qec', cmd, '/dev/null'], { env, timeout: 180000 });
      return r.stdout;
    };
    const colour = /\x1b\[(?:3[0-9]|9[0-7]|38;[0-9;]+)m/;
    const coloured = await onTerminal({});
    assert.match(coloured, /observing the cluster/);
    assert.match(coloured, colour);
    const plain = await onTerminal({ NO_COLOR: '1' });
    assert.match(plain, /observing the cluster/);
    assert.doesNotMatch(plain, /\x1b\[[0-9;]*m/);
    // a run that stops before it starts does not leave the spinner holding the process
    const stopped = await onTerminal({ OPENMLDB_BIN: '/nonexistent/openmldb' }, 'recover');
    assert.match(stopped, /openmldb binary \/nonexistent\/openmldb does not exist[^]*exit=3/);
  });
});
