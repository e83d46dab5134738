// The README's first command is `npm ci && npm run demo`: the demo script, run here end to
// end as a newcomer runs it (after the build `npm test` does first). It must end served,
// with the simulator's check ok, show the orphaned tail of demo_db.t1 pid 1 (the incident's
// interesting part), and keep everything in its own temporary directory: nothing in the
// user's ~/.local/state, nothing left in TMPDIR.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from '../helpers/sim.js';

function demo(env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('bash', [join(REPO, 'scripts/demo.sh')], { env, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

describe('npm run demo', () => {
  it('ends served with check ok, reports the orphaned tail, and leaves nothing behind', async () => {
    const home = mkdtempSync(join(tmpdir(), 'openmldb-demo-home-'));
    // The machine's TMPDIR (the simulator claims its ports there, seen by every simulator).
    const demoDirs = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('openmldb-demo.')));
    const before = demoDirs();
    try {
      const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '', HOME: home, ...(process.env['TMPDIR'] ? { TMPDIR: process.env['TMPDIR'] } : {}) };
      const { code, out } = await demo(env);
      assert.equal(code, 0, out.slice(-4000));
      // The orphaned tail, reported as OpenMLDB's loss at the earlier failover.
      assert.match(out, /orphaned at an earlier failover \(OpenMLDB gave these up then; not lost by this run\):\n {2}demo_db\.t1 pid 1: \S+ \(not alive before the incident; its snapshot of term 1\) holds 15 entries at offsets 1545-1559, where term \d+ took over from offset 1545/);
      assert.match(out, /result: 12 partitions in 8 tables: 0 healthy, 12 recovered\n/);
      assert.match(out, /OK \(exit 0\)/);
      assert.match(out, /cluster HEALTHY/);
      // The simulator's own verdict: served, nothing lost, the tail counted apart.
      assert.match(out, /cluster fully served\n/);
      assert.match(out, /entries lost: 0 /);
      assert.match(out, /entries orphaned at a failover before the incident .*: 15\n {4}demo_db\.t1 pid 1: now serving offset \d+: 15 orphaned/);
      // Its state in its own directory: the user's is untouched, and the directory is gone.
      assert.equal(existsSync(join(home, '.local')), false, 'nothing under ~/.local');
      assert.deepEqual([...demoDirs()].filter((n) => !before.has(n)), [], 'the demo directory is removed');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
