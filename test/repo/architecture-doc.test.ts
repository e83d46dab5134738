// docs/architecture.md stays true to the tree: every file its layout names exists, and
// every source file under src/ is named there, with a line saying what it is (the layout
// drifted before, and named only two folders' files).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Every path the layout block names, from the repository's root: a line names files
 * (`x.ts`) or one folder (`x/`), comma-separated, before two spaces and its description;
 * two more spaces of indentation put a line in the folder named above it.
 */
function layout(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const block = doc.slice(doc.indexOf('## Source layout')).split('```')[1] ?? '';
  const open: string[] = [];
  const out: string[] = [];
  for (const line of block.split('\n')) {
    const m = line.match(/^( *)(\S.*?)(?:\s{2,}|$)/);
    if (!m) continue;
    const depth = (m[1] as string).length / 2;
    const parent = depth === 0 ? '' : open[depth - 1];
    if (parent === undefined || !Number.isInteger(depth)) throw new Error(`a layout line out of place: ${line}`);
    const names = (m[2] as string).split(/,\s*/).map((n) => n.trim()).filter((n) => /^[\w./-]+(\.ts|\/)$/.test(n));
    out.push(...names.map((n) => parent + n));
    open.length = depth;
    if (names.length === 1 && names[0]?.endsWith('/')) open[depth] = parent + names[0];
  }
  return out;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [relative(ROOT, p).split(sep).join('/')] : [];
  });
}

describe('docs/architecture.md', () => {
  const named = layout();

  it('reads the layout it checks', () => {
    assert.ok(named.includes('src/engine/run.ts') && named.includes('src/cluster/parse/') && named.includes('scripts/'), JSON.stringify(named));
  });

  it('names only files and folders that exist', () => {
    assert.deepEqual(named.filter((n) => !existsSync(join(ROOT, n))), []);
  });

  it('names every source file under src/', () => {
    assert.deepEqual(files(join(ROOT, 'src')).filter((f) => !named.includes(f)), []);
  });
});
