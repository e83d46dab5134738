// The cluster lock: exclusive, names its holder, and a dead holder's lock is taken over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LockHeld, acquireLock, lockPath } from '../../src/safety/lock.js';
import { newJournal } from '../../src/engine/journal-content.js';
import { clearJournal, readJournal, writeJournal, journalPath, JournalError } from '../../src/safety/journal.js';
import { clusterKey, defaultStateDir } from '../../src/safety/state-dir.js';

const dir = () => mkdtempSync(join(tmpdir(), 'openmldb-recover-state-'));

describe('lock', () => {
  it('is exclusive and says who holds it', () => {
    const path = lockPath(dir(), 'c1');
    const a = acquireLock(path, 'openmldb-recover recover', 'run-a');
    assert.throws(
      () => acquireLock(path, 'openmldb-recover recover-table', 'run-b'),
      (err: unknown) => err instanceof LockHeld && err.holder?.pid === process.pid && /pid \d+ on .*started .*openmldb-recover recover/.test(err.message),
    );
    a.release();
    const b = acquireLock(path, 'openmldb-recover recover-table', 'run-b');
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).runId, 'run-b');
    b.release();
    assert.equal(existsSync(path), false);
  });

  it('takes over the lock of a dead holder, and keeps one held on another host', async () => {
    const path = lockPath(dir(), 'c2');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid as number)));
    writeFileSync(path, JSON.stringify({ pid: deadPid, host: hostname(), startedAt: 'then', command: 'recover', runId: 'dead' }), { mode: 0o600 });
    const lock = acquireLock(path, 'recover', 'alive');
    assert.equal(lock.tookOverFrom?.runId, 'dead');
    lock.release();
    writeFileSync(path, JSON.stringify({ pid: deadPid, host: 'some-other-host', startedAt: 'then', command: 'recover', runId: 'remote' }), { mode: 0o600 });
    assert.throws(() => acquireLock(path, 'recover', 'mine'), LockHeld, 'a lock from another host is respected');
  });

  it('release leaves a lock that is not ours alone', () => {
    const path = lockPath(dir(), 'c3');
    const a = acquireLock(path, 'recover', 'a');
    writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: 'now', command: 'x', runId: 'other' }), { mode: 0o600 });
    a.release();
    assert.equal(existsSync(path), true);
  });
});

describe('journal', () => {
  it('round-trips, is replaced atomically, and is cleared', () => {
    const path = journalPath(dir(), 'c');
    assert.equal(readJournal(path), undefined);
    const j = newJournal('recover', { zkCluster: 'h:1', zkRootPath: '/r' }, true);
    writeJournal(path, j);
    assert.deepEqual(readJournal(path), j);
    writeJournal(path, { ...j, resumedBy: ['next'] });
    assert.deepEqual(readJournal(path)?.resumedBy, ['next']);
    clearJournal(path);
    assert.equal(readJournal(path), undefined);
  });

  it('refuses a garbled journal with advice', () => {
    const path = journalPath(dir(), 'g');
    writeFileSync(path, '{"half":');
    assert.throws(() => readJournal(path), (err: unknown) => err instanceof JournalError && /delete it/.test(err.message));
  });

  it('keys state by cluster; the default state dir follows XDG', () => {
    assert.equal(clusterKey('b:2,a:1', '/x'), clusterKey('a:1,b:2', '/x'));
    assert.notEqual(clusterKey('a:1', '/x'), clusterKey('a:1', '/y'));
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '/s' }), '/s/openmldb-recover');
    assert.match(defaultStateDir({}), /\.local\/state\/openmldb-recover$/);
  });
});
