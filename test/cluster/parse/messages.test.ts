import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  classifyFailureLine,
  classifyResult,
  isTransient,
  MUTATING_COMMANDS,
  type FailureKind,
  type MutatingCommand,
} from '../../../src/cluster/parse/index.js';

const kindOf = (command: MutatingCommand, text: string): FailureKind | 'ok' => {
  const r = classifyResult(command, text);
  return r.ok ? 'ok' : r.kind;
};

describe('classifyResult: success', () => {
  const cases: ReadonlyArray<readonly [MutatingCommand, string]> = [
    ['updatetablealive', 'update ok'],
    ['recovertable', 'recover table ok'],
    ['changeleader', 'change leader ok'],
    ['changeleader', 'change leader ok. If there are writing operations while changing a leader, it may cause data loss.'],
    ['offlineendpoint', 'offline endpoint ok'],
    ['recoverendpoint', 'recover endpoint ok'],
    ['confset', 'set auto_failover ok'],
    ['loadtable', 'LoadTable ok'],
    ['cancelop', 'Cancel op ok'],
    ['cancelop', 'Cancel op ok!'],
    ['deleteop', 'Delete op ok'],
    ['addreplica', 'AddReplica ok'],
    ['delreplica', 'DelReplica ok'],
    ['migrate', 'partition migrate ok'],
    ['pausesnapshot', 'PauseSnapshot ok'],
  ];
  for (const [command, line] of cases) {
    it(`${command}: ${line}`, () => {
      assert.deepEqual(classifyResult(command, `${line}\n`), { ok: true, message: line });
    });
  }

  it('ignores the ns leader line, log noise, CRLF and trailing spaces', () => {
    const text =
      'WARNING: Logging before InitGoogleLogging() is written to STDERR\r\n' +
      'I0508 10:15:01.123456 12345 ns_client.cc:42] connected\r\n' +
      'ns leader: 127.0.0.1:7527\r\nupdate ok   \r\n';
    assert.deepEqual(classifyResult('updatetablealive', text), { ok: true, message: 'update ok' });
  });

  it('another command’s success text, extra text, or no output is unknown, never success', () => {
    assert.equal(kindOf('recovertable', 'update ok'), 'unknown');
    assert.equal(kindOf('changeleader', 'change leader okay'), 'unknown');
    assert.equal(kindOf('updatetablealive', 'update ok\nsomething else'), 'unknown');
    assert.equal(kindOf('updatetablealive', ''), 'unknown');
    assert.equal(kindOf('updatetablealive', 'ns leader: 127.0.0.1:7527\n'), 'unknown');
    assert.equal(kindOf('loadtable', '\u0000\u0001garbage'), 'unknown');
    const r = classifyResult('recovertable', 'maybe ok?');
    assert.deepEqual(r, { ok: false, kind: 'unknown', message: 'maybe ok?', line: 'maybe ok?', transient: false });
  });

  it('covers every mutating command', () => {
    assert.equal(MUTATING_COMMANDS.length, 13);
  });
});

describe('classifyResult: failures', () => {
  const cases: ReadonlyArray<readonly [MutatingCommand, string, FailureKind, string]> = [
    ['updatetablealive', 'Fail to update table alive. error msg: auto_failover is enabled', 'auto_failover_enabled', 'auto_failover is enabled'],
    ['recovertable', 'Fail to recover table. error msg:auto_failover is enabled', 'auto_failover_enabled', 'auto_failover is enabled'],
    ['offlineendpoint', 'auto_failover is enabled, cannot execute this cmd', 'auto_failover_enabled', 'auto_failover is enabled, cannot execute this cmd'],
    ['changeleader', 'failed to change leader. error msg: nameserver is not leader', 'not_leader', 'nameserver is not leader'],
    ['updatetablealive', 'Fail to update table alive. error msg: endpoint does not exist', 'endpoint_not_exist', 'endpoint does not exist'],
    ['recoverendpoint', 'failed to recover endpoint. error msg: endpoint is not exist', 'endpoint_not_exist', 'endpoint is not exist'],
    ['recovertable', 'Fail to recover table. error msg:table does not exist', 'table_not_exist', 'table does not exist'],
    ['recovertable', 'Fail to recover table. error msg:pid does not exist', 'pid_not_exist', 'pid does not exist'],
    ['recovertable', 'Fail to recover table. error msg:table is alive, need not recover', 'table_alive', 'table is alive, need not recover'],
    ['recovertable', 'Fail to recover table. error msg:tablet is not healthy', 'tablet_not_healthy', 'tablet is not healthy'],
    ['changeleader', 'failed to change leader. error msg: leader is alive', 'leader_alive', 'leader is alive'],
    ['changeleader', 'failed to change leader. error msg: no alive follower', 'no_alive_follower', 'no alive follower'],
    ['changeleader', 'failed to change leader. error msg: no follower', 'no_follower', 'no follower'],
    ['changeleader', 'failed to change leader. error msg: create op failed', 'create_op_failed', 'create op failed'],
    ['changeleader', 'failed to change leader. error msg: change leader failed', 'failed', 'change leader failed'],
    ['updatetablealive', 'Fail to update table alive. error msg: no pid has update', 'no_pid_updated', 'no pid has update'],
    ['loadtable', 'Fail to LoadTable: ReturnCode[101]table already exists', 'table_already_exists', 'table already exists'],
    ['loadtable', 'Fail to LoadTable', 'failed', 'Fail to LoadTable'],
    ['offlineendpoint', 'failed to offline endpoint. error msg: endpoint is healthy', 'endpoint_healthy', 'endpoint is healthy'],
    ['confset', 'failed to set auto_failover. error msg: invalid parameter', 'invalid_parameter', 'invalid parameter'],
    ['cancelop', 'Cancel op failed, error msg: ReturnCode[312]op status is not kDoing or kInited', 'op_state', 'op status is not kDoing or kInited'],
    ['cancelop', 'Cancel op failed! op status is not kDoing or kInited', 'op_state', 'op status is not kDoing or kInited'],
    ['deleteop', 'Delete op failed, error msg: ReturnCode[300]nameserver is not leader', 'not_leader', 'nameserver is not leader'],
    // transport errors: brpc text for Status-returning methods, an empty message for bool-returning ones
    ['recovertable', 'Fail to recover table. error msg:[E111]Fail to connect SocketId=8589934592@127.0.0.1:7527: Connection refused', 'rpc', '[E111]Fail to connect SocketId=8589934592@127.0.0.1:7527: Connection refused'],
    ['updatetablealive', 'Fail to update table alive. error msg: [E1008]Reached timeout=12000ms @127.0.0.1:7527', 'rpc', '[E1008]Reached timeout=12000ms @127.0.0.1:7527'],
    ['offlineendpoint', 'failed to offline endpoint. error msg: ', 'rpc', ''],
    ['confset', 'failed to set auto_failover. error msg: ', 'rpc', ''],
    ['loadtable', 'Fail to LoadTable: [E111]Fail to connect SocketId=1@127.0.0.1:9527: Connection refused', 'rpc', '[E111]Fail to connect SocketId=1@127.0.0.1:9527: Connection refused'],
    // CLI-side argument errors
    ['updatetablealive', 'Bad format', 'bad_format', 'Bad format'],
    ['updatetablealive', 'is_alive should be yes or no', 'bad_format', 'is_alive should be yes or no'],
    ['recovertable', 'Invalid args. pid should be uint32_t', 'bad_format', 'Invalid args. pid should be uint32_t'],
    ['offlineendpoint', 'Invalid args. concurrency should be greater than 0', 'bad_format', 'Invalid args. concurrency should be greater than 0'],
    ['loadtable', 'Bad LoadTable format eg loadtable <name> <tid> <pid> <ttl> <seg_cnt> [<is_leader>]', 'bad_format', 'Bad LoadTable format eg loadtable <name> <tid> <pid> <ttl> <seg_cnt> [<is_leader>]'],
    ['deleteop', 'invalid args', 'bad_format', 'invalid args'],
    ['recovertable', 'unsupported cmd', 'bad_format', 'unsupported cmd'],
    // ZooKeeper / start-up
    ['recovertable', 'zk client init failed', 'zk', 'zk client init failed'],
    ['recovertable', 'get children failed', 'zk', 'get children failed'],
    ['recovertable', 'get leader failed', 'zk', 'get leader failed'],
    ['recovertable', 'client init failed', 'zk', 'client init failed'],
    ['recovertable', 'Start failed! not set endpoint or zk_cluster', 'zk', 'Start failed! not set endpoint or zk_cluster'],
    ['updatetablealive', 'Fail to update table alive. error msg: set zk failed', 'zk', 'set zk failed'],
  ];
  for (const [command, line, kind, message] of cases) {
    it(`${command}: ${line}`, () => {
      const r = classifyResult(command, `ns leader: 127.0.0.1:7527\n${line}\n`);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.kind, kind);
      assert.equal(r.message, message);
      assert.equal(r.transient, isTransient(kind));
    });
  }

  it('keeps the ReturnCode', () => {
    const r = classifyFailureLine('Fail to LoadTable: ReturnCode[101]table already exists');
    assert.equal(r?.code, 101);
  });

  it('a failure line wins over a success line', () => {
    assert.equal(kindOf('recoverendpoint', 'recover endpoint ok\nfailed to recover endpoint. error msg: endpoint is not exist'), 'endpoint_not_exist');
  });

  it('transient kinds are rpc, not_leader and zk only', () => {
    const all: FailureKind[] = [
      'auto_failover_enabled', 'not_leader', 'endpoint_not_exist', 'table_not_exist', 'pid_not_exist', 'table_alive',
      'tablet_not_healthy', 'leader_alive', 'no_alive_follower', 'no_follower', 'no_pid_updated', 'table_already_exists',
      'endpoint_healthy', 'invalid_parameter', 'create_op_failed', 'op_state', 'rpc', 'bad_format', 'zk', 'failed', 'unknown',
    ];
    assert.deepEqual(all.filter(isTransient), ['not_leader', 'rpc', 'zk']);
  });

  it('success and table lines are not failure lines', () => {
    for (const line of ['update ok', 'change leader ok. If there are writing operations while changing a leader, it may cause data loss.', '  t1  3  0  127.0.0.1:9520  leader  yes', 'set auto_failover ok']) {
      assert.equal(classifyFailureLine(line), undefined, line);
    }
  });
});
