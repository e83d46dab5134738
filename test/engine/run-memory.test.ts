// The run's memory writes what changed, a table at a time: a write costs the tables that
// changed since the last one, never the whole record (at 8000 partitions that was most of
// the tool's CPU, and past ZooKeeper's node limit).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type EvidenceFile, RunMemory, partitionKey, evidenceTable, mergeEvidence, splitEvidence } from '../../src/engine/run-memory.js';

/** A store that keeps tables as a real one does, and remembers each write's tables. */
function recordingStore(initial?: EvidenceFile) {
  const tables = initial ? splitEvidence(structuredClone(initial)) : new Map<string, EvidenceFile>();
  const writes: string[][] = [];
  let failNext = false;
  return {
    writes,
    tables,
    failOnce: () => (failNext = true),
    store: {
      read: () => mergeEvidence(structuredClone([...tables.values()])),
      write: (changed: ReadonlyMap<string, EvidenceFile>) => {
        if (failNext) {
          failNext = false;
          throw new Error('ENOSPC');
        }
        writes.push([...changed.keys()].sort());
        for (const [t, f] of changed) {
          if (Object.keys(f.partitions).length === 0) tables.delete(t);
          else tables.set(t, JSON.parse(JSON.stringify(f)) as EvidenceFile);
        }
      },
    },
  };
}

const load = { mode: 'kTableFollower', storageMode: 'kMemory' } as const;

describe('RunMemory: written a table at a time', () => {
  it('a partition key names its table, whatever dots the names hold', () => {
    assert.equal(evidenceTable(partitionKey('db.x', 't:1', 7)), 'db.x.t:1');
    assert.equal(evidenceTable(partitionKey('demo_db', 't0', 0)), 'demo_db.t0');
  });

  it('each save writes only the tables changed since the last one, each whole', async () => {
    const s = recordingStore();
    const m = new RunMemory(s.store);
    m.noteLoadSent(partitionKey('db', 'a', 0), 'ep1', load);
    m.noteLoadSent(partitionKey('db', 'a', 1), 'ep1', load);
    m.noteLoadSent(partitionKey('db', 'b', 0), 'ep2', load);
    await m.save();
    assert.deepEqual(s.writes, [['db.a', 'db.b']]);
    m.noteLoadSeen(partitionKey('db', 'a', 1), 'ep1');
    await m.save();
    assert.deepEqual(s.writes.at(-1), ['db.a'], 'table b did not change: not written again');
    // Table a's record is whole: both its partitions, the second one seen.
    assert.deepEqual(Object.keys(s.tables.get('db.a')?.partitions ?? {}).sort(), ['db.a:0', 'db.a:1']);
    assert.equal(s.tables.get('db.a')?.partitions['db.a:1']?.replicas['ep1']?.load?.seen, true);
    // Nothing changed: nothing written.
    await m.save();
    assert.equal(s.writes.length, 2);
  });

  it('a table whose partitions are all forgotten is written empty (the store removes it); the others stay', async () => {
    const s = recordingStore();
    const m = new RunMemory(s.store);
    m.noteLoadSent(partitionKey('db', 'a', 0), 'ep1', load);
    m.noteLoadSent(partitionKey('db', 'b', 0), 'ep1', load);
    await m.save();
    m.forget([partitionKey('db', 'a', 0)]);
    await m.save();
    assert.deepEqual(s.writes.at(-1), ['db.a']);
    assert.deepEqual([...s.tables.keys()], ['db.b']);
    assert.deepEqual(new RunMemory(s.store).keys(), ['db.b:0'], 'a later run reads what is left');
  });

  it('a record read back is indexed by table: a change to it rewrites that table whole', async () => {
    const first = recordingStore();
    const m = new RunMemory(first.store);
    m.noteLoadSent(partitionKey('db', 'a', 0), 'ep1', load);
    m.noteLoadSent(partitionKey('db', 'a', 1), 'ep1', load);
    await m.save();
    const s = recordingStore(mergeEvidence(first.tables.values()));
    const again = new RunMemory(s.store);
    again.noteUnreadable(partitionKey('db', 'a', 0), 'ep1', 'load failed');
    await again.save();
    assert.deepEqual(Object.keys(s.tables.get('db.a')?.partitions ?? {}).sort(), ['db.a:0', 'db.a:1'], 'the partition not touched this run is kept in the rewrite');
  });

  it('a failed write leaves its tables to write with the next save', async () => {
    const s = recordingStore();
    const m = new RunMemory(s.store);
    m.noteLoadSent(partitionKey('db', 'a', 0), 'ep1', load);
    s.failOnce();
    await assert.rejects(m.save(), /ENOSPC/);
    m.noteLoadSent(partitionKey('db', 'b', 0), 'ep1', load);
    await m.save();
    assert.deepEqual(s.writes, [['db.a', 'db.b']]);
  });
});
