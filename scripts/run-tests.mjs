// Runs the test suite with Node's built-in runner through tsx.
// Usage: node scripts/run-tests.mjs [test files or directories...]  (default: test/)
// Files run in parallel processes; end-to-end tests each start their own simulator
// on OS-assigned ports, so they do not collide.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { availableParallelism } from 'node:os';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (/\.test\.ts$/.test(path)) {
    out.push(path);
  }
  return out;
}

// The longest files start first: started last, one of them would run on alone at the end
// while the other slots idle (each takes one to two and a half minutes on a 2-core machine).
const SLOW_FIRST = [
  'test/cli/true-offsets.test.ts',
  'test/cli/crash-safety.test.ts',
  'test/cli/local-state.test.ts',
  'test/cli/unreachable.test.ts',
  'test/sim/cli/openmldb-sim.test.ts',
  'test/zk/frozen.test.ts',
  'test/sim/recovery-by-hand.test.ts',
  'test/cli/ways-out.test.ts',
  'test/cli/transport-cli.test.ts',
  'test/cli/help-examples.test.ts',
];
const rank = (f) => {
  const i = SLOW_FIRST.indexOf(f.split(sep).join('/'));
  return i < 0 ? SLOW_FIRST.length : i;
};

const args = process.argv.slice(2);
const targets = args.length > 0 ? args : ['test'];
const files = targets.flatMap((t) => collect(t, [])).sort((a, b) => rank(a) - rank(b));
if (files.length === 0) {
  console.error(`no test files found under ${targets.join(', ')}`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? String(Math.max(2, availableParallelism() * 2));
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
