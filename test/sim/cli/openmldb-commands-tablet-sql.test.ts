// The stand-in `openmldb` binary against the simulator after a full restart (metadata
// says alive, nothing loaded): the tablet client (loadtable, gettablestatus, getfollower,
// interactive) and the sql_client (the start-up table check with its
// `ERROR: table ... is broken` lines, `show table status` with Warnings, `use`); and, on a
// second cluster, the ns_client with server names (`--use-name`).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Sim, startSim } from '../../helpers/sim.js';
import {
  GTS_HEADER,
  type Json,
  type SimState,
  bin,
  fixtureLine,
  followersOf,
  lastMutationSeq,
  leaderOf,
  nsDb,
  nsZk,
  parseTPrinter,
  parseTextTable,
  partition,
  sql,
  state,
  table,
  tableStatusRows,
  tabletAddress,
  tabletCli,
  tprint,
} from './sim-cli.js';

const DB = 'demo_db';
let sim: Sim;
/** A second, small healthy cluster whose servers register by name (`use_name=true`). */
let named: Sim;

before(async () => {
  [sim, named] = await Promise.all([
    startSim(['--scenario', 'full-restart', '--tables', '3', '--partitions', '2', '--replicas', '3', '--storage', 'mixed', '--no-auto-failover', '--seed', '5']),
    startSim(['--use-name', '--tables', '1', '--partitions', '1', '--replicas', '2', '--tablets', '2', '--storage', 'memory', '--seed', '8']),
  ]);
});
after(() => Promise.all([sim?.down(), named?.down()]));

/** A partition's replica as loaded on its tablet, if it is. */
function loadedOn(s: SimState, endpoint: string, tid: number, pid: number) {
  return s.tablets.find((t) => t.endpoint === endpoint)?.loaded.find((p) => p.tid === tid && p.pid === pid);
}

describe('tablet client', () => {
  test('loadtable: what is sent (no ttl, no storage_mode), both outcomes', async () => {
    const s = await state(sim);
    const t0 = table(s, DB, 't0');
    const l = leaderOf(partition(s, DB, 't0', 0));
    const g = followersOf(partition(s, DB, 't0', 1))[0] as string;
    const since = await lastMutationSeq(sim);
    // fixture 079: `LoadTable ok`
    assert.equal((await tabletCli(sim, tabletAddress(s, l), `loadtable t0 ${t0.tid} 0 144000 8`)).stdout, fixtureLine('079-loadtable-test-ok.txt') + '\n');
    assert.equal((await tabletCli(sim, tabletAddress(s, l), `loadtable t0 ${t0.tid} 0 144000 8`)).stdout, 'Fail to LoadTable: ReturnCode[101]table already exists\n');
    assert.equal((await tabletCli(sim, tabletAddress(s, g), `loadtable t0 ${t0.tid} 1 0 16 false extra`)).stdout, 'LoadTable ok\n');
    assert.deepEqual(
      (await sim.mutations(since)).map((m) => [m.server, m.method, m.body, m.code]),
      [
        [l, 'LoadTable', { table_meta: { name: 't0', tid: t0.tid, pid: 0, seg_cnt: 8, mode: 'kTableLeader' } }, 0],
        [l, 'LoadTable', { table_meta: { name: 't0', tid: t0.tid, pid: 0, seg_cnt: 8, mode: 'kTableLeader' } }, 101],
        [g, 'LoadTable', { table_meta: { name: 't0', tid: t0.tid, pid: 1, seg_cnt: 16, mode: 'kTableFollower' } }, 0],
      ],
    );
    const loaded = await sim.waitFor('both loaded', async () => {
      const now = await state(sim);
      const a = loadedOn(now, l, t0.tid, 0);
      const b = loadedOn(now, g, t0.tid, 1);
      return a?.state === 'kTableNormal' && b?.state === 'kTableNormal' ? [a, b] : undefined;
    });
    assert.deepEqual(loaded.map((p) => p.mode), ['kTableLeader', 'kTableFollower']);
  });

  test('gettablestatus: all, one loading, the bogus row of an unloaded partition; getfollower', async () => {
    const s = await state(sim);
    const t0 = table(s, DB, 't0');
    const t1 = table(s, DB, 't1');
    const t2 = table(s, DB, 't2');
    const l = tabletAddress(s, leaderOf(partition(s, DB, 't0', 0)));
    const m = leaderOf(partition(s, DB, 't1', 0));
    // t1 pid 0 loads for a minute on its leader
    await sim.ctl('load', { table: `${DB}.t1`, pid: 0, endpoint: m, extraMs: 60000 });
    assert.equal((await tabletCli(sim, tabletAddress(s, m), `loadtable t1 ${t1.tid} 0 144000 8`)).stdout, 'LoadTable ok\n');
    await sim.waitFor('loading', async () => loadedOn(await state(sim), m, t1.tid, 0)?.state === 'kTableLoading');
    const loading = (await tabletCli(sim, tabletAddress(s, m), `gettablestatus ${t1.tid} 0`)).stdout;
    assert.equal(loading, tprint(GTS_HEADER, [[String(t1.tid), '0', '0', 'kTableLeader', 'kTableLoading', 'false', '0min', '0s', '0.000', 'kNoCompress', '0']]));
    assert.equal(loading, tprint(GTS_HEADER, tableStatusRows(await sim.tabletRpc(tabletAddress(s, m), 'GetTableStatus', { tid: t1.tid, pid: 0 }))));

    const all = (await tabletCli(sim, l, 'gettablestatus')).stdout;
    const rpc = await sim.tabletRpc(l, 'GetTableStatus', {});
    assert.equal(all, tprint(GTS_HEADER, tableStatusRows(rpc)));
    assert.ok(tableStatusRows(rpc).some((r) => r[0] === String(t0.tid) && r[4] === 'kTableNormal' && r[8] !== '0.000'), all);

    // v0.8.4+: an unloaded partition answers OK with nothing; the client prints defaults
    assert.equal(
      (await tabletCli(sim, l, `gettablestatus ${t2.tid} 1`)).stdout,
      '  tid  pid  offset  mode          state            enable_expire  ttl   ttl_offset  memused  compress_type  skiplist_height\n' +
        '-----------------------------------------------------------------------------------------------------------------------------\n' +
        '  0    0    0       kTableLeader  kTableUndefined  false          0min  0s          0.000    kNoCompress    0              \n',
    );
    // loaded by hand as a leader: the replicator list is empty
    assert.equal((await tabletCli(sim, l, `getfollower ${t0.tid} 0`)).stdout, 'get failed, error msg: has no follower\n');
    assert.equal((await tabletCli(sim, l, `getfollower ${t2.tid} 0`)).stdout, 'get failed, error msg: table does not exist\n');
  });

  test('interactive: banner, commands from stdin (--cmd ignored), returns at the end of input', async () => {
    const s = await state(sim);
    const l = tabletAddress(s, leaderOf(partition(s, DB, 't0', 0)));
    const since = await lastMutationSeq(sim);
    const r = await bin(sim, ['--role=client', `--endpoint=${l}`, '--cmd=loadtable t 1 0 0 8'], { stdin: 'gettablestatus\n' });
    const rpc = await sim.tabletRpc(l, 'GetTableStatus', {});
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'Welcome to openmldb with version 0.9.3-sim\n' + tprint(GTS_HEADER, tableStatusRows(rpc)));
    assert.deepEqual(await sim.mutations(since), [], 'the --cmd did not run');
  });
});

describe('sql_client after a full restart', () => {
  const HEADER = [
    'Table_id',
    'Table_name',
    'Database_name',
    'Storage_type',
    'Rows',
    'Memory_data_size',
    'Disk_data_size',
    'Partition',
    'Partition_unalive',
    'Replica',
    'Offline_path',
    'Offline_format',
    'Offline_symbolic_paths',
    'Warnings',
  ];

  test('the start-up check names every broken table; show table status: Warnings per partition; use', async () => {
    // state left by the tablet-client tests: t0 pid 0 loaded on its leader, t0 pid 1 on one
    // follower, t1 pid 0 loading on its leader, nothing else. One replica marked not alive:
    const s0 = await state(sim);
    const [f1, f2] = followersOf(partition(s0, DB, 't0', 0)) as [string, string];
    assert.equal(await nsDb(sim, DB, `updatetablealive t0 0 ${f1} no`), 'update ok\n');
    const s = await state(sim);
    const t0 = table(s, DB, 't0');
    const l0 = leaderOf(partition(s, DB, 't0', 0));
    const l1 = leaderOf(partition(s, DB, 't0', 1));
    const g = followersOf(partition(s, DB, 't0', 1)).find((e) => loadedOn(s, e, t0.tid, 1)) as string;
    const h = followersOf(partition(s, DB, 't0', 1)).find((e) => e !== g) as string;
    const m = leaderOf(partition(s, DB, 't1', 0));
    const [m1, m2] = followersOf(partition(s, DB, 't1', 0)) as [string, string];
    assert.equal(loadedOn(s, m, table(s, DB, 't1').tid, 0)?.state, 'kTableLoading', 'still loading');
    // the nameserver has polled the tablets since the loads (metadata offsets are settled):
    // it saw the loaded replicas, and the loading one too, at offset 0 (a loading partition
    // reports offset 0 and the poll records it: name_server_impl.cc UpdateTableStatusFun)
    const tables = await sim.waitFor('polled', async () => {
      const info = (await sim.rpc('ShowTable', { db: '', show_all: true }))['table_info'] as Json[];
      const meta = (name: string, pid: number, ep: string) =>
        ((info.find((x) => x['db'] === DB && x['name'] === name)?.['table_partition'] as Json[]).find((p) => p['pid'] === pid)?.['partition_meta'] as Json[]).find((mm) => mm['endpoint'] === ep);
      const seen = (name: string, pid: number, ep: string) => meta(name, pid, ep)?.['tablet_has_partition'];
      return seen('t0', 0, l0) === true && seen('t0', 1, g) === true && seen('t1', 0, m) === true && meta('t1', 0, m)?.['offset'] === 0 ? info : undefined;
    });

    const nothingLoaded = (pid: number, replicas: number) => [
      `[pid=${pid}]: real replica number 0 does not match the configured replicanum ${replicas}`,
      `[pid=${pid}]: fail to get from tablet: table does not exist`,
    ];
    const special: Record<string, string[]> = {
      [`${DB}.t0.0`]: [
        '[pid=0]: real replica number 1 does not match the configured replicanum 3',
        `[pid=0][follower][${f1}]: state is kNotFound`,
        `[pid=0][follower][${f2}]: state is kNotFound`,
        `[pid=0][follower][${f1}]: not connected to leader`,
        `[pid=0][follower][${f2}]: not connected to leader`,
      ],
      [`${DB}.t0.1`]: [
        '[pid=1]: real replica number 1 does not match the configured replicanum 3',
        `[pid=1][leader][${l1}]: state is kNotFound`,
        `[pid=1][follower][${h}]: state is kNotFound`,
        '[pid=1]: fail to get from tablet: table does not exist',
      ],
      [`${DB}.t1.0`]: [
        '[pid=0]: real replica number 1 does not match the configured replicanum 3',
        `[pid=0][leader][${m}]: state is kTableLoading`,
        `[pid=0][follower][${m1}]: state is kNotFound`,
        `[pid=0][follower][${m2}]: state is kNotFound`,
        `[pid=0][follower][${m1}]: not connected to leader`,
        `[pid=0][follower][${m2}]: not connected to leader`,
      ],
    };
    // expected rows, in the order the client lists them (the nameserver's order reversed)
    const expected = [...tables].reverse().map((t) => {
      const parts = t['table_partition'] as Json[];
      const sum = (k: string) => String(parts.reduce((a, p) => a + Number(p[k] ?? 0), 0));
      const metas = parts.flatMap((p) => p['partition_meta'] as Json[]);
      const warnings = parts.flatMap((p) => special[`${String(t['db'])}.${String(t['name'])}.${String(p['pid'])}`] ?? nothingLoaded(p['pid'] as number, (p['partition_meta'] as Json[]).length));
      const storage = String(t['storage_mode']).replace(/^k/, '').toLowerCase();
      return [String(t['tid']), String(t['name']), String(t['db']), storage, sum('record_cnt'), sum('record_byte_size'), sum('diskused'), String(t['partition_num']), String(metas.filter((mm) => mm['is_alive'] === false).length), String(t['replica_num']), 'NULL', 'NULL', 'NULL', warnings.join('\n')];
    });
    const preamble =
      expected
        .map((r) => {
          const unalive = r[8] === '0' ? '' : `, unalive partition: ${r[8]}`;
          return `ERROR: table ${r[2]}.${r[1]} is broken, \`show table status\` to check detail${unalive}, warning preview: ${Buffer.from(r[13] as string).subarray(0, 100).toString()}\n`;
        })
        .join('') + 'HINT: Use `openmldb_tool inspect` to get full report.\n';
    assert.ok(expected.length > 3 && expected.some((r) => r[2] === '__INTERNAL_DB'), 'the check covers every database');
    assert.ok(preamble.includes(`ERROR: table ${DB}.t0 is broken, \`show table status\` to check detail, unalive partition: 1, warning preview: [pid=0]: real replica`));

    const r = await sql(sim, 'show table status;', DB);
    assert.ok(r.stdout.startsWith(preamble), r.stdout.slice(0, 2000));
    const rest = r.stdout.slice(preamble.length);
    assert.ok(rest.endsWith('\n\n3 rows in set\n'), rest.slice(-200));
    const t = parseTextTable(rest);
    assert.deepEqual(t.header, HEADER);
    assert.deepEqual(t.rows, expected.filter((row) => row[2] === DB));
    assert.deepEqual(
      t.rows.map((row) => [row[1], row[3]]),
      [
        ['t2', 'ssd'],
        ['t1', 'memory'],
        ['t0', 'memory'],
      ],
    );

    assert.equal((await sql(sim, 'use demo_db;', '')).stdout, preamble + 'SUCCEED: Database changed\n');
    assert.equal((await sql(sim, 'use nodb;', '')).stdout, preamble + 'Error: [2000] Use database failed for database not found\n');
    const other = await sql(sim, 'select 1;', DB);
    assert.ok(other.stdout.startsWith(preamble));
    assert.match(other.stdout.slice(preamble.length), /^Error: \[2000\] .*select 1;\n$/);
  });
});

describe('server names (use_name=true)', () => {
  test('the leader and tablets by name, real endpoints beside them; the client connects to the real one', async () => {
    const s = await state(named);
    const nsRows = [...s.nameservers].sort((a, b) => a.seq - b.seq);
    const lead = nsRows[0]?.endpoint as string;
    assert.match(lead, /^ns-\d$/);
    assert.equal(
      (await nsZk(named, 'showns')).stdout,
      `ns leader: ${lead}\n` + tprint(['endpoint', 'real_endpoint', 'role'], nsRows.map((n, i) => [n.endpoint, n.address, i === 0 ? 'leader' : 'standby'])),
    );
    // the name does not resolve: only the real endpoint from the registry reaches the nameserver
    const r = await nsZk(named, 'showtablet');
    const [first, ...rest] = r.stdout.split('\n');
    assert.equal(first, `ns leader: ${lead}`);
    const t = parseTPrinter(rest.join('\n'));
    assert.deepEqual(
      t.rows.map((row) => row.slice(0, 3)),
      [...s.tablets].sort((a, b) => (a.endpoint < b.endpoint ? -1 : 1)).map((x) => [x.endpoint, x.address, 'kHealthy']),
    );
    for (const row of t.rows) assert.match(row[3] as string, /^\d+(ms|s|m)$/);
    const st = await nsZk(named, 'showtable', ['--database=demo_db']);
    const rows = parseTPrinter(st.stdout.split('\n').slice(1).join('\n')).rows;
    assert.deepEqual(rows.map((row) => row[3]).sort(), ['tablet-0', 'tablet-1']);
  });
});
