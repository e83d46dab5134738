// docs/architecture.md stays true to the tree: every file its layout names exists, and
// every module of the engine and the workflows is named there (the layout drifted before).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The layout block: `folder -> names listed under it` (files `x.ts`, folders `x/`). */
function layout(): Map<string, string[]> {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const block = doc.slice(doc.indexOf('## Source layout')).split('```')[1] ?? '';
  const out = new Map<string, string[]>();
  let folder = '';
  for (const line of block.split('\n')) {
    const top = line.match(/^(\S+\/)\s/);
    if (top) {
      folder = top[1] as string;
      out.set(folder, []);
      continue;
    }
    const item = line.match(/^ {2}(\S.*?)(?:\s{2,}|$)/);
    if (item && folder) out.get(folder)?.push(...(item[1] as string).split(/,\s*/).map((n) => n.trim()).filter((n) => /^[\w.-]+(\.ts|\/)$/.test(n)));
  }
  return out;
}

describe('docs/architecture.md', () => {
  const names = layout();

  it('reads the layout it checks', () => {
    assert.ok((names.get('src/engine/') ?? []).length >= 10, JSON.stringify([...names.keys()]));
  });

  it('names only files and folders that exist', () => {
    const missing = [...names].flatMap(([folder, list]) => list.filter((n) => !existsSync(join(ROOT, folder, n))).map((n) => `${folder}${n}`));
    assert.deepEqual(missing, []);
  });

  it('names every module of the engine and of the workflows', () => {
    const unnamed = ['src/engine/', 'src/workflow/'].flatMap((folder) =>
      readdirSync(join(ROOT, folder), { withFileTypes: true })
        .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
        .filter((n) => (n.endsWith('.ts') || n.endsWith('/')) && !(names.get(folder) ?? []).includes(n))
        .map((n) => `${folder}${n}`),
    );
    assert.deepEqual(unnamed, []);
  });
});
