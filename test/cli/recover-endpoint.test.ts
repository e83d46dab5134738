// `openmldb-recover recover-endpoint` end to end on `node-down` with auto_failover off:
// refused (nothing changed) while the tablet is down and when it was never offlined; after
// offline-endpoint and the tablet's return it brings the cluster back to fully served,
// retrying the partition whose op failed; a rerun changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorLines, report } from '../helpers/report.js';
import { type Sim, recoverCli, startSim } from '../helpers/sim.js';

interface State {
  tablets: Array<{ endpoint: string; running: boolean; view: string | null }>;
}

describe('recover-endpoint', () => {
  let sim: Sim;
  let down: string;
  let healthy: string;
  const view = async (ep: string) => (await sim.ctl<State>('state')).tablets.find((t) => t.endpoint === ep)?.view;
  before(async () => {
    sim = await startSim(['--no-system-tables', '--scenario', 'node-down', '--no-auto-failover', '--tables', '1', '--partitions', '2']);
    const s = await sim.ctl<State>('state');
    down = s.tablets.find((t) => !t.running)!.endpoint;
    healthy = s.tablets.find((t) => t.running)!.endpoint;
  });
  after(() => sim.down());

  it('refused while the tablet is down, and when it was never offlined (exit 2, one line, nothing changed)', async () => {
    const whileDown = await recoverCli(sim, ['recover-endpoint', down]);
    assert.equal(whileDown.code, 2, whileDown.stderr);
    assert.equal(errorLines(whileDown.stderr).length, 1);
    assert.match(whileDown.stderr, new RegExp(`refused: tablet ${down} is offline`));

    // A healthy tablet that was never offlined: all its replicas alive, recoverendpoint would do nothing.
    const never = await recoverCli(sim, ['recover-endpoint', healthy]);
    assert.equal(never.code, 2, never.stderr);
    assert.match(never.stderr, /never taken offline/);

    // The dead tablet started again without offline-endpoint: the metadata still says alive.
    await sim.ctl('tablet', { action: 'start', endpoint: down, wait: true });
    const started = await recoverCli(sim, ['recover-endpoint', down]);
    assert.equal(started.code, 2, started.stderr);
    assert.equal(errorLines(started.stderr).length, 1);
    assert.match(started.stderr, /never taken offline/);
    await sim.ctl('tablet', { action: 'stop', endpoint: down });
    await sim.waitFor('the nameserver to see it offline', async () => (await view(down)) === 'kOffline');
    assert.deepEqual(await sim.mutations(), []);
  });

  it('after offline-endpoint and the tablet back: --dry-run plans, the run serves everything again', async () => {
    const offline = await recoverCli(sim, ['offline-endpoint', down]);
    assert.equal(offline.code, 0, offline.stderr);
    await sim.ctl('tablet', { action: 'start', endpoint: down, wait: true });
    await sim.waitFor('the nameserver to see it healthy', async () => (await view(down)) === 'kHealthy');

    const mark = (await sim.mutations()).at(-1)?.seq ?? 0;
    const dry = await recoverCli(sim, ['recover-endpoint', down, '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(report(dry).clusterSteps?.map((c) => [c.command, c.result]), [[`recoverendpoint ${down} false`, 'planned']]);
    assert.deepEqual(await sim.mutations(mark), [], '--dry-run changed nothing');

    await sim.ctl('fail-op', { task: 'kLoadTable' });
    const r = await recoverCli(sim, ['recover-endpoint', down, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = report(r);
    const failed = rep.clusterSteps?.[0]?.ops.filter((o) => o.status === 'kFailed') ?? [];
    assert.equal(failed.length, 1, 'the injected failure hit one op');
    assert.match(r.stderr, new RegExp(`running: recovertable ${failed[0]?.table} ${failed[0]?.pid} ${down.replace(/\./g, '\\.')}`), 'its partition was retried');
    const check = await sim.check();
    assert.deepEqual(check.problems, []);
    assert.equal(check.entriesLost, 0);
    assert.equal(check.autoFailover, false, 'auto_failover left as found');
  });

  it('a rerun changes nothing', async () => {
    const mark = (await sim.mutations()).at(-1)?.seq ?? 0;
    const r = await recoverCli(sim, ['recover-endpoint', down]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OK \(exit 0\)/);
    assert.deepEqual(await sim.mutations(mark), []);
  });
});
