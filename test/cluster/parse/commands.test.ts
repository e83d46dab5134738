/** Typed per-command parsers on hand-written outputs in the current (HEAD) layouts and edge cases. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  CommandFailedError,
  ParseError,
  parseBrokenTableNotices,
  parseConfGet,
  parseGetTableStatus,
  parseShowDb,
  parseShowNs,
  parseShowOpStatus,
  parseShowTable,
  parseShowTableDetailed,
  parseShowTablet,
  parseShowTableStatus,
} from '../../../src/cluster/parse/index.js';
import { mangle, tprint } from './tprint.js';

const SHOWTABLE = ['name', 'tid', 'pid', 'endpoint', 'role', 'is_alive', 'offset', 'record_cnt', 'memused', 'diskused'];
const GETTABLESTATUS = [
  'tid',
  'pid',
  'offset',
  'mode',
  'state',
  'enable_expire',
  'ttl',
  'ttl_offset',
  'memused',
  'compress_type',
  'skiplist_height',
];

const failedWith = (kind: string, transient: boolean) => (e: unknown) =>
  e instanceof CommandFailedError && e.kind === kind && e.transient === transient;

describe('parseShowTable', () => {
  const text =
    'ns leader: 172.27.2.52:7527\n' +
    tprint(SHOWTABLE, [
      ['t1', '3', '0', '172.27.2.52:9520', 'leader', 'no', '1024', '512', '83.500 K', '12.345 K'],
      ['t1', '3', '0', '172.27.2.53:9520', 'leader', 'yes', '1030', '515', '84.000 K', '12.401 K'],
      ['t1', '3', '0', '172.27.2.54:9520', 'follower', 'yes', '-', '-', '-', '0.000'],
    ]);

  it('reads the current layout, sizes with spaces, and `-` as unknown', () => {
    assert.deepEqual(parseShowTable(text), [
      { name: 't1', tid: 3, pid: 0, endpoint: '172.27.2.52:9520', role: 'leader', isAlive: false, offset: 1024, recordCnt: 512, memused: '83.500 K', diskused: '12.345 K' },
      { name: 't1', tid: 3, pid: 0, endpoint: '172.27.2.53:9520', role: 'leader', isAlive: true, offset: 1030, recordCnt: 515, memused: '84.000 K', diskused: '12.401 K' },
      { name: 't1', tid: 3, pid: 0, endpoint: '172.27.2.54:9520', role: 'follower', isAlive: true, diskused: '0.000' },
    ]);
    assert.deepEqual(parseShowTable(mangle(text)), parseShowTable(text));
  });

  it('an empty table (unknown table or database) is zero rows', () => {
    assert.deepEqual(parseShowTable('ns leader: 127.0.0.1:7527\n' + tprint(SHOWTABLE, [])), []);
  });

  it('reports tables without partitions and partitions without replicas separately', () => {
    const special = tprint(SHOWTABLE, [
      ['empty_t', '7', '', '', '', '', '', '', '', ''],
      ['t2', '8', '0', '', '', '', '', '', '', ''],
      ['t2', '8', '1', '127.0.0.1:9520', 'leader', 'yes', '5', '5', '1.000 K', '0.000'],
    ]);
    assert.deepEqual(parseShowTableDetailed(special), {
      replicas: [{ name: 't2', tid: 8, pid: 1, endpoint: '127.0.0.1:9520', role: 'leader', isAlive: true, offset: 5, recordCnt: 5, memused: '1.000 K', diskused: '0.000' }],
      tablesWithoutPartitions: [{ name: 'empty_t', tid: 7 }],
      partitionsWithoutReplicas: [{ name: 't2', tid: 8, pid: 0 }],
    });
    assert.equal(parseShowTable(special).length, 1);
  });

  it('rejects unknown role / is_alive values and missing columns', () => {
    const bad = (role: string, alive: string): string =>
      tprint(SHOWTABLE, [['t1', '3', '0', '127.0.0.1:9520', role, alive, '1', '1', '0.000', '0.000']]);
    assert.throws(() => parseShowTable(bad('candidate', 'yes')), ParseError);
    assert.throws(() => parseShowTable(bad('leader', 'maybe')), ParseError);
    assert.throws(
      () => parseShowTable(tprint(['name', 'tid', 'pid', 'endpoint', 'is_alive'], [])),
      (e: unknown) => e instanceof ParseError && /role/.test(e.reason),
    );
  });

  it('rejects an offset too large to represent exactly', () => {
    const huge = tprint(SHOWTABLE, [['t1', '3', '0', '127.0.0.1:9520', 'leader', 'yes', '18446744073709551615', '1', '0.000', '0.000']]);
    assert.throws(() => parseShowTable(huge), /non-negative integer/);
  });

  it('turns a failure message into CommandFailedError with its kind', () => {
    const notLeader = 'ns leader: 127.0.0.1:7527\nfailed to showtable. error msg: nameserver is not leader\n';
    assert.throws(() => parseShowTable(notLeader), failedWith('not_leader', true));
    assert.throws(() => parseShowTable('failed to showtable. error msg: \n'), failedWith('rpc', true));
    assert.throws(() => parseShowTable('zk client init failed\n'), failedWith('zk', true));
  });

  it('garbled output is a ParseError', () => {
    assert.throws(() => parseShowTable('ns leader: 127.0.0.1:7527\n<html>502 Bad Gateway</html>\n'), ParseError);
  });
});

describe('parseShowTablet', () => {
  it('reads the current layout with `-` real_endpoint', () => {
    const text = tprint(['endpoint', 'real_endpoint', 'state', 'age'], [
      ['172.27.2.52:9520', '-', 'kHealthy', '3h'],
      ['172.27.2.53:9520', '-', 'kOffline', '7m'],
      ['tablet-3', '172.27.2.54:9520', 'kHealthy', '850ms'],
    ]);
    assert.deepEqual(parseShowTablet(text), [
      { endpoint: '172.27.2.52:9520', state: 'healthy', rawState: 'kHealthy', age: '3h' },
      { endpoint: '172.27.2.53:9520', state: 'offline', rawState: 'kOffline', age: '7m' },
      { endpoint: 'tablet-3', realEndpoint: '172.27.2.54:9520', state: 'healthy', rawState: 'kHealthy', age: '850ms' },
    ]);
  });

  it('rejects an unknown state', () => {
    const text = tprint(['endpoint', 'real_endpoint', 'state', 'age'], [['127.0.0.1:9520', '-', 'kStarting', '1s']]);
    assert.throws(() => parseShowTablet(text), /kStarting/);
  });

  it('Fail to show tablets. error msg: (empty) is an RPC failure', () => {
    assert.throws(() => parseShowTablet('Fail to show tablets. error msg: '), failedWith('rpc', true));
  });
});

describe('parseShowNs', () => {
  it('reads the leader line and leader/standby rows', () => {
    const text =
      'ns leader: 172.27.2.52:7527\n' +
      tprint(['endpoint', 'real_endpoint', 'role'], [
        ['172.27.2.52:7527', '-', 'leader'],
        ['172.27.2.53:7527', '-', 'standby'],
      ]);
    assert.deepEqual(parseShowNs(text), {
      leader: '172.27.2.52:7527',
      nameservers: [
        { endpoint: '172.27.2.52:7527', role: 'leader' },
        { endpoint: '172.27.2.53:7527', role: 'standby' },
      ],
    });
  });

  it('rejects an unknown role; reports ZK failures', () => {
    assert.throws(() => parseShowNs(tprint(['endpoint', 'role'], [['127.0.0.1:7527', 'primary']])), ParseError);
    assert.throws(() => parseShowNs('get leader failed\n'), failedWith('zk', true));
    assert.throws(() => parseShowNs('Show nameserver failed. zk_cluster is empty\n'), failedWith('zk', true));
  });
});

describe('parseShowOpStatus', () => {
  it('reads the current layout with for_replica_cluster and `-` cells', () => {
    const text = tprint(
      ['op_id', 'op_type', 'name', 'pid', 'status', 'start_time', 'execute_time', 'end_time', 'cur_task', 'for_replica_cluster'],
      [
        ['51', 'kRecoverTableOP', 't1', '0', 'kDone', '20240508101501', '1s', '20240508101502', '-', 'no'],
        ['52', 'kReAddReplicaNoSendOP', 't1', '0', 'kDoing', '20240508101502', '4s', '-', 'kLoadTable', 'no'],
        ['53', 'kRecoverTableOP', 't1', '-', 'kInited', '-', '-', '-', '-', 'no'],
        ['54', 'kRecoverTableOP', 't2', '0', 'kFailed', '20240508101503', '0s', '20240508101503', 'kDelReplica', 'yes'],
        ['55', 'kChangeLeaderOP', 't2', '1', 'kCanceled', '20240508101504', '0s', '20240508101504', 'kSelectLeader', 'no'],
      ],
    );
    assert.deepEqual(parseShowOpStatus(text), [
      { opId: 51, opType: 'kRecoverTableOP', name: 't1', pid: 0, status: 'kDone', startTime: '20240508101501', executeTime: '1s', endTime: '20240508101502', forReplicaCluster: false },
      { opId: 52, opType: 'kReAddReplicaNoSendOP', name: 't1', pid: 0, status: 'kDoing', startTime: '20240508101502', executeTime: '4s', curTask: 'kLoadTable', forReplicaCluster: false },
      { opId: 53, opType: 'kRecoverTableOP', name: 't1', status: 'kInited', forReplicaCluster: false },
      { opId: 54, opType: 'kRecoverTableOP', name: 't2', pid: 0, status: 'kFailed', startTime: '20240508101503', executeTime: '0s', endTime: '20240508101503', curTask: 'kDelReplica', forReplicaCluster: true },
      { opId: 55, opType: 'kChangeLeaderOP', name: 't2', pid: 1, status: 'kCanceled', startTime: '20240508101504', executeTime: '0s', endTime: '20240508101504', curTask: 'kSelectLeader', forReplicaCluster: false },
    ]);
  });

  it('rejects an unknown status', () => {
    const text = tprint(['op_id', 'op_type', 'status'], [['1', 'kRecoverTableOP', 'kPaused']]);
    assert.throws(() => parseShowOpStatus(text), ParseError);
  });
});

describe('parseGetTableStatus', () => {
  it('reads the current layout (sizes with spaces followed by more columns)', () => {
    const text = tprint(GETTABLESTATUS, [
      ['3', '0', '1024', 'kTableLeader', 'kTableNormal', 'false', '0min', '0s', '83.500 K', 'kNoCompress', '1'],
      ['3', '1', '998', 'kTableFollower', 'kTableLoading', 'false', '0min', '0s', '0.000', 'kNoCompress', '1'],
    ]);
    const expected = {
      ok: true,
      rows: [
        { tid: 3, pid: 0, offset: 1024, mode: 'kTableLeader', state: 'kTableNormal', enableExpire: false, ttl: '0min', ttlOffset: '0s', memused: '83.500 K', compressType: 'kNoCompress', skiplistHeight: 1 },
        { tid: 3, pid: 1, offset: 998, mode: 'kTableFollower', state: 'kTableLoading', enableExpire: false, ttl: '0min', ttlOffset: '0s', memused: '0.000', compressType: 'kNoCompress', skiplistHeight: 1 },
      ],
    };
    assert.deepEqual(parseGetTableStatus(text), expected);
    assert.deepEqual(parseGetTableStatus(mangle(text)), expected);
  });

  it('returns the bogus default row for an unloaded partition as a row (caller checks tid/pid)', () => {
    const text = tprint(GETTABLESTATUS, [
      ['0', '0', '0', 'kTableLeader', 'kTableUndefined', 'false', '0min', '0s', '0.000', 'kNoCompress', '0'],
    ]);
    assert.deepEqual(parseGetTableStatus(text), {
      ok: true,
      rows: [
        { tid: 0, pid: 0, offset: 0, mode: 'kTableLeader', state: 'kTableUndefined', enableExpire: false, ttl: '0min', ttlOffset: '0s', memused: '0.000', compressType: 'kNoCompress', skiplistHeight: 0 },
      ],
    });
  });

  it('nothing loaded: header and dashes only', () => {
    assert.deepEqual(parseGetTableStatus(tprint(GETTABLESTATUS, [])), { ok: true, rows: [] });
  });

  it('reports the failure forms as results, not rows', () => {
    assert.deepEqual(parseGetTableStatus('gettablestatus failed\n' + tprint(GETTABLESTATUS, [])), {
      ok: false,
      kind: 'failed',
      message: 'gettablestatus failed',
      transient: false,
      rows: [],
    });
    const rpc = parseGetTableStatus(
      'gettablestatus failed, error msg: [E111]Fail to connect SocketId=8589934592@127.0.0.1:9527: Connection refused\n' +
        tprint(GETTABLESTATUS, []),
    );
    assert.equal(rpc.ok, false);
    assert.equal(!rpc.ok && rpc.kind, 'rpc');
    assert.equal(!rpc.ok && rpc.transient, true);
    assert.match(!rpc.ok ? rpc.message : '', /^\[E111\]Fail to connect/);
    // without any table
    const timeout = parseGetTableStatus('gettablestatus failed, error msg: [E1008]Reached timeout=3000ms @127.0.0.1:9527\n');
    assert.equal(!timeout.ok && timeout.kind, 'rpc');
    const bad = parseGetTableStatus('Bad gettablestatus format\n');
    assert.equal(!bad.ok && bad.kind, 'bad_format');
  });

  it('rejects unknown modes and states, and garbage', () => {
    const row = (mode: string, state: string): string =>
      tprint(GETTABLESTATUS, [['1', '0', '0', mode, state, 'false', '0min', '0s', '0.000', 'kNoCompress', '1']]);
    assert.throws(() => parseGetTableStatus(row('kTableCandidate', 'kTableNormal')), ParseError);
    assert.throws(() => parseGetTableStatus(row('kTableLeader', 'kTableBroken')), ParseError);
    assert.throws(() => parseGetTableStatus('hello\n'), ParseError);
  });
});

describe('parseConfGet', () => {
  it('reads true/false, including the padded `true ` cell', () => {
    assert.deepEqual(parseConfGet('  key            value\n------------------------\n  auto_failover  true \n'), {
      values: { auto_failover: 'true' },
      autoFailover: true,
    });
    assert.equal(parseConfGet(tprint(['key', 'value'], [['auto_failover', 'false']])).autoFailover, false);
  });

  it('needs the auto_failover row with a boolean value', () => {
    assert.throws(() => parseConfGet(tprint(['key', 'value'], [])), /no auto_failover row/);
    assert.throws(() => parseConfGet(tprint(['key', 'value'], [['auto_failover', 'yes']])), ParseError);
  });

  it('reports failures', () => {
    assert.throws(() => parseConfGet('failed to set foo. error msg: cannot found key foo\n'), failedWith('invalid_parameter', false));
  });
});

describe('parseShowDb', () => {
  it('reads `# name` rows', () => {
    assert.deepEqual(parseShowDb('ns leader: 127.0.0.1:7527\n' + tprint(['#', 'name'], [['1', 'db1'], ['2', 'demo_db']])), ['db1', 'demo_db']);
  });
  it('an empty table is no databases', () => {
    assert.deepEqual(parseShowDb(tprint(['#', 'name'], [])), []);
  });
});

describe('parseShowTableStatus', () => {
  const header = ['Table_id', 'Table_name', 'Database_name', 'Storage_type', 'Rows', 'Memory_data_size', 'Disk_data_size', 'Partition', 'Partition_unalive', 'Replica', 'Offline_path', 'Offline_format', 'Offline_symbolic_paths', 'Warnings'];
  const sqlTable = (rows: string[][]): string => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const rule = ' ' + widths.map((w) => '-'.repeat(w + 2)).join(' ') + ' ';
    const line = (r: readonly string[]): string => ' ' + widths.map((w, i) => ` ${(r[i] ?? '').padEnd(w)} `).join(' ') + ' ';
    return [rule, line(header), rule, ...rows.map(line), rule].join('\n') + '\n';
  };

  it('reads broken-table notices, the HEAD layout and warnings with spaces', () => {
    const text =
      'ERROR: table db.t1 is broken, `show table status` to check detail, unalive partition: 8, warning preview: [pid=0]: real replica number 0 does not match the configured replicanum 3\n' +
      'HINT: Use `openmldb_tool inspect` to get full report.\n' +
      sqlTable([
        ['6', 't1', 'db', 'memory', '2', '479', '0', '8', '8', '3', 'NULL', 'NULL', 'NULL', '[pid=0]: real replica number 0 does not match the configured replicanum 3'],
        ['7', 't2', 'db', 'ssd', '0', '0', '12', '2', '0', '1', 'NULL', 'NULL', 'NULL', ''],
      ]) +
      '\n2 rows in set\n';
    const rows = parseShowTableStatus(text);
    assert.deepEqual(
      rows.map(({ cells: _cells, ...typed }) => typed),
      [
        { tableId: 6, tableName: 't1', databaseName: 'db', storageType: 'memory', partition: 8, partitionUnalive: 8, replica: 3, warnings: '[pid=0]: real replica number 0 does not match the configured replicanum 3' },
        { tableId: 7, tableName: 't2', databaseName: 'db', storageType: 'ssd', partition: 2, partitionUnalive: 0, replica: 1 },
      ],
    );
    assert.equal(rows[1]?.cells['Disk_data_size'], '12');
    assert.deepEqual(parseBrokenTableNotices(text), [
      { database: 'db', table: 't1', unalivePartitions: 8, warningPreview: '[pid=0]: real replica number 0 does not match the configured replicanum 3' },
    ]);
  });

  it('reports sql client failures', () => {
    assert.throws(() => parseShowTableStatus('ERROR: Failed to connect to db\n'), failedWith('rpc', true));
    assert.throws(() => parseShowTableStatus('Error: [2000] please enter database first\n'), CommandFailedError);
  });

  it('Empty set is zero rows; garbage is a ParseError', () => {
    assert.deepEqual(parseShowTableStatus('Empty set\n'), []);
    assert.throws(() => parseShowTableStatus('what\n'), ParseError);
  });
});
