// The engine's look at the cluster (src/engine/observe.ts): which failures are waited out,
// and for how long, before the cluster counts as unreachable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandError } from '../../src/cluster/errors.js';
import type { ClusterSnapshot } from '../../src/cluster/types.js';
import { observe } from '../../src/engine/observe.js';
import { snap } from '../workflow/snapshots.js';

const refused = () => new CommandError('HTTP TabletServer/GetTableStatus', 'rpc', 'connection refused', { role: 'tablet', endpoint: '127.0.0.1:9520' }, { transient: true });
const FAST = { minTimeout: 5, maxTimeout: 20 };

/** A cluster whose looks fail at a tablet's connection until `healedAt` (ms from now; never if undefined). */
function tabletDownUntil(healedAt: number | undefined) {
  const started = Date.now();
  let looks = 0;
  return {
    looks: () => looks,
    observe: async (): Promise<ClusterSnapshot> => {
      looks++;
      if (healedAt === undefined || Date.now() - started < healedAt) throw refused();
      return snap([]);
    },
  };
}

describe('observe: a tablet that does not answer', () => {
  it('is waited for at least connectionWaitMs, not only four looks: a tablet back within it is seen', async () => {
    const cluster = tabletDownUntil(300);
    const s = await observe(cluster, undefined, { backoff: FAST, connectionWaitMs: 2000 });
    assert.deepEqual(s.tables, []);
    assert.ok(cluster.looks() > 4, `${cluster.looks()} looks: more than four were needed`);
  });

  it('one that never answers makes the look fail after four looks and connectionWaitMs, not before', async () => {
    const cluster = tabletDownUntil(undefined);
    const started = Date.now();
    await assert.rejects(observe(cluster, undefined, { backoff: FAST, connectionWaitMs: 300 }), (e: unknown) => e instanceof CommandError && e.target.role === 'tablet');
    assert.ok(Date.now() - started >= 300, 'waited connectionWaitMs');
    assert.ok(cluster.looks() >= 4);
  });

  it('the budget (--leader-wait) bounds that wait too', async () => {
    const cluster = tabletDownUntil(undefined);
    const started = Date.now();
    await assert.rejects(observe(cluster, undefined, { backoff: FAST, connectionWaitMs: 60000, budgetMs: 300 }));
    // Bounded by the budget, not by the minute: a generous margin for a loaded machine.
    assert.ok(Date.now() - started < 30000);
  });
});
