// The simulated nameserver pays OpenMLDB's metadata costs: one mutex (mu_) for every
// metadata read and change, each change a ZooKeeper write of the table's whole node taking
// the measured time for its size; `updatetablealive` without a pid is one write for every
// partition of the table on that endpoint. `check` counts the writes, and the bound
// includes the fewest serialized writes a recovery needs.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { criticalPath } from '../../src/sim/bound.js';
import { checkCluster } from '../../src/sim/check.js';
import { MEASURED_ZK_WRITE, MetadataLock, zkWriteMs } from '../../src/sim/metadata-lock.js';
import { FAST_TIMING, closeAllInProcess, inProcessSim } from '../helpers/in-process.js';

after(() => closeAllInProcess());

describe('the nameserver metadata lock', () => {
  it('runs holders one at a time, in the order they asked, and counts what it wrote', async () => {
    const lock = new MetadataLock(() => ({ zkWriteBaseMs: 20, zkWritePerKbMs: 0 }));
    const order: string[] = [];
    const first = lock.hold(async () => {
      order.push('first in');
      await lock.write(2048);
      order.push('first out');
    });
    const second = lock.hold(() => void order.push('second'));
    const started = Date.now();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first in', 'first out', 'second']);
    assert.ok(Date.now() - started >= 19, 'the write took its time');
    assert.equal(lock.stats.writes, 1);
    assert.equal(lock.stats.bytes, 2048);
    assert.equal(lock.stats.taken, 2);
    assert.ok(lock.stats.waitedMs >= 15, `the second waited ${lock.stats.waitedMs} ms`);
  });

  it('a write costs the measured time for its size', () => {
    assert.equal(zkWriteMs(MEASURED_ZK_WRITE, 0), MEASURED_ZK_WRITE.zkWriteBaseMs);
    assert.ok(zkWriteMs(MEASURED_ZK_WRITE, 128 * 1024) > zkWriteMs(MEASURED_ZK_WRITE, 1024));
  });

  it('updatetablealive without a pid is one write for the table on that endpoint; with a pid, one per partition', async () => {
    const sim = await inProcessSim({ scenario: 'healthy', tables: 1, partitions: 4, replicas: 2, systemTables: false }, { tablets: 2 });
    try {
      sim.cluster.autoFailover = false;
      const table = sim.cluster.tables.find((t) => t.db === 'demo_db');
      assert.ok(table);
      const endpoint = table.partitions[0]?.replicas[0]?.endpoint as string;
      const writes = () => checkCluster(sim.cluster).metadata.writes;
      const before = writes();
      assert.equal((await sim.cluster.ns.updateTableAliveStatus({ db: 'demo_db', name: table.name, endpoint, is_alive: false })).code, 0);
      assert.equal(writes() - before, 1);
      const onEndpoint = table.partitions.filter((p) => p.replicas.some((r) => r.endpoint === endpoint));
      for (const p of onEndpoint) assert.equal((await sim.cluster.ns.updateTableAliveStatus({ db: 'demo_db', name: table.name, endpoint, pid: p.pid, is_alive: true })).code, 0);
      assert.equal(writes() - before, 1 + onEndpoint.length);
      assert.ok(onEndpoint.length > 1);
    } finally {
      await sim.close();
    }
  });

  it('a ShowTable waits behind the writes queued before it', async () => {
    const sim = await inProcessSim({ scenario: 'healthy', tables: 1, partitions: 2, replicas: 2, systemTables: false }, { tablets: 2, timing: { ...FAST_TIMING, zkWriteBaseMs: 150 } });
    try {
      sim.cluster.autoFailover = false;
      const table = sim.cluster.tables.find((t) => t.db === 'demo_db');
      assert.ok(table);
      const endpoint = table.partitions[0]?.replicas[0]?.endpoint as string;
      const write = sim.cluster.ns.updateTableAliveStatus({ db: 'demo_db', name: table.name, endpoint, is_alive: false });
      const asked = Date.now();
      const shown = (await sim.cluster.ns.showTable({ db: 'demo_db', name: table.name })) as { table_info: Array<{ table_partition: Array<{ partition_meta: Array<{ endpoint: string; is_alive: boolean }> }> }> };
      assert.ok(Date.now() - asked >= 140, 'it waited for the write');
      // ... and so it shows the write's result.
      const metas = shown.table_info[0]?.table_partition.flatMap((p) => p.partition_meta).filter((m) => m.endpoint === endpoint) ?? [];
      assert.ok(metas.length > 0 && metas.every((m) => !m.is_alive));
      await write;
    } finally {
      await sim.close();
    }
  });

  it('the bound counts one alive write per table and endpoint recovered', async () => {
    const sim = await inProcessSim({ scenario: 'full-restart', tables: 3, partitions: 4, replicas: 2, systemTables: false }, { tablets: 2 });
    try {
      const bound = criticalPath(sim.cluster);
      assert.equal(bound.metadataWrites, 3 * 2);
      assert.ok(bound.metadataMs > 0 && bound.ms >= bound.metadataMs);
    } finally {
      await sim.close();
    }
  });
});
