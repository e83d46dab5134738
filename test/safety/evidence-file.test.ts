// The evidence record in the state directory: a log a save appends the changed tables to,
// read back with the last record of each table winning; rewritten when it has grown well
// past what it holds; gone when nothing is left; an older build's single file moved in.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type EvidenceFile, RunMemory, partitionKey } from '../../src/engine/run-memory.js';
import { evidencePaths, evidenceStore } from '../../src/safety/evidence-file.js';

const root = mkdtempSync(join(tmpdir(), 'evidence-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const stateDir = () => mkdtempSync(join(root, `s${n++}-`));
const load = { mode: 'kTableFollower', storageMode: 'kSSD' } as const;
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');

describe('evidence record: a log of table records', () => {
  it('a save appends one line of the tables it changed; read back whole; private; gone when all is forgotten', async () => {
    const dir = stateDir();
    const { log } = evidencePaths(dir, 'k1');
    const m = new RunMemory(evidenceStore(dir, 'k1'));
    m.noteLoadSent(partitionKey('demo_db', 't0', 0), '10.0.0.1:9527', load);
    m.noteLoadSent(partitionKey('demo_db', 't0', 1), '10.0.0.1:9527', load);
    m.noteLoadSent(partitionKey('other', 't1', 0), '10.0.0.2:9527', load);
    await m.save();
    m.noteLoadSeen(partitionKey('demo_db', 't0', 1), '10.0.0.1:9527');
    await m.save();
    assert.equal(statSync(log).mode & 0o777, 0o600);
    assert.deepEqual(lines(log).map((l) => Object.keys(JSON.parse(l) as object)), [['demo_db.t0', 'other.t1'], ['demo_db.t0']], 'the second save wrote only the table it changed');
    const again = new RunMemory(evidenceStore(dir, 'k1'));
    assert.deepEqual(again.keys().sort(), ['demo_db.t0:0', 'demo_db.t0:1', 'other.t1:0']);
    assert.equal(again.partition('demo_db.t0:1')['10.0.0.1:9527']?.load?.seen, true, 'the last record of a table wins');
    assert.equal(lines(log).length, 1, 'a run starts from one line holding what it found');
    again.forget(['demo_db.t0:0', 'demo_db.t0:1']);
    await again.save();
    assert.deepEqual(JSON.parse(lines(log).at(-1) ?? ''), { 'demo_db.t0': null }, 'a table with nothing left is written as gone');
    assert.deepEqual(new RunMemory(evidenceStore(dir, 'k1', true)).keys(), ['other.t1:0']);
    again.forget(['other.t1:0']);
    await again.save();
    assert.equal(existsSync(log), false, 'nothing to remember: no file');
  });

  it('a last line cut short (the run died appending it) is dropped; a bad line before the last is refused, naming the file', async () => {
    const dir = stateDir();
    const { log } = evidencePaths(dir, 'k2');
    const m = new RunMemory(evidenceStore(dir, 'k2'));
    m.noteLoadSent(partitionKey('db', 't', 0), 'a:1', load);
    await m.save();
    appendFileSync(log, '{"db.t":{"db.t:0":{"since":1,"repl');
    assert.equal(new RunMemory(evidenceStore(dir, 'k2', true)).partition('db.t:0')['a:1']?.load?.mode, 'kTableFollower');
    appendFileSync(log, '\n{"db.u":null}\n');
    assert.throws(() => new RunMemory(evidenceStore(dir, 'k2', true)), /the evidence record \S+k2\.evidence\.jsonl is not one this tool wrote \(line 2 is not JSON\): check it, then delete it/);
  });

  it('rewritten as one line once it holds far more than what it describes', async () => {
    const dir = stateDir();
    const { log } = evidencePaths(dir, 'k3');
    const m = new RunMemory(evidenceStore(dir, 'k3', false, 16 * 1024));
    // One small table noted over and over: the log grows, what it describes does not.
    let rewritten = false;
    for (let i = 0; i < 20000 && !rewritten; i++) {
      m.noteStuck(partitionKey('db', 't', 0), 'a:1', { offset: i, target: i + 1 });
      await m.save();
      rewritten = lines(log).length === 1 && i > 0;
    }
    assert.ok(rewritten, 'the log was rewritten');
    assert.ok(statSync(log).size < 4096, `rewritten small (${statSync(log).size} bytes)`);
    assert.ok((new RunMemory(evidenceStore(dir, 'k3', true)).partition('db.t:0')['a:1']?.stuck?.offset ?? -1) > 0, 'holding the newest record');
  });

  it("an older build's single file is read, moved into the log by a run, and left alone by a read-only look", () => {
    const dir = stateDir();
    const { log, legacy } = evidencePaths(dir, 'k4');
    const old: EvidenceFile = {
      version: 1,
      partitions: {
        'demo_db.t0:0': { since: 1, replicas: { 'a:1': { snapshot: { term: 3, offset: 40 } } } },
        'demo_db.t1:2': { since: 1, replicas: { 'b:1': { unreadable: { reason: 'load failed', at: 2 } } } },
      },
    };
    writeFileSync(legacy, JSON.stringify(old), { mode: 0o600 });
    const look = new RunMemory(evidenceStore(dir, 'k4', true));
    assert.deepEqual(look.keys().sort(), ['demo_db.t0:0', 'demo_db.t1:2']);
    assert.ok(existsSync(legacy) && !existsSync(log), 'a read-only look changes nothing');
    const run = new RunMemory(evidenceStore(dir, 'k4'));
    assert.deepEqual(run.partition('demo_db.t0:0')['a:1']?.snapshot, { term: 3, offset: 40 });
    assert.equal(existsSync(legacy), false, 'moved');
    assert.deepEqual(new RunMemory(evidenceStore(dir, 'k4')).keys().sort(), ['demo_db.t0:0', 'demo_db.t1:2'], 'the same record, from the log');
  });

  it('a save that fails is written whole by the next: a table removed in it stays removed', async () => {
    const dir = stateDir();
    const { log } = evidencePaths(dir, 'k5');
    const m = new RunMemory(evidenceStore(dir, 'k5'));
    m.noteLoadSent(partitionKey('db', 'a', 0), 'a:1', load);
    m.noteLoadSent(partitionKey('db', 'b', 0), 'a:1', load);
    await m.save();
    // The log cannot be opened for the next save (a directory stands in its place).
    renameSync(log, `${log}.aside`);
    mkdirSync(log);
    m.forget(['db.a:0']);
    await assert.rejects(m.save(), /EISDIR/);
    rmdirSync(log);
    renameSync(`${log}.aside`, log);
    m.noteLoadSeen(partitionKey('db', 'b', 0), 'a:1');
    await m.save();
    assert.deepEqual(new RunMemory(evidenceStore(dir, 'k5', true)).keys(), ['db.b:0'], 'the removal was written with the next save');
  });

  it('a record of several megabytes (thousands of partitions) reads back: the evidence log is not held to the other state files\' 4 MB', () => {
    const dir = stateDir();
    const { log } = evidencePaths(dir, 'k6');
    const partitions: Record<string, unknown> = {};
    for (let i = 0; i < 24000; i++) partitions[`db.t${i % 1500}:${i}`] = { since: 1, replicas: { '10.0.0.1:9527': { snapshot: { term: 3, offset: 123456 } }, '10.0.0.2:9527': { snapshot: { term: 3, offset: 123400 } }, '10.0.0.3:9527': { found: { isLeader: false, isAlive: true } } } };
    const tables: Record<string, Record<string, unknown>> = {};
    for (const [k, v] of Object.entries(partitions)) (tables[k.slice(0, k.lastIndexOf(':'))] ??= {})[k] = v;
    writeFileSync(log, `${JSON.stringify(tables)}\n`, { mode: 0o600 });
    assert.ok(statSync(log).size > 4 * 1024 * 1024, `${statSync(log).size} bytes`);
    assert.equal(new RunMemory(evidenceStore(dir, "k6", true)).keys().length, 24000);
  });
});
