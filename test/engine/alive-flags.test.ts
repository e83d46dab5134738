// Alive flags set a table and endpoint at a time where OpenMLDB allows it: one
// `updatetablealive TABLE * ENDPOINT` when every partition there whose flag differs asked for
// the same value, else one call per partition asked for; a partition that did not ask is
// never changed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ShowTableRow } from '../../src/cluster/client.js';
import { AliveFlags, NotAReplica } from '../../src/engine/alive-flags.js';

interface Call {
  pid: number | '*';
  endpoint: string;
  alive: boolean;
}

/** A table of `partitions` partitions, each with a replica on A and B, flags as given; calls change them. */
function fakeTable(partitions: number, alive = true) {
  const rows: Array<{ -readonly [K in keyof ShowTableRow]: ShowTableRow[K] }> = [];
  for (let pid = 0; pid < partitions; pid++) {
    for (const endpoint of ['A', 'B']) rows.push({ name: 't', tid: 1, pid, endpoint, role: endpoint === 'A' ? 'leader' : 'follower', isAlive: alive, offset: 0 } as ShowTableRow);
  }
  const calls: Call[] = [];
  let failReads = false;
  const cluster = {
    updateTableAlive: async (_db: string, _table: string, pid: number | '*', endpoint: string, value: boolean) => {
      calls.push({ pid, endpoint, alive: value });
      for (const r of rows) if (r.endpoint === endpoint && (pid === '*' || r.pid === pid)) r.isAlive = value;
      return 'update ok';
    },
  };
  const reads = {
    tableRows: async () => {
      if (failReads) throw new Error('the nameserver does not answer');
      return rows.map((r) => ({ ...r }));
    },
  };
  return { rows, calls, cluster, reads, failReads: () => (failReads = true) };
}

describe('AliveFlags', () => {
  it('every partition of the table on an endpoint asks: one call with *, sent without waiting out the gather time', async () => {
    const t = fakeTable(8);
    const flags = new AliveFlags(t.cluster, t.reads, { gatherMs: 60000 });
    const outcomes = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((pid) => flags.set({ db: 'd', table: 't', pid, endpoint: 'A', alive: false })));
    assert.deepEqual(outcomes, Array(8).fill('table'));
    assert.deepEqual(t.calls, [{ pid: '*', endpoint: 'A', alive: false }]);
    assert.ok(t.rows.filter((r) => r.endpoint === 'B').every((r) => r.isAlive), 'the other endpoint untouched');
  });

  it('a partition that did not ask keeps its flag: the others are set one by one', async () => {
    const t = fakeTable(4);
    const flags = new AliveFlags(t.cluster, t.reads, { gatherMs: 50 });
    const outcomes = await Promise.all([0, 2].map((pid) => flags.set({ db: 'd', table: 't', pid, endpoint: 'A', alive: false })));
    assert.deepEqual(outcomes, ['partition', 'partition']);
    assert.deepEqual(t.calls.map((c) => c.pid).sort(), [0, 2]);
    assert.deepEqual(t.rows.filter((r) => r.endpoint === 'A').map((r) => r.isAlive), [false, true, false, true]);
  });

  it('partitions already as asked count as asked: the rest go in one call with *', async () => {
    const t = fakeTable(4);
    for (const r of t.rows) if (r.endpoint === 'A' && r.pid < 2) r.isAlive = false;
    const flags = new AliveFlags(t.cluster, t.reads, { gatherMs: 50 });
    const outcomes = await Promise.all([0, 2, 3].map((pid) => flags.set({ db: 'd', table: 't', pid, endpoint: 'A', alive: false })));
    assert.deepEqual(outcomes, ['already', 'table', 'table']);
    // pid 1 did not ask, but its flag is already false: `*` changes nothing it did not want.
    assert.deepEqual(t.calls, [{ pid: '*', endpoint: 'A', alive: false }]);
  });

  it('a partition with no replica on that endpoint is refused; the others go on', async () => {
    const t = fakeTable(2);
    const flags = new AliveFlags(t.cluster, t.reads, { gatherMs: 50 });
    const [good, bad] = await Promise.allSettled([flags.set({ db: 'd', table: 't', pid: 0, endpoint: 'A', alive: false }), flags.set({ db: 'd', table: 't', pid: 9, endpoint: 'A', alive: false })]);
    assert.deepEqual(good, { status: 'fulfilled', value: 'partition' });
    assert.ok(bad?.status === 'rejected' && bad.reason instanceof NotAReplica, String(bad));
  });

  it('a table that cannot be read fails its asks after the gather time, without spinning on the read', async () => {
    const t = fakeTable(2);
    t.failReads();
    const flags = new AliveFlags(t.cluster, t.reads, { gatherMs: 50 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await assert.rejects(flags.set({ db: 'd', table: 't', pid: 0, endpoint: 'A', alive: false }), /does not answer/);
    clearInterval(timer);
    // Timers ran meanwhile: the event loop was never starved by retried reads.
    assert.ok(ticks >= 3, `${ticks} timer ticks`);
    assert.deepEqual(t.calls, []);
  });
});
