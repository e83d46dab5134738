// OpenMLDBClient end to end against the simulator (modern dialect, after a full restart).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OpenMLDBClient } from '../../src/cluster/client.js';
import { CommandError } from '../../src/cluster/errors.js';
import type { StorageMode } from '../../src/cluster/types.js';
import { type Sim, startSim } from '../helpers/sim.js';
import { clientFor, simState, type SimState } from './compare.js';

interface Target {
  db: string;
  name: string;
  tid: number;
  pid: number;
  endpoint: string;
  storageMode: StorageMode;
  segCnt: number;
}

/** The flagged leader of pid 0 of the first user table with this storage mode. */
function leaderOf(s: SimState, mode: (m: string) => boolean, pid = 0): Target {
  const t = s.tables.find((x) => x.db === 'demo_db' && mode(x.storageMode));
  assert.ok(t, 'table with that storage mode');
  const p = t.partitions.find((x) => x.pid === pid);
  const r = p?.replicas.find((x) => x.isLeader) ?? p?.replicas[0];
  assert.ok(r);
  return { db: t.db, name: t.name, tid: t.tid, pid, endpoint: r.endpoint, storageMode: t.storageMode as StorageMode, segCnt: t.segCnt };
}

async function waitLoaded(sim: Sim, client: OpenMLDBClient, t: Target): Promise<void> {
  await sim.waitFor(`${t.name}/${t.pid} loaded`, async () => {
    const rows = await client.getTableStatus(t.endpoint, t.tid, t.pid);
    return rows[0]?.state === 'kTableNormal';
  });
}

for (const transport of ['http', 'cli'] as const) describe(`OpenMLDBClient (--transport ${transport})`, () => {
  let sim: Sim;
  let client: OpenMLDBClient;
  let s: SimState;
  before(async () => {
    sim = await startSim(['--scenario', 'full-restart', '--tables', '3', '--partitions', '2', '--entries', '300']);
    client = clientFor(sim, { transport });
    s = await simState(sim);
  });
  after(async () => {
    await sim?.down();
  });

  it('reads: showns, showtablet, showdb, confget, showtable, tableInfo', async () => {
    const ns = await client.showNs();
    assert.equal(ns.leader, s.leader);
    const tablets = await client.showTablet();
    assert.deepEqual(tablets.map((t) => t.endpoint).sort(), s.tablets.map((t) => t.endpoint).sort());
    assert.deepEqual(await client.showDb(), ['demo_db']);
    assert.equal(await client.confGet(), s.autoFailover);
    const rows = await client.showTable('demo_db', 't0');
    const t0 = s.tables.find((t) => t.db === 'demo_db' && t.name === 't0');
    assert.ok(t0);
    assert.equal(rows.length, t0.partitions.reduce((n, p) => n + p.replicas.length, 0));
    assert.ok(rows.every((r) => r.name === 't0' && r.tid === t0.tid));
    const infos = await client.tableInfo('demo_db');
    assert.deepEqual(
      infos.map((i) => [i.name, i.tid, i.storageMode, i.segCnt]),
      s.tables.filter((t) => t.db === 'demo_db').map((t) => [t.name, t.tid, t.storageMode, t.segCnt]),
    );
    const internal = await client.showTable('__INTERNAL_DB');
    assert.deepEqual([...new Set(internal.map((r) => r.name))].sort(), ['JOB_INFO', 'PRE_AGG_META_INFO', 'USER']);
  });

  it('gettablestatus <tid> <pid> of an unloaded partition: the bogus default row is dropped', async () => {
    const t = leaderOf(s, (m) => m === 'kMemory', 1);
    assert.deepEqual(await client.getTableStatus(t.endpoint, t.tid, t.pid), []);
    const last = client.log.entries[client.log.entries.length - 1];
    if (transport === 'cli') assert.match(last?.output ?? '', /kTableUndefined/, 'the binary printed the v0.8.4+ bogus row');
    else assert.deepEqual(JSON.parse(last?.output ?? ''), { code: 0 }, 'GetTableStatus lists nothing');
    assert.deepEqual(await client.getTableStatus(t.endpoint), []);
  });

  it('GetTermPair of an unloaded partition gives its snapshot offset', async () => {
    const t = leaderOf(s, (m) => m === 'kMemory');
    const tp = await client.getTermPair(t.endpoint, t.tid, t.pid, t.storageMode);
    const disk = s.tablets.find((x) => x.endpoint === t.endpoint)?.disk.find((d) => d.tid === t.tid && d.pid === t.pid);
    assert.equal(tp.hasTable, false);
    assert.equal(tp.offset, disk?.snapshotOffset);
  });

  it(`loads a memory table (${transport === 'cli' ? 'through the binary' : 'over HTTP'}) and a disk table over HTTP; a second load is already-loaded`, async () => {
    const before = (await sim.mutations()).length;
    const mem = leaderOf(s, (m) => m === 'kMemory');
    const disk = leaderOf(s, (m) => m !== 'kMemory');
    const spec = (t: Target) => ({ name: t.name, tid: t.tid, pid: t.pid, segCnt: t.segCnt, storageMode: t.storageMode, mode: 'kTableLeader' as const });

    assert.equal(await client.loadTable(mem.endpoint, spec(mem)), 'started');
    const memEntry = client.log.entries[client.log.entries.length - 1];
    assert.equal(memEntry?.kind, transport);
    if (transport === 'cli') assert.match(memEntry?.command ?? '', new RegExp(`^loadtable ${mem.name} ${mem.tid} ${mem.pid} 144000 ${mem.segCnt} true$`));
    else assert.equal(memEntry?.command, 'TabletServer/LoadTable');

    assert.equal(await client.loadTable(disk.endpoint, spec(disk)), 'started');
    const diskEntry = client.log.entries[client.log.entries.length - 1];
    assert.equal(diskEntry?.kind, 'http');
    assert.equal(diskEntry?.command, 'TabletServer/LoadTable');

    const loads = (await sim.mutations(before)).filter((m) => m.method === 'LoadTable');
    assert.equal(loads.length, 2);
    const metas = loads.map((m) => (m.body as { table_meta: Record<string, unknown> }).table_meta);
    assert.equal(metas[0]?.['storage_mode'], transport === 'cli' ? undefined : 'kMemory', 'the CLI sends no storage mode');
    assert.equal(metas[0]?.['mode'], 'kTableLeader');
    assert.deepEqual(metas[1], { name: disk.name, tid: disk.tid, pid: disk.pid, seg_cnt: disk.segCnt, storage_mode: disk.storageMode, mode: 'kTableLeader' });

    await waitLoaded(sim, client, mem);
    await waitLoaded(sim, client, disk);
    const st = await simState(sim);
    for (const t of [mem, disk]) {
      const [row] = await client.getTableStatus(t.endpoint, t.tid, t.pid);
      const truth = st.tablets.find((x) => x.endpoint === t.endpoint)?.loaded.find((l) => l.tid === t.tid && l.pid === t.pid);
      assert.equal(row?.offset, truth?.offset);
      assert.equal(row?.mode, 'kTableLeader');
      const tp = await client.getTermPair(t.endpoint, t.tid, t.pid, t.storageMode);
      assert.equal(tp.hasTable, true);
      assert.equal(tp.isLeader, true);
      assert.equal(await client.loadTable(t.endpoint, spec(t)), 'already-loaded');
    }
    const all = await client.getTableStatus(mem.endpoint);
    assert.ok(all.some((r) => r.tid === mem.tid && r.pid === mem.pid));
  });

  it('a refused connection is a transient CommandError naming the endpoint (CLI and HTTP)', async () => {
    const t = leaderOf(s, (m) => m === 'kMemory', 1);
    const address = s.tablets.find((x) => x.endpoint === t.endpoint)?.address ?? '';
    // A read refused once or twice is tried again and answers (a dropped connection among
    // the hundreds of reads of a large look); refused every try (three), it fails.
    // (Over the binary, gettablestatus is the binary's own call, tried once.)
    if (client.mode === 'http') {
      await sim.ctl('fail', { method: 'GetTableStatus', kind: 'refused', count: 2 });
      assert.deepEqual(await client.getTableStatus(t.endpoint, t.tid, t.pid), []);
    }
    await sim.ctl('fail', { method: 'GetTableStatus', kind: 'refused', count: client.mode === 'http' ? 3 : 1 });
    await assert.rejects(client.getTableStatus(t.endpoint, t.tid, t.pid), (e: unknown) => {
      assert.ok(e instanceof CommandError, String(e));
      assert.equal(e.kind, 'rpc');
      assert.equal(e.transient, true);
      assert.equal(e.endpoint, address);
      // A closed kept-alive connection reads as reset, a new one as refused.
      assert.match(e.message, /Fail to connect|refused|reset/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
    // Over HTTP its tablet just failed every try: the next read there fails at once, not
    // after three (over the binary, that failure was the binary's: this read tries three).
    await sim.ctl('fail', { method: 'GetTermPair', kind: 'refused', count: client.mode === 'http' ? 1 : 3 });
    await assert.rejects(client.getTermPair(t.endpoint, t.tid, t.pid, t.storageMode), (e: unknown) => e instanceof CommandError && e.transient && e.kind === 'rpc');
    // Over HTTP the client's own read is tried three times; the binary's, once.
    await sim.ctl('fail', { method: 'ShowTablet', kind: 'refused', count: client.mode === 'http' ? 3 : 1 });
    await assert.rejects(client.showTablet(), (e: unknown) => e instanceof CommandError && e.transient && e.kind === 'rpc' && e.target.role === 'ns');
    // An ambiguous failure of a mutating call says it may have applied.
    await sim.ctl('fail', { method: 'LoadTable', kind: 'timeout', count: 1, delayMs: 50 });
    const disk = leaderOf(s, (m) => m !== 'kMemory', 1);
    await assert.rejects(
      client.loadTable(disk.endpoint, { name: disk.name, tid: disk.tid, pid: disk.pid, segCnt: disk.segCnt, storageMode: disk.storageMode, mode: 'kTableLeader' }),
      (e: unknown) => e instanceof CommandError && e.transient && e.mayHaveApplied,
    );
    // Everything answers again afterwards.
    assert.deepEqual(await client.getTableStatus(t.endpoint, t.tid, t.pid), []);
  });

  it('"nameserver is not leader" is transient and the next call finds the leader', async () => {
    await sim.ctl('fail', { method: 'ShowTable', kind: 'not-leader', count: 1 });
    await assert.rejects(client.tableInfo('demo_db'), (e: unknown) => e instanceof CommandError && e.kind === 'not_leader' && e.transient);
    const showns = () => client.log.entries.filter((e) => e.command === 'showns').length;
    const before = showns();
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => client.tableInfo('demo_db')));
    assert.ok(answers.every((a) => a.length > 0));
    assert.equal(showns() - before, 1, 'the calls waiting for the leader share one lookup');
  });

  it('refusals are permanent: auto_failover is enabled, table does not exist', async () => {
    const t = leaderOf(s, (m) => m === 'kMemory');
    assert.equal(await client.confGet(), true);
    await assert.rejects(client.updateTableAlive(t.db, t.name, '*', t.endpoint, false), (e: unknown) => {
      assert.ok(e instanceof CommandError);
      assert.equal(e.kind, 'auto_failover_enabled');
      assert.equal(e.transient, false);
      assert.equal(e.mayHaveApplied, false);
      assert.match(e.message, /confset auto_failover false/);
      return true;
    });
    assert.equal(await client.confSet(false), 'set auto_failover ok');
    assert.equal(await client.confGet(), false);
    try {
      await assert.rejects(client.recoverTable(t.db, 'no_such_table', 0, t.endpoint), (e: unknown) => e instanceof CommandError && e.kind === 'table_not_exist' && !e.transient);
      // The database is always passed: the same table name without it would not be found.
      assert.equal(await client.updateTableAlive(t.db, t.name, t.pid, t.endpoint, true), 'update ok');
      await assert.rejects(client.recoverTable(t.db, t.name, t.pid, t.endpoint), (e: unknown) => e instanceof CommandError && e.kind === 'table_alive');
    } finally {
      await client.confSet(true);
    }
  });

  it('showopstatus for one table of one database', async () => {
    const t = leaderOf(s, (m) => m === 'kMemory');
    const ops = await client.showOpStatus(t.db, t.name);
    assert.ok(ops.every((o) => o.db === t.db && o.table === t.name));
    const all = await client.showOpStatus();
    assert.ok(all.every((o) => o.db === undefined));
  });

  it('arguments the binary cannot take are rejected before running it', async () => {
    const n = client.log.entries.length;
    await assert.rejects(client.recoverTable('demo_db', 'a b', 0, 'x:1'), TypeError);
    await assert.rejects(client.showOpStatus(undefined, 't0'), TypeError);
    assert.equal(client.log.entries.length, n);
  });
});
