// A leader's tablet stopped just before the run: OpenMLDB keeps listing it kHealthy until
// its ZooKeeper session expires (the simulator's --zk-session-timeout-ms, as the tablet's
// zk_session_timeout). The run must not act on that stale listing: it waits the session
// out (--zk-session-timeout), then sees the tablet down and leaves its partitions to it
// (their newest writes may be on it alone), named in the report, nothing lost.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import { recoverCli, withSim } from '../helpers/sim.js';

const WINDOW_MS = 5000;
// The nameserver's own failover waits tablet_heartbeat_timeout (5 min by default) after the
// session expired: within this test it stays out of the way, as on a real cluster.
const SIM = ['--scenario', 'healthy', '--tables', '2', '--partitions', '2', '--replicas', '3', '--tablets', '3', '--no-system-tables', '--storage', 'memory', '--seed', '5', '--traffic', '100', '--zk-session-timeout-ms', String(WINDOW_MS), '--heartbeat-timeout-ms', '300000'];

interface State {
  tables: Array<{ name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean }> }> }>;
}

const MUTATING = new Set(['ConfSet', 'ChangeLeader', 'UpdateTableAliveStatus', 'RecoverTable', 'OfflineEndpoint', 'RecoverEndpoint', 'LoadTable', 'ChangeRole', 'AddReplica', 'DelReplica']);

describe('a tablet stopped inside its ZooKeeper session window', () => {
  it('recover waits the session out, then leaves the stopped leader\'s partitions named and changes nothing for them', async () => {
    await withSim(SIM, async (sim) => {
      await sim.ctl('incident');
      const state = await sim.ctl<State>('state');
      const victim = state.tables.flatMap((t) => t.partitions).flatMap((p) => p.replicas).find((r) => r.isLeader)!.endpoint;
      const led = state.tables.flatMap((t) => t.partitions.filter((p) => p.replicas.some((r) => r.isLeader && r.endpoint === victim)).map((p) => `${t.name}/${p.pid}`));
      const since = (await sim.mutations()).length;
      const stoppedAt = Date.now();
      await sim.ctl('tablet', { action: 'stop', endpoint: victim });

      const r = await recoverCli(sim, ['recover', '--json', '--zk-session-timeout', String(WINDOW_MS / 1000 + 1)]);
      assert.ok(Date.now() - stoppedAt >= WINDOW_MS, `the run ended only after the session expired (${Date.now() - stoppedAt} ms)`);
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      for (const name of led) {
        const [table, pid] = name.split('/');
        const p = report.tables.find((t) => t.name === table)?.partitions.find((x) => x.pid === Number(pid));
        assert.ok(p && p.status !== 'recovered', `${name} (led by the stopped tablet) is reported unserved: ${JSON.stringify(p)}`);
      }
      // Nothing was done on the strength of the stale listing: no mutating call at all.
      const calls = (await sim.mutations()).slice(since).filter((m) => MUTATING.has(m.method));
      assert.deepEqual(calls.map((m) => `${m.method} ${m.server}`), []);
      const check = await sim.check();
      assert.equal(check.acknowledgedLost, 0);

      // Back (once its session is gone). Restarted with auto_failover on, the nameserver
      // would make a follower leader at once (OnTabletOnline -> OnTabletOffline) and drop
      // what only this tablet holds: OpenMLDB's own doing, so the operator follows the
      // runbook and switches it off first. One more run then serves everything.
      const off = await recoverCli(sim, ['failover', 'off']);
      assert.equal(off.code, 0, off.stderr);
      await sim.ctl('tablet', { action: 'start', endpoint: victim, wait: true });
      const again = await recoverCli(sim, ['recover', '--json']);
      assert.equal(again.code, 0, again.stderr);
      const on = await recoverCli(sim, ['failover', 'on']);
      assert.equal(on.code, 0, on.stderr);
      await sim.ctl('traffic', { rate: 0 });
      await sim.ctl('settle');
      await sim.waitFor('the followers at their leaders\' offsets', async () => !(await sim.check()).problems.some((p) => /is at offset \d+, leader at/.test(p)));
      const after = await sim.check();
      assert.deepEqual(after.problems, []);
      assert.equal(after.acknowledgedLost, 0);
      assert.equal(after.entriesLost, 0);
    });
  });
});
