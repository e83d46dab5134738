// `openmldb-recover offline-endpoint` end to end on `node-down` with auto_failover off:
// refused (nothing changed) for a healthy or unknown tablet; takes the down tablet out of
// service, retrying the partition whose op failed; a rerun changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorLines, report } from '../helpers/report.js';
import { type Sim, recoverCli, startSim } from '../helpers/sim.js';

interface State {
  autoFailover: boolean;
  tablets: Array<{ endpoint: string; running: boolean; view: string | null; loaded: Array<{ tid: number; pid: number; mode: string; state: string }> }>;
  tables: Array<{ tid: number; db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }> }> }>;
}

describe('offline-endpoint', () => {
  let sim: Sim;
  let down: string;
  let healthy: string;
  before(async () => {
    sim = await startSim(['--no-system-tables', '--scenario', 'node-down', '--no-auto-failover', '--tables', '1', '--partitions', '2']);
    const s = await sim.ctl<State>('state');
    down = s.tablets.find((t) => !t.running)!.endpoint;
    healthy = s.tablets.find((t) => t.running)!.endpoint;
  });
  after(() => sim.down());

  it('refuses a healthy tablet, an unknown endpoint and a bad --op-concurrency or a --concurrency (exit 2, one line, nothing changed)', async () => {
    const r = await recoverCli(sim, ['offline-endpoint', healthy]);
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(errorLines(r.stderr), [errorLines(r.stderr)[0]]);
    assert.match(r.stderr, new RegExp(`refused: tablet ${healthy} is healthy`));
    for (const args of [['offline-endpoint', '127.0.0.1:1'], ['offline-endpoint', down, '--op-concurrency', '9'], ['offline-endpoint', down, '--concurrency', '2']]) {
      const bad = await recoverCli(sim, args);
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
      assert.equal(errorLines(bad.stderr).length, 1, bad.stderr);
    }
    // One meaning per flag: --concurrency is recover's partitions at once, unknown here.
    assert.match((await recoverCli(sim, ['offline-endpoint', down, '--concurrency', '2'])).stderr, /[Uu]nknown (argument|option).*concurrency/);
    assert.deepEqual(await sim.mutations(), []);
  });

  it('--dry-run shows the runbook command per partition and changes nothing', async () => {
    const r = await recoverCli(sim, ['offline-endpoint', down, '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = report(r);
    assert.deepEqual(rep.clusterSteps?.map((c) => [c.command, c.result]), [[`offlineendpoint ${down}`, 'planned']]);
    const parts = rep.tables.flatMap((t) => t.partitions);
    assert.ok(parts.length > 0 && parts.every((p) => p.status === 'planned' && p.plan.includes(`offlineendpoint ${down}`)));
    assert.ok(parts.some((p) => /kChangeLeaderOP/.test(p.reason)) && parts.some((p) => /kOfflineReplicaOP/.test(p.reason)));
    const text = await recoverCli(sim, ['offline-endpoint', down, '--dry-run']);
    assert.match(text.stdout, new RegExp(`would run: offlineendpoint ${down}`));
    assert.deepEqual(await sim.mutations(), []);
  });

  it('takes the down tablet out of service; a failed op is retried with changeleader auto', async () => {
    await sim.ctl('fail-op', { opType: 'kChangeLeaderOP', task: 'kSelectLeader' });
    const r = await recoverCli(sim, ['offline-endpoint', down, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = report(r);
    const step = rep.clusterSteps?.[0];
    assert.equal(step?.result, 'ok');
    const failed = step?.ops.filter((o) => o.status === 'kFailed') ?? [];
    assert.equal(failed.length, 1, 'the injected failure hit one op');
    assert.match(r.stderr, new RegExp(`running: changeleader ${failed[0]?.table} ${failed[0]?.pid} auto`), 'and its partition was retried');
    assert.equal(rep.autoFailover.after, false, 'auto_failover left as found');

    // Every partition that had a replica there: that replica not alive, an alive leader elsewhere.
    const s = await sim.ctl<State>('state');
    for (const t of s.tables) {
      for (const p of t.partitions) {
        const here = p.replicas.find((x) => x.endpoint === down);
        if (!here) continue;
        assert.equal(here.isAlive, false, `${t.name} pid ${p.pid}`);
        if (p.replicas.length === 1) continue;
        const leaders = p.replicas.filter((x) => x.isLeader && x.isAlive);
        assert.equal(leaders.length, 1, `${t.name} pid ${p.pid}`);
        const tablet = s.tablets.find((x) => x.endpoint === leaders[0]!.endpoint)!;
        assert.ok(tablet.running && tablet.loaded.some((l) => l.tid === t.tid && l.pid === p.pid && l.mode === 'kTableLeader'));
      }
    }
  });

  it('a rerun changes nothing', async () => {
    const mark = (await sim.mutations()).at(-1)?.seq ?? 0;
    const r = await recoverCli(sim, ['offline-endpoint', down, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = report(r);
    assert.equal(rep.clusterSteps, undefined);
    assert.ok(rep.tables.flatMap((t) => t.partitions).every((p) => p.status === 'healthy'));
    assert.deepEqual(await sim.mutations(mark), []);
  });
});
