import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandError, ParseError } from '../../src/cluster/errors.js';
import { retryTransient } from '../../src/engine/retry.js';

const target = { role: 'ns' as const, endpoint: '127.0.0.1:1' };
const transient = () => new CommandError('showns', 'rpc', '[E111]Fail to connect', target, { transient: true });
const permanent = () => new CommandError('showns', 'invalid_parameter', 'invalid parameter', target, { transient: false });

describe('retryTransient', () => {
  it('retries a transient failure, saying so, and returns what then succeeds', async () => {
    let calls = 0;
    const said: string[] = [];
    const v = await retryTransient('showns', async () => (++calls < 3 ? Promise.reject(transient()) : 'ok'), { retries: 4, onRetry: (l) => said.push(l) });
    assert.equal(v, 'ok');
    assert.equal(calls, 3);
    assert.equal(said.length, 2);
    assert.match(said[0] ?? '', /^showns: .*Fail to connect.*; retrying$/);
  });

  it('fails at once on a permanent failure or a bug, and after the last retry on a transient one', async () => {
    for (const [make, retries, attempts] of [[permanent, 4, 1], [() => new TypeError('x is undefined'), 4, 1], [transient, 2, 3]] as const) {
      let calls = 0;
      const said: string[] = [];
      await assert.rejects(retryTransient('showns', async () => { calls++; throw make(); }, { retries, onRetry: (l) => said.push(l) }), (err: unknown) => err instanceof Error && err.constructor === make().constructor);
      assert.equal(calls, attempts);
      assert.equal(said.length, attempts - 1, 'the last failure is not called a retry');
    }
  });

  it('a reply that could not be read (a truncated output) is retried like a transient failure', async () => {
    let calls = 0;
    const v = await retryTransient('showtable', async () => (++calls < 2 ? Promise.reject(new ParseError('showtable', 'garbled', 'no header line')) : 'ok'), { retries: 2 });
    assert.deepEqual([v, calls], ['ok', 2]);
  });

  it('retryIf gives a transient failure up at once, unsaid; maxRetryTimeMs bounds the retries in time', async () => {
    let calls = 0;
    const said: string[] = [];
    await assert.rejects(retryTransient('step', async () => { calls++; throw transient(); }, { retries: 4, retryIf: () => false, onRetry: (l) => said.push(l) }), CommandError);
    assert.deepEqual([calls, said.length], [1, 0]);

    calls = 0;
    const started = Date.now();
    await assert.rejects(retryTransient('observing', async () => { calls++; throw transient(); }, { retries: 1000, maxRetryTimeMs: 300 }), CommandError);
    // Backoff from 200 ms: a handful of attempts fit in 300 ms, not the 1000 retries.
    assert.ok(calls >= 2 && calls < 10, `${calls} attempts`);
    assert.ok(Date.now() - started < 5000);
  });
});
