// recoverendpoint's need_restore, as name_server_impl.cc RecoverEndpointDBInternal does it:
// the returning replica's recover op checks its binlog sync with offset_delta 0 (it must
// hold every entry the metadata says its leader holds) rather than the flag's default,
// and only then does the ChangeLeaderOP queued behind it move the leadership back. Without
// need_restore, the default delta and no leader change.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { closeAllInProcess, inProcessSim } from '../helpers/in-process.js';
import { SYNC_DELTA } from '../../src/sim/ops.js';
import type { Op } from '../../src/sim/model.js';

async function until<T>(what: string, probe: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('recoverendpoint need_restore', () => {
  after(closeAllInProcess);

  for (const needRestore of [true, false]) {
    it(`need_restore ${needRestore}: the sync check's delta is ${needRestore ? 0 : 'the default'}${needRestore ? ', then the leadership moves back' : ', and the leadership stays'}`, async () => {
      const sim = await inProcessSim({ scenario: 'healthy', tables: 1, partitions: 1 }, { seed: 3 });
      try {
        const ns = sim.cluster.ns;
        const part = () => sim.cluster.tables.find((t) => t.name === 't0')?.partitions[0];
        const victim = part()?.replicas.find((r) => r.isLeader)?.endpoint as string;
        assert.deepEqual(await ns.confSet({ conf: { key: 'auto_failover', value: 'false' } }), { code: 0, msg: 'ok' });
        await sim.ctl('tablet', { action: 'stop', endpoint: victim });
        assert.equal((await ns.offlineEndpoint({ endpoint: victim })).code, 0);
        const moved = await until('the leader moved off the victim', () => {
          const leader = part()?.replicas.find((r) => r.isLeader && r.isAlive);
          return leader && leader.endpoint !== victim && sim.cluster.opEngine.ops.every((o) => o.status !== 'kInited' && o.status !== 'kDoing') ? leader.endpoint : undefined;
        });
        await sim.ctl('tablet', { action: 'start', endpoint: victim, wait: true }); // after its old session expires
        await sim.ctl('write', { table: 'demo_db.t0', entries: 5 });
        const before = sim.cluster.opEngine.ops.length;
        assert.equal((await ns.recoverEndpoint({ endpoint: victim, need_restore: needRestore })).code, 0);
        const mine = () => sim.cluster.opEngine.ops.slice(before);
        const done = await until('its ops ended', () => {
          const ops = mine();
          return ops.length > 0 && ops.every((o) => o.status === 'kDone' || o.status === 'kFailed') ? ops : undefined;
        });
        const sync = done.flatMap((o: Op) => o.tasks.filter((t) => t.type === 'kCheckBinlogSyncProgress' && t.endpoint === victim));
        assert.ok(sync.length > 0, `the victim's recover op checks its sync: ${done.map((o) => o.opType).join(', ')}`);
        for (const t of sync) assert.equal(t.args?.['delta'], needRestore ? 0 : SYNC_DELTA);
        assert.equal(done.some((o) => o.opType === 'kChangeLeaderOP'), needRestore, 'a leader change only under need_restore');
        const leader = part()?.replicas.find((r) => r.isLeader && r.isAlive)?.endpoint;
        assert.equal(leader, needRestore ? victim : moved);
      } finally {
        await sim.close();
      }
    });
  }
});
