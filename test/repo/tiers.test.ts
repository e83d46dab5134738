// Every test file falls in exactly one tier (`npm run test:unit`, `test:engine`, `test:e2e`),
// decided by scripts/run-tests.mjs from what the file imports, so that the fast tiers stay
// fast and need no build, and a new file lands in its tier without a list naming it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const REPO = resolve(import.meta.dirname, '../..');
const TIERS = ['unit', 'engine', 'e2e'];

/** `run-tests.mjs --list` (with `args`): file -> tier, in the order printed. */
async function listed(...args: string[]): Promise<Array<[string, string]>> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(REPO, 'scripts/run-tests.mjs'), '--list', ...args], { cwd: REPO, encoding: 'utf8' });
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [tier = '', file = ''] = line.split('\t');
      return [file, tier];
    });
}

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? testFiles(p) : p.endsWith('.test.ts') ? [relative(REPO, p).split(sep).join('/')] : [];
  });
}

describe('test tiers', () => {
  let all = new Map<string, string>();
  let byTier: Array<Array<[string, string]>> = [];
  before(async () => {
    // Each listing parses every test file: run them side by side.
    const [whole = [], ...tiers] = await Promise.all([listed(), ...TIERS.map((tier) => listed('--tier', tier))]);
    all = new Map(whole);
    byTier = tiers;
  });

  it('every test file falls in exactly one tier', () => {
    const files = testFiles(join(REPO, 'test')).sort();
    assert.deepEqual([...all.keys()].sort(), files);
    assert.deepEqual([...all].filter(([, tier]) => !TIERS.includes(tier)), []);
    const inTiers = TIERS.flatMap((tier, i) => (byTier[i] ?? []).map(([file, t]) => (t === tier ? file : `${file} listed as ${t} under --tier ${tier}`)));
    assert.deepEqual(inTiers.sort(), files);
  });

  it('puts a file in the tier of what it does', () => {
    const tierOf = (file: string) => `${file}: ${all.get(file)}`;
    const expect = {
      'test/repo/layers.test.ts': 'unit',
      'test/history/record.test.ts': 'unit', // helpers/report.ts for the record schema only
      'test/engine/retry.test.ts': 'unit',
      'test/safety/lock.test.ts': 'unit', // spawns `node -e 0` for a dead pid, no program of ours
      'test/engine/recover-in-process.test.ts': 'engine', // in-process.ts, and the chaos judge (which starts nothing)
      'test/sim/metadata-lock.test.ts': 'engine',
      'test/cli/dry-run.test.ts': 'e2e', // helpers/sim.ts
      'test/chaos.test.ts': 'e2e', // chaosRun
      'test/zk/lock.test.ts': 'e2e', // a ZooKeeper server
      'test/sim/cli/openmldb-args.test.ts': 'e2e', // the stand-in binary as a process
      'test/sim/cli/openmldb-fake-server.test.ts': 'e2e', // dist/sim/cli/openmldb.js
    };
    assert.deepEqual(Object.keys(expect).map(tierOf), Object.entries(expect).map(([file, tier]) => `${file}: ${tier}`));
  });

  it('classifies new files by their imports, without a list naming them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openmldb-tiers-'));
    try {
      const helper = (path: string) => relative(dir, join(REPO, path)).split(sep).join('/');
      const planted: Record<string, [string, string]> = {
        'type-only': ['unit', `import type { Sim } from '${helper('test/helpers/sim.js')}';`],
        'judge-only': ['unit', `import { judge } from "${helper('src/chaos/chaos.js')}";`],
        'dist-in-comment': ['unit', `// the e2e tier runs dist/cli/openmldb-recover.js`],
        'in-process': ['engine', `import { inProcessSim } from '${helper('test/helpers/in-process.js')}';`],
        'in-process-dynamic': ['engine', `const { inProcessSim } = await import("${helper('test/helpers/in-process.js')}");`],
        'sim': ['e2e', `import { startSim } from "${helper('test/helpers/sim.js')}";`],
        'sim-and-in-process': ['e2e', `import { withSim } from '${helper('test/helpers/sim.js')}';\nimport '${helper('test/helpers/in-process.js')}';`],
        'chaos-run': ['e2e', `import { chaosRun } from '${helper('src/chaos/chaos.js')}';`],
        'zookeeper': ['e2e', `export { sharedZooKeeper } from '${helper('test/helpers/zookeeper.js')}';`],
        'stand-in-binary': ['e2e', `import { runCli } from '${helper('test/sim/cli/run-cli.js')}';`],
        'built-cli': ['e2e', 'const bin = join(REPO, `dist/cli/openmldb-recover.js`);'],
      };
      for (const [name, [, text]] of Object.entries(planted)) writeFileSync(join(dir, `${name}.test.ts`), `${text}\n`);
      const got = new Map((await listed(dir)).map(([file, tier]) => [file.replace(/^.*\/([^/]+)\.test\.ts$/, '$1'), tier]));
      assert.deepEqual(Object.keys(planted).map((n) => `${n}: ${got.get(n)}`), Object.entries(planted).map(([n, [tier]]) => `${n}: ${tier}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a tier that does not exist', async () => {
    await assert.rejects(listed('--tier', 'fast'), /--tier takes one of unit, engine, e2e/);
  });
});
