// Nameserver and tablet behaviour over brpc HTTP+JSON: every refusal, in the real order,
// the op lifecycle, and what a full restart leaves behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Sim, startSim } from '../helpers/sim.js';

interface Replica { endpoint: string; is_leader: boolean; is_alive: boolean; offset?: number }
interface Partition { pid: number; partition_meta: Replica[] }
interface TableInfo { name: string; tid: number; db: string; storage_mode: string; seg_cnt: number; table_partition: Partition[] }
interface OpRow { op_id: number; op_type: string; status: string; pid: number; name: string; task_type: string }

describe('nameserver (full-restart scenario)', () => {
  let sim: Sim;
  let table: TableInfo;
  before(async () => {
    sim = await startSim(['--scenario', 'full-restart', '--tables', '2', '--partitions', '2', '--storage', 'memory', '--seed', '7']);
    const r = await sim.rpc('ShowTable', { db: 'demo_db', name: 't0' });
    table = (r['table_info'] as TableInfo[])[0] as TableInfo;
  });
  after(() => sim.down());

  const part = (pid: number) => table.table_partition.find((p) => p.pid === pid) as Partition;
  const leaderOf = (pid: number) => part(pid).partition_meta.find((r) => r.is_leader) as Replica;
  const followersOf = (pid: number) => part(pid).partition_meta.filter((r) => !r.is_leader);

  it('keeps the metadata after a full restart while no tablet has anything loaded', async () => {
    assert.equal(table.table_partition.length, 2);
    for (const p of table.table_partition) {
      assert.equal(p.partition_meta.length, 3);
      assert.ok(p.partition_meta.every((r) => r.is_alive === true), 'metadata still says alive');
    }
    for (const t of sim.info.tablets) {
      const status = await sim.tabletRpc(t.address, 'GetTableStatus', {});
      assert.equal(status['code'], 0);
      assert.equal(status['all_table_status'], undefined, `tablet ${t.endpoint} has nothing loaded`);
    }
  });

  it('hides the internal databases from ShowDatabase but knows them', async () => {
    const dbs = await sim.rpc('ShowDatabase', {});
    assert.deepEqual(dbs['db'], ['demo_db']);
    assert.equal((await sim.rpc('UseDatabase', { db: '__INTERNAL_DB' }))['code'], 0);
    assert.deepEqual(await sim.rpc('UseDatabase', { db: 'nope' }), { code: 802, msg: 'database not found' });
    const internal = await sim.rpc('ShowTable', { db: '__INTERNAL_DB' });
    assert.deepEqual((internal['table_info'] as TableInfo[]).map((t) => t.name), ['JOB_INFO', 'PRE_AGG_META_INFO', 'USER']);
  });

  it('refuses every manual command while auto_failover is on', async () => {
    assert.deepEqual(await sim.rpc('ConfGet'), { code: 0, msg: 'ok', conf: [{ key: 'auto_failover', value: 'true' }] });
    const ep = leaderOf(0).endpoint;
    const refused = { code: 301, msg: 'auto_failover is enabled' };
    assert.deepEqual(await sim.rpc('UpdateTableAliveStatus', { db: 'demo_db', name: 't0', endpoint: ep, is_alive: false }), refused);
    assert.deepEqual(await sim.rpc('RecoverTable', { db: 'demo_db', name: 't0', pid: 0, endpoint: ep }), refused);
    assert.deepEqual(await sim.rpc('ChangeLeader', { db: 'demo_db', name: 't0', pid: 0 }), refused);
    assert.deepEqual(await sim.rpc('OfflineEndpoint', { endpoint: ep }), refused);
    assert.deepEqual(await sim.rpc('RecoverEndpoint', { endpoint: ep }), refused);
    assert.deepEqual(await sim.rpc('CancelOP', { op_id: 1 }), refused);
    assert.equal((await sim.mutations()).filter((m) => m.code === 0).length, 0, 'nothing changed');
  });

  it('validates confset', async () => {
    assert.deepEqual(await sim.rpc('ConfSet', { conf: { key: 'auto_failover', value: 'maybe' } }), { code: 307, msg: 'invalid parameter' });
    assert.deepEqual(await sim.rpc('ConfSet', { conf: { key: 'foo', value: 'true' } }), { code: 307, msg: 'invalid parameter' });
    assert.deepEqual(await sim.rpc('ConfSet', { conf: { key: 'auto_failover', value: 'FALSE' } }), { code: 0, msg: 'ok' });
    assert.deepEqual(await sim.rpc('ConfGet'), { code: 0, msg: 'ok', conf: [{ key: 'auto_failover', value: 'false' }] });
  });

  it('answers "not leader" from a standby, and needs an Authorization header', async () => {
    const leader = await sim.leaderAddress();
    const standby = sim.info.nameservers.find((n) => n.address !== leader)?.address as string;
    assert.deepEqual(await sim.rpc('ShowTablet', {}, standby), { code: 300, msg: 'nameserver is not leader' });
    const res = await fetch(`http://${leader}/NameServer/ShowTablet`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 403);
    const full = await fetch(`http://${leader}/openmldb.nameserver.NameServer/ShowTablet`, { method: 'POST', headers: { Authorization: 'x' }, body: '{}' });
    assert.equal(((await full.json()) as { code: number }).code, 0, 'the full service name works too');
    const version = await fetch(`http://${leader}/version`);
    assert.match(await version.text(), /^0\.9\.3/);
  });

  it('refuses updatetablealive and recovertable with the real codes, in the real order', async () => {
    const ep = leaderOf(0).endpoint;
    assert.deepEqual(await sim.rpc('UpdateTableAliveStatus', { db: 'demo_db', name: 't0', endpoint: '127.0.0.1:1', is_alive: false }), { code: 302, msg: 'endpoint does not exist' });
    assert.deepEqual(await sim.rpc('UpdateTableAliveStatus', { db: 'demo_db', name: 'nope', endpoint: ep, is_alive: false }), { code: 100, msg: 'table does not exist' });
    assert.deepEqual(await sim.rpc('UpdateTableAliveStatus', { db: 'demo_db', name: 't0', endpoint: ep, pid: 9, is_alive: false }), { code: 321, msg: 'no pid has update' });
    assert.deepEqual(await sim.rpc('RecoverTable', { db: 'demo_db', name: 't0', pid: 0, endpoint: ep }), { code: 311, msg: 'table is alive, need not recover' });
    assert.deepEqual(await sim.rpc('RecoverTable', { db: 'demo_db', name: 't0', pid: 9, endpoint: ep }), { code: 308, msg: 'pid does not exist' });
    assert.deepEqual(await sim.rpc('RecoverTable', { db: 'demo_db', name: 'nope', pid: 0, endpoint: ep }), { code: 100, msg: 'table does not exist' });
    assert.deepEqual(await sim.rpc('ChangeLeader', { db: 'demo_db', name: 't0', pid: 0 }), { code: 309, msg: 'leader is alive' });
    assert.deepEqual(await sim.rpc('ChangeLeader', { db: 'demo_db', name: 't0', pid: 5 }), { code: 308, msg: 'pid does not exist' });
  });

  it('says "recover table ok" but creates no op when the partition has no alive leader', async () => {
    const before = ((await sim.rpc('ShowOPStatus', {}))['op_status'] as OpRow[] | undefined) ?? [];
    for (const r of part(1).partition_meta) {
      assert.deepEqual(await sim.rpc('UpdateTableAliveStatus', { db: 'demo_db', name: 't0', endpoint: r.endpoint, pid: 1, is_alive: false }), { code: 0, msg: 'ok' });
    }
    const follower = followersOf(1)[0] as Replica;
    assert.deepEqual(await sim.rpc('RecoverTable', { db: 'demo_db', name: 't0', pid: 1, endpoint: follower.endpoint }), { code: 0, msg: 'ok' });
    const afterOps = ((await sim.rpc('ShowOPStatus', {}))['op_status'] as OpRow[] | undefined) ?? [];
    assert.equal(afterOps.length, before.length, 'no op appeared');
  });

  it('loads a partition asynchronously and refuses a second load', async () => {
    const leader = leaderOf(0);
    const address = sim.info.tablets.find((t) => t.endpoint === leader.endpoint)?.address as string;
    const req = { table_meta: { name: 't0', tid: table.tid, pid: 0, seg_cnt: 8, storage_mode: 'kMemory', mode: 'kTableLeader' } };
    // Held 2 s, so the loading state is surely polled even on a loaded machine.
    await sim.ctl('load', { table: 'demo_db.t0', pid: 0, endpoint: leader.endpoint, extraMs: 2000 });
    assert.deepEqual(await sim.tabletRpc(address, 'LoadTable', req), { code: 0, msg: 'ok' });
    const seen = new Set<string>();
    const status = await sim.waitFor('kTableNormal', async () => {
      const s = await sim.tabletRpc(address, 'GetTableStatus', { tid: table.tid, pid: 0 });
      const row = (s['all_table_status'] as Array<{ state: string; mode: string; offset: number }> | undefined)?.[0];
      if (row) seen.add(row.state);
      return row?.state === 'kTableNormal' ? row : undefined;
    });
    await sim.ctl('clear-faults');
    assert.ok(seen.has('kTableLoading') || seen.has('kTableUndefined'), `went through loading (${[...seen]})`);
    assert.equal(status.mode, 'kTableLeader');
    assert.ok(status.offset >= (leader.offset ?? 0), 'loaded offset is the binlog tail, at least the stale metadata offset');
    assert.deepEqual(await sim.tabletRpc(address, 'LoadTable', req), { code: 101, msg: 'table already exists' });
    const pair = await sim.tabletRpc(address, 'GetTermPair', { tid: table.tid, pid: 0, storage_mode: 'kMemory' });
    assert.equal(pair['has_table'], true);
    assert.equal(pair['offset'], status.offset);
  });

  it('runs a recovertable op through its tasks and a child op, then marks the replica alive', async () => {
    const leader = leaderOf(0);
    for (const f of followersOf(0)) {
      assert.deepEqual(await sim.rpc('UpdateTableAliveStatus', { db: 'demo_db', name: 't0', endpoint: f.endpoint, pid: 0, is_alive: false }), { code: 0, msg: 'ok' });
    }
    const follower = followersOf(0)[0] as Replica;
    // Not loaded anywhere but the leader: GetTermPair reports the snapshot offset only.
    const fAddr = sim.info.tablets.find((t) => t.endpoint === follower.endpoint)?.address as string;
    const pair = await sim.tabletRpc(fAddr, 'GetTermPair', { tid: table.tid, pid: 0, storage_mode: 'kMemory' });
    assert.equal(pair['has_table'], false);
    // The follower's load is held for 3 s, so the child op is surely seen at work: a 40 ms task
    // alone can finish between two polls on a loaded machine.
    await sim.ctl('load', { table: 'demo_db.t0', pid: 0, endpoint: follower.endpoint, extraMs: 3000 });
    assert.deepEqual(await sim.rpc('RecoverTable', { db: 'demo_db', name: 't0', pid: 0, endpoint: follower.endpoint }), { code: 0, msg: 'ok' });
    const statuses = new Set<string>();
    const ops = await sim.waitFor('recover op and its child done', async () => {
      const rows = ((await sim.rpc('ShowOPStatus', { db: 'demo_db', name: 't0', pid: 0 }))['op_status'] as OpRow[] | undefined) ?? [];
      for (const r of rows) statuses.add(`${r.op_type}:${r.status}`);
      const done = rows.filter((r) => r.status === 'kDone');
      return done.length >= 2 && rows.every((r) => r.status === 'kDone') ? rows : undefined;
    });
    assert.equal(ops[0]?.op_type, 'kRecoverTableOP');
    assert.match(ops[1]?.op_type ?? '', /^kReAddReplica/);
    await sim.ctl('clear-faults');
    assert.ok([...statuses].some((s) => /^kReAddReplica\w*OP:(kDoing|kInited)$/.test(s)), `saw the child op before it finished: ${[...statuses]}`);
    const meta = ((await sim.rpc('ShowTable', { db: 'demo_db', name: 't0' }))['table_info'] as TableInfo[])[0] as TableInfo;
    const replica = meta.table_partition[0]?.partition_meta.find((r) => r.endpoint === follower.endpoint);
    assert.equal(replica?.is_alive, true);
    assert.equal(replica?.is_leader, false);
    const st = await sim.tabletRpc(fAddr, 'GetTableStatus', { tid: table.tid, pid: 0 });
    const row = (st['all_table_status'] as Array<{ mode: string; state: string }>)[0];
    assert.equal(row?.mode, 'kTableFollower');
    const leaderAddr = sim.info.tablets.find((t) => t.endpoint === leader.endpoint)?.address as string;
    const followers = await sim.tabletRpc(leaderAddr, 'GetTableFollower', { tid: table.tid, pid: 0 });
    assert.deepEqual((followers['follower_info'] as Array<{ endpoint: string }>).map((f) => f.endpoint), [follower.endpoint]);
  });

  it('logs every mutating call it received', async () => {
    const log = await sim.mutations();
    assert.ok(log.some((m) => m.method === 'LoadTable' && m.code === 0));
    assert.ok(log.some((m) => m.method === 'RecoverTable' && m.code === 311));
    assert.ok(!log.some((m) => m.method === 'ShowTable' || m.method === 'GetTableStatus'), 'reads are not logged');
  });
});
