// The layers point down (docs/architecture.md, "Source layout"): a newcomer can change a
// command without reading the engine, and the engine without the commands. Every import of
// every file is read with TypeScript's own parser, so that no spelling of an import (either
// quote, side-effect, dynamic, re-export, `import type`) slips past the rules.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The tool's folders (and its one top-level module), lowest first, as the doc lists them:
 * a module imports from its own folder and lower ranks only. No two share a rank, so no
 * two folders can import each other; every import today points down, so no exception.
 */
const RANKS = ['exit-codes', 'openmldb', 'zk', 'cluster', 'engine', 'workflow', 'safety', 'history', 'commands', 'cli'];

/** The other programs in src/, and what each may import besides itself. The tool imports neither. */
const PROGRAMS: Record<string, string[]> = {
  // It shares only the protocol knowledge and the ZooKeeper session and server with the tool.
  sim: ['openmldb', 'zk'],
  // The harness over both programs: it judges with the tool's report and health rules.
  chaos: ['sim', ...RANKS],
};

/** Low folders that only some of the folders above them may use. */
const ONLY_FOR: Record<string, string[]> = {
  // ZooKeeper holds the tool's own lock, journal and evidence; the engine and the client reach the cluster otherwise.
  zk: ['safety', 'commands', 'sim'],
};

/** The engine reaches the cluster through EngineCluster: only this module uses the client, its observation or its shared reads (their types may be named). */
const CLIENT_GATE = 'src/engine/openmldb.ts';
const CLIENT = ['src/cluster/client.ts', 'src/cluster/observe.ts', 'src/cluster/watch.ts', 'src/cluster/transport.ts'];

/** Import cycles among the tool's files known today, each exactly as found, and why it stays for now: none. */
const KNOWN_CYCLES: Array<{ files: string[]; why: string }> = [];

interface Import {
  /** Repository path of the imported module (`.js` read as the `.ts` it is built from); `?` when computed at run time. */
  to: string;
  typeOnly: boolean;
}

/** Every relative import of one file (repository path `path`, source `text`). */
function importsOf(path: string, text: string): Import[] {
  const out: Import[] = [];
  const add = (spec: ts.Node | undefined, typeOnly: boolean, dynamic = false) => {
    if (spec && ts.isStringLiteralLike(spec)) {
      if (spec.text.startsWith('.')) out.push({ to: posix.join(posix.dirname(path), spec.text).replace(/\.js$/, '.ts'), typeOnly });
    } else if (dynamic) {
      out.push({ to: '?', typeOnly });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      add(node.moduleSpecifier, !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly))));
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false, true);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS));
  return out;
}

/** `src/engine/run.ts` -> `engine`, `src/exit-codes.ts` -> `exit-codes`; outside src/, the top folder (`test`, `scripts`). */
function folderOf(path: string): string {
  const [top = '', second = '', ...rest] = path.split('/');
  if (top !== 'src') return top;
  return rest.length === 0 ? second.replace(/\.ts$/, '') : second;
}

/** What breaks the rules in one file's imports, a line each: `from -> to: rule`. */
function violations(path: string, text: string): string[] {
  const from = folderOf(path);
  const out: string[] = [];
  for (const { to, typeOnly } of importsOf(path, text)) {
    const bad = (rule: string) => out.push(`${path} -> ${to}: ${rule}`);
    const into = folderOf(to);
    if (to === '?') bad('an import of a computed path cannot be checked');
    else if (!path.startsWith('src/')) {
      if (from === 'test' && into === 'scripts') bad('a test imports no script: a script is an entry point, what tests need lives in src/ or test/helpers/');
    } else if (!to.startsWith('src/')) bad('nothing under src/ imports scripts/ or test/');
    else if (into === from) continue;
    else if (from in PROGRAMS) {
      if (!PROGRAMS[from]?.includes(into)) bad(`src/${from} imports only ${PROGRAMS[from]?.join(', ')}`);
    } else if (into in PROGRAMS) bad('the tool never imports the simulator or the chaos harness');
    else if (!RANKS.includes(from) || !RANKS.includes(into)) bad('a folder without a rank: add it to RANKS and to docs/architecture.md');
    else if (RANKS.indexOf(into) > RANKS.indexOf(from)) bad(`an upward import: ${into} ranks above ${from}`);
    else if (ONLY_FOR[into] && !ONLY_FOR[into].includes(from)) bad(`only ${ONLY_FOR[into].join(', ')} use ${into}`);
    else if (from === 'engine' && path !== CLIENT_GATE && CLIENT.includes(to) && !typeOnly) bad(`only ${CLIENT_GATE} uses the client`);
  }
  if (from === 'engine' && path !== CLIENT_GATE && /\bOpenMLDBClient\b/.test(text)) out.push(`${path}: names OpenMLDBClient; only ${CLIENT_GATE} knows the client`);
  return out;
}

/** The import cycles of a graph (file -> files it imports): each strongly connected set of files, sorted. */
function cycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const set: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      set.push(w);
    } while (w !== v);
    if (set.length > 1 || graph.get(v)?.includes(v)) found.push(set.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return found.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every file under `dir` (a repository path) with its source text. */
function sources(dir: string): Array<[string, string]> {
  return files(join(ROOT, dir)).map((f) => [relative(ROOT, f).split(sep).join('/'), readFileSync(f, 'utf8')]);
}

/** The tool's import graph: src/ but the simulator and the chaos harness, types included. */
function toolGraph(): Map<string, string[]> {
  const tool = sources('src').filter(([path]) => !(folderOf(path) in PROGRAMS));
  return new Map(tool.map(([path, text]) => [path, importsOf(path, text).map((i) => i.to)]));
}

/** The simulator's import graph (src/sim/, its stand-in binary included), types included. */
function simGraph(): Map<string, string[]> {
  return new Map(sources('src/sim').map(([path, text]) => [path, importsOf(path, text).map((i) => i.to)]));
}

describe('layers', () => {
  const src = sources('src');
  const all = src.flatMap(([path, text]) => importsOf(path, text).map((i) => ({ from: path, ...i })));

  it('reads every form of import, in either quote style', () => {
    const text = [
      `import { a } from '../engine/a.js';`,
      `import b from "../engine/b.js";`,
      `import type { C } from '../engine/c.js';`,
      `import { type D } from '../engine/d.js';`,
      `import '../engine/e.js';`,
      `export { f } from "../engine/f.js";`,
      `export type * from '../engine/g.js';`,
      `const h = await import("../engine/h.js");`,
      'const i = await import(`../engine/i.js`);',
      `let j: import('../engine/j.js').J;`,
      `import k = require('../engine/k.js');`,
      `const l = await import(name);`,
      `import { readFileSync } from 'node:fs';`,
      `// import '../engine/comment.js';`,
      `const s = "import '../engine/string.js'";`,
    ].join('\n');
    assert.deepEqual(
      importsOf('src/cluster/x.ts', text).map((i) => `${i.to}${i.typeOnly ? ' (type)' : ''}`),
      ['a.ts', 'b.ts', 'c.ts (type)', 'd.ts (type)', 'e.ts', 'f.ts', 'g.ts (type)', 'h.ts', 'i.ts', 'j.ts (type)', 'k.ts'].map((n) => `src/engine/${n}`).concat('?'),
    );
  });

  it('finds the imports it checks', () => {
    const has = (from: string, to: string, types = false) => all.some((i) => folderOf(i.from) === from && folderOf(i.to) === to && (!types || i.typeOnly));
    assert.ok(has('commands', 'workflow'), 'commands use the workflows');
    assert.ok(has('workflow', 'engine'), 'workflows use the engine');
    assert.ok(has('engine', 'cluster', true), 'the engine names row types of the client');
    assert.ok(has('safety', 'zk') && has('history', 'safety') && has('cli', 'commands'));
    assert.ok(sources('test/helpers').some(([path, text]) => importsOf(path, text).some((i) => i.to.startsWith('src/'))), 'test helpers use src/');
  });

  it('ranks every folder of src/, in the order the doc lists them', () => {
    const names = readdirSync(join(ROOT, 'src')).map((n) => n.replace(/\.ts$/, ''));
    assert.deepEqual(names.filter((n) => !RANKS.includes(n) && !(n in PROGRAMS)), []);
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const block = doc.slice(doc.indexOf('## Source layout')).split('```')[1] ?? '';
    const listed = [...block.matchAll(/^src\/([\w-]+)(?:\.ts|\/)\s/gm)].map((m) => m[1] as string);
    assert.deepEqual(listed.filter((n) => RANKS.includes(n)), RANKS);
  });

  it('no import points to a higher rank, into another program, or outside src/; only engine/openmldb.ts uses the client', () => {
    assert.deepEqual([...src, ...sources('test')].flatMap(([path, text]) => violations(path, text)), []);
  });

  it('reports each upward import planted, in every form and quote style', () => {
    const planted: Array<[string, string]> = [
      // The nine the regex of the old test let through.
      ['src/commands/status.ts', `import { main } from '../cli/openmldb-recover.js';`],
      ['src/zk/session.ts', `import type { Table } from "../cluster/types.js";`],
      ['src/zk/probe.ts', `export { withRetry } from '../engine/retry.js';`],
      ['src/workflow/plan.ts', `const { acquireLock } = await import('../safety/lock.js');`],
      ['src/workflow/status.ts', `import '../history/record.js';`],
      ['src/cluster/client.ts', `import { defaultStateDir } from "../safety/state-dir.js"`],
      ['src/openmldb/tprinter.ts', `export type { Table } from '../cluster/types.js';`],
      ['src/exit-codes.ts', `let r: import('../engine/report.js').Report;`],
      ['src/engine/run.ts', `import { planPartition } from "../workflow/plan.js";`],
      // And the kinds it caught, spelt otherwise.
      ['src/engine/apply.ts', `const common = await import("../commands/common.js");`],
      ['src/engine/interrupt.ts', `import "../cli/openmldb-recover.js";`],
      ['src/engine/journal.ts', `export * from "../safety/journal.js";`],
      ['src/engine/report.ts', `import type { RunRecord } from "../history/record.js";`],
      ['src/engine/observe.ts', `import { ZkSession } from '../zk/session.js';`],
      ['src/cluster/observe.ts', `import { type Report } from "../engine/report.js";`],
      ['src/cluster/watch.ts', `const plan = await import('../workflow/plan.js');`],
      // The other rules.
      ['src/engine/health.ts', `import type { OpenMLDBClient } from '../cluster/client.js';`],
      ['src/engine/fence.ts', `import { observeCluster } from "../cluster/observe.js";`],
      ['src/commands/run.ts', `import { SimCluster } from '../sim/cluster.js';`],
      ['src/engine/run.ts', `import { chaosRun } from "../chaos/chaos.js";`],
      ['src/sim/cluster.ts', `import { assessPartition } from '../engine/health.js';`],
      ['src/history/store.ts', `import { startSim } from '../../test/helpers/sim.js';`],
      ['src/safety/lock.ts', `import '../../scripts/chaos.js';`],
      ['test/cli/demo.test.ts', `import { main } from "../../scripts/bench-recover.js";`],
      ['src/cluster/client.ts', `const m = await import(\`../\${name}.js\`);`],
    ];
    const missed = planted.filter(([path, text]) => violations(path, text).length === 0).map(([path, text]) => `${path}: ${text}`);
    assert.deepEqual(missed, []);
  });

  it('lets the downward imports through', () => {
    const fine: Array<[string, string]> = [
      ['src/cli/openmldb-recover.ts', `import { EXIT } from "../exit-codes.js";`],
      ['src/commands/safety.ts', `import { ZkSession } from '../zk/session.js';`],
      ['src/history/record.ts', `const files = await import('../safety/files.js');`],
      ['src/engine/run.ts', `import type { ObserveFilter } from '../cluster/observe.js';`],
      ['src/engine/openmldb.ts', `import { OpenMLDBClient } from '../cluster/client.js';`],
      ['src/workflow/plan.ts', `export { partitionKey } from "../engine/procedure.js";`],
      ['src/sim/cli/openmldb/zk.ts', `const { ZkSession } = await import('../../../zk/session.js');`],
      ['src/chaos/chaos.ts', `import { Rng } from '../sim/rng.js'; import type { Report } from '../engine/report.js';`],
      ['test/helpers/sim.ts', `import type { SimInfo } from '../../src/sim/daemon.js';`],
    ];
    assert.deepEqual(fine.flatMap(([path, text]) => violations(path, text)), []);
  });

  it('no import cycle among the tool\'s files but the known ones', () => {
    const known = KNOWN_CYCLES.map((c) => c.files.join(' '));
    const found = cycles(toolGraph()).map((c) => c.join(' '));
    assert.deepEqual(found.filter((c) => !known.includes(c)), [], 'a new cycle (or a known one grown)');
  });

  it('no import cycle among the simulator\'s files, type-only imports included', () => {
    assert.deepEqual(cycles(simGraph()).map((c) => c.join(' ')), []);
  });

  it('every known cycle is still there (one that is gone leaves the list)', () => {
    const found = cycles(toolGraph()).map((c) => c.join(' '));
    assert.deepEqual(KNOWN_CYCLES.map((c) => c.files.join(' ')).filter((c) => !found.includes(c)), []);
  });

  it('reports a planted cycle', () => {
    const graph = toolGraph();
    graph.get('src/cluster/parse/lines.ts')?.push('src/cluster/parse/index.ts');
    graph.get('src/engine/retry.ts')?.push('src/engine/retry.ts');
    const known = KNOWN_CYCLES.map((c) => c.files.join(' '));
    const found = cycles(graph).filter((c) => !known.includes(c.join(' ')));
    assert.ok(found.some((c) => c.includes('src/cluster/parse/lines.ts') && c.includes('src/cluster/parse/index.ts')), JSON.stringify(found));
    assert.ok(found.some((c) => c.join() === 'src/engine/retry.ts'), JSON.stringify(found));
  });
});
