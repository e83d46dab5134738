// Fail closed on data loss: a partition with a replica that cannot be read (its tablet is
// down) is refused, at stake unknown and untouched, without --accept-data-loss; with it the
// partition is served from the replicas that can be read, and the ledger then shows exactly
// the entries only the unreadable replica held.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import { recoverCli, startSim } from '../helpers/sim.js';
import { report as checkedReport } from '../helpers/report.js';
import { runPasted } from '../helpers/paste.js';

interface State {
  tablets: Array<{ endpoint: string; disk: Array<{ tid: number; pid: number; binlogOffset: number }> }>;
  tables: Array<{ tid: number; db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }> }> }>;
}

describe('--accept-data-loss', () => {
  it('refuses what it cannot read, then recovers with the flag, losing exactly what only that replica held', async () => {
    // The heartbeat timeout of a real cluster (5 min), not the simulator's 3 s: with
    // auto_failover still on until the tool switches it off, the nameserver would otherwise
    // start its own ops for the stopped tablet on a slow machine, and the refused partition
    // would first be waited for (an action) instead of refused untouched.
    const sim = await startSim(['--no-system-tables', '--scenario', 'full-restart-after-failover', '--diverged-tails', '0', '--tables', '2', '--partitions', '2', '--seed', '9', '--heartbeat-timeout-ms', '300000']);
    try {
      const s = await sim.ctl<State>('state');
      const disk = (ep: string, tid: number, pid: number) => s.tablets.find((t) => t.endpoint === ep)?.disk.find((d) => d.tid === tid && d.pid === pid)?.binlogOffset ?? 0;
      let target: { db: string; name: string; pid: number; best: string } | undefined;
      for (const t of s.tables) {
        for (const p of t.partitions) {
          const flagged = p.replicas.find((r) => r.isLeader && r.isAlive);
          const ahead = p.replicas.find((r) => !r.isLeader && flagged && disk(r.endpoint, t.tid, p.pid) > disk(flagged.endpoint, t.tid, p.pid));
          if (ahead) target = { db: t.db, name: t.name, pid: p.pid, best: ahead.endpoint };
        }
      }
      assert.ok(target, 'the scenario has a partition whose best replica is a follower');
      await sim.ctl('tablet', { action: 'stop', endpoint: target.best });
      const find = (r: Report) => r.tables.find((t) => t.db === target?.db && t.name === target.name)?.partitions.find((p) => p.pid === target?.pid);

      const refused = await recoverCli(sim, ['recover', '--json', '--quiet']);
      assert.equal(refused.code, 1, refused.stderr);
      const r1 = checkedReport(refused);
      const p1 = find(r1);
      assert.equal(p1?.status, 'refused', JSON.stringify(p1, null, 1).slice(0, 3000));
      assert.equal(p1?.atStakeUnknown, true, 'what the down replica holds is unknown');
      assert.match(p1?.reason ?? '', /cannot be read.*offline/);
      assert.equal(p1?.actions.length, 0, 'the refused partition was not touched');
      assert.ok(!(await sim.mutations()).some((m) => JSON.stringify(m.body).includes(`"name":"${target?.name}"`) && JSON.stringify(m.body).includes(`"pid":${target?.pid}`)));

      // The command the refusal prints, pasted as it is (plus --json to read its report).
      assert.equal(p1?.proceed?.length, 1);
      assert.ok(p1?.proceed?.[0]?.command.startsWith(`openmldb-recover recover-table ${target.db}.${target.name} --pid ${target.pid} --accept-data-loss --zk_cluster=`), p1?.proceed?.[0]?.command);
      const accepted = await runPasted(`${p1?.proceed?.[0]?.command ?? ''} --json --quiet`, { HOME: sim.dir, ...sim.env, XDG_STATE_HOME: sim.stateHome });
      const r2 = checkedReport(accepted);
      assert.equal(accepted.code, 1, 'replicas on the down tablet are still left');
      const p2 = find(r2);
      assert.ok(p2 && p2.left.some((l) => l.endpoint === target?.best), 'the down replica is reported as left');
      assert.equal(p2.atStakeUnknown, true, 'accepted without knowing');
      const servedAt = p2.leader?.offset ?? 0;
      const onlyThere = disk(target.best, s.tables.find((t) => t.name === target?.name)?.tid ?? 0, target.pid) - servedAt;
      assert.ok(onlyThere > 0, 'the down replica held entries the new leader lacks');

      await sim.ctl('tablet', { action: 'start', endpoint: target.best, wait: true });
      const done = await recoverCli(sim, ['recover', '--json', '--quiet', '--accept-data-loss']);
      assert.equal(done.code, 0, done.stdout.slice(0, 2000));
      const check = await sim.check();
      const line = check.ledger.find((l) => l.db === target?.db && l.table === target.name && l.pid === target.pid);
      assert.equal(line?.lost, onlyThere, 'the ledger shows exactly the entries only the unreadable replica held');
      assert.equal(check.entriesLost, onlyThere, 'and nothing else was lost');
      assert.ok(check.problems.every((p) => /entries held before the incident are lost/.test(p)), check.problems.join('; '));
    } finally {
      await sim.down();
    }
  });
});
