// A table's partitions planned again together (replan-together.ts), and started together
// within --concurrency (admission.ts): no look per partition, no partition waiting on one
// that cannot come.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission } from '../../src/engine/admission.js';
import { TableReplans } from '../../src/engine/replan-together.js';
import type { PartitionPlan } from '../../src/engine/procedure.js';
import { partitionKey } from '../../src/engine/run-memory.js';

const plan = (table: string, pid: number): PartitionPlan => ({ db: 'd', table, tid: 1, pid, storageMode: 'kMemory', segCnt: 8, action: 'probe', reason: '', evidence: [], atStake: 0, left: [], steps: [] });

/** Replans that record each look (the pids it covered) and plan every partition as `recover`. */
function recording() {
  const looks: Array<{ table: string; pids: number[] }> = [];
  const replans = new TableReplans(async (_db, table, plans) => {
    looks.push({ table, pids: plans.map((p) => p.pid).sort() });
    return new Map(plans.map((p) => [partitionKey(p.db, p.table, p.pid), { plan: { ...p, action: 'recover' as const }, ended: new Set<number>() }]));
  }, 60_000);
  return { looks, replans };
}

describe('TableReplans', () => {
  it('the partitions of a table still preparing are waited for: one look plans them all', async () => {
    const { looks, replans } = recording();
    const ps = [0, 1, 2].map((pid) => plan('t', pid));
    for (const p of ps) replans.preparing(p);
    const first = replans.replan(ps[0] as PartitionPlan);
    const second = replans.replan(ps[1] as PartitionPlan);
    await new Promise((r) => setImmediate(r));
    assert.equal(looks.length, 0, 'pid 2 is still preparing');
    const third = replans.replan(ps[2] as PartitionPlan);
    const next = await Promise.all([first, second, third]);
    assert.deepEqual(looks, [{ table: 't', pids: [0, 1, 2] }]);
    assert.deepEqual(next.map((n) => n?.plan.action), ['recover', 'recover', 'recover']);
  });

  it('a partition that ends without asking (failed, stopped) is not waited for', async () => {
    const { looks, replans } = recording();
    const [a, b] = [plan('t', 0), plan('t', 1)];
    replans.preparing(a);
    replans.preparing(b);
    const asked = replans.replan(a);
    replans.left(b);
    assert.equal((await asked)?.plan.pid, 0);
    assert.deepEqual(looks, [{ table: 't', pids: [0] }]);
  });

  it('other tables are neither waited for nor looked at', async () => {
    const { looks, replans } = recording();
    const [a, b] = [plan('t', 0), plan('u', 0)];
    replans.preparing(a);
    replans.preparing(b);
    await replans.replan(a);
    assert.deepEqual(looks, [{ table: 't', pids: [0] }]);
  });

  it('after the cap, the partitions that asked go on without the slow one', async () => {
    const looks: number[][] = [];
    const replans = new TableReplans(async (_db, _table, plans) => {
      looks.push(plans.map((p) => p.pid));
      return new Map();
    }, 20);
    const [a, slow] = [plan('t', 0), plan('t', 1)];
    replans.preparing(a);
    replans.preparing(slow);
    assert.equal(await replans.replan(a), undefined);
    assert.deepEqual(looks, [[0]]);
  });

  it('a look that fails fails every partition that waited for it', async () => {
    const replans = new TableReplans(async () => {
      throw new Error('the nameserver does not answer');
    });
    const [a, b] = [plan('t', 0), plan('t', 1)];
    replans.preparing(a);
    replans.preparing(b);
    const results = await Promise.allSettled([replans.replan(a), replans.replan(b)]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  });
});

describe('Admission', () => {
  it('a group starts once there is room for all of it, first come first served', async () => {
    const admission = new Admission(4);
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    const task = (name: string) => () =>
      new Promise<void>((done) => {
        started.push(name);
        gates.set(name, done);
      });
    const first = admission.group(['a0', 'a1', 'a2'].map(task));
    const second = admission.group(['b0', 'b1'].map(task));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, ['a0', 'a1', 'a2'], 'b needs 2 slots, 1 is free');
    gates.get('a0')?.();
    await first[0];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, ['a0', 'a1', 'a2', 'b0', 'b1']);
    for (const g of ['a1', 'a2', 'b0', 'b1']) gates.get(g)?.();
    await Promise.all([...first, ...second]);
  });

  it('a group larger than the limit goes in chunks of the limit', async () => {
    const admission = new Admission(2);
    let running = 0;
    let most = 0;
    const task = () => async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    };
    await Promise.all(admission.group([task(), task(), task(), task(), task()]));
    assert.equal(most, 2);
  });
});
