// Errors that arrive only inside glog lines (`W20240508 10:15:01.123456 123 file.cc:88] ...`)
// are classified by their content; log lines never override plain output, and a log line
// that merely says "failed" is not taken for the command's result.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyResult,
  findLoggedFailure,
  logMessageOf,
  parseGetTableStatus,
  parseShowTablet,
  CommandFailedError,
  ParseError,
} from '../../../src/cluster/parse/index.js';

const glog = (level: string, message: string, year = true) =>
  `${level}${year ? '2024' : ''}0508 10:15:01.123456 12345 ns_client.cc:88] ${message}`;

describe('glog-wrapped errors', () => {
  it('reads the message of a glog line, with or without the year', () => {
    assert.equal(logMessageOf(glog('W', 'nameserver is not leader')), 'nameserver is not leader');
    assert.equal(logMessageOf(glog('E', 'request error. [E111]Fail to connect', false)), 'request error. [E111]Fail to connect');
    assert.equal(logMessageOf('nameserver is not leader'), undefined);
  });

  it('a table command whose only answer is a wrapped "not leader" fails as not_leader, not as unparseable output', () => {
    const text = `ns leader: 127.0.0.1:7527\n${glog('W', 'nameserver is not leader')}\n`;
    assert.throws(
      () => parseShowTablet(text),
      (e: unknown) => e instanceof CommandFailedError && e.kind === 'not_leader' && e.transient,
    );
    const failed = `${glog('W', 'Fail to show tablets. error msg: nameserver is not leader')}\n`;
    assert.throws(() => parseShowTablet(failed), (e: unknown) => e instanceof CommandFailedError && e.kind === 'not_leader');
    const rpc = `${glog('E', 'request error. [E111]Fail to connect Socket{id=0 addr=127.0.0.1:9527}: Connection refused')}\n`;
    const status = parseGetTableStatus(rpc);
    assert.equal(status.ok, false);
    assert.equal(!status.ok && status.kind, 'rpc');
  });

  it('a log line that only says "failed" is not a result: still unrecognised output', () => {
    assert.equal(findLoggedFailure(`${glog('I', 'load snapshot failed, retrying')}\n`), undefined);
    assert.throws(() => parseShowTablet(`${glog('I', 'load snapshot failed, retrying')}\n`), ParseError);
  });

  it('plain output wins: a table, or a success line, is the answer whatever the log says', () => {
    const table = [
      glog('W', 'nameserver is not leader'),
      '  endpoint          real_endpoint  state     age',
      '-----------------------------------------------------',
      '  127.0.0.1:9527    -              kHealthy  1h',
      '',
    ].join('\n');
    assert.equal(parseShowTablet(table).length, 1);
    assert.deepEqual(classifyResult('updatetablealive', `${glog('W', '[E111]Fail to connect, retrying')}\nupdate ok\n`), { ok: true, message: 'update ok' });
  });

  it('mutating commands: a wrapped refusal is classified by content', () => {
    const r = classifyResult('recovertable', `ns leader: 127.0.0.1:7527\n${glog('W', 'auto_failover is enabled')}\n`);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.kind, 'auto_failover_enabled');
    const stray = classifyResult('recovertable', `something odd\n${glog('W', 'nameserver is not leader')}\n`);
    assert.equal(!stray.ok && stray.kind, 'not_leader');
    assert.equal(classifyResult('recovertable', 'something odd\n').ok, false);
  });
});
