// What a non-200 HTTP answer means, and which exit code it leads to: 5xx, 408 and 429 are
// worth retrying; a refused credential and any other 4xx are not, and none is an answer
// from OpenMLDB, so once retries are spent the cluster counts as unreachable (exit 3).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CommandError, unreachableFrom } from '../../src/cluster/errors.js';
import { Transport, httpFailureKind } from '../../src/cluster/transport.js';
import { explain } from '../../src/commands/common.js';

describe('HTTP status codes', () => {
  let server: http.Server;
  let address: string;
  before(async () => {
    server = http.createServer((req, res) => {
      const status = Number((req.url ?? '').split('/')[2]?.replace(/^S/, ''));
      req.resume();
      req.on('end', () => res.writeHead(status).end(status === 403 ? '[E1004]Fail to authenticate' : `status ${status}`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('classifies by status (and brpc E1004) without asking the body for anything else', () => {
    assert.equal(httpFailureKind(503, ''), 'rpc');
    assert.equal(httpFailureKind(408, ''), 'rpc');
    assert.equal(httpFailureKind(429, ''), 'rpc');
    assert.equal(httpFailureKind(401, ''), 'auth');
    assert.equal(httpFailureKind(400, '[E1004]Fail to authenticate'), 'auth');
    assert.equal(httpFailureKind(404, "[E1002]Fail to find method on `/x'"), 'http');
    assert.equal(httpFailureKind(400, '[E1003]Fail to parse json body'), 'http');
  });

  const cases: Array<[number, string, boolean, RegExp]> = [
    [503, 'rpc', true, /nameserver at .* does not answer/],
    [429, 'rpc', true, /nameserver at .* does not answer/],
    [403, 'auth', false, /refused the credential.*OPENMLDB_PASSWORD/],
    [404, 'http', false, /does not answer as an OpenMLDB server/],
  ];
  for (const [status, kind, transient, line] of cases) {
    it(`HTTP ${status}: ${kind}, ${transient ? 'retried' : 'not retried'}, exit 3 once it escapes`, async () => {
      const t = new Transport({ bin: '/bin/true', zkCluster: '127.0.0.1:2181', zkRootPath: '/openmldb', timeoutMs: 2000 });
      const err = await t.http('ns', address, `S${status}`, {}).then(
        () => assert.fail('no error'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof CommandError);
      assert.equal(err.kind, kind);
      assert.equal(err.transient, transient);
      assert.ok(unreachableFrom(err));
      const { code, line: text } = explain(err);
      assert.equal(code, 3);
      assert.match(text, line);
    });
  }

  it('a definite refusal from OpenMLDB is not restated as unreachable', () => {
    const refusal = new CommandError('recovertable t 0 e', 'table_alive', 'table is alive, need not recover', { role: 'ns', endpoint: 'x:1' }, { transient: false });
    assert.equal(unreachableFrom(refusal), undefined);
  });
});
