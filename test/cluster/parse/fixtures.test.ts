/**
 * Every real transcript in the fixtures directory, parsed with the parser for its
 * `# command:` and checked against what its `# expect:` line says. Expectations are
 * written out per file; a fixture without one fails the suite.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  classifyResult,
  parseConfGet,
  parseGetTableStatus,
  parseShowNs,
  parseShowOpStatus,
  parseShowTable,
  parseShowTablet,
  parseShowTableStatus,
  parseTable,
  type CommandResult,
  type MutatingCommand,
  type OpStatusRow,
  type ShowTableRow,
  type ShowTabletRow,
  type TabletTableStatus,
} from '../../../src/cluster/parse/index.js';
import { loadFixtures, type Fixture } from '../../helpers/fixtures.js';

// ---------------------------------------------------------------------------------
// Builders for expected rows

type Extra = Partial<ShowTableRow>;
const replica = (
  name: string,
  tid: number,
  pid: number,
  endpoint: string,
  role: 'leader' | 'follower',
  isAlive: boolean,
  extra: Extra = {},
): ShowTableRow => ({ name, tid, pid, endpoint, role, isAlive, ...extra });

/** Layout B (ttl, compress_type, offset, record_cnt, memused) with the docs' all-zero values. */
const B: Extra = { ttl: '0min', compressType: 'kNoCompress', offset: 0, recordCnt: 0, memused: '0.000' };
const ip = (last: number, port: number): string => `172.27.128.${last}:${port}`;
/** [pid, host, role, alive] tuples for table `name`/`tid` on port `port`. */
const replicas = (
  name: string,
  tid: number,
  port: number,
  extra: Extra,
  spec: ReadonlyArray<readonly [number, number, 'L' | 'F', boolean?]>,
): ShowTableRow[] =>
  spec.map(([pid, host, role, alive]) =>
    replica(name, tid, pid, ip(host, port), role === 'L' ? 'leader' : 'follower', alive ?? true, extra),
  );

const diskusedRows: ShowTableRow[] = [
  replica('aaa', 22, 0, '172.24.4.55:9971', 'leader', true, { offset: 0, recordCnt: 0, memused: '0.000', diskused: '8.646 K' }),
  replica('auto_VCeOIIKA', 25, 0, '172.24.4.55:9971', 'leader', true, { offset: 8, recordCnt: 4, memused: '498.000', diskused: '9.128 K' }),
  replica('t1', 21, 0, '172.24.4.55:9971', 'leader', true, { offset: 1, recordCnt: 1, memused: '301.000', diskused: '9.353 K' }),
];

const afterOffline = replicas('flow', 4, 8541, B, [
  [0, 32, 'L', false],
  [0, 33, 'F'],
  [0, 31, 'F'],
  [1, 33, 'L'],
  [1, 31, 'F'],
  [1, 32, 'F', false],
]);

const tablet = (endpoint: string, rawState: string, age: string, realEndpoint?: string): ShowTabletRow => ({
  endpoint,
  ...(realEndpoint === undefined ? {} : { realEndpoint }),
  state: rawState.endsWith('Healthy') ? 'healthy' : 'offline',
  rawState,
  age,
});

const namedTablets: ShowTabletRow[] = [
  tablet('6534708411798331392', 'kTabletHealthy', '1d', '172.17.0.12:9531'),
  tablet('6534708415948603392', 'kTabletHealthy', '1d', '172.17.0.13:9532'),
  tablet('6534708420092481536', 'kTabletHealthy', '14h', '172.17.0.14:9533'),
];

const done = (opId: number, opType: string, name: string, pid: number, start: string, exec: string, end: string): OpStatusRow => ({
  opId,
  opType,
  name,
  pid,
  status: 'kDone',
  startTime: start,
  executeTime: exec,
  endTime: end,
});

const ops51to56: OpStatusRow[] = [
  done(51, 'kMigrateOP', 'flow', 0, '20180824163316', '12s', '20180824163328'),
  done(52, 'kRecoverTableOP', 'flow', 0, '20180824195252', '1s', '20180824195253'),
  done(53, 'kRecoverTableOP', 'flow', 1, '20180824195252', '1s', '20180824195253'),
  done(54, 'kUpdateTableAliveOP', 'flow', 0, '20180824195838', '2s', '20180824195840'),
  done(55, 'kChangeLeaderOP', 'flow', 0, '20180824200135', '0s', '20180824200135'),
  done(56, 'kOfflineReplicaOP', 'flow', 1, '20180824200135', '1s', '20180824200136'),
];
const ops51to59: OpStatusRow[] = [
  ...ops51to56,
  done(57, 'kReAddReplicaOP', 'flow', 0, '20180827114331', '12s', '20180827114343'),
  done(58, 'kAddReplicaOP', 'test1', 0, '20180827205907', '8s', '20180827205915'),
  done(59, 'kDelReplicaOP', 'test1', 0, '20180827210248', '4s', '20180827210252'),
];
const ops54to59: OpStatusRow[] = [
  done(54, 'kUpdateTableAliveOP', 'flow', 0, '20180824195838', '2s', '20180824195840'),
  done(55, 'kChangeLeaderOP', 'flow', 0, '20180824200135', '0s', '20180824200135'),
  done(56, 'kOfflineReplicaOP', 'flow', 1, '20180824200135', '1s', '20180824200136'),
  done(57, 'kUpdateTableAliveOP', 'flow', 0, '20180824200212', '0s', '20180824200212'),
  done(58, 'kRecoverTableOP', 'flow', 0, '20180824200623', '1s', '20180824200624'),
  done(59, 'kRecoverTableOP', 'flow', 1, '20180824200623', '1s', '20180824200624'),
];

const status = (
  tid: number,
  pid: number,
  offset: number,
  mode: TabletTableStatus['mode'],
  state: TabletTableStatus['state'],
  extra: Partial<TabletTableStatus> = {},
): TabletTableStatus => ({ tid, pid, offset, mode, state, ...extra });

const cliStatusRows: TabletTableStatus[] = [
  status(1, 0, 4, 'kTableLeader', 'kSnapshotPaused', {
    enableExpire: true,
    ttl: '144000min',
    ttlOffset: '0s',
    memused: '1.313 K',
    compressType: 'kNoCompress',
  }),
  status(2, 0, 4, 'kTableLeader', 'kTableNormal', {
    enableExpire: false,
    ttl: '0min',
    ttlOffset: '0s',
    memused: '689.000',
    compressType: 'kNoCompress',
  }),
];

const sqlStatusRow = {
  tableId: 6,
  tableName: 't1',
  databaseName: 'db',
  storageType: 'memory',
  partition: 8,
  partitionUnalive: 0,
  replica: 3,
};
const sqlCells = {
  Table_id: '6',
  Table_name: 't1',
  Database_name: 'db',
  Storage_type: 'memory',
  Rows: '2',
  Memory_data_size: '479',
  Disk_data_size: '0',
  Partition: '8',
  Partition_unalive: '0',
  Replica: '3',
  Offline_path: 'NULL',
  Offline_format: 'NULL',
  Offline_deep_copy: 'NULL',
};

// ---------------------------------------------------------------------------------
// Per-command checks

const showtable = (rows: ShowTableRow[]) => (body: string) => assert.deepEqual(parseShowTable(body), rows);
const showtablet = (rows: ShowTabletRow[]) => (body: string) => assert.deepEqual(parseShowTablet(body), rows);
const showopstatus = (rows: OpStatusRow[]) => (body: string) => assert.deepEqual(parseShowOpStatus(body), rows);
const gettablestatus = (rows: TabletTableStatus[]) => (body: string) =>
  assert.deepEqual(parseGetTableStatus(body), { ok: true, rows });
const confget = (autoFailover: boolean) => (body: string) =>
  assert.deepEqual(parseConfGet(body), { values: { auto_failover: String(autoFailover) }, autoFailover });
const showns = (endpoint: string, realEndpointColumn: boolean) => (body: string) => {
  assert.deepEqual(parseShowNs(body), { nameservers: [{ endpoint, role: 'leader' }] });
  // real_endpoint `-` must read as absent, not as a value, and only where the column exists
  assert.equal(parseTable(body).columns.includes('real_endpoint'), realEndpointColumn);
};
const sqlStatus = (warningsColumn: boolean) => (body: string) => {
  const cells = warningsColumn ? { ...sqlCells, Warnings: '' } : sqlCells;
  assert.deepEqual(parseShowTableStatus(body), [{ ...sqlStatusRow, cells }]);
};
/** A one-line result: success, or a failure of the given kind with the given reason. */
const result =
  (command: MutatingCommand, expected: { kind: string; message: string } | 'ok', successText?: string) =>
  (body: string) => {
    const r: CommandResult = classifyResult(command, body);
    if (expected === 'ok') {
      assert.equal(r.ok, true, JSON.stringify(r));
      if (successText !== undefined) assert.equal(r.ok && r.message, successText);
      return;
    }
    assert.equal(r.ok, false);
    assert.deepEqual({ kind: !r.ok && r.kind, message: !r.ok && r.message }, expected);
  };

interface Expectation {
  readonly check: (body: string) => void;
  /** For `whitespace: mangled` files: the parser gives the same answer as the intact source, or a ParseError. */
  readonly mangled?: 'same' | 'parse-error';
}

const EXPECT: Readonly<Record<string, Expectation>> = {
  '001-showtable-rtidb-ops-flowtrans.txt': {
    // layout A: no offset column, so offset must be absent (unknown), not 0
    check: showtable(
      replicas('flow_trans', 10, 9991, { segCnt: 8, ttl: '0' }, [
        [0, 32, 'F'],
        [0, 33, 'F'],
        [0, 31, 'L'],
        [1, 33, 'F'],
        [1, 31, 'L'],
        [1, 32, 'F'],
        [2, 32, 'F'],
        [2, 33, 'F'],
        [2, 31, 'L'],
        [3, 33, 'F'],
        [3, 31, 'L'],
        [3, 32, 'F'],
      ]),
    ),
  },
  '002-gettablestatus-rtidb-ha-follower.txt': {
    check: gettablestatus([status(1, 0, 1, 'kTableFollower', 'kTableNormal', { ttl: '144000' })]),
  },
  '003-gettablestatus-rtidb-cli-all.txt': {
    check: gettablestatus([
      status(1, 0, 2, 'kTableLeader', 'kTableNormal', { enableExpire: false, ttl: '0min', ttlOffset: '0s', memused: '913.000' }),
      status(10, 0, 3, 'kTableLeader', 'kTableNormal', { enableExpire: false, ttl: '144000min', ttlOffset: '0s', memused: '391.000' }),
      status(10, 1, 2, 'kTableLeader', 'kTableNormal', { enableExpire: true, ttl: '144000min', ttlOffset: '0s', memused: '337.000' }),
      ...[2, 3, 4].map((pid) =>
        status(10, pid, 0, 'kTableLeader', 'kTableNormal', { enableExpire: true, ttl: '144000min', ttlOffset: '0s', memused: '0.000' }),
      ),
    ]),
  },
  '004-gettablestatus-rtidb-cli-one.txt': {
    check: gettablestatus([
      status(1, 0, 2, 'kTableLeader', 'kTableNormal', { enableExpire: false, ttl: '0min', ttlOffset: '0s', memused: '913.000' }),
    ]),
  },
  '005-showtablet-rtidb-cli.txt': {
    check: showtablet([9520, 9521, 9522].map((p) => tablet(`127.0.0.1:${p}`, 'kTabletHealthy', '3.000h'))),
  },
  '006-showopstatus-rtidb-cli-noname.txt': {
    check: showopstatus([
      { opId: 2, opType: 'kUpdateTableAliveOP', status: 'kDone', startTime: '20180330175434', executeTime: '0s', endTime: '20180330175434' },
    ]),
  },
  '007-showopstatus-rtidb-cli-changeleader.txt': {
    check: showopstatus([
      done(2, 'kChangeLeaderOP', 'flow_trans', 4, '20180626103358', '11s', '20180626103409'),
      done(3, 'kChangeLeaderOP', 'flow_trans', 14, '20180626103358', '11s', '20180626103409'),
    ]),
  },
  '008-confget-zh-backup-true.txt': { check: confget(true) },
  '009-confset-zh-backup-false.txt': { check: result('confset', 'ok', 'set auto_failover ok') },
  '010-confget-zh-backup-false.txt': { check: confget(false) },
  '011-showtable-zh-backup-failover.txt': {
    check: showtable(
      replicas('flow', 4, 8541, B, [
        [0, 32, 'L', false],
        [0, 33, 'F'],
        [0, 31, 'L'],
        [1, 33, 'L'],
        [1, 31, 'F'],
        [1, 32, 'F', false],
      ]),
    ),
  },
  '012-showtablet-zh-backup-offline.txt': {
    check: showtablet([
      tablet(ip(31, 8541), 'kTabletHealthy', '3h'),
      tablet(ip(32, 8541), 'kTabletOffline', '7m'),
      tablet(ip(33, 8541), 'kTabletHealthy', '3h'),
    ]),
  },
  '013-offlineendpoint-zh-backup.txt': { check: result('offlineendpoint', 'ok', 'offline endpoint ok') },
  '014-showtablet-zh-backup-healthy.txt': {
    check: showtablet([
      tablet(ip(31, 8541), 'kTabletHealthy', '3h'),
      tablet(ip(32, 8541), 'kTabletHealthy', '7m'),
      tablet(ip(33, 8541), 'kTabletHealthy', '3h'),
    ]),
  },
  '015-recoverendpoint-zh-backup.txt': { check: result('recoverendpoint', 'ok', 'recover endpoint ok') },
  '016-showopstatus-zh-backup-doing.txt': {
    check: showopstatus([
      ...ops54to59,
      ...[0, 1].map(
        (pid): OpStatusRow => ({
          opId: 60 + pid,
          opType: 'kReAddReplicaOP',
          name: 'flow',
          pid,
          status: 'kDoing',
          startTime: '20180824200624',
          executeTime: '4s',
          curTask: 'kLoadTable',
        }),
      ),
    ]),
  },
  '017-showopstatus-zh-backup-done.txt': {
    check: showopstatus([
      ...ops54to59,
      done(60, 'kReAddReplicaOP', 'flow', 0, '20180824200624', '9s', '20180824200633'),
      done(61, 'kReAddReplicaOP', 'flow', 1, '20180824200624', '9s', '20180824200633'),
    ]),
  },
  '018-showtable-zh-backup-recovered.txt': {
    check: showtable(
      replicas('flow', 4, 8541, B, [
        [0, 32, 'F'],
        [0, 33, 'F'],
        [0, 31, 'L'],
        [1, 33, 'L'],
        [1, 31, 'F'],
        [1, 32, 'F'],
      ]),
    ),
  },
  '019-showtable-zh-cli-diskused.txt': { check: showtable(diskusedRows) },
  '020-showtable-zh-cli-diskused-one.txt': { check: showtable([diskusedRows[1] as ShowTableRow]) },
  '021-showtablet-zh-cli-realendpoint.txt': { check: showtablet(namedTablets) },
  '022-showtable-zh-cli-test1-4rows.txt': {
    check: showtable(replicas('test1', 13, 8541, B, [0, 1, 2, 3].map((pid) => [pid, 31, 'L'] as const))),
  },
  '023-showtable-zh-cli-test1-5rows.txt': {
    check: showtable(
      replicas('test1', 13, 8541, B, [
        [0, 31, 'L'],
        [0, 33, 'F'],
        [1, 31, 'L'],
        [2, 31, 'L'],
        [3, 31, 'L'],
      ]),
    ),
  },
  '024-showtable-zh-cli-test1-8rows.txt': {
    check: showtable(
      replicas('test1', 13, 8541, B, [0, 1, 2, 3].flatMap((pid) => [[pid, 31, 'L'] as const, [pid, 33, 'F'] as const])),
    ),
  },
  '025-showtable-zh-cli-test1-7rows.txt': {
    check: showtable(
      replicas('test1', 13, 8541, B, [
        [0, 31, 'L'],
        ...[1, 2, 3].flatMap((pid) => [[pid, 31, 'L'] as const, [pid, 33, 'F'] as const]),
      ]),
    ),
  },
  '026-confget-zh-cli-all.txt': { check: confget(false) },
  '027-confget-zh-cli-key.txt': { check: confget(false) },
  '028-confset-zh-cli-true.txt': { check: result('confset', 'ok', 'set auto_failover ok') },
  '029-showtable-zh-cli-after-offline.txt': { check: showtable(afterOffline) },
  '030-recoverendpoint-zh-cli-3x.txt': { check: result('recoverendpoint', 'ok', 'recover endpoint ok') },
  '031-changeleader-zh-cli-3x.txt': { check: result('changeleader', 'ok', 'change leader ok') },
  '032-recovertable-zh-cli.txt': { check: result('recovertable', 'ok', 'recover table ok') },
  '033-showopstatus-zh-cli-all.txt': { check: showopstatus(ops51to59) },
  '034-showopstatus-zh-cli-flow.txt': {
    check: showopstatus([...ops51to56, done(57, 'kUpdateTableAliveOP', 'flow', 0, '20180824200212', '0s', '20180824200212')]),
  },
  '035-showopstatus-zh-cli-flow-pid1.txt': {
    check: showopstatus([ops51to56[2] as OpStatusRow, ops51to56[5] as OpStatusRow]),
  },
  '036-updatetablealive-zh-cli-2x.txt': { check: result('updatetablealive', 'ok', 'update ok') },
  '037-showns-zh-cli-realendpoint.txt': { check: showns('172.24.4.55:6531', true) },
  '038-gettablestatus-zh-cli-all.txt': { check: gettablestatus(cliStatusRows) },
  '039-gettablestatus-zh-cli-one.txt': { check: gettablestatus([cliStatusRows[1] as TabletTableStatus]) },
  '040-showtable-en-cli-mangled-diskused.txt': { check: showtable(diskusedRows), mangled: 'same' },
  '041-showtablet-en-cli-mangled.txt': { check: showtablet(namedTablets), mangled: 'same' },
  '042-showtable-en-cli-mangled-offline.txt': { check: showtable(afterOffline), mangled: 'same' },
  '043-showopstatus-en-cli-mangled.txt': { check: showopstatus(ops51to59), mangled: 'same' },
  '044-confget-en-cli-mangled.txt': { check: confget(false), mangled: 'same' },
  '045-showns-en-cli-mangled.txt': { check: showns('172.24.4.55:6531', true), mangled: 'same' },
  '046-gettablestatus-en-cli-mangled.txt': { check: gettablestatus(cliStatusRows), mangled: 'same' },
  '047-showtablet-zh-scale-4tablets.txt': {
    check: showtablet([
      tablet(ip(31, 8541), 'kTabletHealthy', '15d'),
      tablet(ip(32, 8541), 'kTabletHealthy', '15d'),
      tablet(ip(33, 8541), 'kTabletHealthy', '15d'),
      tablet(ip(37, 8541), 'kTabletHealthy', '1min'),
    ]),
  },
  '048-showtable-zh-scale-before.txt': {
    check: showtable(
      replicas('flow', 4, 8541, B, [
        [0, 32, 'L'],
        [0, 33, 'F'],
        [0, 31, 'F'],
        [1, 33, 'L'],
        [1, 31, 'F'],
        [1, 32, 'F'],
      ]),
    ),
  },
  '049-showopstatus-zh-scale-migrate.txt': { check: showopstatus([ops51to56[0] as OpStatusRow]) },
  '050-showtable-zh-scale-after.txt': {
    check: showtable(
      replicas('flow', 4, 8541, B, [
        [0, 32, 'L'],
        [0, 37, 'F'],
        [0, 31, 'F'],
        [1, 33, 'L'],
        [1, 31, 'F'],
        [1, 32, 'F'],
      ]),
    ),
  },
  '051-showns-zh-deploy.txt': { check: showns(ip(31, 6527), false) },
  '052-showns-docszh-deploy-standalone.txt': { check: showns(ip(33, 6527), false) },
  '053-showtablet-docszh-deploy-single.txt': { check: showtablet([tablet(ip(33, 9527), 'kTabletHealthy', '0m')]) },
  '054-show-table-status-zh-sqlref-nowarnings.txt': { check: sqlStatus(false) },
  '055-show-table-status-en-sqlref-nowarnings.txt': { check: sqlStatus(false) },
  '056-show-table-status-zh-sql-warnings.txt': { check: sqlStatus(true) },
  '065-changeleader-test-no-alive-follower.txt': {
    check: result('changeleader', { kind: 'no_alive_follower', message: 'no alive follower' }),
  },
  '066-changeleader-test-leader-alive.txt': {
    check: result('changeleader', { kind: 'leader_alive', message: 'leader is alive' }),
  },
  '067-changeleader-test-table-not-exist.txt': {
    check: result('changeleader', { kind: 'table_not_exist', message: 'table is not exist' }),
  },
  '068-changeleader-test-pid-not-exist.txt': {
    check: result('changeleader', { kind: 'pid_not_exist', message: 'pid is not exist' }),
  },
  '069-offlineendpoint-test-auto-failover-refused-old.txt': {
    check: (body) => {
      for (const cmd of ['offlineendpoint', 'recoverendpoint', 'changeleader', 'recovertable', 'updatetablealive'] as const) {
        result(cmd, { kind: 'auto_failover_enabled', message: 'auto_failover is enabled, cannot execute this cmd' })(body);
      }
    },
  },
  '070-recovertable-test-auto-failover-refused.txt': {
    check: (body) => {
      result('recovertable', { kind: 'auto_failover_enabled', message: 'auto_failover is enabled' })(body);
      // the same refusal behind the prefixes current clients print
      result('recovertable', { kind: 'auto_failover_enabled', message: 'auto_failover is enabled' })(
        `Fail to recover table. error msg:${body}`,
      );
      result('offlineendpoint', { kind: 'auto_failover_enabled', message: 'auto_failover is enabled' })(
        `failed to offline endpoint. error msg: ${body}`,
      );
    },
  },
  '071-offlineendpoint-test-endpoint-healthy.txt': {
    check: result('offlineendpoint', { kind: 'endpoint_healthy', message: 'endpoint is healthy' }),
  },
  '072-offlineendpoint-test-endpoint-not-exist.txt': {
    check: result('offlineendpoint', { kind: 'endpoint_not_exist', message: 'endpoint is not exist' }),
  },
  '073-recoverendpoint-test-endpoint-not-exist.txt': {
    check: result('recoverendpoint', { kind: 'endpoint_not_exist', message: 'endpoint is not exist' }),
  },
  '074-updatetablealive-test-table-not-exist.txt': {
    check: result('updatetablealive', { kind: 'table_not_exist', message: 'table is not exist' }),
  },
  '075-updatetablealive-test-no-pid-updated.txt': {
    check: result('updatetablealive', { kind: 'no_pid_updated', message: 'no pid has update' }),
  },
  '076-confset-test-invalid-value.txt': {
    check: result('confset', { kind: 'invalid_parameter', message: 'invalid value' }),
  },
  '077-confset-test-invalid-parameter.txt': {
    check: result('confset', { kind: 'invalid_parameter', message: 'invalid parameter' }),
  },
  '078-loadtable-test-fail.txt': {
    check: result('loadtable', { kind: 'failed', message: 'Fail to LoadTable' }),
  },
  '079-loadtable-test-ok.txt': { check: result('loadtable', 'ok', 'LoadTable ok') },
};

const fixtures = loadFixtures();

describe('fixtures: real openmldb transcripts', () => {
  it('has an expectation for every fixture file and a file for every expectation', () => {
    assert.deepEqual(
      fixtures.map((f) => f.file),
      Object.keys(EXPECT).sort(),
    );
    assert.ok(fixtures.length >= 71, `only ${fixtures.length} fixtures found`);
  });

  for (const fixture of fixtures) {
    const expectation = EXPECT[fixture.file];
    it(`${fixture.file} (${fixture.command}, ${fixture.kind})`, () => {
      assert.ok(expectation, `no expectation written for ${fixture.file}`);
      checkFixture(fixture, expectation);
    });
  }
});

function checkFixture(fixture: Fixture, expectation: Expectation): void {
  const mangled = fixture.whitespace?.startsWith('mangled') === true;
  assert.equal(expectation.mangled !== undefined, mangled, 'mangled outcome must be stated exactly for mangled files');
  if (expectation.mangled === 'parse-error') {
    assert.throws(() => expectation.check(fixture.body), { name: 'ParseError' });
    return;
  }
  expectation.check(fixture.body);
  if (mangled) {
    // Collapsed whitespace cannot be read by position; the token reading must have been used.
    assert.ok(parseTable(fixture.body).rows.every((r) => r.reading === 'tokens'));
  }
}
