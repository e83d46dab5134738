// Binlog retention (LogReplicator::DeleteBinlog): a leader keeps only the binlog parts its
// snapshot and its followers of the time need. A replica that was out of its replicator
// list meanwhile (offlined while its tablet was down) may sit below where the binlog now
// starts: attached to that leader as it is, it never catches up ("no log part matched",
// replica/replicate_node.cc). OpenMLDB re-adds such a replica with the snapshot sent
// (name_server_impl.cc RecoverEndpointTable: offset >= the leader's MANIFEST offset, else
// kReAddReplicaOP); so must a recovery.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import { recoverJson } from '../helpers/report.js';
import { type Sim, withSim } from '../helpers/sim.js';

interface State {
  tables: Array<{ name: string; tid: number; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }> }> }>;
  tablets: Array<{ endpoint: string; address: string; running: boolean; loaded: Array<{ tid: number; pid: number; offset: number; mode: string; state: string }>; disk: Array<{ tid: number; pid: number; snapshotOffset: number; binlogOffset: number; binlogStart: number }> }>;
}

const SIM = ['--scenario', 'healthy', '--tables', '1', '--partitions', '1', '--replicas', '3', '--tablets', '3', '--no-system-tables', '--storage', 'memory', '--binlog-part-entries', '100', '--make-snapshot-threshold-offset', '100', '--heartbeat-timeout-ms', '500', '--seed', '2'];

/** One follower offlined while down; the leader then takes writes, snapshots them and deletes the binlog before them. */
async function leaderBinlogPastAFollower(sim: Sim): Promise<{ tid: number; leader: string; behind: string; behindAt: number; binlogStart: number }> {
  const s = await sim.ctl<State>('state');
  const t = s.tables[0]!;
  const part = t.partitions[0]!;
  const leader = part.replicas.find((r) => r.isLeader)!.endpoint;
  const behind = part.replicas.find((r) => !r.isLeader)!.endpoint;
  const disk = (st: State, ep: string) => st.tablets.find((x) => x.endpoint === ep)!.disk.find((d) => d.tid === t.tid && d.pid === part.pid)!;
  const behindAt = disk(s, behind).binlogOffset;
  await sim.ctl('tablet', { action: 'stop', endpoint: behind });
  // auto_failover on: the nameserver offlines it (DelReplica on the leader, not alive).
  await sim.waitFor('the replica offlined', async () => (await sim.ctl<State>('state')).tables[0]!.partitions[0]!.replicas.some((r) => r.endpoint === behind && !r.isAlive));
  await sim.ctl('write', { table: `demo_db.${t.name}`, entries: 500 });
  const address = s.tablets.find((x) => x.endpoint === leader)!.address;
  assert.match((await sim.tablet(address, `makesnapshot ${t.tid} ${part.pid}`)).stdout, /MakeSnapshot ok/);
  await sim.waitFor('the binlog before the snapshot deleted', async () => disk(await sim.ctl<State>('state'), leader).binlogStart > behindAt + 1);
  return { tid: t.tid, leader, behind, behindAt, binlogStart: disk(await sim.ctl<State>('state'), leader).binlogStart };
}

/** That follower brought back and attached by hand as it is (loadtable, addreplica, marked alive): it never catches up. */
async function stuckFollower(sim: Sim): Promise<{ behind: string; behindAt: number }> {
  const { tid, leader, behind, behindAt } = await leaderBinlogPastAFollower(sim);
  await sim.ctl('autofailover', { value: false });
  await sim.ctl('tablet', { action: 'start', endpoint: behind, wait: true });
  const s = await sim.ctl<State>('state');
  const addr = (ep: string) => s.tablets.find((x) => x.endpoint === ep)!.address;
  assert.match((await sim.tablet(addr(behind), `loadtable t0 ${tid} 0 144000 8 false`)).stdout, /LoadTable ok/);
  await sim.waitFor('it serves as a follower', async () => (await sim.ctl<State>('state')).tablets.find((x) => x.endpoint === behind)!.loaded.some((l) => l.tid === tid && l.state === 'kTableNormal'));
  assert.match((await sim.tablet(addr(leader), `addreplica ${tid} 0 ${behind}`)).stdout, /AddReplica ok/);
  assert.match((await sim.ns(`updatetablealive t0 0 ${behind} yes`, 'demo_db')).stdout, /update ok/);
  await sim.ctl('write', { table: 'demo_db.t0', entries: 10 });
  // The other follower gets the new entries; this one stays where it was.
  await sim.waitFor('the other follower in step', async () => {
    const st = await sim.ctl<State>('state');
    const offsets = st.tablets.filter((x) => x.endpoint !== behind).map((x) => x.loaded.find((l) => l.tid === tid)?.offset ?? -1);
    return new Set(offsets).size === 1;
  });
  const st = await sim.ctl<State>('state');
  assert.equal(st.tablets.find((x) => x.endpoint === behind)!.loaded.find((l) => l.tid === tid)?.offset, behindAt);
  return { behind, behindAt };
}

describe('binlog retention', { concurrency: true }, () => {
  it('the simulator: a follower below where its leader\'s binlog starts never catches up', async () => {
    await withSim(SIM, async (sim) => {
      const { behind, behindAt } = await stuckFollower(sim);
      assert.match((await sim.check()).problems.join('\n'), new RegExp(`follower ${behind.replace(/[.]/g, '\\.')} is at offset ${behindAt}`));
    });
  });

  // One look finds it fine (OpenMLDB's own check lets 100000 entries of lag pass): only
  // watching it tells that it does not catch up.
  it('recover on a served cluster: the follower that does not catch up is named, rebuilt from the snapshot, and in step', async () => {
    await withSim(SIM, async (sim) => {
      const { behind } = await stuckFollower(sim);
      await sim.ctl('autofailover', { value: true });
      const { code, report, stderr } = await recoverJson(sim);
      assert.equal(code, 0, stderr);
      const p = (report as Report).tables[0]!.partitions[0]!;
      assert.equal(p.status, 'recovered');
      assert.ok(p.actions.some((a) => a.command === `recovertable t0 0 ${behind}`), JSON.stringify(p.actions.map((a) => a.command)));
      assert.match(stderr, /gained nothing for 10 s/);
      await sim.ctl('settle');
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
    });
  });

  it('recover after a full restart rebuilds that follower from the leader\'s snapshot: every replica in step', async () => {
    await withSim(SIM, async (sim) => {
      const { behind, behindAt, binlogStart } = await leaderBinlogPastAFollower(sim);
      assert.ok(binlogStart > behindAt + 1);
      await sim.ctl('full-restart', { powerLoss: false });
      await sim.ctl('incident', { autoFailoverBefore: true });
      const { code, report, stderr } = await recoverJson(sim);
      assert.equal(code, 0, stderr);
      const p = (report as Report).tables[0]!.partitions[0]!;
      assert.ok(p.actions.some((a) => a.command === `recovertable t0 0 ${behind}`), JSON.stringify(p.actions.map((a) => a.command)));
      await sim.ctl('settle');
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
    });
  });
  // Parts roll at every load as well (LogReplicator::Init leaves its writer unset), so with
  // the default 2048 MB parts a restarted leader's first snapshot already lets it delete
  // the binlog it had before the restart.
  it('the simulator: a leader reloaded, then snapshotted, no longer holds the binlog from before its load', async () => {
    await withSim(['--scenario', 'healthy', '--tables', '1', '--partitions', '1', '--replicas', '2', '--tablets', '2', '--no-system-tables', '--storage', 'memory', '--make-snapshot-threshold-offset', '1', '--seed', '2'], async (sim) => {
      const s = await sim.ctl<State>('state');
      const t = s.tables[0]!;
      const leader = t.partitions[0]!.replicas.find((r) => r.isLeader)!.endpoint;
      const behind = t.partitions[0]!.replicas.find((r) => !r.isLeader)!.endpoint;
      const addr = (ep: string) => s.tablets.find((x) => x.endpoint === ep)!.address;
      const disk = (st: State, ep: string) => st.tablets.find((x) => x.endpoint === ep)!.disk.find((d) => d.tid === t.tid)!;
      await sim.ctl('autofailover', { value: false });
      await sim.ctl('tablet', { action: 'stop', endpoint: behind });
      const behindAt = disk(await sim.ctl<State>('state'), behind).binlogOffset;
      await sim.ctl('write', { table: 'demo_db.t0', entries: 20 });
      // The leader restarts and is loaded again by hand (the runbook's loadtable).
      await sim.ctl('tablet', { action: 'stop', endpoint: leader });
      await sim.ctl('tablet', { action: 'start', endpoint: leader, wait: true });
      assert.match((await sim.tablet(addr(leader), `loadtable t0 ${t.tid} 0 144000 8 true`)).stdout, /LoadTable ok/);
      await sim.waitFor('it leads again', async () => (await sim.ctl<State>('state')).tablets.find((x) => x.endpoint === leader)!.loaded.some((l) => l.tid === t.tid && l.state === 'kTableNormal'));
      const reloadedAt = disk(await sim.ctl<State>('state'), leader).binlogOffset;
      assert.ok(reloadedAt > behindAt, `${reloadedAt} > ${behindAt}`);
      await sim.ctl('write', { table: 'demo_db.t0', entries: 30 });
      assert.match((await sim.tablet(addr(leader), `makesnapshot ${t.tid} 0`)).stdout, /MakeSnapshot ok/);
      // The part opened by the load is the snapshot's; the one before it goes.
      const start = await sim.waitFor('the binlog before the load deleted', async () => {
        const b = disk(await sim.ctl<State>('state'), leader).binlogStart;
        return b > 1 ? b : undefined;
      });
      assert.equal(start, reloadedAt + 1);
    });
  });
});
