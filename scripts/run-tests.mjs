// Runs the test suite with Node's built-in runner through tsx.
// Usage: node scripts/run-tests.mjs [--tier unit|engine|e2e] [--list] [test files or directories...]
//   (default: test/). --tier keeps the files of one tier; --list prints each file's tier
//   instead of running them.
// Files run in parallel processes; end-to-end tests each start their own simulator
// on OS-assigned ports, so they do not collide.
//
// A file's tier follows from what it imports itself (static, dynamic or re-exported, read
// by TypeScript's parser; `import type` loads nothing and does not count), so a new test
// file lands in its tier without any list naming it:
//   e2e     it starts processes: simulators and the built CLI (test/helpers/sim.ts), a
//           ZooKeeper server (test/helpers/zookeeper.ts), the stand-in binary
//           (test/sim/cli/run-cli.ts), chaos runs (chaosRun of src/chaos/chaos.ts, whose
//           judge alone starts nothing); or it names a built program (a string with
//           `dist/`). Only this tier needs `npm run build` first.
//   engine  the engine in process against the simulator's model (test/helpers/in-process.ts).
//   unit    the rest: no simulator, no cluster, no build.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { availableParallelism } from 'node:os';

const ROOT = resolve(import.meta.dirname, '..');
const TIERS = ['unit', 'engine', 'e2e'];
/** The modules that put an importer in a tier above unit: [tier, only when one of these names is imported]. */
const TIER_OF_MODULE = new Map([
  ['test/helpers/sim.ts', ['e2e']],
  ['test/helpers/zookeeper.ts', ['e2e']],
  ['test/sim/cli/run-cli.ts', ['e2e']],
  ['src/chaos/chaos.ts', ['e2e', ['chaosRun']]],
  ['test/helpers/in-process.ts', ['engine']],
]);

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (/\.test\.ts$/.test(path)) {
    out.push(path);
  }
  return out;
}

/** The tier of one test file (see the top of this file). */
function tierOf(ts, file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found = new Set();
  /** `names`: the names imported, when known (named imports only). */
  const module = (spec, names) => {
    if (!spec || !ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return;
    const path = relative(ROOT, resolve(dirname(file), spec.text)).split(sep).join('/').replace(/\.js$/, '.ts');
    const [tier, only] = TIER_OF_MODULE.get(path) ?? [];
    if (tier && (!only || !names || names.some((n) => only.includes(n)))) found.add(tier);
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      const names = clause && !clause.name && named ? named.filter((e) => !e.isTypeOnly).map((e) => (e.propertyName ?? e.name).text) : undefined;
      if (!typeOnly) module(node.moduleSpecifier, names);
    } else if (ts.isExportDeclaration(node)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      if (!node.isTypeOnly) module(node.moduleSpecifier, named?.filter((e) => !e.isTypeOnly).map((e) => (e.propertyName ?? e.name).text));
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      module(node.arguments[0]);
    } else if ((ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) && /(^|[/\\])dist\//.test(node.text)) {
      found.add('e2e');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return TIERS.findLast((t) => found.has(t)) ?? 'unit';
}

// The longest files start first: started last, one of them would run on alone at the end
// while the other slots idle (each takes one to two and a half minutes on a 2-core machine).
const SLOW_FIRST = [
  'test/cli/true-offsets.test.ts',
  'test/cli/help-examples.test.ts',
  'test/cli/crash-safety.test.ts',
  'test/cli/reviewed-plan.test.ts',
  'test/cli/local-state.test.ts',
  'test/cli/unreachable.test.ts',
  'test/sim/cli/openmldb-sim.test.ts',
  'test/zk/frozen.test.ts',
  'test/sim/recovery-by-hand.test.ts',
  'test/cli/ways-out.test.ts',
  'test/cli/transport-cli.test.ts',
];
const rank = (f) => {
  const i = SLOW_FIRST.indexOf(f.split(sep).join('/'));
  return i < 0 ? SLOW_FIRST.length : i;
};

const args = process.argv.slice(2);
const list = args.includes('--list');
const t = args.indexOf('--tier');
const tier = t < 0 ? undefined : args[t + 1];
if (t >= 0 && !TIERS.includes(tier)) {
  console.error(`--tier takes one of ${TIERS.join(', ')}`);
  process.exit(2);
}
const targets = args.filter((a, i) => a !== '--list' && (t < 0 || (i !== t && i !== t + 1)));
let files = (targets.length > 0 ? targets : ['test']).flatMap((p) => collect(p, []));
if (tier || list) {
  const { default: ts } = await import('typescript');
  const tiers = new Map(files.map((f) => [f, tierOf(ts, f)]));
  files = files.filter((f) => !tier || tiers.get(f) === tier);
  if (list) {
    for (const f of files) console.log(`${tiers.get(f)}\t${relative(ROOT, resolve(f)).split(sep).join('/')}`);
    process.exit(0);
  }
}
if (files.length === 0) {
  console.error(`no${tier ? ` ${tier}` : ''} test files found under ${(targets.length > 0 ? targets : ['test']).join(', ')}`);
  process.exit(1);
}
files.sort((a, b) => rank(a) - rank(b));
const concurrency = process.env.TEST_CONCURRENCY ?? String(Math.max(2, availableParallelism() * 2));
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
