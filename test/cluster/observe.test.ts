// observeOnce() end to end against the simulator: the snapshot must agree with the
// simulator's true state, and observing must not change anything.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterUnreachable, CommandError, UnknownTable } from '../../src/cluster/errors.js';
import { observeOnce } from '../../src/cluster/observe.js';
import { OpenMLDBClient } from '../../src/cluster/client.js';
import { CommandLog } from '../../src/cluster/transport.js';
import { type Sim, startSim } from '../helpers/sim.js';
import { assertMatchesState, clientFor, settled, simState } from './compare.js';

const SMALL = ['--tables', '4', '--partitions', '3', '--entries', '500'];

describe('observe: full-restart', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--scenario', 'full-restart', ...SMALL]);
  });
  after(async () => {
    await sim?.down();
  });

  it('matches the true state: flags, metadata and snapshot offsets, storage modes, nothing loaded', async () => {
    const client = clientFor(sim);
    const snap = await observeOnce(client);
    const s = await simState(sim);
    assertMatchesState(snap, s);
    // The scenario's point: all tablets up, nothing loaded, system databases included.
    assert.ok(snap.tablets.every((t) => t.state === 'healthy'));
    assert.ok(snap.tables.every((t) => t.partitions.every((p) => p.replicas.every((r) => r.loaded === undefined && r.snapshot !== undefined))));
    for (const db of ['__INTERNAL_DB', 'INFORMATION_SCHEMA', '__PRE_AGG_DB', 'demo_db']) assert.ok(snap.tables.some((t) => t.db === db), db);
    assert.ok(new Set(snap.tables.map((t) => t.storageMode)).size > 1, 'mixed storage modes');
  });

  it('sends no mutating call', async () => {
    await observeOnce(clientFor(sim));
    assert.deepEqual(await sim.mutations(), []);
  });

  it('logs every command it ran, with its output (--transport cli)', async () => {
    const client = clientFor(sim, { transport: 'cli' });
    const seen: string[] = [];
    client.log.onEntry((e) => seen.push(e.command));
    await observeOnce(client);
    const commands = client.log.entries.map((e) => e.command);
    assert.deepEqual(seen, commands);
    for (const c of ['showns', 'showtablet', 'showdb', 'confget auto_failover', 'showopstatus', 'showtable', 'gettablestatus', 'NameServer/ShowTable', 'TabletServer/GetTermPair']) {
      assert.ok(commands.includes(c), `${c} in ${commands.join(', ')}`);
    }
    assert.ok(client.log.entries.every((e) => e.output !== undefined && e.durationMs >= 0));
    assert.ok(client.log.entries.find((e) => e.command === 'showns')?.output.includes('ns leader:'));
  });

  it('over HTTP (the default) the binary only finds the leader; each nameserver read is one call', async () => {
    const client = clientFor(sim);
    await observeOnce(client);
    const entries = client.log.entries;
    assert.deepEqual(entries.filter((e) => e.kind === 'cli').map((e) => e.command), ['showns']);
    const ns = entries.filter((e) => e.role === 'ns' && e.kind === 'http').map((e) => e.command);
    for (const c of ['NameServer/ShowTablet', 'NameServer/ConfGet', 'NameServer/ShowDatabase', 'NameServer/ShowOPStatus']) {
      assert.equal(ns.filter((x) => x === c).length, 1, `${c} once in ${ns.join(', ')}`);
    }
    // One ShowTable per database: it answers for both the metadata and the replica rows.
    const s = await simState(sim);
    assert.equal(ns.filter((x) => x === 'NameServer/ShowTable').length, new Set(s.tables.map((t) => t.db)).size);
    assert.ok(entries.some((e) => e.command === 'TabletServer/GetTableStatus'));
  });

  it('a filter limits the tables and names ops by database', async () => {
    const client = clientFor(sim);
    const snap = await observeOnce(client, { tables: [{ db: 'demo_db', name: 't1' }] });
    assertMatchesState(snap, await simState(sim), { tables: [{ db: 'demo_db', name: 't1' }] });
    const byDb = await observeOnce(clientFor(sim), { dbs: ['__INTERNAL_DB'] });
    assert.deepEqual(byDb.tables.map((t) => t.name).sort(), ['JOB_INFO', 'PRE_AGG_META_INFO', 'USER']);
  });

  it('an unknown table or database is UnknownTable, naming it', async () => {
    await assert.rejects(observeOnce(clientFor(sim), { tables: [{ db: 'demo_db', name: 'nope' }] }), (e: unknown) => {
      assert.ok(e instanceof UnknownTable);
      assert.equal(e.table, 'nope');
      assert.match(e.message, /demo_db\.nope/);
      assert.match(e.message, /t0/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
    await assert.rejects(observeOnce(clientFor(sim), { dbs: ['no_such_db'] }), (e: unknown) => e instanceof UnknownTable && e.db === 'no_such_db' && /no_such_db/.test(e.message));
    await assert.rejects(observeOnce(clientFor(sim), { tables: [{ db: 'no_such_db', name: 't0' }] }), UnknownTable);
  });

  it('a refused tablet call surfaces as a transient error (no guessing "not loaded")', async () => {
    // Refused every time (a read is tried three times; the look reads many partitions).
    await sim.ctl('fail', { method: 'GetTableStatus', kind: 'refused', fraction: 1 });
    await assert.rejects(observeOnce(clientFor(sim)), (e: unknown) => {
      assert.ok(e instanceof CommandError, String(e));
      assert.equal(e.transient, true);
      assert.equal(e.kind, 'rpc');
      assert.equal(e.target.role, 'tablet');
      return true;
    });
    await sim.ctl('clear-faults');
  });

  it('wrong ZooKeeper address or root path: ClusterUnreachable, at once', async () => {
    // Counted in binary runs, not in time: nothing is retried, whatever the machine's load.
    let log = new CommandLog();
    await assert.rejects(
      observeOnce(new OpenMLDBClient({ bin: sim.info.bin, zkCluster: sim.info.zkCluster, zkRootPath: '/wrong_root', log })),
      (e: unknown) => e instanceof ClusterUnreachable && e.reason === 'no-nameserver' && /wrong_root/.test(e.message) && e.transient === false,
    );
    assert.deepEqual(log.entries.map((e) => e.command), ['showns']);
    log = new CommandLog();
    await assert.rejects(
      observeOnce(new OpenMLDBClient({ bin: sim.info.bin, zkCluster: '127.0.0.1:1', zkRootPath: sim.info.zkRootPath, log })),
      (e: unknown) => e instanceof ClusterUnreachable && e.reason === 'zookeeper' && /127\.0\.0\.1:1/.test(e.message),
    );
    // The binary waits its ZooKeeper session timeout (2 s) once; nothing is retried.
    assert.deepEqual(log.entries.map((e) => e.command), ['showns']);
  });
});

describe('observe: full-restart-after-failover', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--scenario', 'full-restart-after-failover', '--seed', '5', ...SMALL]);
  });
  after(async () => {
    await sim?.down();
  });

  it('matches the true state: dead replicas, two flagged leaders', async () => {
    const snap = await observeOnce(clientFor(sim));
    assertMatchesState(snap, await simState(sim));
    const parts = snap.tables.filter((t) => t.db === 'demo_db').flatMap((t) => t.partitions);
    assert.ok(parts.some((p) => p.replicas.some((r) => !r.isAlive)), 'some replica alive=no');
    assert.ok(parts.some((p) => p.replicas.filter((r) => r.isLeader).length >= 2), 'a partition with two flagged leaders');
    assert.deepEqual(await sim.mutations(), []);
  });
});

describe('observe: partition-lost', () => {
  it('lists the failed recovery ops of all databases, with their database and failed task', async () => {
    const sim = await startSim(['--scenario', 'partition-lost', ...SMALL]);
    try {
      const snap = await observeOnce(clientFor(sim));
      const s = await simState(sim);
      assertMatchesState(snap, s);
      const failed = snap.ops.filter((o) => o.status === 'kFailed');
      assert.ok(failed.length > 0, 'failed ops listed');
      assert.ok(failed.every((o) => o.task !== undefined), 'failed ops say which task failed');
      // Unfiltered: every op of a uniquely named table knows its database.
      assert.deepEqual(
        snap.ops.map((o) => o.db),
        [...s.ops].sort((a, b) => a.opId - b.opId).map((o) => o.db),
      );
      assert.ok(new Set(snap.ops.map((o) => o.db)).size > 1, 'ops of several databases');
      // Nothing at all loaded for the lost partition.
      const lost = snap.tables.filter((t) => t.db === 'demo_db').flatMap((t) => t.partitions).filter((p) => p.replicas.every((r) => r.loaded === undefined));
      assert.ok(lost.length > 0);
      assert.deepEqual(await sim.mutations(), []);
    } finally {
      await sim.down();
    }
  });
});

describe('observe: healthy and node-down', () => {
  it('healthy: loaded replicas with their mode, state and offset', async () => {
    const sim = await startSim(['--scenario', 'healthy', ...SMALL]);
    try {
      await settled(sim);
      const snap = await observeOnce(clientFor(sim));
      assertMatchesState(snap, await simState(sim));
      const replicas = snap.tables.flatMap((t) => t.partitions.flatMap((p) => p.replicas));
      assert.ok(replicas.every((r) => r.loaded?.state === 'kTableNormal' && r.snapshot === undefined));
      assert.ok(replicas.some((r) => r.loaded?.mode === 'kTableFollower'));
    } finally {
      await sim.down();
    }
  });

  it('node-down (auto_failover off): the stopped tablet is offline and not asked', async () => {
    const sim = await startSim(['--scenario', 'node-down', '--no-auto-failover', ...SMALL]);
    try {
      await settled(sim);
      const client = clientFor(sim);
      const snap = await observeOnce(client);
      assertMatchesState(snap, await simState(sim));
      const offline = snap.tablets.filter((t) => t.state === 'offline');
      assert.equal(offline.length, 1);
      const down = offline[0]?.address ?? '';
      assert.ok(!client.log.entries.some((e) => e.target === down), 'no call to the offline tablet');
    } finally {
      await sim.down();
    }
  });
});
