// The same interface against the 2018-era output dialect and a cluster using server names.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommandError } from '../../src/cluster/errors.js';
import { observeOnce } from '../../src/cluster/observe.js';
import type { StorageMode } from '../../src/cluster/types.js';
import { type Sim, startSim } from '../helpers/sim.js';
import { assertMatchesState, clientFor, simState, type SimState } from './compare.js';

const ARGS = ['--scenario', 'full-restart', '--tables', '3', '--partitions', '2', '--entries', '300'];

function firstReplica(s: SimState, mode: (m: string) => boolean) {
  const t = s.tables.find((x) => x.db === 'demo_db' && mode(x.storageMode));
  const r = t?.partitions[0]?.replicas.find((x) => x.isLeader);
  assert.ok(t && r);
  return { endpoint: r.endpoint, spec: { name: t.name, tid: t.tid, pid: 0, segCnt: t.segCnt, storageMode: t.storageMode as StorageMode, mode: 'kTableLeader' as const } };
}

describe('dialect 2018', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim([...ARGS, '--dialect', '2018']);
  });
  after(async () => {
    await sim?.down();
  });

  it('observe matches the true state (old showtable/showtablet/showns layouts)', async () => {
    const client = clientFor(sim, { transport: 'cli' });
    const snap = await observeOnce(client);
    assertMatchesState(snap, await simState(sim));
    assert.match(client.log.entries.find((e) => e.command === 'showtablet')?.output ?? '', /kTabletHealthy/);
    assert.match(client.log.entries.find((e) => e.command === 'showtable')?.output ?? '', /compress_type/);
    assert.deepEqual(await sim.mutations(), []);
  });

  it('"gettablestatus failed" for an unloaded partition means not loaded; a bare "Fail to LoadTable" on a loaded one means already loaded', async () => {
    const client = clientFor(sim, { transport: 'cli' });
    const s = await simState(sim);
    const { endpoint, spec } = firstReplica(s, (m) => m === 'kMemory');
    assert.deepEqual(await client.getTableStatus(endpoint, spec.tid, spec.pid), []);
    assert.match(client.log.entries[client.log.entries.length - 1]?.output ?? '', /^gettablestatus failed$/m);
    assert.equal(await client.loadTable(endpoint, spec), 'started');
    assert.equal(await client.loadTable(endpoint, spec), 'already-loaded');
    assert.match(client.log.entries.find((e) => e.output.includes('Fail to LoadTable'))?.output ?? '', /^Fail to LoadTable$/m);
  });

  it('old "is not exist" messages classify like the new ones', async () => {
    const client = clientFor(sim);
    await client.confSet(false);
    try {
      await assert.rejects(client.recoverTable('demo_db', 'no_such_table', 0, 'x:1'), (e: unknown) => e instanceof CommandError && (e.kind === 'endpoint_not_exist' || e.kind === 'table_not_exist') && !e.transient);
    } finally {
      await client.confSet(true);
    }
  });
});

describe('server names (--use-name)', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim([...ARGS, '--use-name']);
  });
  after(async () => {
    await sim?.down();
  });

  it('observe maps names to real endpoints for every connection', async () => {
    const client = clientFor(sim);
    const snap = await observeOnce(client);
    const s = await simState(sim);
    assertMatchesState(snap, s);
    assert.ok(snap.tablets.every((t) => !/:\d+$/.test(t.endpoint) && /^127\.0\.0\.1:\d+$/.test(t.address)), 'names, and real addresses');
    assert.ok(snap.nameservers.every((n) => n.realEndpoint !== undefined && /^127\.0\.0\.1:\d+$/.test(n.realEndpoint)));
    assert.ok(snap.tables.every((t) => t.partitions.every((p) => p.replicas.every((r) => snap.tablets.some((x) => x.endpoint === r.endpoint)))));
    // Every tablet client run and HTTP call went to a real ip:port.
    const targets = client.log.entries.filter((e) => e.role === 'tablet' || e.kind === 'http').map((e) => e.target);
    assert.ok(targets.length > 0 && targets.every((t) => /^127\.0\.0\.1:\d+$/.test(t)), targets.join(', '));
  });

  it('loads by server name: memory through the CLI, disk over HTTP; a fresh client learns the names itself', async () => {
    const client = clientFor(sim);
    const s = await simState(sim);
    for (const pick of [(m: string) => m === 'kMemory', (m: string) => m !== 'kMemory']) {
      const { endpoint, spec } = firstReplica(s, pick);
      assert.doesNotMatch(endpoint, /:\d+$/);
      assert.equal(await client.loadTable(endpoint, spec), 'started');
      await sim.waitFor('loaded', async () => (await client.getTableStatus(endpoint, spec.tid, spec.pid))[0]?.state === 'kTableNormal');
      assert.equal(await client.loadTable(endpoint, spec), 'already-loaded');
    }
    const tp = await client.getTermPair(firstReplica(s, (m) => m === 'kMemory').endpoint, firstReplica(s, (m) => m === 'kMemory').spec.tid, 0, 'kMemory');
    assert.equal(tp.hasTable, true);
  });
});
