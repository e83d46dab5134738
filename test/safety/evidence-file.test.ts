// The evidence record in the state directory: a directory per cluster, a file per table,
// gone when nothing is left; an older build's single file is read and moved in.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type EvidenceFile, RunMemory, evidenceKey } from '../../src/engine/evidence.js';
import { evidencePaths, evidenceStore } from '../../src/safety/evidence-file.js';

const root = mkdtempSync(join(tmpdir(), 'evidence-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const stateDir = () => mkdtempSync(join(root, `s${n++}-`));
const load = { mode: 'kTableFollower', storageMode: 'kSSD' } as const;

describe('evidence record: a file per table', () => {
  it('written as files named for their tables, private, read back whole; removed with the directory when all is forgotten', async () => {
    const dir = stateDir();
    const m = new RunMemory(evidenceStore(dir, 'k1'));
    m.noteLoadSent(evidenceKey('demo_db', 't0', 0), '10.0.0.1:9527', load);
    m.noteLoadSent(evidenceKey('demo_db', 't0', 1), '10.0.0.1:9527', load);
    m.noteLoadSent(evidenceKey('other db', 'x/y', 0), '10.0.0.2:9527', load);
    await m.save();
    const { dir: edir } = evidencePaths(dir, 'k1');
    assert.deepEqual(readdirSync(edir).sort(), ['demo_db.t0.json', 'other%20db.x%2Fy.json']);
    assert.equal(statSync(edir).mode & 0o777, 0o700);
    for (const f of readdirSync(edir)) assert.equal(statSync(join(edir, f)).mode & 0o777, 0o600, f);
    const again = new RunMemory(evidenceStore(dir, 'k1'));
    assert.deepEqual(again.keys().sort(), ['demo_db.t0:0', 'demo_db.t0:1', 'other db.x/y:0']);
    assert.equal(again.partition('demo_db.t0:1')['10.0.0.1:9527']?.load?.storageMode, 'kSSD');
    again.forget(['demo_db.t0:0', 'demo_db.t0:1']);
    await again.save();
    assert.deepEqual(readdirSync(edir), ['other%20db.x%2Fy.json']);
    again.forget(['other db.x/y:0']);
    await again.save();
    assert.equal(existsSync(edir), false, 'nothing to remember: no directory');
  });

  it("an older build's single file is read, moved into table files by a run, and left alone by a read-only look", () => {
    const dir = stateDir();
    const { dir: edir, legacy } = evidencePaths(dir, 'k2');
    const old: EvidenceFile = {
      version: 1,
      partitions: {
        'demo_db.t0:0': { since: 1, replicas: { 'a:1': { snapshot: { term: 3, offset: 40 } } } },
        'demo_db.t1:2': { since: 1, replicas: { 'b:1': { unreadable: { reason: 'load failed', at: 2 } } } },
      },
    };
    writeFileSync(legacy, JSON.stringify(old), { mode: 0o600 });
    const look = new RunMemory(evidenceStore(dir, 'k2', true));
    assert.deepEqual(look.keys().sort(), ['demo_db.t0:0', 'demo_db.t1:2']);
    assert.ok(existsSync(legacy) && !existsSync(edir), 'a read-only look changes nothing');
    const run = new RunMemory(evidenceStore(dir, 'k2'));
    assert.deepEqual(run.partition('demo_db.t0:0')['a:1']?.snapshot, { term: 3, offset: 40 });
    assert.equal(existsSync(legacy), false, 'moved');
    assert.deepEqual(readdirSync(edir).sort(), ['demo_db.t0.json', 'demo_db.t1.json']);
    assert.deepEqual(new RunMemory(evidenceStore(dir, 'k2')).keys().sort(), ['demo_db.t0:0', 'demo_db.t1:2'], 'the same record, from the table files');
  });

  it('a table file that is not the tool\'s is refused, naming it', () => {
    const dir = stateDir();
    const { dir: edir } = evidencePaths(dir, 'k3');
    const m = new RunMemory(evidenceStore(dir, 'k3'));
    m.noteLoadSent(evidenceKey('db', 't', 0), 'a:1', load);
    return m.save().then(() => {
      writeFileSync(join(edir, 'db.t.json'), '{"version":2}', { mode: 0o600 });
      assert.throws(() => new RunMemory(evidenceStore(dir, 'k3')), /the evidence record \S+db\.t\.json is not one this tool wrote: check it, then delete it/);
    });
  });
});
