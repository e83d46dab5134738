// Every example `--help` prints (the top level's, each command's, `completion --help`'s) is
// read from the help as printed and run as printed, with bash, against one simulator taken
// through the states the examples are for: healthy, a tablet down with auto_failover off,
// full restarts. Each is held to what its description says. The names an example gives
// to things outside the test (ZooKeeper hosts, endpoints, paths, a run id) are replaced,
// whole tokens only, by the simulator's from the one table below; an example naming a
// host or path that table does not cover fails the test, as does an example no test ran.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
import { COMMANDS, COMPLETION_EXAMPLES, TOP_EXAMPLES } from '../../src/cli/commands.js';
import { pastedPath, runPasted } from '../helpers/paste.js';
import { opsDoc, report, statusDoc, validRecord } from '../helpers/report.js';
import { RECOVER_BIN, type RunResult, type Sim, recoverCli, runNode, startSim } from '../helpers/sim.js';

interface State {
  autoFailover: boolean;
  leader: string | null;
  tablets: Array<{ endpoint: string; view: string | null; loaded: Array<{ tid: number; pid: number; mode: string; state: string }> }>;
  tables: Array<{ tid: number; db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }> }> }>;
  ops: Array<{ opId: number; opType: string; db: string; name: string; pid: number; status: string; taskIndex: number; tasks: Array<{ type: string }> }>;
}

/** What the examples' names stand for here. */
interface World {
  sim: Sim;
  /** A scratch directory standing for `/`. */
  root: string;
  /** The operator's HOME, and the directory the examples run in. */
  home: string;
  /** A follower of demo_db.t1 pid 0 (every tablet holds a replica of pid 3 too). */
  follower: string;
  /** The other follower of demo_db.t1 pid 0: the tablet the test stops. */
  stopped: string;
  /** A run recorded by an earlier example, once there is one. */
  runId?: string;
  /** A plan made by an earlier example, once there is one. */
  planId?: string;
}

/** The one table of substitutions: a token of an example -> what it is in the test's world. */
const SUBSTITUTE: Record<string, (w: World) => string> = {
  'zk1:2181': (w) => w.sim.info.zkCluster,
  // The simulator has one ZooKeeper address: the second host of an ensemble names it again.
  'zk2:2181': (w) => w.sim.info.zkCluster,
  '/openmldb': (w) => w.sim.info.zkRootPath,
  '/opt/openmldb/bin/openmldb': (w) => w.sim.info.bin,
  '/etc/openmldb-recover.json': (w) => join(w.root, 'etc/openmldb-recover.json'),
  '/var/lib/node_exporter/openmldb.prom.tmp': (w) => join(w.root, 'var/lib/node_exporter/openmldb.prom.tmp'),
  '/var/lib/node_exporter/openmldb.prom': (w) => join(w.root, 'var/lib/node_exporter/openmldb.prom'),
  '10.0.0.12:9527': (w) => w.follower,
  '10.0.0.13:9527': (w) => w.stopped,
  '20250508-101501': (w) => w.runId ?? assert.fail('no run recorded yet'),
  'plan-20261207-101501-ab12': (w) => w.planId ?? assert.fail('no plan made yet'),
};

/** Between tokens: blanks and the shell's and options' separators (`--a=b`, `h:p,h:p`, `3=EP`, quotes). */
const SEPARATORS = /([\s=,;'"<>|&]+)/;
const tokens = (line: string): string[] => line.split(SEPARATORS).filter((t, i) => i % 2 === 0 && t !== '');
const substitute = (line: string, w: World): string =>
  line
    .split(SEPARATORS)
    .map((t, i) => (i % 2 === 0 && Object.hasOwn(SUBSTITUTE, t) ? (SUBSTITUTE[t] as (w: World) => string)(w) : t))
    .join('');
/** A token naming a place outside the test: a host:port, a path, a run id (`~/` is under the scratch HOME). */
const namesAPlace = (t: string): boolean => !t.startsWith('~/') && (/^[\w.-]+:\d+$/.test(t) || t.includes('/') || /^(plan-)?\d{8}-\d{6}/.test(t));
/** A token naming a table (DB.TABLE) or a database's tables (DB.*). */
const namesATable = (t: string): boolean => /^[A-Za-z_]\w*\.(\w+|\*)$/.test(t) && !t.endsWith('.json');

/**
 * The examples of one help text, whole. yargs lays them out in two columns and wraps a
 * long example inside the first: its lines are joined again (cliui breaks only at blanks
 * here; a break inside a word would show as a difference from the declared example).
 */
function examplesOf(help: string): string[] {
  const lines = help.split('\n');
  const at = lines.indexOf('Examples:');
  if (at < 0) return [];
  const block: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') break;
    block.push(line);
  }
  // The description column: where text resumes after two or more blanks, the same on every line that has one.
  const starts = new Set(block.map((l) => /^( {2}\S+(?: \S+)* {2,}| {3,})\S/.exec(l)?.[1]?.length).filter((n) => n !== undefined));
  assert.equal(starts.size, 1, `one description column in\n${block.join('\n')}`);
  const [column] = [...starts] as [number];
  const examples: string[] = [];
  for (const line of block) {
    const left = line.slice(0, column).trim();
    if (left.startsWith('openmldb-recover ')) examples.push(left);
    else if (left !== '') examples[examples.length - 1] += ` ${left}`;
  }
  return examples;
}

const printedForm = (examples: ReadonlyArray<readonly [string, string]>): string[] => examples.map(([e]) => e.replace(/\$0/g, 'openmldb-recover'));

/** Every help that shows examples: its arguments, and the examples the source declares for it. */
const HELPS: Array<{ args: string[]; declared: string[] }> = [
  { args: ['--help'], declared: printedForm([...TOP_EXAMPLES, ...COMMANDS.filter((c) => c.command === '$0').flatMap((c) => c.examples)]) },
  ...COMMANDS.filter((c) => c.command !== '$0').map((c) => ({ args: [c.command.split(' ')[0] as string, '--help'], declared: printedForm(c.examples) })),
  { args: ['completion', '--help'], declared: printedForm(COMPLETION_EXAMPLES) },
];

const run = promisify(execFile);

describe('every --help example, run as printed', () => {
  /** What each help printed: the examples as a user reads them. */
  const printed = new Map<string, string[]>();
  /** Each help as printed, line by line. */
  const helpLines = new Map<string, string[]>();
  const ran = new Set<string>();
  let w: World;
  let allPrinted: Set<string>;

  before(async () => {
    const root = mkdtempSync(join(tmpdir(), 'openmldb-help-examples-'));
    const [sim] = await Promise.all([
      // Small and quick: 4 tables of 4 partitions (for --pid 3), loads of 20 ms, a stopped
      // tablet listed offline at once; feature_db first, so demo_db.t1 exists beside feature_db.*.
      startSim([
        '--no-system-tables',
        '--scenario',
        'healthy',
        '--databases',
        'feature_db',
        'demo_db',
        '--tables',
        '4',
        '--partitions',
        '4',
        '--entries',
        '100',
        '--storage',
        'memory',
        '--load-base-ms',
        '20',
        '--zk-session-timeout-ms',
        '0',
      ]),
      ...HELPS.map(async ({ args }) => {
        const r = await runNode(RECOVER_BIN, args);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        printed.set(args.join(' '), examplesOf(r.stdout));
        helpLines.set(args.join(' '), r.stdout.split('\n'));
      }),
    ]);
    const s = await sim.ctl<State>('state');
    const p0 = s.tables.find((t) => t.db === 'demo_db' && t.name === 't1')?.partitions.find((p) => p.pid === 0);
    // Both followers of demo_db.t1 pid 0: its leader stays put until change-leader moves it.
    const [follower, stopped] = p0?.replicas.filter((r) => !r.isLeader).map((r) => r.endpoint) ?? [];
    assert.ok(follower && stopped);
    w = { sim, root, home: join(root, 'home'), follower, stopped };
    for (const d of [w.home, join(root, 'etc'), join(root, 'var/lib/node_exporter')]) mkdirSync(d, { recursive: true });
    // The site's settings file the --config examples read.
    writeFileSync(join(root, 'etc/openmldb-recover.json'), JSON.stringify({ zk_cluster: sim.info.zkCluster, zk_root_path: sim.info.zkRootPath, openmldb_bin_path: sim.info.bin }));
    // A file an unquoted `feature_db.*` would expand to, where the examples run: the example must quote it.
    writeFileSync(join(w.home, 'feature_db.csv'), '');
    allPrinted = new Set([...printed.values()].flat());
  });
  after(async () => {
    await w?.sim.down();
    if (w) rmSync(w.root, { recursive: true, force: true });
  });

  /**
   * Run one example as printed, in the operator's shell: HOME (and the working directory),
   * the login SHELL completion asks about, and the cluster in OPENMLDB_* as
   * conf/openmldb-env.sh sets it, except what the example names itself (then only the
   * example names it).
   */
  async function paste(example: string): Promise<RunResult> {
    assert.ok(allPrinted.has(example), `not an example --help prints: ${example}`);
    ran.add(example);
    const own = tokens(example);
    const env: Record<string, string> = { HOME: w.home, SHELL: own.includes('~/.zshrc') ? '/bin/zsh' : '/bin/bash' };
    if (!own.includes('--config')) {
      if (!own.includes('--zk_cluster')) env['OPENMLDB_ZK_CLUSTER'] = w.sim.info.zkCluster;
      if (!own.includes('--zk_root_path')) env['OPENMLDB_ZK_ROOT_PATH'] = w.sim.info.zkRootPath;
      if (!own.includes('--openmldb_bin_path')) env['OPENMLDB_BIN'] = w.sim.info.bin;
    }
    return runPasted(substitute(example, w), env, 300_000, w.home);
  }

  /** The tool with the examples' state directory, for what the test itself needs to know or set up. */
  const tool = (args: string[]) => recoverCli(w.sim, args, { XDG_STATE_HOME: join(w.home, '.local', 'state') });
  const state = () => w.sim.ctl<State>('state');
  const partition = (s: State, db: string, name: string, pid: number) => {
    const t = s.tables.find((x) => x.db === db && x.name === name);
    const p = t?.partitions.find((x) => x.pid === pid);
    assert.ok(t && p, `${db}.${name} pid ${pid}`);
    const leader = p.replicas.find((r) => r.isLeader && r.isAlive)?.endpoint;
    const leads = leader !== undefined && s.tablets.find((x) => x.endpoint === leader)?.loaded.some((l) => l.tid === t.tid && l.pid === pid && l.mode === 'kTableLeader' && l.state === 'kTableNormal') === true;
    return { p, leader, leads };
  };
  /** The simulator's own verdict, per table: the problems it finds with it. */
  const problems = async (table?: string) => (await w.sim.check()).problems.filter((p) => table === undefined || p.startsWith(`${table} `));
  const lastMutation = async () => (await w.sim.mutations()).at(-1)?.seq ?? 0;
  const view = async (ep: string) => (await state()).tablets.find((t) => t.endpoint === ep)?.view;
  const fullRestart = async () => {
    await w.sim.ctl('full-restart');
    await w.sim.ctl('incident', { autoFailoverBefore: true });
    await w.sim.waitFor('a nameserver leader', async () => (await state()).leader !== null);
  };

  it('the examples --help prints are those the source declares, whole', () => {
    for (const { args, declared } of HELPS) assert.deepEqual(printed.get(args.join(' ')), declared, args.join(' '));
  });

  it('each example is printed on one line: a line pasted from the help is the whole command (a wrapped `... --dry-run` would run without it)', () => {
    for (const { args, declared } of HELPS) {
      const lines = helpLines.get(args.join(' ')) ?? [];
      for (const example of declared) assert.ok(lines.some((l) => l.trimStart().startsWith(`${example} `) || l.trim() === example), `${args.join(' ')}: ${example} is not on one line`);
    }
  });

  it('every host, path and run id an example names is in the substitution table, and every table is the simulator\'s', async () => {
    const s = await state();
    const tables = new Set(s.tables.flatMap((t) => [`${t.db}.${t.name}`, `${t.db}.*`]));
    for (const example of allPrinted) {
      for (const t of tokens(example)) {
        if (namesAPlace(t)) assert.ok(Object.hasOwn(SUBSTITUTE, t), `${example}: ${t} is not in the substitution table`);
        else if (namesATable(t)) assert.ok(tables.has(t), `${example}: the simulator has no ${t}`);
      }
    }
  });

  it('completion >> ~/.bashrc: a script bash sources that completes the commands; the same for zsh', async (t) => {
    const bash = await paste('openmldb-recover completion >> ~/.bashrc');
    assert.equal(bash.code, 0, bash.stderr);
    // A new bash shell: sources ~/.bashrc, and completing `openmldb-recover rec` offers the recover commands.
    const completed = await run(
      'bash',
      ['-c', 'source ~/.bashrc && fn=$(complete -p openmldb-recover | sed -E "s/.* -F ([^ ]+) .*/\\1/") && COMP_WORDS=(openmldb-recover rec) && COMP_CWORD=1 && "$fn" && printf "%s\\n" "${COMPREPLY[@]}"'],
      { env: { HOME: w.home, PATH: pastedPath() } },
    );
    assert.deepEqual(completed.stdout.trim().split('\n').sort(), ['recover', 'recover-endpoint', 'recover-table']);

    const zsh = await paste('openmldb-recover completion >> ~/.zshrc');
    assert.equal(zsh.code, 0, zsh.stderr);
    const zshrc = readFileSync(join(w.home, '.zshrc'), 'utf8');
    assert.match(zshrc, /^#compdef openmldb-recover$/m);
    assert.match(zshrc, /^ {2}compdef _openmldb-recover_yargs_completions openmldb-recover$/m);
    const zshBin = ['/usr/bin/zsh', '/bin/zsh'].find((p) => existsSync(p));
    if (zshBin) {
      const z = await run(zshBin, ['-c', 'autoload -U compinit && compinit -u && source ~/.zshrc && print -r -- $_comps[openmldb-recover]'], { env: { HOME: w.home, PATH: pastedPath() } });
      assert.equal(z.stdout.trim(), '_openmldb-recover_yargs_completions');
    } else {
      t.diagnostic('zsh is not installed here: ~/.zshrc is checked as text only');
    }
  });

  it('healthy, auto_failover on: status, failover', async () => {
    const top = await paste('openmldb-recover status --zk_cluster=zk1:2181 --zk_root_path=/openmldb');
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /^cluster HEALTHY: 4\/4 tables served/);

    const status = await paste('openmldb-recover status');
    assert.equal(status.code, 0, status.stderr);
    for (const t of ['demo_db.t1', 'demo_db.t3', 'feature_db.t0', 'feature_db.t2']) assert.match(status.stdout, new RegExp(`^${t.replace('.', '\\.')} .* healthy\\s*$`, 'm'));

    const one = await paste('openmldb-recover status --json --table demo_db.t1');
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(
      statusDoc(one).tables.map((t) => [`${t.db}.${t.name}`, t.healthy, t.partitions.length]),
      [['demo_db.t1', true, 4]],
    );

    const read = await paste('openmldb-recover failover');
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout.trim(), 'auto_failover true');
    const off = await paste('openmldb-recover failover off');
    assert.equal(off.code, 0, off.stderr);
    assert.equal((await paste('openmldb-recover failover')).stdout.trim(), 'auto_failover false');
    const mark = await lastMutation();
    const dry = await paste('openmldb-recover failover on --dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would run: confset auto_failover true/);
    assert.deepEqual(await w.sim.mutations(mark), [], 'the dry run changed nothing');
    assert.equal((await state()).autoFailover, false);
  });

  it('a tablet down with auto_failover off: status, the metrics file, offline-endpoint, ops, recover-endpoint', async () => {
    // As found from here on: auto_failover off (failover off above).
    await w.sim.ctl('incident', { autoFailoverBefore: false });
    const s0 = await state();
    const led = s0.tables.flatMap((t) => t.partitions.filter((p) => p.replicas.some((r) => r.endpoint === w.stopped && r.isLeader)).map((p) => [t.db, t.name, p.pid] as const));
    assert.ok(led.length > 0, 'the tablet to stop leads some partitions');
    const stop = async () => {
      await w.sim.ctl('tablet', { endpoint: w.stopped, action: 'stop' });
      await w.sim.waitFor('the nameserver to see it offline', async () => (await view(w.stopped)) === 'kOffline');
    };
    const start = async () => {
      await w.sim.ctl('tablet', { endpoint: w.stopped, action: 'start', wait: true });
      await w.sim.waitFor('the nameserver to see it healthy', async () => (await view(w.stopped)) === 'kHealthy');
    };
    await stop();

    const top = await paste('openmldb-recover status --zk_cluster=zk1:2181 --zk_root_path=/openmldb');
    assert.equal(top.code, 1, top.stderr);
    assert.match(top.stdout, /^cluster UNHEALTHY/);
    const status = await paste('openmldb-recover status');
    assert.equal(status.code, 1, status.stderr);
    assert.match(status.stdout, new RegExp(`^demo_db\\.t1 .* UNHEALTHY .*${w.stopped.replace(/\./g, '\\.')}`, 'm'), 'the problem found, per table');

    const prom = await paste('openmldb-recover status --format prometheus > /var/lib/node_exporter/openmldb.prom.tmp; mv /var/lib/node_exporter/openmldb.prom.tmp /var/lib/node_exporter/openmldb.prom');
    assert.equal(prom.code, 0, prom.stderr);
    assert.deepEqual(readdirSync(join(w.root, 'var/lib/node_exporter')), ['openmldb.prom']);
    const metrics = new Map(parsePrometheus(readFileSync(join(w.root, 'var/lib/node_exporter/openmldb.prom'), 'utf8')).map((f) => [f.name, f.metrics[0]?.value]));
    assert.equal(metrics.get('openmldb_recover_up'), '1');
    assert.equal(metrics.get('openmldb_recover_cluster_healthy'), '0', 'written while unhealthy, and says so');

    // Offline, then back: --need-restore moves the leaders back to it.
    let mark = await lastMutation();
    const dry = await paste('openmldb-recover offline-endpoint 10.0.0.13:9527 --dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would run: offlineendpoint ${w.stopped.replace(/\./g, '\\.')}`));
    assert.deepEqual(await w.sim.mutations(mark), [], 'the dry run changed nothing');
    const offline = await paste('openmldb-recover offline-endpoint 10.0.0.13:9527');
    assert.equal(offline.code, 0, offline.stderr);
    const s1 = await state();
    for (const t of s1.tables) {
      for (const p of t.partitions) {
        const at = partition(s1, t.db, t.name, p.pid);
        assert.ok(at.leader !== undefined && at.leader !== w.stopped && at.leads, `${t.db}.${t.name} pid ${p.pid}: led elsewhere`);
        assert.equal(p.replicas.find((r) => r.endpoint === w.stopped)?.isAlive, false);
      }
    }
    const ops = await paste('openmldb-recover ops --table demo_db.t1 --json');
    assert.equal(ops.code, 0, ops.stderr);
    const listed = opsDoc(ops).ops;
    assert.ok(listed.length > 0 && listed.every((o) => o.db === 'demo_db' && o.table === 't1'), JSON.stringify(listed));
    assert.ok((await state()).ops.some((o) => o.name !== 't1'), 'other tables have ops it left out');

    await start();
    const restore = await paste('openmldb-recover recover-endpoint 10.0.0.13:9527 --need-restore');
    assert.equal(restore.code, 0, restore.stderr);
    const s2 = await state();
    for (const [db, name, pid] of led) assert.equal(partition(s2, db, name, pid).leader, w.stopped, `${db}.${name} pid ${pid} led by it again`);
    assert.deepEqual(await problems(), []);

    // Offline again, back, and recovered without moving leaders. One of its loads takes 4 s
    // more (outlasting the start of a tool on a loaded machine): the ops examples see its
    // op running, and wait for it.
    await stop();
    const again = await tool(['offline-endpoint', w.stopped]);
    assert.equal(again.code, 0, again.stderr);
    await start();
    await w.sim.ctl('load', { table: 'demo_db.t1', pid: 0, endpoint: w.stopped, extraMs: 4000 });
    mark = await lastMutation();
    const recovering = paste('openmldb-recover recover-endpoint 10.0.0.13:9527');
    try {
      const held = await w.sim.waitFor('the held load', async () =>
        (await state()).ops.find((o) => o.status === 'kDoing' && o.name === 't1' && o.pid === 0 && o.tasks[o.taskIndex]?.type === 'kLoadTable'),
      );
      const doing = await paste('openmldb-recover ops --status kDoing');
      assert.equal(doing.code, 0, doing.stderr);
      const rows = doing.stdout.split('\n').filter((l) => /^\d+ +k\w+OP /.test(l));
      assert.ok(rows.some((l) => l.startsWith(`${held.opId} `)), `the held op ${held.opId} listed:\n${doing.stdout}`);
      assert.ok(rows.every((l) => /\bkDoing\b/.test(l)), `only running ops:\n${doing.stdout}`);
      assert.ok((await state()).ops.some((o) => o.status === 'kDone'), 'done ops exist, left out');
      const wait = await paste('openmldb-recover ops --wait --timeout 600');
      assert.equal(wait.code, 0, wait.stderr);
      assert.match(wait.stdout, new RegExp(`^${held.opId} .*\\bkDone\\b`, 'm'), 'the held op waited for');
      assert.deepEqual((await state()).ops.filter((o) => o.status === 'kInited' || o.status === 'kDoing'), [], 'none running once it returned');
    } finally {
      const recovered = await recovering;
      await w.sim.ctl('clear-faults');
      assert.equal(recovered.code, 0, recovered.stderr);
    }
    const s3 = await state();
    for (const [db, name, pid] of led) assert.notEqual(partition(s3, db, name, pid).leader, w.stopped, 'leaders stay where they are');
    assert.ok((await w.sim.mutations(mark)).some((m) => m.method === 'RecoverEndpoint'));
    assert.deepEqual(await problems(), []);
  });

  it('change-leader: to a named follower, then the nameserver\'s pick', async () => {
    const before = partition(await state(), 'demo_db', 't1', 0).leader;
    assert.ok(before !== undefined && before !== w.follower && before !== w.stopped, 'neither example endpoint leads partition 0');
    const to = await paste('openmldb-recover change-leader demo_db.t1 0 --to 10.0.0.12:9527');
    assert.equal(to.code, 0, to.stderr);
    assert.match(to.stdout, /^demo_db\.t1 pid 0: leader changed/m);
    const moved = partition(await state(), 'demo_db', 't1', 0);
    assert.equal(moved.leader, w.follower, 'that follower leads');
    assert.ok(moved.leads, 'and serves as leader');
    const auto = await paste('openmldb-recover change-leader demo_db.t1 0');
    assert.equal(auto.code, 0, auto.stderr);
    const picked = partition(await state(), 'demo_db', 't1', 0);
    assert.equal(picked.leader, w.stopped, 'the follower left alive leads');
    assert.ok(picked.leads);
    // changeleader leaves the old leaders not alive (OpenMLDB's own, and the report says so): the full restarts below recover them.
    assert.deepEqual((await problems()).sort(), [before, w.follower].map((e) => `demo_db.t1 pid 0: replica ${e} is not alive`).sort());
  });

  it('full restarts: recover --dry-run, recover-table, recover with --priority, --table, --config, --quiet, flags', async () => {
    // auto_failover on again, as a cluster is found after a restart.
    assert.equal((await tool(['failover', 'on'])).code, 0);
    await fullRestart();
    const broken = await problems();
    assert.ok(broken.length > 0);

    const mark = await lastMutation();
    const dry = await paste('openmldb-recover recover --dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^plan: 16 partitions in 4 tables: 0 healthy, 16 to recover$/m);
    const dryTable = await paste('openmldb-recover recover-table demo_db.t1 --dry-run');
    assert.equal(dryTable.code, 0, dryTable.stderr);
    assert.match(dryTable.stdout, /^plan: 4 partitions in 1 table: 0 healthy, 4 to recover$/m);
    assert.match(dryTable.stdout, /loadtable t1 /, 'the runbook commands');
    assert.deepEqual(await w.sim.mutations(mark), [], 'the dry runs changed nothing');
    assert.deepEqual(await problems(), broken);

    const pid3 = await paste('openmldb-recover recover-table demo_db.t1 --pid 3 --leader 3=10.0.0.12:9527');
    assert.equal(pid3.code, 0, pid3.stderr);
    const p3 = partition(await state(), 'demo_db', 't1', 3);
    assert.equal(p3.leader, w.follower);
    assert.ok(p3.leads);
    const t1 = await problems('demo_db.t1');
    assert.ok(t1.length > 0 && t1.every((p) => !p.startsWith('demo_db.t1 pid 3:')), `partition 3 only:\n${t1.join('\n')}`);
    const table = await paste('openmldb-recover recover-table demo_db.t1');
    assert.equal(table.code, 0, table.stderr);
    assert.deepEqual(await problems('demo_db.t1'), []);
    assert.ok((await problems('demo_db.t3')).length > 0, 'the other tables left as they were');
    // The rest: feature_db's two tables first, demo_db.t3 after them.
    const priority = await paste("openmldb-recover recover --priority demo_db.t1 --priority 'feature_db.*'");
    assert.equal(priority.code, 0, priority.stderr);
    assert.match(priority.stdout, /^served, --priority tables: 8 partitions, /m);
    assert.match(priority.stdout, /^served, other tables: 4 partitions, /m);
    assert.deepEqual(await problems(), []);

    await fullRestart();
    const one = await paste('openmldb-recover recover --table demo_db.t1 --json');
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(
      report(one).tables.map((t) => [`${t.db}.${t.name}`, t.partitions.map((p) => p.status)]),
      [['demo_db.t1', ['recovered', 'recovered', 'recovered', 'recovered']]],
    );
    assert.deepEqual(await problems('demo_db.t1'), []);
    assert.ok((await problems('feature_db.t0')).length > 0, 'only that table');
    // The rest, connection settings from flags alone.
    const flags = await paste('openmldb-recover recover --zk_cluster=zk1:2181,zk2:2181 --zk_root_path=/openmldb --openmldb_bin_path=/opt/openmldb/bin/openmldb');
    assert.equal(flags.code, 0, flags.stderr);
    assert.match(flags.stderr.split('\n')[0] ?? '', /zk_cluster from the command line, zk_root_path from the command line, the binary from the command line;/);
    assert.match(flags.stdout, /^result: 16 partitions in 4 tables: 4 healthy, 12 recovered$/m, 'every table');
    assert.deepEqual(await problems(), []);
    // From cron, on the served cluster: settings from the file, nothing on stderr (without --quiet a run says what it looks at).
    const quiet = await paste('openmldb-recover recover --config /etc/openmldb-recover.json --quiet');
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, '', 'no progress');
    assert.match(quiet.stdout, /^result: 16 partitions in 4 tables: 16 healthy$/m);

    await fullRestart();
    const fromFile = await paste('openmldb-recover recover --config /etc/openmldb-recover.json');
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stderr.split('\n')[0] ?? '', /zk_cluster from --config \S+, zk_root_path from --config \S+, the binary from --config \S+;/);
    assert.match(fromFile.stdout, /^result: 16 partitions in 4 tables: 0 healthy, 16 recovered$/m);
    assert.deepEqual(await problems(), []);
  });

  it('history: every run, the last one shown, one run as stored', async () => {
    const list = await tool(['history', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const runs = JSON.parse(list.stdout) as Array<{ id: string; command: string; dryRun: boolean }>;
    const last = runs.at(-1);
    const off = runs.find((r) => r.command === 'failover-off');
    assert.ok(last && off);
    for (const c of ['failover-off', 'change-leader', 'offline-endpoint', 'recover-endpoint', 'recover-table', 'recover']) assert.ok(runs.some((r) => r.command === c), c);
    assert.ok(runs.some((r) => r.command === 'recover' && r.dryRun), 'recover --dry-run recorded');

    const all = await paste('openmldb-recover history');
    assert.equal(all.code, 0, all.stderr);
    for (const r of runs) assert.match(all.stdout, new RegExp(`^${r.id} .* ${r.command}\\b`, 'm'));
    assert.match(all.stdout, new RegExp(`^${off.id} .* failover-off +0 .* auto_failover true -> false$`, 'm'), 'when, what, exit code, summary');

    const shown = await paste('openmldb-recover history show last');
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^run ${last.id}: openmldb-recover recover --config `));
    assert.match(shown.stdout, /\bChangeRole\b/, 'its commands');
    assert.match(shown.stdout, /^result: 16 partitions in 4 tables: 0 healthy, 16 recovered$/m, 'its report');

    w.runId = off.id;
    const stored = await paste('openmldb-recover history show 20250508-101501 --json');
    assert.equal(stored.code, 0, stored.stderr);
    assert.equal(stored.stdout, readFileSync(join(w.home, '.local/state/openmldb-recover/runs', `${off.id}.jsonl`), 'utf8'), 'as stored');
    const lines = validRecord(stored.stdout);
    assert.deepEqual([lines[0]?.['type'], lines[0]?.['id'], lines.at(-1)?.['type']], ['start', off.id, 'end']);
  });

  it('plan, abandon, plan again, apply, verify: the manual recovery in reviewed steps', async () => {
    await fullRestart();
    const broken = await problems();
    assert.ok(broken.length > 0);
    const onStdout = await paste('openmldb-recover plan --table demo_db.t1 --out -');
    assert.equal(onStdout.code, 0, onStdout.stderr);
    const one = JSON.parse(onStdout.stdout) as { id: string; partitions: Array<{ db: string; table: string; decision: { action: string } }> };
    assert.deepEqual([...new Set(one.partitions.map((p) => `${p.db}.${p.table}`))], ['demo_db.t1'], 'one table');
    assert.equal((await state()).autoFailover, false, 'held off for the review');
    w.planId = one.id;
    const dropped = await paste('openmldb-recover plan --abandon plan-20261207-101501-ab12');
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.equal((await state()).autoFailover, true, 'back on');

    const made = await paste('openmldb-recover plan --out plan.json');
    assert.equal(made.code, 0, made.stderr);
    assert.ok(existsSync(join(w.home, 'plan.json')), 'written where the operator is');
    const applied = await paste('openmldb-recover apply plan.json');
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(await problems(), []);
    assert.equal((await state()).autoFailover, true);
    const verified = await paste('openmldb-recover verify plan.json');
    assert.equal(verified.code, 0, verified.stdout);
  });

  it('every example was run', () => {
    assert.deepEqual([...allPrinted].filter((e) => !ran.has(e)), []);
  });
});
