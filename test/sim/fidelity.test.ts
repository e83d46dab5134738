// Where OpenMLDB can lose or hide data, the simulator must do the same (each case cites
// the OpenMLDB source it follows in src/sim): what the nameserver remembers after a
// restart, what a loading or freshly loaded partition reports, what a repeated or failed
// load does to the disk, what a leader change writes into the metadata.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Sim, startSim } from '../helpers/sim.js';

type Json = Record<string, unknown>;
interface Meta { endpoint: string; is_leader: boolean; is_alive: boolean; offset?: number; tablet_has_partition?: boolean }
interface Part { pid: number; partition_meta: Meta[]; term_offset: Array<{ term: number; offset: number }> }
interface TableInfo { name: string; tid: number; db: string; storage_mode?: string; table_partition: Part[] }
interface Disk { tid: number; pid: number; binlogOffset: number; snapshotOffset: number; snapshotTerm: number; metaTerm: number; oldData?: boolean }
interface State {
  tablets: Array<{ endpoint: string; address: string; disk: Disk[]; recycle: Array<{ key: string; reason: string; end: number }>; loaded: Array<{ tid: number; pid: number; state: string; offset: number; term: number }>; pendingLoads: { queued: string[]; running: string[] } }>;
  tables: Array<{ tid: number; db: string; name: string; partitions: Array<{ pid: number; replicas: Meta[] }> }>;
}

const DB = 'demo_db';

async function tableInfo(sim: Sim, name: string): Promise<TableInfo> {
  const info = ((await sim.rpc('ShowTable', { db: DB, name }))['table_info'] as TableInfo[])[0];
  if (!info) throw new Error(`no table ${name}`);
  return info;
}

const part = (t: TableInfo, pid: number) => t.table_partition.find((p) => p.pid === pid) as Part;
const state = (sim: Sim) => sim.ctl<State>('state');
const addressOf = (s: State, ep: string) => s.tablets.find((t) => t.endpoint === ep)?.address ?? ep;
const diskOf = (s: State, ep: string, tid: number, pid: number) => s.tablets.find((t) => t.endpoint === ep)?.disk.find((d) => d.tid === tid && d.pid === pid);
const loadedOn = (s: State, ep: string, tid: number, pid: number) => s.tablets.find((t) => t.endpoint === ep)?.loaded.find((l) => l.tid === tid && l.pid === pid);

function load(sim: Sim, s: State, ep: string, t: TableInfo, pid: number, mode: 'kTableLeader' | 'kTableFollower'): Promise<Json> {
  return sim.tabletRpc(addressOf(s, ep), 'LoadTable', { table_meta: { name: t.name, tid: t.tid, pid, seg_cnt: 8, storage_mode: t.storage_mode ?? 'kMemory', mode } });
}

async function loaded(sim: Sim, ep: string, tid: number, pid: number): Promise<void> {
  await sim.waitFor(`${tid}/${pid} on ${ep} serving`, async () => loadedOn(await state(sim), ep, tid, pid)?.state === 'kTableNormal');
}

async function opsOf(sim: Sim, name: string, pid: number): Promise<Array<{ op_id: number; op_type: string; status: string; task_type: string }>> {
  return ((await sim.rpc('ShowOPStatus', { db: DB, name, pid }))['op_status'] as Array<{ op_id: number; op_type: string; status: string; task_type: string }> | undefined) ?? [];
}

async function opsSettled(sim: Sim, name: string, pid: number) {
  return sim.waitFor(`ops of ${name}:${pid}`, async () => {
    const ops = await opsOf(sim, name, pid);
    return ops.length > 0 && ops.every((o) => o.status !== 'kInited' && o.status !== 'kDoing') ? ops : undefined;
  });
}

describe('the nameserver remembers only what it wrote to ZooKeeper', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--scenario', 'healthy', '--tables', '2', '--partitions', '2', '--storage', 'memory', '--no-system-tables', '--seed', '7']);
  });
  after(() => sim.down());

  it('polled offsets live in memory only: a restart brings back the last persisted ones', async () => {
    await sim.ctl('write', { table: `${DB}.t0`, entries: 50 });
    const polled = await sim.waitFor('the poll to see the writes', async () => {
      const s = await state(sim);
      const t = s.tables.find((x) => x.name === 't0');
      const truth = (ep: string, pid: number) => diskOf(s, ep, t?.tid ?? 0, pid)?.binlogOffset;
      return t && t.partitions.every((p) => p.replicas.every((r) => r.offset === truth(r.endpoint, p.pid))) ? t : undefined;
    });
    await sim.ctl('full-restart');
    const after = await sim.waitFor('a leader', async () => ((await sim.ctl<{ leader: string | null }>('state')).leader ? tableInfo(sim, 't0') : undefined));
    for (const p of polled.partitions) {
      for (const r of p.replicas) {
        const now = part(after, p.pid).partition_meta.find((m) => m.endpoint === r.endpoint);
        assert.ok(now?.offset === undefined || now.offset < (r.offset ?? 0), `pid ${p.pid} ${r.endpoint}: ${now?.offset} was persisted before the writes (polled ${r.offset})`);
      }
    }
  });

  it('a loading partition is polled at offset 0, and a metadata rewrite meanwhile persists that 0', async () => {
    await sim.rpc('ConfSet', { conf: { key: 'auto_failover', value: 'false' } });
    const t = await tableInfo(sim, 't1');
    const p = part(t, 0);
    const [a, b] = p.partition_meta as [Meta, Meta];
    const s = await state(sim);
    await sim.ctl('load', { table: `${DB}.t1`, pid: 0, endpoint: a.endpoint, extraMs: 60000 });
    assert.equal((await load(sim, s, a.endpoint, t, 0, 'kTableFollower'))['code'], 0);
    await sim.waitFor('the poll to record 0', async () => part(await tableInfo(sim, 't1'), 0).partition_meta.find((m) => m.endpoint === a.endpoint)?.offset === 0);
    assert.equal((await sim.rpc('UpdateTableAliveStatus', { db: DB, name: 't1', pid: 0, endpoint: b.endpoint, is_alive: false }))['code'], 0);
    // a new leader nameserver loads the node as written: 0 for the loading replica
    await sim.ctl('nameserver', { action: 'stop', endpoint: 'leader' });
    const reloaded = await sim.waitFor('the standby to lead', async () => ((await sim.ctl<{ leader: string | null }>('state')).leader ? tableInfo(sim, 't1') : undefined));
    assert.equal(part(reloaded, 0).partition_meta.find((m) => m.endpoint === a.endpoint)?.offset, 0);
  });
});

describe('tablets', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--scenario', 'full-restart', '--tables', '2', '--partitions', '2', '--storage', 'memory', '--no-system-tables', '--no-power-loss', '--no-auto-failover', '--seed', '3']);
  });
  after(() => sim.down());

  it('GetTermPair: the snapshot before a load, term 0 for a loaded follower, table_meta\'s term for a leader', async () => {
    const t = await tableInfo(sim, 't0');
    const [leader, follower] = part(t, 0).partition_meta as [Meta, Meta];
    let s = await state(sim);
    const pair = (ep: string) => sim.tabletRpc(addressOf(s, ep), 'GetTermPair', { tid: t.tid, pid: 0, storage_mode: 'kMemory' });
    const disk = diskOf(s, follower.endpoint, t.tid, 0) as Disk;
    const before = await pair(follower.endpoint);
    assert.equal(before['has_table'], false);
    assert.equal(before['offset'] ?? 0, disk.snapshotOffset, 'the snapshot offset, not the binlog tail');
    assert.equal(before['term'] ?? 0, disk.snapshotTerm);
    await load(sim, s, follower.endpoint, t, 0, 'kTableFollower');
    await load(sim, s, leader.endpoint, t, 0, 'kTableLeader');
    await loaded(sim, follower.endpoint, t.tid, 0);
    await loaded(sim, leader.endpoint, t.tid, 0);
    s = await state(sim);
    const f = await pair(follower.endpoint);
    assert.deepEqual([f['has_table'], f['term'], f['offset'], f['is_leader']], [true, 0, disk.binlogOffset, false]);
    const l = await pair(leader.endpoint);
    assert.deepEqual([l['has_table'], l['term'], l['is_leader']], [true, diskOf(s, leader.endpoint, t.tid, 0)?.metaTerm, true]);
  });

  it('ChangeRole: "table is leader" for a leader, ok "table is follower" for a follower; the stand-in binary says only ok or not', async () => {
    const t = await tableInfo(sim, 't0');
    const [leader, follower] = part(t, 0).partition_meta as [Meta, Meta];
    const s = await state(sim);
    const change = (ep: string, mode: string, term?: number) => sim.tabletRpc(addressOf(s, ep), 'ChangeRole', { tid: t.tid, pid: 0, mode, ...(term !== undefined ? { term } : {}) });
    assert.deepEqual(await change(leader.endpoint, 'kTableLeader', 9), { code: 102, msg: 'table is leader' });
    assert.deepEqual(await change(follower.endpoint, 'kTableFollower'), { code: 0, msg: 'table is follower' });
    assert.equal((await sim.tablet(addressOf(s, leader.endpoint), `changerole ${t.tid} 0 leader 9`)).stdout, 'Fail to change leader\n');
    assert.equal((await sim.tablet(addressOf(s, follower.endpoint), `changerole ${t.tid} 0 leader 9`)).stdout, 'ChangeRole ok\n');
    const pair = await sim.tabletRpc(addressOf(s, follower.endpoint), 'GetTermPair', { tid: t.tid, pid: 0, storage_mode: 'kMemory' });
    assert.deepEqual([pair['term'], pair['is_leader']], [9, true]);
    assert.equal((await sim.tablet(addressOf(s, follower.endpoint), `changerole ${t.tid} 0 follower`)).stdout, 'ChangeRole ok\n');
    assert.equal((await sim.tablet(addressOf(s, follower.endpoint), `changerole ${t.tid} 0 boss`)).stdout, 'role must be leader or follower\n');
  });

  it('a failed load deletes the table and moves its directory to the recycle bin; the next load finds nothing', async () => {
    const t = await tableInfo(sim, 't1');
    const r = part(t, 1).partition_meta[1] as Meta;
    let s = await state(sim);
    const had = diskOf(s, r.endpoint, t.tid, 1)?.binlogOffset ?? 0;
    assert.ok(had > 0);
    await sim.ctl('load', { table: `${DB}.t1`, pid: 1, endpoint: r.endpoint, failCount: 1 });
    assert.equal((await load(sim, s, r.endpoint, t, 1, 'kTableFollower'))['code'], 0);
    s = await sim.waitFor('the load to fail', async () => {
      const x = await state(sim);
      return x.tablets.find((tb) => tb.endpoint === r.endpoint)?.recycle.some((rc) => rc.key === `${t.tid}_1`) ? x : undefined;
    });
    assert.equal(loadedOn(s, r.endpoint, t.tid, 1), undefined, 'no trace in GetTableStatus');
    assert.equal(diskOf(s, r.endpoint, t.tid, 1), undefined, 'the partition directory left the data root');
    assert.deepEqual(s.tablets.find((tb) => tb.endpoint === r.endpoint)?.recycle.map((rc) => [rc.reason, rc.end]), [['load failed (snapshot or binlog recovery)', had]]);
    await load(sim, s, r.endpoint, t, 1, 'kTableFollower');
    await loaded(sim, r.endpoint, t.tid, 1);
    assert.equal(loadedOn(await state(sim), r.endpoint, t.tid, 1)?.offset, 0, 'loads an empty table');
  });

  it('recovertable of a loaded follower (term 0) drops and resends it; of an unloaded one keeps its snapshot', async () => {
    const t = await tableInfo(sim, 't0');
    const [leader, follower, third] = part(t, 1).partition_meta as [Meta, Meta, Meta];
    let s = await state(sim);
    for (const m of [leader, follower, third]) await sim.rpc('UpdateTableAliveStatus', { db: DB, name: 't0', pid: 1, endpoint: m.endpoint, is_alive: false });
    await load(sim, s, leader.endpoint, t, 1, 'kTableLeader');
    await load(sim, s, follower.endpoint, t, 1, 'kTableFollower');
    await loaded(sim, leader.endpoint, t.tid, 1);
    await loaded(sim, follower.endpoint, t.tid, 1);
    assert.equal((await sim.rpc('UpdateTableAliveStatus', { db: DB, name: 't0', pid: 1, endpoint: leader.endpoint, is_alive: true }))['code'], 0);
    assert.equal((await sim.rpc('RecoverTable', { db: DB, name: 't0', pid: 1, endpoint: follower.endpoint }))['code'], 0);
    assert.equal((await sim.rpc('RecoverTable', { db: DB, name: 't0', pid: 1, endpoint: third.endpoint }))['code'], 0);
    const ops = await opsSettled(sim, 't0', 1);
    const children = ops.filter((o) => o.op_type !== 'kRecoverTableOP').map((o) => o.op_type);
    assert.equal(children[0], 'kReAddReplicaWithDropOP', 'term 0 does not match the term history');
    assert.ok(['kReAddReplicaNoSendOP', 'kReAddReplicaOP'].includes(children[1] as string), children.join());
    s = await state(sim);
    assert.ok(s.tablets.find((tb) => tb.endpoint === follower.endpoint)?.recycle.some((rc) => rc.key === `${t.tid}_1` && rc.reason === 'DropTable'), 'the dropped copy is in the recycle bin');
  });
});

describe('leader changes', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--scenario', 'full-restart', '--tables', '1', '--partitions', '2', '--storage', 'memory', '--no-system-tables', '--no-power-loss', '--no-auto-failover', '--seed', '5']);
  });
  after(() => sim.down());

  it('kSelectLeader fails on a follower still loading (FollowOfNoOne: "table is loading")', async () => {
    const t = await tableInfo(sim, 't0');
    const [leader, f1] = part(t, 0).partition_meta as [Meta, Meta, Meta];
    const s = await state(sim);
    await sim.rpc('UpdateTableAliveStatus', { db: DB, name: 't0', pid: 0, endpoint: leader.endpoint, is_alive: false });
    await sim.ctl('load', { table: `${DB}.t0`, pid: 0, endpoint: f1.endpoint, extraMs: 60000 });
    await load(sim, s, f1.endpoint, t, 0, 'kTableFollower');
    assert.equal((await sim.rpc('ChangeLeader', { db: DB, name: 't0', pid: 0, candidate_leader: f1.endpoint }))['code'], 0);
    const ops = await opsSettled(sim, 't0', 0);
    assert.deepEqual(ops.map((o) => [o.op_type, o.status, o.task_type]), [['kChangeLeaderOP', 'kFailed', 'kSelectLeader']]);
  });

  it('kUpdateLeaderInfo: the new leader only gets is_leader; the term starts after the HIGHEST offset seen', async () => {
    const t = await tableInfo(sim, 't0');
    const [leader, f1, f2] = part(t, 1).partition_meta as [Meta, Meta, Meta];
    let s = await state(sim);
    await sim.rpc('UpdateTableAliveStatus', { db: DB, name: 't0', pid: 1, endpoint: leader.endpoint, is_alive: false });
    await load(sim, s, f1.endpoint, t, 1, 'kTableFollower');
    await load(sim, s, f2.endpoint, t, 1, 'kTableFollower');
    await loaded(sim, f1.endpoint, t.tid, 1);
    await loaded(sim, f2.endpoint, t.tid, 1);
    s = await state(sim);
    const offsets = [f1, f2].map((m) => loadedOn(s, m.endpoint, t.tid, 1)?.offset ?? -1);
    const low = offsets[0] as number <= (offsets[1] as number) ? f1 : f2;
    assert.equal((await sim.rpc('ChangeLeader', { db: DB, name: 't0', pid: 1, candidate_leader: low.endpoint }))['code'], 0);
    const ops = await opsSettled(sim, 't0', 1);
    assert.equal(ops.at(-1)?.status, 'kDone');
    const p = part(await tableInfo(sim, 't0'), 1);
    const m = (ep: string) => p.partition_meta.find((x) => x.endpoint === ep) as Meta;
    assert.deepEqual([m(low.endpoint).is_leader, m(low.endpoint).is_alive], [true, true]);
    assert.deepEqual([m(leader.endpoint).is_leader, m(leader.endpoint).is_alive], [true, false], 'the old leader keeps its flag');
    assert.equal(p.term_offset.at(-1)?.offset, Math.max(...offsets) + 1, 'the candidate was named, yet the term pair records the highest offset');
    assert.ok((p.term_offset.at(-1)?.term ?? 0) > (p.term_offset[0]?.term ?? 0));
  });
});

describe('disk tables', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--scenario', 'full-restart', '--tables', '2', '--partitions', '3', '--replicas', '1', '--tablets', '1', '--storage', 'disk', '--no-system-tables', '--no-power-loss', '--max-concurrent-loads', '1', '--seed', '2']);
  });
  after(() => sim.down());

  it('a repeated LoadTable is accepted while the first is queued; run after it finished, it leaves old_data and the replica cannot be loaded again', async () => {
    const t0 = await tableInfo(sim, 't0');
    const t1 = await tableInfo(sim, 't1');
    let s = await state(sim);
    const ep = s.tablets[0]?.endpoint as string;
    // Held 5 s: the two loads of t1 surely arrive while t0 holds the only load thread.
    await sim.ctl('load', { table: `${DB}.t0`, pid: 0, endpoint: ep, extraMs: 5000 });
    assert.equal((await load(sim, s, ep, t0, 0, 'kTableLeader'))['code'], 0, 'occupies the only load thread');
    assert.equal((await load(sim, s, ep, t1, 0, 'kTableLeader'))['code'], 0);
    assert.equal((await load(sim, s, ep, t1, 0, 'kTableLeader'))['code'], 0, 'not created yet: accepted again');
    s = await state(sim);
    assert.deepEqual(s.tablets[0]?.pendingLoads.queued, [`${t1.tid}_0`, `${t1.tid}_0`]);
    s = await sim.waitFor('both loads of t1 to run', async () => {
      const x = await state(sim);
      return x.tablets[0]?.pendingLoads.queued.length === 0 && x.tablets[0]?.pendingLoads.running.length === 0 ? x : undefined;
    });
    assert.equal(loadedOn(s, ep, t1.tid, 0)?.state, 'kTableNormal', 'the first load serves');
    assert.equal(diskOf(s, ep, t1.tid, 0)?.oldData, true, 'the second moved data to old_data');
    await sim.ctl('tablet', { action: 'stop', endpoint: ep });
    await sim.ctl('tablet', { action: 'start', endpoint: ep, wait: true });
    s = await state(sim);
    assert.equal((await load(sim, s, ep, t1, 0, 'kTableLeader'))['code'], 0, 'accepted');
    await sim.waitFor('the load to end', async () => (await state(sim)).tablets[0]?.pendingLoads.running.length === 0);
    assert.equal(loadedOn(await state(sim), ep, t1.tid, 0), undefined, 'never becomes visible: Rename(data, old_data) fails');
  });

  it('a memory table exists at once, so a repeat is refused with 101', async () => {
    await sim.ctl('settle');
    const info = ((await sim.rpc('ShowTable', { db: DB }))['table_info'] as TableInfo[])[0] as TableInfo;
    const s = await state(sim);
    const ep = s.tablets[0]?.endpoint as string;
    const req = { table_meta: { name: 'mem', tid: info.tid + 100, pid: 0, seg_cnt: 8, storage_mode: 'kMemory', mode: 'kTableLeader' } };
    assert.equal((await sim.tabletRpc(addressOf(s, ep), 'LoadTable', req))['code'], 0);
    assert.deepEqual(await sim.tabletRpc(addressOf(s, ep), 'LoadTable', req), { code: 101, msg: 'table already exists' });
  });
});

describe('a snapshot carries its replicator\'s term (tablet_impl.cc MakeSnapshot)', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--scenario', 'healthy', '--tables', '1', '--partitions', '1', '--storage', 'memory', '--no-system-tables', '--seed', '3', '--make-snapshot-threshold-offset', '0']);
  });
  after(() => sim.down());

  it('a follower that took a newer leader\'s term at its first sync stamps its snapshot with that term, not its entries\'', async () => {
    const t = await tableInfo(sim, 't0');
    const p = part(t, 0);
    const [, b, c] = p.partition_meta.map((m) => m.endpoint) as [string, string, string];
    assert.match((await sim.ns('confset auto_failover false')).stdout, /set auto_failover ok/);
    assert.match((await sim.ns(`changeleader t0 0 ${b}`, DB)).stdout, /change leader ok/);
    await opsSettled(sim, 't0', 0);
    const newTerm = Math.max(...part(await tableInfo(sim, 't0'), 0).term_offset.map((x) => x.term));
    // C follows B now, in B's term, and has received nothing written in it.
    await sim.waitFor('C took the new term', async () => loadedOn(await state(sim), c, t.tid, 0)?.term === newTerm);
    const before = diskOf(await state(sim), c, t.tid, 0) as Disk;
    assert.match((await sim.tablet(addressOf(await state(sim), c), `makesnapshot ${t.tid} 0`)).stdout, /MakeSnapshot ok/);
    const after = await sim.waitFor('the snapshot written', async () => {
      const d = diskOf(await state(sim), c, t.tid, 0);
      return d && d.snapshotOffset === before.binlogOffset ? d : undefined;
    });
    assert.equal(after.snapshotTerm, newTerm, 'the MANIFEST takes the replicator\'s term');
    const s = await sim.ctl<{ tablets: Array<{ endpoint: string; disk: Array<{ tid: number; pid: number; log: Array<{ start: number; term: number }> }> }> }>('state');
    const segments = s.tablets.find((x) => x.endpoint === c)?.disk.find((d) => d.tid === t.tid && d.pid === 0)?.log ?? [];
    const entryTerm = [...segments].reverse().find((g) => g.start <= after.snapshotOffset)?.term;
    assert.ok(entryTerm !== undefined && entryTerm < newTerm, `the entry at the snapshot's offset is of the older term ${entryTerm}`);
  });
});

describe('a follower "in step" by offset can hold other entries (AppendEntries skips what lies at or below its offset)', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--scenario', 'healthy', '--tables', '1', '--partitions', '1', '--storage', 'memory', '--no-system-tables', '--seed', '4', '--auto-failover=false']);
  });
  after(() => sim.down());

  it('changeleader to a lagging follower: the other follower catches up to the same offset with the old leader\'s entries below it, and check says so', async () => {
    const t = await tableInfo(sim, 't0');
    const [a, b, c] = part(t, 0).partition_meta.map((m) => m.endpoint) as [string, string, string];
    // B misses writes that A replicates to C, then A dies.
    await sim.ctl('tablet', { action: 'stop', endpoint: b });
    await sim.ctl('write', { table: `${DB}.t0`, entries: 20 });
    const aDisk = () => state(sim).then((s) => diskOf(s, a, t.tid, 0) as Disk);
    await sim.waitFor('C has A\'s writes', async () => (diskOf(await state(sim), c, t.tid, 0) as Disk).binlogOffset === (await aDisk()).binlogOffset);
    await sim.ctl('tablet', { action: 'stop', endpoint: a });
    await sim.ctl('tablet', { action: 'start', endpoint: b, wait: true });
    assert.match((await sim.tablet(b, `loadtable t0 ${t.tid} 0 144000 8 false`)).stdout, /LoadTable ok/);
    await loaded(sim, b, t.tid, 0);
    // The operator makes the lagging B leader (auto_failover is off): C follows it.
    assert.match((await sim.ns(`changeleader t0 0 ${b}`, DB)).stdout, /change leader ok/);
    await opsSettled(sim, 't0', 0);
    await sim.ctl('write', { table: `${DB}.t0`, entries: 40 });
    await sim.waitFor('C at B\'s offset', async () => {
      const s = await state(sim);
      return loadedOn(s, c, t.tid, 0)?.offset === loadedOn(s, b, t.tid, 0)?.offset;
    });
    const check = await sim.check();
    assert.ok(check.problems.some((p) => new RegExp(`follower ${c.replace(/\./g, '\\.')} holds other entries than its leader from offset \\d+`).test(p)), check.problems.join('; '));
  });
});
