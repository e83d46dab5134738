// The stand-in `openmldb` binary against the simulator: the ns_client admin commands
// (updatetablealive, recovertable, changeleader, offlineendpoint, recoverendpoint,
// showopstatus, cancelop, deleteop) on a modern cluster, and the 2018 dialect
// (`openmldb-sim up --dialect 2018`) end to end. What a command sent is read from the
// simulator's mutation log, what it did from the simulator's state; every success and
// error string of the transcripts (fixtures INDEX "Success and error strings") that a
// supported command can produce is checked verbatim.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Sim, startSim } from '../../helpers/sim.js';
import {
  GTS_HEADER_2018,
  OPS_HEADER,
  OPS_HEADER_2018,
  type OpState,
  SHOWTABLE_HEADER_2018,
  type SimState,
  bin,
  fixtureLine,
  fixtureLines,
  followersOf,
  lastMutationSeq,
  leaderOf,
  localTime,
  modernized,
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
  tableStatusRows,
  tabletAddress,
  tabletCli,
  tprint,
  waitClosed,
} from './sim-cli.js';

let sim: Sim;
let old: Sim;

before(async () => {
  [sim, old] = await Promise.all([
    startSim(['--tables', '2', '--partitions', '2', '--replicas', '3', '--storage', 'memory', '--no-auto-failover', '--seed', '11']),
    startSim(['--dialect', '2018', '--tables', '2', '--partitions', '2', '--replicas', '3', '--storage', 'memory', '--no-auto-failover', '--seed', '12']),
  ]);
});
after(() => Promise.all([sim?.down(), old?.down()]));

const DB = 'demo_db';

/** A showopstatus row as the op stands in the simulator; `*` for a running op's execute_time. */
function opRow(o: OpState, dialect: 'modern' | '2018'): string[] {
  const cur = o.status === 'kDoing' ? o.tasks[o.taskIndex]?.type : o.status === 'kFailed' || o.status === 'kCanceled' ? o.failedTask : undefined;
  const started = o.startTime > 0;
  const row = [
    String(o.opId),
    o.opType,
    o.name,
    String(o.pid),
    o.status,
    started ? localTime(o.startTime) : '-',
    !started ? '-' : o.endTime !== 0 ? `${o.endTime - o.startTime}s` : '*',
    started && o.endTime !== 0 ? localTime(o.endTime) : '-',
    cur ?? '-',
  ];
  if (dialect === 'modern') row.push('no');
  return row;
}

/** Compare printed showopstatus rows with the ops in the state; a running op's age is only matched. */
function assertOpRows(printed: string[][], ops: OpState[], dialect: 'modern' | '2018'): void {
  const expected = ops.map((o) => opRow(o, dialect));
  assert.equal(printed.length, expected.length, JSON.stringify(printed));
  printed.forEach((row, i) => {
    const want = expected[i] as string[];
    if (want[6] === '*') {
      assert.match(row[6] as string, /^\d+s$/);
      want[6] = row[6] as string;
    }
    assert.deepEqual(row, want);
  });
}

/** A tablet process restart with auto_failover off: metadata still says alive, nothing loaded there. */
async function restartTablet(s: Sim, endpoint: string): Promise<void> {
  await s.ctl('tablet', { action: 'stop', endpoint });
  await s.ctl('tablet', { action: 'start', endpoint, wait: true });
}

/**
 * Ops in every state on one partition where `y` is a follower: a failed recovery (injected
 * at kDelReplica), a recovery whose load on `y` takes 30 s (its child op stays kDoing at
 * kLoadTable) and a third recovery queued behind it (kInited).
 */
async function opsInEveryState(s: Sim, y: string, name: string, pid: number, run: (cmd: string) => Promise<string>): Promise<{ failed: OpState; doing: OpState; inited: OpState }> {
  await restartTablet(s, y);
  assert.equal(await run(`updatetablealive ${name} ${pid} ${y} no`), 'update ok\n');
  await s.ctl('fail-op', { opType: 'kRecoverTableOP', task: 'kDelReplica', message: 'injected' });
  assert.equal(await run(`recovertable ${name} ${pid} ${y}`), 'recover table ok\n');
  const mine = (st: SimState) => st.ops.filter((o) => o.name === name && o.pid === pid && o.endpoint === y);
  const failed = await s.waitFor('a failed op', async () => mine(await state(s)).find((o) => o.status === 'kFailed'));
  await s.ctl('load', { table: `${DB}.${name}`, pid, endpoint: y, extraMs: 30000 });
  assert.equal(await run(`recovertable ${name} ${pid} ${y}`), 'recover table ok\n');
  const doing = await s.waitFor('an op loading', async () => mine(await state(s)).find((o) => o.status === 'kDoing' && o.tasks[o.taskIndex]?.type === 'kLoadTable'));
  assert.match(doing.opType, /^kReAddReplica(NoSend)?OP$/);
  assert.equal(await run(`recovertable ${name} ${pid} ${y}`), 'recover table ok\n');
  const inited = mine(await state(s)).find((o) => o.status === 'kInited');
  assert.ok(inited, 'an op queued behind the loading one');
  return { failed, doing, inited };
}

// The two clusters are independent: their suites run side by side.
describe('ns_client admin commands', { concurrency: true }, () => {
  describe('admin commands on a modern cluster', { concurrency: false }, () => {
    test('updatetablealive, recovertable, changeleader: texts, requests, effects', async () => {
      const s = await state(sim);
      const p0 = partition(s, DB, 't0', 0);
      const l0 = leaderOf(p0);
      const [f1, f2] = followersOf(p0) as [string, string];
      const [g1, g2] = followersOf(partition(s, DB, 't1', 1)) as [string, string];
      const since = await lastMutationSeq(sim);
      const cases: Array<[string, string]> = [
        // fixture 036: `update ok`
        [`updatetablealive t0 * ${f1} no`, fixtureLines('036-updatetablealive-zh-cli-2x.txt')[0] as string],
        [`updatetablealive t0 1 ${f1} yes`, 'update ok'],
        [`updatetablealive tt1 * ${f1} no`, modernized(fixtureLine('074-updatetablealive-test-table-not-exist.txt'))],
        [`updatetablealive t0 10 ${f1} no`, fixtureLine('075-updatetablealive-test-no-pid-updated.txt')],
        ['updatetablealive t0 0 127.0.0.1:80 no', 'Fail to update table alive. error msg: endpoint does not exist'],
        [`updatetablealive t0 0 ${f1} maybe`, 'is_alive should be yes or no'],
        // fixture 032: `recover table ok`
        [`recovertable t0 0 ${f1}`, fixtureLine('032-recovertable-zh-cli.txt')],
        [`recovertable t0 9 ${f1}`, 'Fail to recover table. error msg:pid does not exist'],
        [`recovertable t0 0 ${f2}`, 'Fail to recover table. error msg:table is alive, need not recover'],
        ['changeleader t0 0', fixtureLine('066-changeleader-test-leader-alive.txt')],
        ['changeleader t0 5', modernized(fixtureLine('068-changeleader-test-pid-not-exist.txt'))],
        ['changeleader nosuch 0', modernized(fixtureLine('067-changeleader-test-table-not-exist.txt'))],
        ['changeleader t0 0 127.0.0.1:80', 'failed to change leader. error msg: create op failed'],
        ['changeleader t0 0 auto', 'change leader ok. If there are writing operations while changing a leader, it may cause data loss.'],
        [`updatetablealive t1 1 ${g1} no`, 'update ok'],
        [`updatetablealive t1 1 ${g2} no`, 'update ok'],
        ['changeleader t1 1 auto', fixtureLine('065-changeleader-test-no-alive-follower.txt')],
      ];
      assert.deepEqual(await nsSession(sim, cases.map(([cmd]) => cmd), DB), cases.map(([, text]) => text));
      assert.deepEqual(await sentSince(sim, since), [
        ['UpdateTableAliveStatus', { name: 't0', endpoint: f1, is_alive: false, db: DB }],
        ['UpdateTableAliveStatus', { name: 't0', endpoint: f1, pid: 1, is_alive: true, db: DB }],
        ['UpdateTableAliveStatus', { name: 'tt1', endpoint: f1, is_alive: false, db: DB }],
        ['UpdateTableAliveStatus', { name: 't0', endpoint: f1, pid: 10, is_alive: false, db: DB }],
        ['UpdateTableAliveStatus', { name: 't0', endpoint: '127.0.0.1:80', pid: 0, is_alive: false, db: DB }],
        ['RecoverTable', { name: 't0', pid: 0, endpoint: f1, db: DB }],
        ['RecoverTable', { name: 't0', pid: 9, endpoint: f1, db: DB }],
        ['RecoverTable', { name: 't0', pid: 0, endpoint: f2, db: DB }],
        ['ChangeLeader', { name: 't0', pid: 0, db: DB }],
        ['ChangeLeader', { name: 't0', pid: 5, db: DB }],
        ['ChangeLeader', { name: 'nosuch', pid: 0, db: DB }],
        ['ChangeLeader', { name: 't0', pid: 0, candidate_leader: '127.0.0.1:80', db: DB }],
        ['ChangeLeader', { name: 't0', pid: 0, candidate_leader: 'auto', db: DB }],
        ['UpdateTableAliveStatus', { name: 't1', endpoint: g1, pid: 1, is_alive: false, db: DB }],
        ['UpdateTableAliveStatus', { name: 't1', endpoint: g2, pid: 1, is_alive: false, db: DB }],
        ['ChangeLeader', { name: 't1', pid: 1, candidate_leader: 'auto', db: DB }],
      ]);
      await sim.ctl('settle');
      const now = await state(sim);
      // `*` marked both partitions, `1 yes` revived pid 1; recovertable brought pid 0 back
      assert.deepEqual(
        [0, 1].map((pid) => partition(now, DB, 't0', pid).find((r) => r.endpoint === f1)?.isAlive),
        [true, true],
      );
      assert.ok(now.ops.some((o) => o.opType === 'kRecoverTableOP' && o.name === 't0' && o.pid === 0 && o.endpoint === f1 && o.status === 'kDone'));
      // changeleader auto: a follower leads; the old leader keeps is_leader and is no longer alive
      const after0 = partition(now, DB, 't0', 0);
      const newLeader = leaderOf(after0);
      assert.ok([f1, f2].includes(newLeader));
      assert.deepEqual(after0.find((r) => r.endpoint === l0), { ...after0.find((r) => r.endpoint === l0), isLeader: true, isAlive: false });
      assert.deepEqual(
        partition(now, DB, 't1', 1).filter((r) => !r.isLeader).map((r) => r.isAlive),
        [false, false],
      );
      // back to alive followers for the next tests
      for (const f of [g1, g2]) assert.equal((await sim.rpc('UpdateTableAliveStatus', { db: DB, name: 't1', pid: 1, endpoint: f, is_alive: true }))['code'], 0);
    });

    test('offlineendpoint, recoverendpoint: texts, requests, effects', async () => {
      const s = await state(sim);
      const x = s.tablets[1]?.endpoint as string;
      const onX = (st: SimState) => st.tables.flatMap((t) => t.partitions.flatMap((p) => p.replicas.filter((r) => r.endpoint === x)));
      const since = await lastMutationSeq(sim);
      const cases: Array<[string, string]> = [
        ['offlineendpoint 127.0.0.1:80', modernized(fixtureLine('072-offlineendpoint-test-endpoint-not-exist.txt'))],
        ['recoverendpoint 127.0.0.1:80', modernized(fixtureLine('073-recoverendpoint-test-endpoint-not-exist.txt'))],
        [`offlineendpoint ${x} 9`, 'failed to offline endpoint. error msg: invalid parameter'],
        [`offlineendpoint ${x} 0`, 'Invalid args. concurrency should be greater than 0'],
        [`offlineendpoint ${x} abc`, 'Invalid args. concurrency should be uint32_t'],
        [`recoverendpoint ${x} maybe`, 'Invalid args. need_restore should be true or false'],
      ];
      assert.deepEqual(await nsSession(sim, cases.map(([cmd]) => cmd)), cases.map(([, text]) => text));
      // fixture 013: `offline endpoint ok`
      assert.equal(await ns(sim, `offlineendpoint ${x}`), fixtureLines('013-offlineendpoint-zh-backup.txt').join('\n') + '\n');
      await sim.ctl('settle');
      assert.deepEqual(new Set(onX(await state(sim)).map((r) => r.isAlive)), new Set([false]), 'every replica there taken out');
      assert.equal(await ns(sim, `offlineendpoint ${x} 4`), 'offline endpoint ok\n');
      await sim.ctl('settle');
      // fixture 015: `recover endpoint ok`
      assert.equal(await ns(sim, `recoverendpoint ${x}`), fixtureLines('015-recoverendpoint-zh-backup.txt').join('\n') + '\n');
      await sim.ctl('settle');
      const back = await state(sim);
      assert.deepEqual(new Set(onX(back).map((r) => r.isAlive)), new Set([true]), 'every replica there back');
      for (const t of back.tables) for (const p of t.partitions) assert.ok(p.replicas.some((r) => r.isLeader && r.isAlive), `${t.name} ${p.pid} has a leader`);
      assert.equal(await ns(sim, `recoverendpoint ${x} true 3`), 'recover endpoint ok\n');
      assert.equal(await ns(sim, `recoverendpoint ${x} false 0`), 'recover endpoint ok\n');
      assert.deepEqual(await sentSince(sim, since), [
        ['OfflineEndpoint', { endpoint: '127.0.0.1:80' }],
        ['RecoverEndpoint', { endpoint: '127.0.0.1:80', need_restore: false }],
        ['OfflineEndpoint', { endpoint: x, concurrency: 9 }],
        ['OfflineEndpoint', { endpoint: x }],
        ['OfflineEndpoint', { endpoint: x, concurrency: 4 }],
        ['RecoverEndpoint', { endpoint: x, need_restore: false }],
        ['RecoverEndpoint', { endpoint: x, concurrency: 3, need_restore: true }],
        ['RecoverEndpoint', { endpoint: x, need_restore: false }],
      ]);
      await sim.ctl('settle');
    });

    test('showopstatus: every op state, times in local time, filters; cancelop, deleteop', async () => {
      const s = await state(sim);
      // a tablet that is a follower of t1 pid 0
      const p = partition(s, DB, 't1', 0);
      const y = followersOf(p).find((e) => p.find((r) => r.endpoint === e)?.isAlive) as string;
      const { failed, doing, inited } = await opsInEveryState(sim, y, 't1', 0, (cmd) => nsDb(sim, DB, cmd));

      const filtered = await nsDb(sim, DB, 'showopstatus t1 0');
      const st = await state(sim);
      const t = parseTPrinter(filtered);
      assert.deepEqual(t.header, OPS_HEADER);
      assertOpRows(t.rows, st.ops.filter((o) => o.name === 't1' && o.pid === 0).sort((a, b) => a.opId - b.opId), 'modern');
      const statuses = new Set(t.rows.map((r) => r[4]));
      for (const want of ['kDone', 'kDoing', 'kInited', 'kFailed']) assert.ok(statuses.has(want), want);
      const failedRow = t.rows.find((r) => r[0] === String(failed.opId)) as string[];
      assert.deepEqual([failedRow[4], failedRow[8], failedRow[9]], ['kFailed', 'kDelReplica', 'no']);
      assert.match(failedRow[7] as string, /^\d{14}$/);
      assert.deepEqual(t.rows.find((r) => r[0] === String(inited.opId))?.slice(4), ['kInited', '-', '-', '-', '-', 'no']);
      const all = parseTPrinter(await ns(sim, 'showopstatus'));
      assertOpRows(all.rows, (await state(sim)).ops.sort((a, b) => a.opId - b.opId), 'modern');

      const since = await lastMutationSeq(sim);
      assert.equal(await ns(sim, `cancelop ${doing.opId}`), 'Cancel op ok\n');
      assert.equal(await ns(sim, `cancelop ${doing.opId}`), 'Cancel op failed, error msg: ReturnCode[312]op status is not kDoing or kInited\n');
      const canceled = (await state(sim)).ops.find((o) => o.opId === doing.opId);
      assert.equal(canceled?.status, 'kCanceled');
      // the cancelled op leaves its queue: the op queued behind it runs now, not when the
      // cancelled op's load (30 s) is over
      await sim.waitFor('the next op in the queue runs', async () => (await state(sim)).ops.find((o) => o.opId === inited.opId)?.status !== 'kInited', 10000);
      const row = parseTPrinter(await nsDb(sim, DB, 'showopstatus t1 0')).rows.find((r) => r[0] === String(doing.opId));
      assert.deepEqual(row, opRow(canceled as OpState, 'modern'));
      assert.equal(row?.[8], 'kLoadTable', 'cur_task: the task it was cancelled in');
      assert.equal(await ns(sim, `deleteop ${doing.opId}`), 'Delete op ok\n');
      assert.ok(!(await state(sim)).ops.some((o) => o.opId === doing.opId), 'deleted');
      const failedOps = (await state(sim)).ops.filter((o) => o.status === 'kFailed').map((o) => o.opId);
      assert.ok(failedOps.includes(failed.opId));
      assert.equal(await ns(sim, 'deleteop FAILED'), 'Delete op ok\n');
      assert.equal(await ns(sim, 'deleteop bogus'), 'invalid args\n');
      const left = (await state(sim)).ops.map((o) => o.opId);
      assert.deepEqual(failedOps.filter((id) => left.includes(id)), [], 'failed ops deleted');
      assert.deepEqual(await sentSince(sim, since), [
        ['CancelOP', { op_id: doing.opId }],
        ['CancelOP', { op_id: doing.opId }],
        ['DeleteOP', { op_id: doing.opId }],
        ['DeleteOP', { status: 'kFailed' }],
      ]);
    });
  });

  describe('the 2018 dialect', { concurrency: false }, () => {
    test('layouts: showtablet, showns, showtable, gettablestatus', async () => {
      const s = await state(old);
      const lead = s.leader as string;
      const standby = s.nameservers.find((n) => n.endpoint !== lead)?.endpoint as string;
      const t0 = table(s, DB, 't0');
      const addr = tabletAddress(s, leaderOf(partition(s, DB, 't0', 0)));
      // read-only, on an idle cluster: run side by side
      const [tablets, showns, showtable, rpc, gts, all, gtsOne, one, gtsNone] = await Promise.all([
        nsZk(old, 'showtablet'),
        nsZk(old, 'showns'),
        nsDb(old, DB, 'showtable'),
        old.rpc('ShowTable', { db: DB, show_all: false }),
        tabletCli(old, addr, 'gettablestatus'),
        old.tabletRpc(addr, 'GetTableStatus', {}),
        tabletCli(old, addr, `gettablestatus ${t0.tid} 0`),
        old.tabletRpc(addr, 'GetTableStatus', { tid: t0.tid, pid: 0 }),
        tabletCli(old, addr, 'gettablestatus 999 9'),
      ]);
      const [first, ...rest] = tablets.stdout.split('\n');
      assert.equal(first, `ns leader: ${lead}`);
      const t = parseTPrinter(rest.join('\n'));
      assert.deepEqual(t.header, ['endpoint', 'state', 'age']);
      assert.deepEqual(
        t.rows.map((r) => r.slice(0, 2)),
        s.tablets.map((x) => x.endpoint).sort().map((e) => [e, 'kTabletHealthy']),
      );
      assert.equal(showns.stdout, `ns leader: ${lead}\n` + tprint(['endpoint', 'role'], [[lead, 'leader'], [standby, 'standby']]));
      assert.equal(showtable, tprint(SHOWTABLE_HEADER_2018, showtableRows(rpc['table_info'], '2018')));
      assert.equal(gts.stdout, tprint(GTS_HEADER_2018, tableStatusRows(all, '2018')));
      assert.equal(gtsOne.stdout, tprint(GTS_HEADER_2018, tableStatusRows(one, '2018')));
      // not loaded: no bogus row before v0.8.4
      assert.equal(gtsNone.stdout, 'gettablestatus failed\n' + tprint(GTS_HEADER_2018, []));
    });

    test('interactive: --cmd ignored, banner, commands read from stdin', async () => {
      const leader = await old.leaderAddress();
      const since = await lastMutationSeq(old);
      const r = await bin(old, ['--role=ns_client', `--endpoint=${leader}`, '--cmd=confset auto_failover true'], { stdin: 'showdb\n' });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, 'Welcome to openmldb with version 0.2.2-sim\n' + tprint(['#', 'name'], [['1', DB]]));
      assert.deepEqual(await sentSince(old, since), [], 'the --cmd did not run');
    });

    test('the success and error strings of the docs and integration tests, verbatim', async () => {
      const s = await state(old);
      const p0 = partition(s, DB, 't0', 0);
      const [f1] = followersOf(p0) as [string];
      const [g1, g2] = followersOf(partition(s, DB, 't1', 1)) as [string, string];
      const x = s.tablets[1]?.endpoint as string;
      const tablet = tabletAddress(s, x);
      const refused = fixtureLine('070-recovertable-test-auto-failover-refused.txt');
      const since = await lastMutationSeq(old);
      const cases: Array<[string, string]> = [
        ['confset auto_failover true', fixtureLine('028-confset-zh-cli-true.txt')],
        [`updatetablealive t0 * ${f1} no`, `Fail to update table alive. error msg: ${refused}`],
        [`recovertable t0 0 ${f1}`, `Fail to recover table. error msg:${refused}`],
        ['changeleader t0 0', `failed to change leader. error msg: ${refused}`],
        [`offlineendpoint ${x}`, `failed to offline endpoint. error msg: ${refused}`],
        [`recoverendpoint ${x}`, `failed to recover endpoint. error msg: ${refused}`],
        ['cancelop 1', `Cancel op failed! ${refused}`],
        ['confset auto_failover 0', fixtureLine('076-confset-test-invalid-value.txt')],
        ['confset auto_failover FAlsee', fixtureLine('076-confset-test-invalid-value.txt')],
        ['confset auto_failover false', 'set auto_failover ok'],
        ['changeleader t0 0', fixtureLine('066-changeleader-test-leader-alive.txt')],
        ['changeleader t0 10', fixtureLine('068-changeleader-test-pid-not-exist.txt')],
        ['changeleader t0wrong 0', fixtureLine('067-changeleader-test-table-not-exist.txt')],
        ['offlineendpoint 127.0.0.1:80', fixtureLine('072-offlineendpoint-test-endpoint-not-exist.txt')],
        ['recoverendpoint 127.0.0.1:80', fixtureLine('073-recoverendpoint-test-endpoint-not-exist.txt')],
        [`updatetablealive tt1 * ${f1} no`, fixtureLine('074-updatetablealive-test-table-not-exist.txt')],
        [`updatetablealive t0 10 ${f1} no`, fixtureLine('075-updatetablealive-test-no-pid-updated.txt')],
        [`updatetablealive t1 1 ${g1} no`, fixtureLines('036-updatetablealive-zh-cli-2x.txt')[0] as string],
        [`updatetablealive t1 1 ${g2} no`, fixtureLines('036-updatetablealive-zh-cli-2x.txt')[1] as string],
        ['changeleader t1 1 auto', fixtureLine('065-changeleader-test-no-alive-follower.txt')],
        [`recovertable t1 1 ${g1}`, fixtureLine('032-recovertable-zh-cli.txt')],
        [`changeleader t0 0 ${f1}`, fixtureLines('031-changeleader-zh-cli-3x.txt')[1] as string],
      ];
      assert.deepEqual(await nsSession(old, cases.map(([cmd]) => cmd), DB), cases.map(([, text]) => text));
      assert.deepEqual(
        (await old.mutations(since)).map((m) => [m.method, m.code]),
        [
          ['ConfSet', 0],
          ...['UpdateTableAliveStatus', 'RecoverTable', 'ChangeLeader', 'OfflineEndpoint', 'RecoverEndpoint', 'CancelOP'].map((m) => [m, 301]),
          ['ConfSet', 307],
          ['ConfSet', 307],
          ['ConfSet', 0],
          ['ChangeLeader', 309],
          ['ChangeLeader', 308],
          ['ChangeLeader', 100],
          ['OfflineEndpoint', 302],
          ['RecoverEndpoint', 302],
          ['UpdateTableAliveStatus', 100],
          ['UpdateTableAliveStatus', 321],
          ['UpdateTableAliveStatus', 0],
          ['UpdateTableAliveStatus', 0],
          ['ChangeLeader', 310],
          ['RecoverTable', 0],
          ['ChangeLeader', 0],
        ],
      );
      await old.ctl('settle');
      assert.equal(leaderOf(partition(await state(old), DB, 't0', 0)), f1, 'the named candidate leads');
      assert.equal(await ns(old, `offlineendpoint ${x}`), fixtureLine('013-offlineendpoint-zh-backup.txt') + '\n');
      await old.ctl('settle');
      assert.equal(await ns(old, `recoverendpoint ${x}`), fixtureLine('015-recoverendpoint-zh-backup.txt') + '\n');
      await old.ctl('settle');

      // tablet client: fixture 079 `LoadTable ok`, 078 `Fail to LoadTable` (no reason before v0.8.4)
      assert.equal((await tabletCli(old, tablet, 'loadtable x 900 0 144000 8')).stdout, fixtureLine('079-loadtable-test-ok.txt') + '\n');
      assert.equal((await tabletCli(old, tablet, 'loadtable x 900 0 144000 8')).stdout, fixtureLine('078-loadtable-test-fail.txt') + '\n');
    });

    test('showopstatus without for_replica_cluster; cancelop texts before v0.8.4', async () => {
      const s = await state(old);
      const p = partition(s, DB, 't0', 1);
      const y = followersOf(p).find((e) => p.find((r) => r.endpoint === e)?.isAlive) as string;
      const { doing } = await opsInEveryState(old, y, 't0', 1, (cmd) => nsDb(old, DB, cmd));
      const t = parseTPrinter(await nsDb(old, DB, 'showopstatus t0 1'));
      assert.deepEqual(t.header, OPS_HEADER_2018);
      assertOpRows(t.rows, (await state(old)).ops.filter((o) => o.name === 't0' && o.pid === 1).sort((a, b) => a.opId - b.opId), '2018');
      const since = await lastMutationSeq(old);
      assert.equal(await ns(old, `cancelop ${doing.opId}`), 'Cancel op ok!\n');
      assert.equal(await ns(old, `cancelop ${doing.opId}`), 'Cancel op failed! op status is not kDoing or kInited\n');
      assert.deepEqual(await sentSince(old, since), [
        ['CancelOP', { op_id: doing.opId }],
        ['CancelOP', { op_id: doing.opId }],
      ]);
    });

    test('a stopped tablet: kTabletOffline; gettablestatus failed, no reason', async () => {
      const s = await state(old);
      const victim = s.tablets[2] as { endpoint: string; address: string };
      await old.ctl('tablet', { action: 'stop', endpoint: victim.endpoint });
      await waitClosed(old, victim.address);
      // Listed offline once its ZooKeeper session expired (test/sim/session-window.test.ts).
      const t = await old.waitFor('listed offline', async () => {
        const shown = parseTPrinter(await ns(old, 'showtablet'));
        return shown.rows.find((r) => r[0] === victim.endpoint)?.[1] === 'kTabletOffline' ? shown : undefined;
      });
      assert.deepEqual(t.rows.find((r) => r[0] === victim.endpoint)?.slice(0, 2), [victim.endpoint, 'kTabletOffline']);
      assert.equal((await tabletCli(old, victim.address, 'gettablestatus')).stdout, 'gettablestatus failed\n');
    });
  });
});
