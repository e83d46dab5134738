// `openmldb-recover failover [status|on|off]`: read-only status, switches that look first
// (no call when the value is already right), --dry-run, --json.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorLines, failoverDoc } from '../helpers/report.js';
import { type Sim, recoverCli, startSim } from '../helpers/sim.js';

describe('failover', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim(['--no-system-tables', '--scenario', 'healthy', '--tables', '1', '--partitions', '1']);
  });
  after(() => sim.down());

  const value = async () => (await sim.ctl<{ autoFailover: boolean }>('state')).autoFailover;
  const confSets = async () => (await sim.mutations()).filter((m) => m.method === 'ConfSet').length;

  it('status (the default) reads it and changes nothing; --json', async () => {
    const plain = await recoverCli(sim, ['failover']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout.trim(), 'auto_failover true');
    const json = failoverDoc(await recoverCli(sim, ['failover', 'status', '--json']));
    assert.deepEqual(json, { action: 'status', before: true, after: true, changed: false, dryRun: false, ok: true, exitCode: 0 });
    assert.deepEqual(await sim.mutations(), []);
  });

  it('off, then off again changes nothing; on --dry-run changes nothing; on', async () => {
    const off = await recoverCli(sim, ['failover', 'off']);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stdout.trim(), 'auto_failover true -> false');
    assert.equal(await value(), false);
    assert.equal(await confSets(), 1);

    const again = failoverDoc(await recoverCli(sim, ['failover', 'off', '--json']));
    assert.equal(again.changed, false);
    assert.equal(again.after, false);
    assert.equal(await confSets(), 1, 'no second confset');

    const dry = await recoverCli(sim, ['failover', 'on', '--dry-run']);
    assert.equal(dry.code, 0);
    assert.match(dry.stdout, /would run: confset auto_failover true/);
    assert.equal(await value(), false);
    // --detailed-exitcode: 6, the switch would change it; 0 where it would not.
    const detailed = failoverDoc(await recoverCli(sim, ['failover', 'on', '--dry-run', '--detailed-exitcode', '--json']));
    assert.equal(detailed.exitCode, 6);
    assert.equal((await recoverCli(sim, ['failover', 'off', '--dry-run', '--detailed-exitcode'])).code, 0);
    assert.equal(await value(), false);

    const on = failoverDoc(await recoverCli(sim, ['failover', 'on', '--json']));
    assert.deepEqual(on, { action: 'on', before: false, after: true, changed: true, dryRun: false, ok: true, exitCode: 0 });
    assert.equal(await value(), true);
    assert.equal(await confSets(), 2);
  });

  it('a refused switch: exit 1, the refusal on stderr and, under --json, in the result', async () => {
    // The nameserver refuses (an answer, not an outage): exit 1, not 3.
    await sim.ctl('fail', { method: 'ConfSet', kind: 'error', code: 307, msg: 'invalid parameter', count: 100 });
    try {
      const r = await recoverCli(sim, ['failover', 'off', '--json', '--retries', '0']);
      assert.equal(r.code, 1, r.stderr);
      const doc = failoverDoc(r);
      assert.equal(doc.ok, false);
      assert.equal(doc.after, true);
      assert.match(doc.error ?? '', /invalid parameter/);
      assert.equal(errorLines(r.stderr).length, 1);
      assert.match(errorLines(r.stderr)[0] ?? '', /auto_failover NOT switched/);
    } finally {
      await sim.ctl('clear-faults');
    }
    assert.equal(await value(), true);
  });

  it('an unknown action is a usage error', async () => {
    const r = await recoverCli(sim, ['failover', 'maybe']);
    assert.equal(r.code, 2);
    assert.equal(errorLines(r.stderr).length, 1);
  });
});
