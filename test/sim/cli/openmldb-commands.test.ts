// The stand-in `openmldb` binary (the cluster's own DIR/bin/openmldb, built code) against
// the simulator: ns_client look-ups and read commands, confget/confset, the
// auto_failover refusals, RPC failures as brpc prints them, the interactive modes,
// getfollower, a stopped tablet. What a command SENT is checked in the simulator's mutation log
// and state; read-only calls are checked by what the binary prints.
// See also openmldb-commands-ops.test.ts (admin commands, ops, the 2018 dialect) and
// openmldb-commands-tablet-sql.test.ts (tablet client, sql_client, server names).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Sim, startSim } from '../../helpers/sim.js';
import {
  GTS_HEADER,
  SHOWTABLE_HEADER,
  bin,
  fixtureLine,
  fixtureLines,
  followersOf,
  lastMutationSeq,
  leaderOf,
  ns,
  nsDb,
  nsSession,
  nsZk,
  parseTPrinter,
  partition,
  sentSince,
  showtableRows,
  state,
  table,
  tabletAddress,
  tabletCli,
  tprint,
  waitClosed,
} from './sim-cli.js';

const BANNER = 'Welcome to openmldb with version 0.9.3-sim\n';

let sim: Sim;

before(async () => {
  sim = await startSim(['--tables', '2', '--partitions', '2', '--replicas', '3', '--storage', 'memory', '--databases', 'demo_db', 'db1', '--seed', '7']);
});
after(() => sim?.down());

describe('the layout the tests expect', () => {
  test('tprint reproduces real transcripts (the docs strip trailing spaces)', () => {
    for (const file of ['012-showtablet-zh-backup-offline.txt', '027-confget-zh-cli-key.txt', '037-showns-zh-cli-realendpoint.txt']) {
      const lines = fixtureLines(file);
      const dash = lines.findIndex((l) => /^-+$/.test(l));
      const table = lines.slice(dash - 1);
      const cells = (l: string) => l.trim().split(/ {2,}/);
      const printed = tprint(cells(table[0] as string), table.slice(2).map(cells));
      assert.equal(printed.replace(/ +\n/g, '\n'), table.join('\n') + '\n', file);
    }
  });
});

describe('ns_client look-ups and reads', () => {
  test('ZK mode: `ns leader:` first; showtablet lists the nameserver view, ages human-readable', async () => {
    const s = await state(sim);
    // The simulator refuses calls without an Authorization header: an answer proves it was sent.
    const r = await nsZk(sim, 'showtablet');
    const [first, ...rest] = r.stdout.split('\n');
    assert.equal(first, `ns leader: ${s.leader as string}`);
    const t = parseTPrinter(rest.join('\n'));
    assert.deepEqual(t.header, ['endpoint', 'real_endpoint', 'state', 'age']);
    assert.deepEqual(
      t.rows.map((row) => row.slice(0, 3)),
      s.tablets.map((x) => x.endpoint).sort().map((e) => [e, '-', 'kHealthy']),
    );
    for (const row of t.rows) assert.match(row[3] as string, /^\d+(ms|s|m)$/);
    assert.equal(r.stdout, `ns leader: ${s.leader as string}\n` + tprint(t.header, t.rows));
  });

  test('showns: the registry only, leader (smallest sequence) then standby; zk_cluster needed', async () => {
    const s = await state(sim);
    const byStart = [...s.nameservers].sort((a, b) => a.seq - b.seq).map((n) => n.endpoint);
    const [lead, standby] = byStart as [string, string];
    const showns = (l: string, st: string) => `ns leader: ${l}\n` + tprint(['endpoint', 'real_endpoint', 'role'], [[l, '-', 'leader'], [st, '-', 'standby']]);
    assert.equal((await nsZk(sim, 'showns')).stdout, showns(lead, standby));
    // the leader restarts: the standby takes over, the old leader comes back as standby
    await sim.ctl('nameserver', { action: 'stop', endpoint: lead });
    await sim.waitFor('the standby leads', async () => (await state(sim)).leader === standby);
    await sim.ctl('nameserver', { action: 'start', endpoint: lead });
    assert.equal((await nsZk(sim, 'showns')).stdout, showns(standby, lead));

    assert.equal(await ns(sim, 'showns'), 'Show nameserver failed. zk_cluster is empty\n');
    assert.equal((await nsZk(sim, 'showns', ['--zk_root_path=/wrong'])).stdout, 'get children failed\n');
  });

  test('showdb, confget, confset: texts, what ConfSet sent, what it changed', async () => {
    assert.equal(await ns(sim, 'showdb'), '  #  name   \n--------------\n  1  db1    \n  2  demo_db\n');
    assert.equal(await ns(sim, 'confget'), '  key            value\n------------------------\n  auto_failover  true \n');
    const since = await lastMutationSeq(sim);
    // fixture 077: `failed to set auto_failover. error msg: invalid parameter` (also for `0`, fixture 076's value)
    const invalid = fixtureLine('077-confset-test-invalid-parameter.txt');
    assert.deepEqual(await nsSession(sim, ['confset auto_failover false', 'confget foo', 'confset auto_failover FAlsee', 'confset auto_failover 0']), [
      // fixture 028: `set auto_failover ok`
      ...fixtureLines('028-confset-zh-cli-true.txt'),
      'failed to set foo. error msg: cannot found key foo',
      invalid,
      invalid,
    ]);
    assert.equal((await state(sim)).autoFailover, false, 'set, and unchanged by the refused values');
    assert.equal(await ns(sim, 'confget auto_failover'), '  key            value\n------------------------\n  auto_failover  false\n');
    assert.equal(await ns(sim, 'confset auto_failover true'), 'set auto_failover ok\n');
    assert.equal((await state(sim)).autoFailover, true);
    assert.deepEqual(await sentSince(sim, since), [
      ['ConfSet', { conf: { key: 'auto_failover', value: 'false' } }],
      ['ConfSet', { conf: { key: 'auto_failover', value: 'FAlsee' } }],
      ['ConfSet', { conf: { key: 'auto_failover', value: '0' } }],
      ['ConfSet', { conf: { key: 'auto_failover', value: 'true' } }],
    ]);
  });

  test('auto_failover on: every manual command is refused and nothing changes', async () => {
    const before = await state(sim);
    assert.equal(before.autoFailover, true);
    const f = followersOf(partition(before, 'demo_db', 't0', 0))[0] as string;
    const refused = fixtureLine('070-recovertable-test-auto-failover-refused.txt');
    assert.equal(refused, 'auto_failover is enabled');
    const cases: Array<[string, string]> = [
      [`updatetablealive t0 * ${f} no`, `Fail to update table alive. error msg: ${refused}`],
      [`recovertable t0 0 ${f}`, `Fail to recover table. error msg:${refused}`],
      ['changeleader t0 0', `failed to change leader. error msg: ${refused}`],
      ['changeleader t0 0 auto', `failed to change leader. error msg: ${refused}`],
      [`offlineendpoint ${f}`, `failed to offline endpoint. error msg: ${refused}`],
      [`recoverendpoint ${f}`, `failed to recover endpoint. error msg: ${refused}`],
      ['cancelop 1', `Cancel op failed, error msg: ReturnCode[301]${refused}`],
    ];
    const since = await lastMutationSeq(sim);
    assert.deepEqual(await nsSession(sim, cases.map(([cmd]) => cmd), 'demo_db'), cases.map(([, text]) => text));
    const log = await sim.mutations(since);
    assert.equal(log.length, cases.length);
    for (const m of log) assert.deepEqual([m.code, m.msg], [301, 'auto_failover is enabled'], m.method);
    const now = await state(sim);
    assert.deepEqual(now.tables, before.tables);
    assert.deepEqual(now.ops, before.ops);
    await sim.ctl('autofailover', { value: false });
  });

  test('showtable with --database: that database and the default one, every replica, exact layout', async () => {
    // read-only, on an idle cluster: run side by side
    const [t0, db1, t0Text, db1Text, nodbText] = await Promise.all([
      sim.rpc('ShowTable', { db: 'demo_db', name: 't0', show_all: false }),
      sim.rpc('ShowTable', { db: 'db1', show_all: false }),
      nsDb(sim, 'demo_db', 'showtable t0'),
      nsDb(sim, 'db1', 'showtable'),
      nsDb(sim, 'nodb', 'showtable'),
    ]);
    assert.equal(t0Text, tprint(SHOWTABLE_HEADER, showtableRows(t0['table_info'])));
    assert.equal(showtableRows(t0['table_info']).length, 6, '2 partitions x 3 replicas');
    assert.equal(db1Text, tprint(SHOWTABLE_HEADER, showtableRows(db1['table_info'])));
    assert.deepEqual([...new Set(parseTPrinter(db1Text).rows.map((r) => r[0]))], ['t1']);
    // a failing UseDatabase is ignored silently: the default database "" (no tables) stays
    assert.equal(nodbText, '  name  tid  pid  endpoint  role  is_alive  offset  record_cnt  memused  diskused\n' + '-'.repeat(83) + '\n');
  });

  test('showtable failures: the nameserver message; an RPC failure leaves the message empty', async () => {
    await sim.ctl('fail', { method: 'ShowTable', kind: 'not-leader', count: 1 });
    assert.equal(await nsDb(sim, 'demo_db', 'showtable'), 'failed to showtable. error msg: nameserver is not leader\n');
    await sim.ctl('fail', { method: 'ShowTable', kind: 'refused', count: 1 });
    assert.equal(await nsDb(sim, 'demo_db', 'showtable'), 'failed to showtable. error msg: \n');
  });

  test('RPC failures: Status commands print brpc text (injected and own timeouts, refused), bool commands an empty message', async () => {
    const s = await state(sim);
    const a = await sim.leaderAddress();
    const f = followersOf(partition(s, 'demo_db', 't0', 1))[0] as string;
    const alive = async () => partition(await state(sim), 'demo_db', 't0', 1).find((r) => r.endpoint === f)?.isAlive;

    const since = await lastMutationSeq(sim);
    await sim.ctl('fail', { method: 'UpdateTableAliveStatus', kind: 'timeout', count: 1, delayMs: 50 });
    const timeoutText = `Fail to update table alive. error msg: [E1008]Reached timeout=20000ms @${a}\n`;
    assert.equal(await nsDb(sim, 'demo_db', `updatetablealive t0 1 ${f} no`), timeoutText);
    assert.equal(await alive(), true, 'a timeout before the call took effect changed nothing');
    await sim.ctl('fail', { method: 'UpdateTableAliveStatus', kind: 'timeout-after-apply', count: 1, delayMs: 50 });
    assert.equal(await nsDb(sim, 'demo_db', `updatetablealive t0 1 ${f} no`), timeoutText, 'the same text');
    assert.equal(await alive(), false, '... though this time the call took effect');
    assert.deepEqual(
      (await sim.mutations(since)).map((m) => [m.method, m.body, m.fault]),
      [
        ['UpdateTableAliveStatus', { name: 't0', endpoint: f, pid: 1, is_alive: false, db: 'demo_db' }, 'timeout'],
        ['UpdateTableAliveStatus', { name: 't0', endpoint: f, pid: 1, is_alive: false, db: 'demo_db' }, 'timeout-after-apply'],
      ],
    );
    assert.equal(await nsDb(sim, 'demo_db', `updatetablealive t0 1 ${f} yes`), 'update ok\n');

    await sim.ctl('fail', { method: 'ShowTablet', kind: 'timeout', count: 1, delayMs: 50 });
    assert.equal(await ns(sim, 'showtablet'), 'Fail to show tablets. error msg: \n');

    await sim.ctl('fail', { method: 'RecoverTable', kind: 'refused', count: 1 });
    assert.match(
      await nsDb(sim, 'demo_db', `recovertable t0 1 ${f}`),
      new RegExp(
        `^Fail to recover table\\. error msg:\\[E111\\]Fail to connect Socket\\{id=0 addr=${a}\\} \\(0x0x[0-9a-f]+\\): Connection refused \\[R1\\]\\[E112\\]Not connected to ${a} yet, server_id=0\\n$`,
      ),
    );

    // the simulator holds the call for 20 s; the client gives up after its own 300 ms
    await sim.ctl('fail', { method: 'ChangeLeader', kind: 'timeout', count: 1, delayMs: 20000 });
    const own = await bin(sim, [`--endpoint=${a}`, '--role=ns_client', '--interactive=false', '--database=demo_db', '--request_timeout_ms=300', '--cmd=changeleader t0 0']);
    assert.equal(own.stdout, `failed to change leader. error msg: [E1008]Reached timeout=300ms @${a}\n`);
    assert.ok(own.ms >= 300 && own.ms < 15000, `gave up after its own timeout (${own.ms} ms)`);
    assert.ok(own.stderr.includes('request error.'), own.stderr);
    assert.equal(partition(await state(sim), 'demo_db', 't0', 0).filter((r) => r.isLeader).length, 1, 'no leader changed');
  });
});

describe('tablet client on a healthy cluster', () => {
  test('getfollower: the leader replicator list, sorted; the refusals', async () => {
    const s = await state(sim);
    const t0 = table(s, 'demo_db', 't0');
    const replicas = partition(s, 'demo_db', 't0', 0);
    const leader = leaderOf(replicas);
    const loaded = s.tablets.find((t) => t.endpoint === leader)?.loaded.find((p) => p.tid === t0.tid && p.pid === 0);
    assert.ok(loaded);
    const followers = followersOf(replicas).sort();
    const offsetOn = (ep: string) => String(s.tablets.find((t) => t.endpoint === ep)?.loaded.find((p) => p.tid === t0.tid && p.pid === 0)?.offset);
    const sys = table(s, '__INTERNAL_DB', 'USER');
    const sysLeader = leaderOf(partition(s, '__INTERNAL_DB', 'USER', 0));
    // read-only, on an idle cluster: run side by side
    const [r, single, onFollower, unknown] = await Promise.all([
      tabletCli(sim, tabletAddress(s, leader), `getfollower ${t0.tid} 0`),
      tabletCli(sim, tabletAddress(s, sysLeader), `getfollower ${sys.tid} 0`),
      tabletCli(sim, tabletAddress(s, followers[0] as string), `getfollower ${t0.tid} 0`),
      tabletCli(sim, tabletAddress(s, leader), 'getfollower 999 0'),
    ]);
    assert.equal(
      r.stdout,
      tprint(
        ['#', 'tid', 'pid', 'leader_offset', 'follower', 'offset'],
        followers.map((f, i) => [String(i), String(t0.tid), '0', String(loaded.offset), f, offsetOn(f)]),
      ),
    );
    // a system table has one replica: its leader has no follower
    assert.equal(single.stdout, 'get failed, error msg: has no follower\n');
    assert.equal(onFollower.stdout, 'get failed, error msg: table is follower\n');
    assert.equal(unknown.stdout, 'get failed, error msg: table does not exist\n');
  });
});

describe('interactive ns_client', () => {
  test('--interactive (default true) with --cmd repeats the command forever, without banner (v0.6.0+)', async () => {
    const header = '  #  name   \n';
    const r = await bin(sim, ['--role=ns_client', `--endpoint=${await sim.leaderAddress()}`, '--cmd=showdb'], { until: (out) => out.split(header).length > 4 });
    assert.equal(r.code, null, 'still running when killed');
    assert.ok(r.stdout.startsWith(header), r.stdout.slice(0, 80));
    assert.ok(r.stdout.split(header).length > 4);
  });

  test('commands from stdin: banner; `use` switches the database of later commands; exit', async () => {
    const rpc = await sim.rpc('ShowTable', { db: 'demo_db', show_all: false });
    const r = await bin(sim, ['--role=ns_client', `--endpoint=${await sim.leaderAddress()}`], { stdin: 'use nodb\nuse demo_db\nshowtable\nuse\nexit\n' });
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      BANNER +
        'Use database failed. error msg: database not found\n' +
        'Use database: demo_db\n' +
        tprint(SHOWTABLE_HEADER, showtableRows(rpc['table_info'])) +
        'Use default database\n' +
        'bye\n',
    );
  });
});

describe('a stopped tablet', () => {
  test('showtablet says kOffline; the tablet client gets connection refused, then the empty table', async () => {
    const s = await state(sim);
    const victim = s.tablets[2] as { endpoint: string; address: string };
    await sim.ctl('tablet', { action: 'stop', endpoint: victim.endpoint });
    await waitClosed(sim, victim.address);
    // Listed offline once its ZooKeeper session expired (test/sim/session-window.test.ts).
    const t = await sim.waitFor('listed offline', async () => {
      const shown = parseTPrinter(await ns(sim, 'showtablet'));
      return shown.rows.find((r) => r[0] === victim.endpoint)?.[2] === 'kOffline' ? shown : undefined;
    });
    const row = t.rows.find((r) => r[0] === victim.endpoint);
    assert.deepEqual(row?.slice(0, 3), [victim.endpoint, '-', 'kOffline']);
    assert.match(row?.[3] as string, /^\d+(ms|s)$/);

    const r = await tabletCli(sim, victim.address, 'gettablestatus 1 0');
    const [first, ...rest] = r.stdout.split('\n');
    const a = victim.address.replace(/\./g, '\\.');
    assert.match(
      first as string,
      new RegExp(`^gettablestatus failed, error msg: \\[E111\\]Fail to connect Socket\\{id=0 addr=${a}\\} \\(0x0x[0-9a-f]+\\): Connection refused \\[R1\\]\\[E112\\]Not connected to ${a} yet, server_id=0$`),
    );
    assert.equal(rest.join('\n'), tprint(GTS_HEADER, []));
    // without tid/pid only the error line
    assert.equal((await tabletCli(sim, victim.address, 'gettablestatus')).stdout.split('\n').length, 2);
  });
});
