// What the journal records of each changing command a run sent: a refusal is "failed"
// whichever way it came (an HTTP status, a code in the body, a failing line or exit status
// of the binary), a lost answer is "no-answer", and only a success is "ok".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CommandLogEntry } from '../../src/cluster/transport.js';
import { outcomeOf } from '../../src/commands/run-safety.js';

const entry = (e: Partial<CommandLogEntry>): CommandLogEntry => ({ seq: 1, kind: 'http', role: 'ns', target: '127.0.0.1:1', command: 'NameServer/ConfSet', request: '{}', startedAt: '2026-12-07T00:00:00Z', durationMs: 1, output: '', ...e });

describe('journal outcomes', () => {
  it('HTTP: a 500, a code in the body, an unreadable body are failures; code 0 is ok', () => {
    assert.match(outcomeOf(entry({ httpStatus: 500, output: 'internal error' })), /^failed: HTTP 500 internal error$/);
    assert.match(outcomeOf(entry({ httpStatus: 200, output: '{"code":301,"msg":"auto_failover is enabled"}' })), /^failed: code 301 auto_failover is enabled$/);
    assert.match(outcomeOf(entry({ httpStatus: 200, output: '<html>' })), /^failed: an answer that is not JSON/);
    assert.equal(outcomeOf(entry({ httpStatus: 200, output: '{"code":0,"msg":"ok"}' })), 'ok');
  });

  it('the binary: a failing line or a non-zero exit status is a failure; a lost answer is no-answer', () => {
    assert.match(outcomeOf(entry({ kind: 'cli', command: 'confset auto_failover false', output: 'Fail to set auto_failover' })), /^failed: Fail to set/);
    assert.equal(outcomeOf(entry({ kind: 'cli', command: 'confset auto_failover false', output: '', exitCode: 139 })), 'failed: exit status 139');
    assert.equal(outcomeOf(entry({ kind: 'cli', command: 'confset auto_failover false', output: 'set auto_failover ok', exitCode: 0 })), 'ok');
    assert.match(outcomeOf(entry({ error: 'timed out after 30000 ms' })), /^no-answer: timed out/);
  });
});
