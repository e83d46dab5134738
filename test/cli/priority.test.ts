// Service in priority order: `recover --priority DB.TABLE` starts the named tables' partitions
// (and so queues their loads on each tablet) right after the system tables, and the report
// says when each class was served. A --priority naming no table, or not DB.TABLE, changes
// nothing and exits 2.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorLines, validDoc } from '../helpers/report.js';
import type { Report } from '../../src/engine/report.js';
import { type Sim, recoverCli, startSim } from '../helpers/sim.js';

describe('recover --priority', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--scenario', 'full-restart', '--tables', '12', '--partitions', '4', '--storage', 'memory', '--seed', '3']);
  });
  after(() => sim.down());

  it('a --priority that names no table, or is not DB.TABLE, is exit 2 and changes nothing', async () => {
    for (const bad of ['demo_db.no_such_table', 'no_such_db.*', 'nodot']) {
      const r = await recoverCli(sim, ['recover', '--quiet', '--priority', bad]);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    }
    assert.deepEqual(await sim.mutations(), []);
  });

  it('the named table is served before most of the others, after the system tables; the report says when', async () => {
    // The last table by name: in table order it would come last.
    const r = await recoverCli(sim, ['recover', '--json', '--quiet', '--priority', 'demo_db.t9']);
    const report = validDoc<Report>('report', r);
    assert.equal(r.code, 0, r.stderr);
    const byClass = new Map((report.service ?? []).map((c) => [c.class, c]));
    const system = byClass.get('system');
    const priority = byClass.get('priority');
    const other = byClass.get('other');
    assert.ok(system && priority && other, JSON.stringify(report.service));
    assert.equal(priority.partitions, 4);
    assert.ok(priority.lastMs <= other.medianMs, `priority served by ${priority.lastMs} ms; half the others by ${other.medianMs} ms`);
    assert.ok(system.firstMs <= priority.firstMs, JSON.stringify(report.service));
    const t9 = report.tables.find((t) => t.name === 't9');
    assert.ok(t9?.partitions.every((p) => p.servedMs !== undefined && p.servedMs <= priority.lastMs));
    assert.equal((await sim.check()).ok, true);
  });
});
