// The manual procedures with the simulator on a real ZooKeeper and the lock there (--lock
// auto finds it): offline-endpoint then recover-endpoint on a dead tablet, change-leader,
// recover-table on lost partitions, failover off/on; each ends fully served, lock released.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import { ZkSession } from '../../src/zk/session.js';
import { report as checkedReport } from '../helpers/report.js';
import { type Sim, recoverCli, startSim } from '../helpers/sim.js';
import { sharedZooKeeper, zooKeeperTierSkip } from '../helpers/zookeeper.js';

const skip = zooKeeperTierSkip();
const zk = sharedZooKeeper(skip);

interface State {
  tablets: Array<{ endpoint: string; running: boolean; view: string | null }>;
  tables: Array<{ db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }> }> }>;
}

async function zkGet(path: string): Promise<string | undefined> {
  const s = await ZkSession.connect(zk.server().address, { sessionTimeoutMs: 4000 });
  try {
    return await s.get(path);
  } finally {
    await s.close();
  }
}

async function ok(sim: Sim, args: string[]): Promise<Report> {
  const r = await recoverCli(sim, [...args, '--json']);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  const report = checkedReport(r);
  assert.equal(report.lock?.kind, 'zookeeper', '--lock auto took the ZooKeeper lock');
  return report;
}

async function fullyServed(sim: Sim): Promise<void> {
  const check = await sim.check();
  assert.deepEqual(check.problems, []);
  assert.equal(check.entriesLost, 0);
  assert.equal(await zkGet(`${sim.info.zkRootPath}/openmldb-recover/lock`), undefined, 'lock released');
  assert.equal(await zkGet(`${sim.info.zkRootPath}/openmldb-recover/journal`), undefined, 'journal cleared');
}

describe('manual procedures on ZooKeeper', { skip, concurrency: true, timeout: 480000 }, () => {
  it('offline-endpoint, recover-endpoint, change-leader, failover off/on', async () => {
    const sim = await startSim(['--zookeeper', zk.server().address, '--zk-root-path', zk.root('endpoint'), '--no-system-tables', '--scenario', 'node-down', '--no-auto-failover', '--tables', '1', '--partitions', '2']);
    try {
      const view = async (ep: string) => (await sim.ctl<State>('state')).tablets.find((t) => t.endpoint === ep)?.view;
      const down = (await sim.ctl<State>('state')).tablets.find((t) => !t.running)!.endpoint;
      await ok(sim, ['offline-endpoint', down]);
      await sim.ctl('tablet', { action: 'start', endpoint: down, wait: true });
      await sim.waitFor('the nameserver to see it healthy', async () => (await view(down)) === 'kHealthy');
      await ok(sim, ['recover-endpoint', down]);
      await fullyServed(sim);

      const before = (await sim.ctl<State>('state')).tables[0]!.partitions[0]!;
      const to = before.replicas.find((r) => !r.isLeader && r.isAlive)!.endpoint;
      const changed = await ok(sim, ['change-leader', 'demo_db.t0', '0', '--to', to]);
      assert.equal(changed.tables[0]!.partitions[0]!.status, 'recovered');
      const after = (await sim.ctl<State>('state')).tables[0]!.partitions[0]!;
      assert.equal(after.replicas.find((r) => r.isLeader && r.isAlive)?.endpoint, to);
      await ok(sim, ['recover', '--table', 'demo_db.t0']);
      await fullyServed(sim);

      // failover on/off writes config/auto_failover through the nameserver.
      assert.equal((await recoverCli(sim, ['failover', 'on'])).code, 0);
      assert.equal(await zkGet(`${sim.info.zkRootPath}/config/auto_failover`), 'true');
      assert.equal((await recoverCli(sim, ['failover', 'off'])).code, 0);
      assert.equal(await zkGet(`${sim.info.zkRootPath}/config/auto_failover`), 'false');
    } finally {
      await sim.down();
    }
  });

  it('recover-table brings lost partitions back', async () => {
    const sim = await startSim(['--zookeeper', zk.server().address, '--zk-root-path', zk.root('table'), '--no-system-tables', '--scenario', 'partition-lost', '--replicas', '2', '--tablets', '3', '--tables', '1', '--partitions', '2']);
    try {
      const r = await ok(sim, ['recover-table', 'demo_db.t0']);
      assert.ok(r.tables[0]!.partitions.every((p) => p.status === 'recovered' || p.status === 'healthy'), JSON.stringify(r.tables[0]));
      await fullyServed(sim);
    } finally {
      await sim.down();
    }
  });
  // The nameserver start race: an operator keeps auto_failover off; every nameserver
  // restarts and the winner applies its flag (true) over ZooKeeper's `false`. Only
  // ZooKeeper tells this from an operator's choice: the run reads config/auto_failover
  // through its lock's session, keeps off, and puts the nameserver back in line.
  it('recover tells the start race from a choice: off stays off, the nameserver is put back to it', async () => {
    const sim = await startSim(['--zookeeper', zk.server().address, '--zk-root-path', zk.root('race'), '--no-system-tables', '--scenario', 'healthy', '--no-auto-failover', '--tables', '1', '--partitions', '2']);
    try {
      const confget = async () => (await sim.ns('confget auto_failover')).stdout;
      for (const n of sim.info.nameservers) await sim.ctl('nameserver', { action: 'stop', endpoint: n.endpoint });
      for (const n of sim.info.nameservers) await sim.ctl('nameserver', { action: 'start', endpoint: n.endpoint });
      await sim.waitFor('the new leader applied its flag', async () => /auto_failover\s+true/.test(await confget()));
      assert.equal(await zkGet(`${sim.info.zkRootPath}/config/auto_failover`), 'false');

      const report = await ok(sim, ['recover']);
      assert.equal(report.autoFailover.startRace, true);
      assert.equal(report.autoFailover.before, false);
      assert.equal(report.autoFailover.after, false);
      assert.match(await confget(), /auto_failover\s+false/);
      assert.equal(await zkGet(`${sim.info.zkRootPath}/config/auto_failover`), 'false');
      await fullyServed(sim);
    } finally {
      await sim.down();
    }
  });
});
