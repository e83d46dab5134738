// A clone of the repository, alone in an empty folder, must pass its own tests: nothing
// under test/ or scripts/ may read from outside the repository (the shared fixtures are
// copied into test/fixtures).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fixturesDir, loadFixtures } from '../helpers/fixtures.js';

// Not from helpers/sim.js: importing that puts a test in the end-to-end tier (scripts/run-tests.mjs).
const REPO = resolve(import.meta.dirname, '../..');

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'fixtures') files(p, out);
    } else if (/\.(ts|mjs|js|sh)$/.test(name)) out.push(p);
  }
  return out;
}

// Written in pieces so that this file does not match itself.
const OUTSIDE = new RegExp(['\\.\\./', 'shared', '|/wo', 'rk/|', 'shared/(?:fixtures|reference)'].join(''));

describe('the repository stands alone', () => {
  it('no test or script refers to a path outside the repository', () => {
    const offenders = [...files(join(REPO, 'test')), ...files(join(REPO, 'scripts'))]
      .filter((f) => OUTSIDE.test(readFileSync(f, 'utf8')))
      .map((f) => relative(REPO, f));
    assert.deepEqual(offenders, []);
  });

  it('the transcripts are in the repository, with their README and INDEX', () => {
    assert.ok(fixturesDir().startsWith(REPO));
    const names = readdirSync(fixturesDir());
    assert.ok(names.includes('README.md') && names.includes('INDEX.md'));
    const index = readFileSync(join(fixturesDir(), 'INDEX.md'), 'utf8');
    const fixtures = loadFixtures();
    assert.ok(fixtures.length >= 70, `${fixtures.length} transcripts`);
    for (const f of fixtures) assert.ok(index.includes(f.file), `${f.file} is listed in INDEX.md`);
  });
});
