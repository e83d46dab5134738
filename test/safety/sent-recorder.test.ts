// The journal's list of changing commands sent: kept in step with what the run sends, but
// written at most every quarter second (the first at once), not a fsynced rewrite per command.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandLog } from '../../src/cluster/transport.js';
import { type Journal, newJournal } from '../../src/engine/journal-content.js';
import { SentRecorder } from '../../src/commands/run-safety.js';

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const change = (log: CommandLog, i: number) =>
  log.add({ kind: 'http', role: 'tablet', target: '10.0.0.1:9527', command: 'TabletServer/LoadTable', request: `{"pid":${i}}`, startedAt: new Date().toISOString(), durationMs: 1, output: '{"code":0}' });

describe('the sent list in the journal', () => {
  it('a burst of changes: the first written at once, the rest together with the newest; reads never', async () => {
    const written: Journal[] = [];
    const rec = new SentRecorder((j) => void written.push(j));
    const log = new CommandLog();
    rec.wrote(newJournal('recover', { zkCluster: 'zk:2181', zkRootPath: '/openmldb' }, true, 'run-1'));
    rec.attach(log, 'run-1');
    log.add({ kind: 'http', role: 'ns', target: '10.0.0.1:7527', command: 'NameServer/ShowTable', request: '{}', startedAt: new Date().toISOString(), durationMs: 1, output: '{}' });
    change(log, 0);
    await until('the first write', () => written.length >= 1);
    assert.equal(written[0]?.sentTotal, 1, 'the first change written at once, the read not counted');
    for (let i = 1; i < 100; i++) {
      change(log, i);
      if (i % 10 === 0) await sleep(1);
    }
    await until('the trailing write', () => written.at(-1)?.sentTotal === 100);
    assert.ok(written.length <= 3, `a handful of writes for 100 changes, not one each (${written.length})`);
    assert.equal(written.at(-1)?.sent?.length, 50, 'the newest 50 kept');
    assert.match(written.at(-1)?.sent?.at(-1)?.command ?? '', /LoadTable/);
  });

  it('nothing is written once the journal is cleared', async () => {
    const written: Journal[] = [];
    const rec = new SentRecorder((j) => void written.push(j));
    const log = new CommandLog();
    rec.wrote(newJournal('recover', { zkCluster: 'zk:2181', zkRootPath: '/openmldb' }, true, 'run-2'));
    rec.attach(log, 'run-2');
    change(log, 0);
    change(log, 1);
    await until('the first write', () => written.length === 1);
    rec.cleared();
    change(log, 2);
    await sleep(400);
    assert.equal(written.length, 1);
  });

  it('settle writes what the timer held back at once (a run ending with its journal kept)', async () => {
    const written: Journal[] = [];
    const rec = new SentRecorder((j) => void written.push(j));
    const log = new CommandLog();
    rec.wrote(newJournal('recover', { zkCluster: 'zk:2181', zkRootPath: '/openmldb' }, true, 'run-3'));
    rec.attach(log, 'run-3');
    change(log, 0);
    await until('the first write', () => written.length === 1);
    change(log, 1);
    change(log, 2);
    await rec.settle();
    assert.equal(written.at(-1)?.sentTotal, 3, 'the newest list written before settle returned');
  });
});
