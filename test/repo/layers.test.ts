// The layers point down (docs/architecture.md): a newcomer can change a command without
// reading the engine, and the engine without the commands. Checked on the import lines.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of every file under src/, as repository paths: [from, to]. */
function imports(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const f of files(SRC)) {
    // `import ... from '.x'`, `export ... from '.x'`, `import '.x'` and `import('.x')`.
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:^(?:import|export)\b[^;]*?from\s+|^import\s+|\bimport\(\s*)'(\.[^']+)'/gms)) {
      out.push([relative(ROOT, f), relative(ROOT, resolve(dirname(f), m[1] as string))]);
    }
  }
  return out;
}

const under = (path: string, ...dirs: string[]) => dirs.some((d) => path === d || path.startsWith(`${d}/`) || path === `${d}.ts` || path === `${d}.js`);

describe('layers', () => {
  const all = imports();

  it('finds the imports it checks', () => {
    assert.ok(all.some(([from, to]) => under(from, 'src/commands') && under(to, 'src/workflow')), 'commands use the workflows');
  });

  it('the engine, the client and the state files never import the commands or the CLI', () => {
    const bad = all.filter(([from, to]) => under(from, 'src/workflow', 'src/cluster', 'src/safety', 'src/history', 'src/zk', 'src/openmldb', 'src/exit-codes') && under(to, 'src/commands', 'src/cli'));
    assert.deepEqual(bad, []);
  });

  it('the cluster client never imports the workflows', () => {
    assert.deepEqual(all.filter(([from, to]) => under(from, 'src/cluster') && under(to, 'src/workflow')), []);
  });

  it('the tool never imports the simulator or the chaos harness', () => {
    const tool = ['src/cluster', 'src/workflow', 'src/commands', 'src/cli', 'src/safety', 'src/history', 'src/exit-codes'];
    assert.deepEqual(all.filter(([from, to]) => under(from, ...tool) && under(to, 'src/sim', 'src/chaos')), []);
  });

  it('nothing under src/ imports scripts/ or test/', () => {
    assert.deepEqual(all.filter(([, to]) => under(to, 'scripts', 'test')), []);
  });
});
