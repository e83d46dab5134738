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

/** A cluster whose first `failing` looks fail at a tablet's connection (every look, if undefined). */
function tabletDownFor(failing: number | undefined) {
  let looks = 0;
  return {
    looks: () => looks,
    observe: async (): Promise<ClusterSnapshot> => {
      looks++;
      if (failing === undefined || looks <= failing) throw refused();
      return snap([]);
    },
  };
}

describe('observe: a tablet that does not answer', () => {
  it('is waited for at least connectionWaitMs, not only four looks: a tablet back within it is seen', async () => {
    // Eight failing looks take well under a minute, however slow the machine.
    const cluster = tabletDownFor(8);
    const s = await observe(cluster, undefined, { backoff: FAST, connectionWaitMs: 60000 });
    assert.deepEqual(s.tables, []);
    assert.equal(cluster.looks(), 9);
  });

  it('one that never answers makes the look fail after four looks and connectionWaitMs, not before', async () => {
    const cluster = tabletDownFor(undefined);
    const started = Date.now();
    await assert.rejects(observe(cluster, undefined, { backoff: FAST, connectionWaitMs: 300 }), (e: unknown) => e instanceof CommandError && e.target.role === 'tablet');
    assert.ok(Date.now() - started >= 300, 'waited connectionWaitMs');
    assert.ok(cluster.looks() >= 4);
  });

  it('the budget (--leader-wait) bounds that wait too', async () => {
    const cluster = tabletDownFor(undefined);
    const started = Date.now();
    await assert.rejects(observe(cluster, undefined, { backoff: FAST, connectionWaitMs: 60000, budgetMs: 300 }));
    // Bounded by the budget, not by the minute: a generous margin for a loaded machine.
    assert.ok(Date.now() - started < 30000);
  });
});
