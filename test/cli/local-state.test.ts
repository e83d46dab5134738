// Local problems get one clear line and exit 2, change nothing, and leave nothing behind:
// a state directory that is a file, open to others or read-only; a full disk while the lock
// is written; a journal that is `null`, garbled, planted or a symlink; options out of range.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, after, before, describe, it } from 'node:test';
import { errorLines, report } from '../helpers/report.js';
import { type Sim, recoverCli, startSim, withSim } from '../helpers/sim.js';

const SECRET = 'root:$6$not-for-your-eyes';

describe('local state', { concurrency: 1 }, () => {
  let sim: Sim;
  let scratch: string;
  before(async () => {
    sim = await startSim(['--no-system-tables', '--scenario', 'healthy', '--tables', '1', '--partitions', '1']);
    scratch = mkdtempSync(join(tmpdir(), 'openmldb-recover-state-'));
  });
  after(async () => {
    await sim.down();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** A fresh state directory (mode 0700) named `name`. */
  const dir = (name: string) => {
    const d = join(scratch, name);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    return d;
  };
  const run = (stateDir: string, args: string[] = ['recover']) => recoverCli(sim, [...args, '--state-dir', stateDir]);
  const oneLine2 = async (stateDir: string, pattern: RegExp, args?: string[]) => {
    const r = await run(stateDir, args);
    assert.equal(r.code, 2, r.stderr);
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] ?? '', pattern);
    assert.ok(!/Cannot read properties|TypeError|EACCES:|ENOTDIR:/.test(r.stderr), 'no raw errno or crash text');
    return r;
  };

  it('a state directory that is a file, writable by others, or under /proc: exit 2, nothing changed; one others may only read (systemd\'s 0755) is used', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    await oneLine2(file, /state directory .* (not a directory|cannot be created)/);
    const open = dir('open');
    chmodSync(open, 0o775);
    await oneLine2(open, /writable by other users \(mode 775\): another user could plant or replace its lock and journal; chmod go-w it \(under systemd: StateDirectoryMode=0700 in the unit\)/);
    chmodSync(open, 0o757);
    await oneLine2(open, /writable by other users \(mode 757\)/);
    assert.deepEqual(await sim.mutations(), []);
    chmodSync(open, 0o755);
    const r = await run(open);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /result: 1 partition in 1 table: 1 healthy/);
    for (const f of readdirSync(open).filter((n) => n !== 'runs')) assert.equal(statSync(join(open, f)).mode & 0o077, 0, `${f} private`);
    await oneLine2('/proc/openmldb-recover', /state directory .* cannot be created/);
    assert.deepEqual(await sim.mutations(), []);
  });

  it('a journal that is null, garbled, planted with another owner\'s mode, or a symlink: exit 2, its content never echoed, the lock released', async () => {
    for (const [name, plant] of [
      ['null', (d: string, j: string) => writeFileSync(join(d, j), 'null', { mode: 0o600 })],
      ['garbled', (d: string, j: string) => writeFileSync(join(d, j), SECRET, { mode: 0o600 })],
      ['open', (d: string, j: string) => writeFileSync(join(d, j), JSON.stringify({ version: 1, runId: 'x', autoFailoverOriginal: false, resumedBy: [] }), { mode: 0o644 })],
      ['symlink', (d: string, j: string) => {
        writeFileSync(join(scratch, 'shadow'), SECRET, { mode: 0o600 });
        symlinkSync(join(scratch, 'shadow'), join(d, j));
      }],
    ] as const) {
      const d = dir(`journal-${name}`);
      // The file the tool reads for this cluster: a first run names it (id-*.key).
      const first = await run(d);
      assert.equal(first.code, 0, first.stderr);
      plant(d, `${clusterKeyIn(d)}.journal.json`);
      const r = await oneLine2(d, /run journal .*(not valid JSON|not one this tool wrote|open to other users|symlink)/);
      assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), `${name}: the content is not printed`);
      assert.ok(!readdirSync(d).some((f) => f.endsWith('.lock')), `${name}: the lock is released`);
    }
    assert.deepEqual((await sim.mutations()).filter((m) => m.method !== 'ConfSet'), []);
  });

  it('a lock path that is a symlink, a directory or a FIFO: exit 2 naming it, not "another run holds the lock" for ever', async () => {
    for (const [name, plant, what] of [
      ['symlink', (p: string) => symlinkSync(join(scratch, 'elsewhere'), p), 'a symlink'],
      ['directory', (p: string) => mkdirSync(p), 'a directory'],
      ['fifo', (p: string) => execFileSync('mkfifo', [p]), 'a FIFO'],
    ] as const) {
      const d = dir(`lock-${name}`);
      const first = await run(d);
      assert.equal(first.code, 0, first.stderr);
      // Each identifier of the cluster has its lock (id-*.lock, beside its id-*.key).
      const idLock = readdirSync(d).find((f) => /^id-[0-9a-f]+\.key$/.test(f))?.replace(/\.key$/, '.lock');
      assert.ok(idLock, 'the first run named the cluster');
      plant(join(d, idLock));
      await oneLine2(d, new RegExp(`cluster lock \\S+ is ${what}, not a lock this tool wrote: no run holds it; remove it`));
    }
    assert.deepEqual((await sim.mutations()).filter((m) => m.method !== 'ConfSet'), []);
  });

  /**
   * A 2 MiB tmpfs at `scratch/name` (room enough, once emptied, for a run's 1 MiB reserve:
   * safety/room.ts), unmounted after `fn`; the test is skipped where mounting is not allowed.
   */
  const onSmallDisk = async (t: TestContext, name: string, fn: (mnt: string) => Promise<void>) => {
    const mnt = join(scratch, name);
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2048k,mode=0700', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      t.skip('mounting a small tmpfs is not permitted on this machine');
      return;
    }
    try {
      await fn(mnt);
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    }
  };

  it('a full disk while the lock is written: exit 2, no empty lock left; once there is room, runs go on', (t) =>
    onSmallDisk(t, 'full', async (mnt) => {
      // Fill the disk to the last byte, then ask for the lock.
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=1k', 'count=4000'], { stdio: 'ignore' });
      } catch {
        // dd stops with "No space left on device": that is the point
      }
      const r = await oneLine2(mnt, /(cluster lock|state|record).*(ENOSPC|disk is full)/);
      assert.ok(!readdirSync(mnt).some((f) => f.endsWith('.lock')), 'no lock, empty or not');
      assert.equal(r.code, 2);
      rmSync(join(mnt, 'fill'));
      const again = await run(mnt);
      assert.equal(again.code, 0, again.stderr);
    }));

  it('a nearly full disk: exit 2 naming the file before any change; with room for the reserve, a recovery completes though the disk fills', (t) =>
    onSmallDisk(t, 'nearly-full', async (mnt) => {
    /** Fill the disk but `leaveKiB`. */
    const fill = (leaveKiB: number) => {
      rmSync(join(mnt, 'fill'), { force: true });
      execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'fill')}`, 'bs=1k', `count=${2048 - leaveKiB}`], { stdio: 'ignore' });
    };
      await withSim(['--no-system-tables', '--scenario', 'full-restart', '--tables', '4', '--partitions', '8', '--storage', 'memory', '--load-base-ms', '100'], async (broken) => {
        const state = join(mnt, 'state');
        mkdirSync(state, { mode: 0o700 });
        // Room for the lock and the key files, not for the journal and evidence to come.
        fill(600);
        const r = await recoverCli(broken, ['recover', '--state-dir', state]);
        assert.equal(r.code, 2, r.stderr);
        const lines = errorLines(r.stderr);
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0] ?? '', /the state directory has no room for this run's journal and evidence \(ENOSPC: the disk is full writing \S+\.reserve, 1024 KiB\): nothing was changed/);
        assert.deepEqual(await broken.mutations(), [], 'nothing sent, auto_failover untouched');
        assert.ok(!readdirSync(state).some((f) => f.endsWith('.lock') || f.endsWith('.reserve')), 'lock and reserve gone');
        // Room for the reserve: the run records fill the rest, and the journal and evidence
        // writes that meet the full disk take the reserved room back.
        fill(1100);
        const ok = await recoverCli(broken, ['recover', '--state-dir', state]);
        assert.equal(ok.code, 0, ok.stderr);
        // Whichever write met the full disk first: the record (which then stops), or the
        // journal or evidence (which take the reserved room back, and say so).
        assert.match(ok.stderr, /the run record \S+ could not be written \(ENOSPC|the state directory's disk is full \(writing \S+\): the room reserved for this run's journal and evidence is given back/, 'the disk did fill up');
        const check = await broken.check();
        assert.deepEqual(check.problems, []);
        assert.equal(check.entriesLost, 0);
        assert.deepEqual(readdirSync(state).filter((f) => !/^id-[0-9a-f]+\.key$/.test(f) && f !== 'runs'), [], 'no lock, journal, evidence or reserve left');
        // A dead run left auto_failover off and its journal, and the disk has no room for a
        // reserve: the restore it owes needs none, and it is done.
        assert.match((await broken.ns('confset auto_failover false')).stdout, /set auto_failover ok/);
        const key = readFileSync(join(state, readdirSync(state).find((f) => /^id-[0-9a-f]+\.key$/.test(f)) ?? ''), 'utf8').trim();
        writeFileSync(join(state, `${key}.journal.json`), JSON.stringify({ version: 1, runId: 'dead', pid: 999999, host: 'ops-1', command: 'openmldb-recover recover', cluster: { zkCluster: broken.info.zkCluster, zkRootPath: broken.info.zkRootPath }, startedAt: '2026-12-07T00:00:00Z', autoFailoverOriginal: true, autoFailoverSet: false, resumedBy: [] }), { mode: 0o600 });
        fill(600);
        const owed = await recoverCli(broken, ['recover', '--state-dir', state]);
        assert.match(owed.stderr, /no room for this run's journal and evidence .*; an earlier run left auto_failover off, so this run goes on to put it back/);
        assert.equal((await broken.ctl<{ autoFailover: boolean }>('state')).autoFailover, true, `the owed restore was done: ${owed.stderr.slice(-800)}`);
      });
    }));

  it('options out of range: --command-timeout too long for a timer, a port above 65535, an unknown failover action', async () => {
    const d = dir('options');
    await oneLine2(d, /--command-timeout must be at most 2147483 seconds/, ['recover', '--command-timeout', '3000000']);
    await oneLine2(d, /--load-timeout must be at most/, ['recover', '--load-timeout', '9999999']);
    const port = await recoverCli(sim, ['status', '--zk_cluster=h:99999']);
    assert.equal(port.code, 2);
    assert.match(errorLines(port.stderr)[0] ?? '', /port must be 1-65535/);
    const maybe = await recoverCli(sim, ['failover', 'maybe', '--json']);
    assert.equal(maybe.code, 2);
    assert.match(errorLines(maybe.stderr)[0] ?? '', /Invalid values: Argument: action, Given: "maybe", Choices: "status", "on", "off"/);
    const rep = report(maybe);
    assert.deepEqual([rep.exitCode, rep.stoppedIn, rep.ok], [2, 'usage', false], 'with --json, a report too');
  });

  it('numbers out of range, a control character in the user, a password file or config open to others: exit 2 before the lock', async () => {
    const d = dir('before-lock');
    await oneLine2(d, /--retries must be a whole number from 0 to 100 \(got 1000000000\)/, ['recover', '--retries', '1e9']);
    await oneLine2(d, /--lock-session-timeout must be a positive number of seconds \(got -1\)/, ['recover', '--lock', 'local', '--lock-session-timeout', '-1']);
    await oneLine2(d, /--leader-wait must be a positive number of seconds \(got -1\)/, ['recover', '--leader-wait', '-1']);
    await oneLine2(d, /--lock-session-timeout must be/, ['failover', 'off', '--lock', 'local', '--lock-session-timeout', '0']);
    // None of them took a lock or named the cluster (the state directory is as created).
    assert.deepEqual(readdirSync(d).filter((f) => f !== 'runs'), []);
    for (const user of ['root\r', 'ro\not']) {
      const r = await recoverCli(sim, ['recover', '--state-dir', d], { OPENMLDB_USER: user });
      assert.equal(r.code, 2, r.stderr);
      assert.match(errorLines(r.stderr)[0] ?? '', /the user \(--user or OPENMLDB_USER\) holds (a carriage return|a line break)/);
    }
    const pw = join(scratch, 'pw');
    writeFileSync(pw, 'pw-in-a-file\n', { mode: 0o644 });
    chmodSync(pw, 0o644);
    const open = await oneLine2(d, /--password-file \S+ is open to other users \(mode 644\), and it holds a password: chmod 600 it/, ['recover', '--password-file', pw]);
    assert.ok(!open.stderr.includes('pw-in-a-file'));
    chmodSync(pw, 0o600);
    const cfg = join(scratch, 'site.json');
    writeFileSync(cfg, JSON.stringify({ password: 'pw-in-a-config' }), { mode: 0o644 });
    chmodSync(cfg, 0o644);
    await oneLine2(d, /--config \S+ is open to other users \(mode 644\), and it holds a password: chmod 600 it/, ['recover', '--config', cfg]);
    // Open to others without a password is fine; closed, the password is used.
    writeFileSync(cfg, JSON.stringify({ 'leader-wait': 5 }));
    chmodSync(cfg, 0o644);
    assert.equal((await run(d, ['recover', '--config', cfg])).code, 0);
    assert.equal((await run(d, ['recover', '--password-file', pw])).code, 0);
    assert.deepEqual((await sim.mutations()).filter((m) => m.method !== 'ConfSet'), []);
  });
});

/** The key a state directory's files for the (only) cluster are named by. */
function clusterKeyIn(d: string): string {
  const keys = new Set(readdirSync(d).filter((f) => /^id-[0-9a-f]+\.key$/.test(f)).map((f) => readFileSync(join(d, f), 'utf8').trim()));
  assert.equal(keys.size, 1, 'the first run named the cluster once, under every identifier');
  return [...keys][0] as string;
}
