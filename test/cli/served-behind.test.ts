// A partition served by a leader that another replica is known to exceed: rebuilding that
// replica from the leader would discard entries, so the partition is refused, and each
// command the refusal prints, pasted into a shell, proceeds as it says.
//
// The incident, with OpenMLDB's own commands, as an operator following the runbook to the
// letter could leave it after a full restart with a power loss: the replica flagged leader
// (which lost its unsynced tail) was loaded as leader by hand and marked alive, while a
// follower that kept more is not alive, its snapshot (made while it was loaded) showing
// how much it holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runPasted } from '../helpers/paste.js';
import { recoverJson } from '../helpers/report.js';
import { type Sim, withSim } from '../helpers/sim.js';

interface State {
  tables: Array<{ tid: number; db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }> }> }>;
  tablets: Array<{ endpoint: string; disk: Array<{ tid: number; pid: number; snapshotOffset: number; binlogOffset: number }> }>;
}

const ARGS = ['--scenario', 'full-restart', '--seed', '21', '--no-system-tables', '--tables', '2', '--partitions', '3', '--storage', 'memory', '--make-snapshot-threshold-offset', '0'];

interface Setup {
  db: string;
  name: string;
  pid: number;
  leader: string;
  fuller: string;
  /** Entries only the fuller replica holds. */
  extra: number;
}

async function leaderLoadedByHand(sim: Sim): Promise<Setup> {
  const s = await sim.ctl<State>('state');
  const disk = (ep: string, tid: number, pid: number) => s.tablets.find((t) => t.endpoint === ep)?.disk.find((d) => d.tid === tid && d.pid === pid)?.binlogOffset ?? 0;
  let found: (Setup & { tid: number }) | undefined;
  for (const t of s.tables) {
    for (const p of t.partitions) {
      const leader = p.replicas.find((r) => r.isLeader && r.isAlive);
      const fuller = p.replicas.find((r) => leader && r !== leader && disk(r.endpoint, t.tid, p.pid) > disk(leader.endpoint, t.tid, p.pid));
      if (leader && fuller && !found) found = { db: t.db, name: t.name, tid: t.tid, pid: p.pid, leader: leader.endpoint, fuller: fuller.endpoint, extra: disk(fuller.endpoint, t.tid, p.pid) - disk(leader.endpoint, t.tid, p.pid) };
    }
  }
  assert.ok(found, 'the scenario has a follower holding more than the replica flagged leader');
  const f = found;
  const ok = async (what: string, p: Promise<{ stdout: string }>, want: RegExp) => assert.match((await p).stdout, want, what);
  const serving = (ep: string) => sim.waitFor(`${ep} serving`, async () => /kTableNormal/.test((await sim.tablet(ep, `gettablestatus ${f.tid} ${f.pid}`)).stdout));
  await ok('confset', sim.ns('confset auto_failover false'), /set auto_failover ok/);
  // The fuller follower's snapshot: loaded, snapshotted, then its tablet restarted (nothing loaded).
  await ok('loadtable', sim.tablet(f.fuller, `loadtable ${f.name} ${f.tid} ${f.pid} 144000 8 false`), /LoadTable ok/);
  await serving(f.fuller);
  await ok('makesnapshot', sim.tablet(f.fuller, `makesnapshot ${f.tid} ${f.pid}`), /MakeSnapshot ok/);
  await sim.waitFor('the snapshot written', async () => {
    const d = (await sim.ctl<State>('state')).tablets.find((t) => t.endpoint === f.fuller)?.disk.find((x) => x.tid === f.tid && x.pid === f.pid);
    return d !== undefined && d.snapshotOffset === d.binlogOffset;
  });
  await sim.ctl('tablet', { action: 'stop', endpoint: f.fuller });
  await sim.ctl('tablet', { action: 'start', endpoint: f.fuller, wait: true });
  // The runbook to the letter: the flagged leader loaded as leader and served; the others not alive.
  await ok('updatetablealive', sim.ns(`updatetablealive ${f.name} ${f.pid} ${f.fuller} no`, f.db), /update ok/);
  await ok('loadtable', sim.tablet(f.leader, `loadtable ${f.name} ${f.tid} ${f.pid} 144000 8`), /LoadTable ok/);
  await serving(f.leader);
  await ok('confset', sim.ns('confset auto_failover true'), /set auto_failover ok/);
  await sim.ctl('incident', { autoFailoverBefore: true });
  return { db: f.db, name: f.name, pid: f.pid, leader: f.leader, fuller: f.fuller, extra: f.extra };
}

describe('a served leader another replica is known to exceed', { concurrency: true }, () => {
  for (const way of ['the fuller replica leads', 'the served leader stays'] as const) {
    it(`refused by default; the printed command (${way}) proceeds, losing what it says`, async () => {
      await withSim(ARGS, async (sim) => {
        const at = await leaderLoadedByHand(sim);
        const first = await recoverJson(sim);
        assert.equal(first.code, 1, first.stderr);
        const p = first.report.tables.find((t) => t.db === at.db && t.name === at.name)?.partitions.find((x) => x.pid === at.pid);
        assert.equal(p?.status, 'refused', JSON.stringify(p));
        assert.match(p.reason, new RegExp(`leader ${at.leader.replace(/\./g, '\\.')} serves offset \\d+, but ${at.fuller.replace(/\./g, '\\.')} holds at least \\d+`));
        assert.equal(p.atStake, at.extra);
        // Each whole, with how the run reached the cluster: its connection as resolved.
        const tail = ` --zk_cluster=${sim.info.zkCluster} --zk_root_path=${sim.info.zkRootPath} --openmldb_bin_path=${sim.info.bin}`;
        assert.deepEqual(p.proceed?.map((w) => w.command), [
          `openmldb-recover recover-table ${at.db}.${at.name} --pid ${at.pid} --leader ${at.pid}=${at.fuller}${tail}`,
          `openmldb-recover recover-table ${at.db}.${at.name} --pid ${at.pid} --accept-data-loss${tail}`,
        ]);
        assert.deepEqual(p.actions, [], 'refused untouched');
        // The hand-loaded leader serves without them: what the check counts gone until a choice is made.
        assert.equal((await sim.check()).entriesLost, at.extra);
        const chosen = way === 'the fuller replica leads' ? p.proceed[0]! : p.proceed[1]!;
        const pasted = await runPasted(chosen.command, { HOME: sim.dir, ...sim.env, XDG_STATE_HOME: sim.stateHome });
        assert.equal(pasted.code, 0, `${chosen.command}\n${pasted.stderr}\n${pasted.stdout}`);
        const check = await sim.check();
        const line = check.ledger.find((l) => l.db === at.db && l.table === at.name && l.pid === at.pid);
        assert.ok(line?.served !== undefined, 'served');
        assert.equal(line.lost, way === 'the fuller replica leads' ? 0 : at.extra, chosen.effect);
        assert.equal(check.partitionsServed, check.partitions);
      });
    });
  }
});
