// The nameserver start race (issue 18, item 6). NameServerImpl::Init starts the election
// (dist_lock_->Lock()), reads every table itself, and only then runs
// `auto_failover_.store(FLAGS_auto_failover)`; a nameserver that won meanwhile had read
// config/auto_failover in OnLocked -> Recover, and loses it. With the template's flag
// (true), such a leader acts with auto_failover on while ZooKeeper says off.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Sim, withSim } from '../helpers/sim.js';

const SIM = ['--scenario', 'healthy', '--tables', '1', '--partitions', '2', '--no-system-tables', '--storage', 'memory', '--seed', '2'];

async function confget(sim: Sim): Promise<string> {
  return (await sim.ns('confget auto_failover')).stdout;
}

async function stored(sim: Sim): Promise<string> {
  const res = await fetch(`http://${sim.info.zkCluster}/zk/get?path=${encodeURIComponent(`${sim.info.zkRootPath}/config/auto_failover`)}`);
  return ((await res.json()) as { value?: string }).value ?? '';
}

/** Every nameserver stops; one starts again, alone: it wins the election at once. */
async function restartNameservers(sim: Sim): Promise<void> {
  for (const n of sim.info.nameservers) await sim.ctl('nameserver', { action: 'stop', endpoint: n.endpoint });
  await sim.ctl('nameserver', { action: 'start', endpoint: sim.info.nameservers[0]!.endpoint });
  await sim.waitFor('a leader', async () => (await sim.ctl<{ leader: string | null }>('state')).leader ?? undefined);
}

describe('the nameserver start race', () => {
  it('a nameserver that wins during its own start runs with its flag (true) while ZooKeeper says off', async () => {
    await withSim(SIM, async (sim) => {
      assert.match((await sim.ns('confset auto_failover false')).stdout, /set auto_failover ok/);
      await restartNameservers(sim);
      // Its Init ends within --ns-init-ms (1 s by default) of its start.
      await sim.waitFor('the flag applied', async () => /auto_failover\s+true/.test(await confget(sim)));
      assert.equal(await stored(sim), 'false');
      const check = await sim.check();
      assert.ok(check.problems.some((p) => /runs with auto_failover true, but config\/auto_failover says false/.test(p)), JSON.stringify(check.problems));
      // And it acts on it: manual commands are refused as with auto_failover on.
      assert.match((await sim.ns('changeleader t0 0 auto', 'demo_db')).stdout, /auto_failover is enabled/);
      // confset puts both back in line.
      assert.match((await sim.ns('confset auto_failover false')).stdout, /set auto_failover ok/);
      assert.match(await confget(sim), /auto_failover\s+false/);
      assert.deepEqual((await sim.check()).problems.filter((p) => /start race/.test(p)), []);
    });
  });

  it('a standby that takes over later, after its start, reads ZooKeeper and keeps it', async () => {
    await withSim(SIM, async (sim) => {
      assert.match((await sim.ns('confset auto_failover false')).stdout, /set auto_failover ok/);
      await sim.waitFor('every nameserver past its start (Init done)', async () => (await sim.ctl<{ nameservers: Array<{ started?: boolean }> }>('state')).nameservers.every((n) => n.started === true));
      await sim.ctl('nameserver', { action: 'stop', endpoint: 'leader' });
      await sim.waitFor('the standby leads', async () => (await sim.ctl<{ leader: string | null }>('state')).leader ?? undefined);
      // Past the end of every Init: a flag stored late would show by now.
      await sim.waitFor('every Init over', async () => (await sim.ctl<{ nameservers: Array<{ running: boolean; started?: boolean }> }>('state')).nameservers.every((n) => !n.running || n.started === true));
      assert.match(await confget(sim), /auto_failover\s+false/);
      assert.deepEqual((await sim.check()).problems.filter((p) => /start race/.test(p)), []);
    });
  });
});
