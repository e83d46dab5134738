// A record of every run: after a recover on the simulator, `history` lists it and
// `history show` prints its commands and their output; dry runs and failed runs are
// recorded too; --verbose prints each command on stderr; old records are pruned; and the
// password (given by file, environment or flag) appears nowhere in the state directory or
// in anything printed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credential } from '../../src/cluster/transport.js';
import type { RecordLine } from '../../src/history/record.js';
import type { RunSummary } from '../../src/history/store.js';
import { errorLines, parseJson, report } from '../helpers/report.js';
import { type RunResult, type Sim, recoverCli, startSim } from '../helpers/sim.js';

const FILE_SECRET = 'Fi1e-s3cret-pw';
const ENV_SECRET = 'Env-s3cret-pw';
const FLAG_SECRET = 'F1ag-s3cret-pw';
const SECRETS = [FILE_SECRET, ENV_SECRET, FLAG_SECRET].flatMap((s) => [s, credential('root', s), createHash('sha256').update(s).digest('hex')]);

/** Every file under dir, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

describe('run records and history', () => {
  let sim: Sim;
  const printed: RunResult[] = [];
  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const r = await recoverCli(sim, args, env);
    printed.push(r);
    return r;
  };
  let passwordFile: string;

  before(async () => {
    sim = await startSim(['--no-system-tables', '--scenario', 'full-restart', '--tables', '1', '--partitions', '2', '--storage', 'memory']);
    passwordFile = join(sim.dir, 'password');
    writeFileSync(passwordFile, `${FILE_SECRET}\n`, { mode: 0o600 });
  });
  after(() => sim.down());

  it('a dry run is recorded: its observation and plan, nothing changed', async () => {
    const r = await cli(['recover', '--dry-run', '--json', '--quiet', '--password-file', passwordFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(report(r).totals.planned, 2);
    const runs = parseJson<RunSummary[]>(await cli(['history', '--json']));
    assert.equal(runs.length, 1);
    assert.equal(runs[0]?.dryRun, true);
    assert.equal(runs[0]?.exitCode, 0);
    const lines = (await cli(['history', 'show', 'last', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as RecordLine);
    const plan = lines.find((l) => l.type === 'plan');
    assert.ok(plan && plan.type === 'plan' && plan.plan.partitions.length === 2 && plan.plan.partitions.every((p) => p.steps.some((s) => s.startsWith('loadtable'))));
    const observation = lines.find((l) => l.type === 'observation');
    assert.ok(observation && observation.type === 'observation' && observation.observation.tables[0]?.partitions.length === 2);
    const start = lines[0];
    assert.ok(start?.type === 'start' && start.connection.passwordFrom === 'file' && start.dryRun);
    assert.deepEqual(await sim.mutations(), []);
  });

  it('recover --verbose prints each command and its output on stderr as it runs (binary runs and HTTP calls)', async () => {
    // --transport cli: the binary runs every command it has, so both kinds are printed.
    const r = await cli(['recover', '--verbose', '--transport', 'cli'], { OPENMLDB_PASSWORD: ENV_SECRET });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\$ \S+openmldb --zk_cluster=\S+ --zk_root_path=\/openmldb --role=ns_client --interactive=false --cmd=showns/);
    assert.match(r.stderr, /-> exit 0, \d+ ms\n {2}\| ns leader: /);
    assert.match(r.stderr, /POST http:\/\/127\.0\.0\.1:\d+\/NameServer\/ShowTable \{"db":"demo_db"\}\n {6}-> HTTP 200/);
    assert.match(r.stderr, /--cmd=loadtable t0 \d+ \d 144000 8 (true|false)\n {6}-> exit 0, \d+ ms\n {2}\| LoadTable ok/);
    assert.equal((await sim.check()).ok, true);
  });

  it('history lists the recover; history show prints its commands, plan and report', async () => {
    const list = await cli(['history']);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /recover \(dry run\)\s+0 .*2 partitions: 2 planned/);
    assert.match(list.stdout, /\d{8}-\d{6}-\d{3}-recover-[0-9a-f]{4}\s+\S+ \S+\s+recover\s+0 .*2 partitions: 2 recovered/);
    const runs = parseJson<RunSummary[]>(await cli(['history', '--json']));
    const run = runs[runs.length - 1] as RunSummary;
    assert.ok(run.commands > 10, `${run.commands} commands recorded`);
    const show = await cli(['history', 'show', run.id.slice(0, 19)]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`^run ${run.id}: openmldb-recover recover --verbose`));
    assert.match(show.stdout, /password: from env \(not recorded\)/);
    assert.match(show.stdout, /ns_client \S+: showtable\n.*\n {6}-> exit 0, \d+ ms\n {2}\| ns leader:/);
    assert.match(show.stdout, /tablet client 127\.0\.0\.1:\d+: loadtable t0/);
    assert.match(show.stdout, /updatetablealive t0 \d /);
    assert.match(show.stdout, /\nplan:\n {2}demo_db\.t0 pid 0 \(recovered\)/);
    assert.match(show.stdout, /\nreport:\n[^]*OK \(exit 0\)/);
    assert.match(show.stdout, /\nended \S+ \S+: exit 0 after \d+\.\ds\n$/);
    // every command line carries its exit code (or HTTP status) and duration
    const record = (await cli(['history', 'show', run.id, '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as RecordLine);
    const commands = record.filter((l) => l.type === 'command');
    assert.equal(commands.length, run.commands);
    for (const c of commands) {
      assert.ok(c.type === 'command' && c.durationMs >= 0 && (c.kind === 'http' ? c.httpStatus === 200 : c.exitCode === 0), JSON.stringify(c));
    }
    assert.deepEqual(
      [record[0]?.type, ...record.slice(-4).map((l) => l.type)],
      ['start', 'observation', 'plan', 'report', 'end'],
    );
  });

  it('a run that cannot reach the cluster, or finds no binary, is recorded with its error and exit 3', async () => {
    const r = await cli(['recover', '--quiet', '--retries', '0', `--password=${FLAG_SECRET}`], { OPENMLDB_ZK_ROOT_PATH: '/wrong_root' });
    assert.equal(r.code, 3, r.stderr);
    const show = await cli(['history', 'show', 'last']);
    assert.match(show.stdout, /openmldb-recover recover --quiet --retries 0 --password=\[redacted\]/);
    assert.match(show.stdout, /ended \S+ \S+: exit 3 after \d+\.\ds: no nameserver is registered at \S+\/wrong_root/);
    assert.match((await cli(['history'])).stdout, /recover\s+3 .*no nameserver is registered/);
    const noBinary = await cli(['recover-table', 'demo_db.t0', '--quiet'], { OPENMLDB_BIN: join(sim.dir, 'no-such-openmldb') });
    assert.equal(noBinary.code, 3, noBinary.stderr);
    assert.match((await cli(['history', 'show', 'last'])).stdout, /ended \S+ \S+: exit 3 after \d+\.\ds: openmldb binary \S+no-such-openmldb does not exist/);
  });

  it('keeps the newest --keep-runs records; an unknown id is a usage error', async () => {
    assert.equal(parseJson<RunSummary[]>(await cli(['history', '--json'])).length, 4);
    const r = await cli(['recover', '--quiet', '--keep-runs', '2']);
    assert.equal(r.code, 0, r.stderr);
    const runs = parseJson<RunSummary[]>(await cli(['history', '--json']));
    assert.deepEqual(
      runs.map((x) => [x.command, x.exitCode]),
      [
        ['recover-table', 3],
        ['recover', 0],
      ],
    );
    const unknown = await cli(['history', 'show', 'no-such-run']);
    assert.equal(unknown.code, 2);
    assert.equal(errorLines(unknown.stderr).length, 1);
  });

  it('the password appears nowhere: not in the state directory, not in anything printed', async () => {
    const status = await cli(['status', '--verbose', `--password=${FLAG_SECRET}`]);
    assert.equal(status.code, 0, status.stderr);
    const stored = allText(join(sim.stateHome, 'openmldb-recover'));
    assert.ok(stored.length > 1000);
    const out = printed.map((r) => `${r.stdout}\n${r.stderr}`).join('\n');
    for (const secret of SECRETS) {
      assert.ok(!stored.includes(secret), `state directory holds ${secret}`);
      assert.ok(!out.includes(secret), `output holds ${secret}`);
    }
  });
});
