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

/** Every relative import of every file under `dir` (src/), as repository paths: [from, to, types only]. */
function imports(dir = SRC): Array<[string, string, boolean]> {
  const out: Array<[string, string, boolean]> = [];
  for (const f of files(dir)) {
    // `import ... from '.x'`, `export ... from '.x'`, `import '.x'` and `import('.x')`.
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:^(?:import|export)\b[^;]*?from\s+|^import\s+|\bimport\(\s*)'(\.[^']+)'/gms)) {
      out.push([relative(ROOT, f), relative(ROOT, resolve(dirname(f), m[1] as string)), /^import type\b/.test(m[0])]);
    }
  }
  return out;
}

const under = (path: string, ...dirs: string[]) => dirs.some((d) => path === d || path.startsWith(`${d}/`) || path === `${d}.ts` || path === `${d}.js`);

describe('layers', () => {
  const all = imports();

  it('finds the imports it checks', () => {
    assert.ok(all.some(([from, to]) => under(from, 'src/commands') && under(to, 'src/workflow')), 'commands use the workflows');
    assert.ok(all.some(([from, to]) => under(from, 'src/workflow') && under(to, 'src/engine')), 'workflows use the engine');
    assert.ok(imports(join(ROOT, 'test')).some(([from, to]) => under(from, 'test/helpers') && under(to, 'src')), 'test helpers use src/');
    assert.ok(all.some(([from, to, types]) => under(from, 'src/engine') && under(to, 'src/cluster/client') && types), 'the engine names row types of the client');
  });

  it('the engine never imports the procedures, the commands, the CLI, the state files or the run records', () => {
    assert.deepEqual(all.filter(([from, to]) => under(from, 'src/engine') && under(to, 'src/workflow', 'src/commands', 'src/cli', 'src/safety', 'src/history', 'src/zk')), []);
  });

  it('the engine reaches the cluster only through its interface: only engine/openmldb.ts uses the client, its observation or its shared reads', () => {
    const client = ['src/cluster/client', 'src/cluster/observe', 'src/cluster/watch', 'src/cluster/transport'];
    const bad = all.filter(([from, to, types]) => under(from, 'src/engine') && from !== 'src/engine/openmldb.ts' && under(to, ...client) && !types);
    assert.deepEqual(bad, []);
    const named = files(join(SRC, 'engine')).filter((f) => !f.endsWith('openmldb.ts') && /\bOpenMLDBClient\b/.test(readFileSync(f, 'utf8')));
    assert.deepEqual(named.map((f) => relative(ROOT, f)), []);
  });

  it('the engine, the client and the state files never import the commands or the CLI', () => {
    const bad = all.filter(([from, to]) => under(from, 'src/engine', 'src/workflow', 'src/cluster', 'src/safety', 'src/history', 'src/zk', 'src/openmldb', 'src/exit-codes') && under(to, 'src/commands', 'src/cli'));
    assert.deepEqual(bad, []);
  });

  it('the cluster client never imports the engine or the workflows', () => {
    assert.deepEqual(all.filter(([from, to]) => under(from, 'src/cluster') && under(to, 'src/engine', 'src/workflow')), []);
  });

  it('the tool never imports the simulator or the chaos harness', () => {
    const tool = ['src/cluster', 'src/engine', 'src/workflow', 'src/commands', 'src/cli', 'src/safety', 'src/history', 'src/exit-codes'];
    assert.deepEqual(all.filter(([from, to]) => under(from, ...tool) && under(to, 'src/sim', 'src/chaos')), []);
  });

  it('nothing under src/ imports scripts/ or test/', () => {
    assert.deepEqual(all.filter(([, to]) => under(to, 'scripts', 'test')), []);
  });

  it('no test imports scripts/: a script is an entry point, what tests need lives in src/ or test/helpers/', () => {
    const bad = imports(join(ROOT, 'test')).filter(([, to]) => under(to, 'scripts'));
    assert.deepEqual(bad, []);
  });
});
