// Secrets never reach a record: by option name, and by value wherever they were echoed
// (the password, the HTTP credential derived from it, and its hash).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { credential } from '../../src/cluster/command-line.js';
import { REDACTED, Redactor } from '../../src/history/redact.js';

const SECRET = 'pa"ss\\word-42';

describe('Redactor', () => {
  const r = new Redactor('ops', SECRET);

  it('redacts --password in both spellings, keeps --password-file paths', () => {
    assert.deepEqual(r.argv(['recover', `--password=${SECRET}`, '--password', SECRET, '--password-file', '/etc/pw', '-q']), [
      'recover',
      `--password=${REDACTED}`,
      '--password',
      REDACTED,
      '--password-file',
      '/etc/pw',
      '-q',
    ]);
  });

  it('redacts secret-named keys at any depth and scrubs the values everywhere else', () => {
    const hash = createHash('sha256').update(SECRET).digest('hex');
    const v = r.value({
      options: { password: 'anything', 'password-file': '/etc/pw', user: 'ops' },
      output: `echo ${SECRET} and Authorization: ${credential('ops', SECRET)} and ${hash}`,
      list: [SECRET],
    });
    const text = JSON.stringify(v);
    for (const s of [SECRET, credential('ops', SECRET), hash]) assert.ok(!text.includes(JSON.stringify(s).slice(1, -1)) && !text.includes(s), s);
    assert.deepEqual(v.options, { password: REDACTED, 'password-file': '/etc/pw', user: 'ops' });
  });

  it('an empty password is no secret; a very short one is redacted by name only', () => {
    assert.equal(new Redactor('root', '').text('root x'), 'root x');
    const short = new Redactor('root', 'ab');
    assert.equal(short.text('tab cab'), 'tab cab');
    assert.deepEqual(short.argv(['--password=ab']), [`--password=${REDACTED}`]);
  });
});
