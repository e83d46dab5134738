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
import { credential } from '../../src/cluster/command-line.js';
import type { RecordLine } from '../../src/history/record-lines.js';
import type { RecordedReport } from '../../src/history/recorded-report.js';
import type { RunSummary } from '../../src/history/store.js';
import { errorLines, parseJson, report, validRecord } from '../helpers/report.js';
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

  it('a dry run is recorded: its evidence and plan in the report, nothing changed', async () => {
    const r = await cli(['recover', '--dry-run', '--json', '--quiet', '--password-file', passwordFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(report(r).totals.planned, 2);
    const runs = parseJson<RunSummary[]>(await cli(['history', '--json']));
    assert.equal(runs.length, 1);
    assert.equal(runs[0]?.dryRun, true);
    assert.equal(runs[0]?.exitCode, 0);
    const lines = (await cli(['history', 'show', 'last', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as RecordLine);
    const recorded = lines.find((l) => l.type === 'report');
    assert.ok(recorded && recorded.type === 'report');
    const partitions = (recorded.report as RecordedReport).tables[0]?.partitions ?? [];
    assert.equal(partitions.length, 2);
    for (const p of partitions) {
      assert.ok(p.plan?.some((s) => s.startsWith('loadtable')), JSON.stringify(p.plan));
      assert.ok(p.evidence.length > 0);
    }
    assert.equal(lines.filter((l) => l.type === 'report').length, 1, 'the report once');
    assert.equal(lines.filter((l) => l.type === 'command').length, 0, 'a dry run sends no change');
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

  it('history lists the recover; history show prints its changes, its reads tallied, the plan and the report', async () => {
    const list = await cli(['history']);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /recover \(dry run\)\s+0 .*2 partitions: 2 planned/);
    assert.match(list.stdout, /\d{8}-\d{6}-\d{3}-recover-[0-9a-f]{4}\s+\S+ \S+\s+recover\s+0 .*2 partitions: 2 recovered/);
    const runs = parseJson<RunSummary[]>(await cli(['history', '--json']));
    const run = runs[runs.length - 1] as RunSummary;
    assert.ok(run.commands >= 6, `${run.commands} changes recorded`);
    assert.ok((run.reads ?? 0) > run.commands, `${run.reads} reads counted`);
    const show = await cli(['history', 'show', run.id.slice(0, 19)]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`^run ${run.id}: openmldb-recover recover --verbose`));
    assert.match(show.stdout, /password: from env \(not recorded\)/);
    // A read is tallied (calls per address, time, size, digest), not kept whole.
    assert.match(show.stdout, /\n {6}showtable: \d+ calls? \(\S+ x\d+\), \d+ ms \(longest \d+ ms\), [\d.]+ (B|KB), sha256 [0-9a-f]{16}\n/);
    assert.doesNotMatch(show.stdout, /ns_client \S+: showtable/);
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
      assert.ok(c.type === 'command' && c.mutating === true && c.durationMs >= 0 && c.output !== '' && (c.kind === 'http' ? c.httpStatus === 200 : c.exitCode === 0), JSON.stringify(c));
    }
    assert.deepEqual([record[0]?.type, ...record.slice(-2).map((l) => l.type)], ['start', 'report', 'end']);
    const end = record.at(-1);
    assert.ok(end?.type === 'end' && end.changes === run.commands && end.summary === '2 partitions: 2 recovered', JSON.stringify(end));
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

  it('a run that changed nothing is condensed to a few lines, under 2 KB', async () => {
    const r = await cli(['recover', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const run = parseJson<RunSummary[]>(await cli(['history', '--json'])).at(-1) as RunSummary;
    assert.equal(run.summary, '2 partitions: all healthy, nothing to do');
    assert.equal(run.commands, 0);
    assert.ok(run.bytes < 2048, `${run.bytes} bytes`);
    const record = (await cli(['history', 'show', 'last', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as RecordLine);
    assert.deepEqual(record.map((l) => l.type), ['start', 'reads', 'end']);
    const reads = record[1];
    assert.ok(reads?.type === 'reads' && reads.reads.some((g) => g.command === 'NameServer/ShowTable' && g.calls >= 1), JSON.stringify(reads));
    const show = await cli(['history', 'show', 'last']);
    assert.match(show.stdout, /2 partitions: all healthy, nothing to do \(changed nothing: the record keeps only its reads' totals\)/);
  });

  it('every line of every record matches docs/run-record.schema.json', async () => {
    const runs = parseJson<RunSummary[]>(await cli(['history', '--json']));
    assert.ok(runs.length >= 2);
    const types = new Set<unknown>();
    for (const run of runs) {
      for (const line of validRecord((await cli(['history', 'show', run.id, '--json'])).stdout)) types.add(line['type']);
    }
    for (const t of ['start', 'command', 'reads', 'report', 'end', 'progress']) assert.ok(types.has(t), `a ${t} line among ${[...types].join(', ')}`);
  });

  it('keeps --keep-runs records: those that changed nothing go first, the newest that changed something stays; an unknown id is a usage error', async () => {
    const before = parseJson<RunSummary[]>(await cli(['history', '--json']));
    assert.deepEqual(
      before.map((x) => [x.command, x.dryRun, x.exitCode, x.commands > 0]),
      [
        ['recover', true, 0, false],
        ['recover', false, 0, true],
        ['recover', false, 3, false],
        ['recover-table', false, 3, false],
        ['recover', false, 0, false],
      ],
    );
    const r = await cli(['recover', '--quiet', '--keep-runs', '2']);
    assert.equal(r.code, 0, r.stderr);
    const runs = parseJson<RunSummary[]>(await cli(['history', '--json']));
    // The recovery (the one run that changed something) outlives the four newer or older runs that changed nothing.
    assert.deepEqual(
      runs.map((x) => [x.id === before[1]?.id, x.commands > 0]),
      [
        [true, true],
        [false, false],
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
