// Options are parsed once (src/commands/settings.ts): every value checked before anything
// is taken or sent, the result frozen, and no module below a command's handler reads argv.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { type SettingsArgs, priorityOf, runSettingsOf } from '../../src/commands/settings.js';
import { UsageError } from '../../src/exit-codes.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.execPath; // any file that exists stands in for the binary here

/** What yargs hands a handler for `recover` with these flags (defaults as the builders give them). */
function recoverArgs(extra: Partial<SettingsArgs> = {}): SettingsArgs {
  return {
    'zk-cluster': '127.0.0.1:2181',
    'openmldb-bin': BIN,
    'command-timeout': 30,
    json: false,
    quiet: false,
    'dry-run': false,
    'detailed-exitcode': false,
    lock: 'auto',
    'lock-session-timeout': 10,
    'leader-wait': 60,
    'zk-session-timeout': 10,
    retries: 4,
    'keep-runs': 50,
    'keep-runs-mb': 64,
    'keep-runs-days': 0,
    'load-timeout': 600,
    'op-timeout': 1800,
    'per-tablet': 3,
    ...extra,
  } as SettingsArgs; // yargs types an absent option as a key holding undefined
}

const NO_ENV = {};

describe('settings: options parsed once', () => {
  it('one typed value per option, defaults filled in, the whole frozen', () => {
    const s = runSettingsOf(recoverArgs({ retries: 7, 'state-dir': 'rel/state', concurrency: 12, verbose: true }), NO_ENV, []);
    assert.equal(s.connection.zkCluster, '127.0.0.1:2181');
    assert.equal(s.connection.zkRootPath, '/openmldb');
    assert.equal(s.connection.transport, 'http');
    assert.equal(s.connection.commandTimeoutMs, 30_000);
    assert.equal(s.retries, 7);
    assert.equal(s.apply.retries, 7, 'the engine retries as often as the command');
    assert.equal(s.apply.concurrency, 12);
    assert.equal(s.apply.perTablet, 3);
    assert.equal(s.lock.path, '/openmldb/openmldb-recover/lock');
    assert.equal(s.lock.pathGiven, false);
    assert.equal(s.state.dir, resolve('rel/state'), 'the state directory is absolute');
    assert.equal(s.state.dirGiven, true);
    assert.deepEqual(s.observeWait, { budgetMs: 60_000, connectionWaitMs: 12_000 });
    assert.equal(s.output.verbose, true);
    for (const part of [s, s.connection, s.connection.from, s.lock, s.state, s.state.retention, s.observeWait, s.apply, s.output, s.recorded]) {
      assert.ok(Object.isFrozen(part), 'every part is frozen');
    }
    assert.throws(() => {
      (s.apply as { retries: number }).retries = 0;
    }, TypeError);
  });

  it('a command without a group (status: no --retries, no --lock) gets its defaults; --transport cli lowers the default concurrency', () => {
    const s = runSettingsOf({ 'zk-cluster': 'zk1:2181', 'openmldb-bin': BIN, 'command-timeout': 30, transport: 'cli' } as SettingsArgs, NO_ENV, []);
    assert.equal(s.retries, 4);
    assert.equal(s.lock.choice, 'auto');
    assert.equal(s.apply.concurrency, 4);
    assert.equal(s.dryRun, false);
  });

  it('the environment stands in for a flag, and says so', () => {
    const s = runSettingsOf(recoverArgs({ 'zk-cluster': undefined }), { OPENMLDB_ZK_CLUSTER: 'zk9:2181', OPENMLDB_ZK_ROOT_PATH: '/other' }, []);
    assert.equal(s.connection.zkCluster, 'zk9:2181');
    assert.equal(s.lock.path, '/other/openmldb-recover/lock', 'the default lock follows the root path');
    assert.equal(s.connection.from.zkCluster, 'environment');
    assert.equal(s.connection.from.bin, 'default');
  });

  it('every bad value is a usage error naming the option, before anything is taken or sent', () => {
    const bad: Array<[Partial<SettingsArgs>, RegExp]> = [
      [{ retries: 101 }, /--retries must be a whole number from 0 to 100 \(got 101\)/],
      [{ retries: Number.NaN }, /--retries/],
      [{ 'leader-wait': -1 }, /--leader-wait must be a positive number of seconds \(got -1\)/],
      [{ 'command-timeout': 3_000_000 }, /--command-timeout must be at most/],
      [{ 'lock-session-timeout': 0 }, /--lock-session-timeout/],
      // Checked whichever lock the run ends up with.
      [{ lock: 'local', 'lock-path': 'relative/lock' }, /--lock-path must be an absolute ZooKeeper path/],
      [{ 'lock-path': '/lock' }, /--lock-path must have a parent node/],
      [{ 'keep-runs': 0 }, /--keep-runs must be a whole number >= 1/],
      [{ concurrency: 2.5 }, /--concurrency must be a positive whole number/],
      [{ 'zk-cluster': 'zk1' }, /malformed --zk_cluster entry 'zk1'/],
      [{ 'zk-root-path': 'openmldb' }, /--zk_root_path must start with '\/'/],
      [{ user: 'a\nb' }, /holds a line break/],
    ];
    for (const [extra, message] of bad) assert.throws(() => runSettingsOf(recoverArgs(extra), NO_ENV, []), (err: unknown) => err instanceof UsageError && message.test(err.message), JSON.stringify(extra));
    assert.throws(() => runSettingsOf(recoverArgs({ transport: 'grpc' as 'http' }), NO_ENV, []), /--transport must be one of http, cli \(got 'grpc'\)/);
  });

  it('--priority: DB.TABLE and DB.*, anything else refused', () => {
    assert.deepEqual(priorityOf(['demo_db.t1', 'feature_db.*']), [
      { db: 'demo_db', table: 't1' },
      { db: 'feature_db', table: '*' },
    ]);
    for (const bad of ['t1', '.t1', 'demo_db.', 'a.b.c']) assert.throws(() => priorityOf([bad]), (err: unknown) => err instanceof UsageError && /give DB\.TABLE or DB\.\*/.test(err.message));
  });

  it('values of another type from --config: a number is read as text, a repeated or other value refused without echoing it', () => {
    // yargs converts a --config value only for number options: a JSON number for a text option arrives as a number.
    const s = runSettingsOf(recoverArgs({ password: 12345678 as unknown as string, user: 42 as unknown as string }), NO_ENV, []);
    assert.equal(s.connection.password, '12345678');
    assert.equal(s.connection.user, '42');
    const refused: Array<[Partial<SettingsArgs>, RegExp]> = [
      [{ 'zk-root-path': 5 as unknown as string }, /--zk_root_path must start with '\/' \(got '5'\)/],
      [{ 'zk-cluster': ['h:1', 'h:2'] as unknown as string }, /--zk_cluster is given 2 times: give it once/],
      [{ password: ['sekrit1', 'sekrit2'] as unknown as string }, /--password is given 2 times/],
      [{ password: { x: 'sekrit' } as unknown as string }, /--password must be text, not object/],
      [{ json: 'yes' as unknown as boolean }, /--json must be true or false/],
      [{ 'state-dir': true as unknown as string }, /--state-dir must be text, not boolean/],
    ];
    for (const [extra, message] of refused) {
      assert.throws(
        () => runSettingsOf(recoverArgs(extra), NO_ENV, []),
        (err: unknown) => err instanceof UsageError && message.test(err.message) && !/sekrit/.test(err.message),
        JSON.stringify(extra),
      );
    }
  });

  it('the default lock path is checked only where a lock is taken; one given is checked everywhere', () => {
    // `ops` has no lock: a root path that makes an odd default lock path does not stop it.
    const ops = runSettingsOf({ 'zk-cluster': 'zk1:2181', 'zk-root-path': '/open mldb', 'openmldb-bin': BIN, 'command-timeout': 30 } as SettingsArgs, NO_ENV, []);
    assert.equal(ops.lock.pathGiven, false);
    assert.throws(() => runSettingsOf(recoverArgs({ 'zk-root-path': '/open mldb' }), NO_ENV, []), /--lock-path must be an absolute ZooKeeper path/);
    assert.throws(() => runSettingsOf({ 'zk-cluster': 'zk1:2181', 'openmldb-bin': BIN, 'command-timeout': 30, 'lock-path': '/x' } as SettingsArgs, NO_ENV, []), /--lock-path must have a parent node/);
  });

  it('only the command modules and settings.ts read options; nothing outside the command layer imports yargs', () => {
    const files = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const imports = (file: string) => ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true).importedFiles.map((f) => f.fileName);
    const tool = files('src').filter((f) => !f.startsWith(join('src', 'sim')) && !f.startsWith(join('src', 'chaos')));
    const yargsUsers = tool.filter((f) => imports(f).includes('yargs') && !f.startsWith(join('src', 'commands')) && !f.startsWith(join('src', 'cli')));
    assert.deepEqual(yargsUsers, []);
    // Below a handler the settings travel, never argv: a module of the command layer that
    // knows the options' types either declares commands (defineCommand) or is settings.ts.
    const readers = files(join('src', 'commands')).filter((f) => imports(f).some((m) => m === './options.js' || m === './args.js'));
    const notCommands = readers.filter((f) => !['settings.ts', 'options.ts', 'args.ts'].some((n) => f.endsWith(n)) && !readFileSync(join(ROOT, f), 'utf8').includes('defineCommand('));
    assert.deepEqual(notCommands, []);
    for (const below of ['procedure-command.ts', 'run-safety.ts', 'recording.ts', 'common.ts']) {
      assert.ok(!readers.some((f) => f.endsWith(below)), `${below} takes settings, not options`);
    }
  });
});
