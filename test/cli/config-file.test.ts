// --config FILE: option values from JSON; flags win over it, it wins over OPENMLDB_* variables.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readConfigFile } from '../../src/commands/config-file.js';
import { UsageError } from '../../src/exit-codes.js';

describe('readConfigFile', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'openmldb-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    // Private, as a file holding a password must be (one open to others is refused).
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };

  it('returns the options, also those an environment variable sets too (the file wins over the environment)', () => {
    const p = file('c.json', JSON.stringify({ zk_cluster: 'zk1:2181', 'zk-root-path': '/x', password: 'p', 'password-file': '/pw', concurrency: 2 }));
    const all = { zk_cluster: 'zk1:2181', 'zk-root-path': '/x', password: 'p', 'password-file': '/pw', concurrency: 2 };
    assert.deepEqual(readConfigFile(p, {}), all);
    assert.deepEqual(readConfigFile(p, { OPENMLDB_ZK_CLUSTER: 'zk9:2181', OPENMLDB_PASSWORD: 's', OPENMLDB_ZK_ROOT_PATH: '' }), all);
  });

  it("keeps the keys the command has options for; a key no command knows is a usage error", () => {
    const p = file('site.json', JSON.stringify({ zk_cluster: 'zk1:2181', concurrency: 8 }));
    const all = new Set(['zk_cluster', 'zk-cluster', 'concurrency']);
    assert.deepEqual(readConfigFile(p, {}, { all, command: new Set(['zk-cluster', 'zk_cluster']) }), { zk_cluster: 'zk1:2181' });
    assert.throws(() => readConfigFile(p, {}, { all: new Set(['zk_cluster']) }), (e: unknown) => e instanceof UsageError && /no command has an option 'concurrency'/.test(e.message));
  });

  it('a missing file, bad JSON or a non-object is a usage error naming the file', () => {
    assert.throws(() => readConfigFile(join(dir, 'nope.json'), {}), (e: unknown) => e instanceof UsageError && /nope\.json: ENOENT/.test(e.message));
    assert.throws(() => readConfigFile(file('bad.json', '{zk'), {}), (e: unknown) => e instanceof UsageError && /not valid JSON/.test(e.message));
    assert.throws(() => readConfigFile(file('arr.json', '[1]'), {}), (e: unknown) => e instanceof UsageError && /JSON object/.test(e.message));
  });
});
