// The simulator on a real ZooKeeper: OpenMLDB's layout under the root path, the election
// through ephemeral sequential nodes, tablets' ephemeral registrations, auto_failover in
// config/auto_failover; `recover` converges with its lock in ZooKeeper, also when the
// leader nameserver is killed mid-run and the standby takes over through ZooKeeper.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import { ZkSession } from '../../src/zk/session.js';
import { slowLoads } from '../helpers/runs.js';
import { RECOVER_BIN, type Sim, startSim } from '../helpers/sim.js';
import { sharedZooKeeper, zooKeeperTierSkip } from '../helpers/zookeeper.js';

const skip = zooKeeperTierSkip();
const zk = sharedZooKeeper(skip);

async function onZooKeeper(name: string, args: string[]): Promise<Sim> {
  return startSim(['--zookeeper', zk.server().address, '--zk-root-path', zk.root(name), ...args]);
}

async function withSession<T>(fn: (s: ZkSession) => Promise<T>): Promise<T> {
  const s = await ZkSession.connect(zk.server().address, { sessionTimeoutMs: 4000 });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

interface State {
  leader: string | null;
  autoFailover: boolean;
  nameservers: Array<{ endpoint: string; running: boolean }>;
  tablets: Array<{ endpoint: string; running: boolean }>;
  ops: Array<{ name: string; status: string; taskIndex: number; tasks: Array<{ type: string }> }>;
  tables: Array<{ tid: number; db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }> }> }>;
}

function recoverRun(sim: Sim, args: string[]) {
  const child = spawn(process.execPath, [RECOVER_BIN, ...args], { env: { ...process.env, ...sim.env, XDG_STATE_HOME: sim.stateHome }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on('exit', (code) => r({ code, stdout, stderr })));
  return { child, done };
}

describe('simulator on ZooKeeper', { skip, concurrency: true, timeout: 480000 }, () => {
  it("keeps OpenMLDB's nodes in ZooKeeper; a stopped leader's election node goes and the standby takes over", async () => {
    const sim = await onZooKeeper('layout', ['--no-system-tables', '--tables', '2', '--partitions', '2']);
    try {
      const root = sim.info.zkRootPath;
      const state = await sim.ctl<State>('state');
      const layout = await withSession(async (s) => ({
        leader: (await s.children(`${root}/leader`)).sort(),
        values: await Promise.all((await s.children(`${root}/leader`)).sort().map((c) => s.get(`${root}/leader/${c}`))),
        nodes: (await s.children(`${root}/nodes`)).sort(),
        tablet: await s.get(`${root}/nodes/${state.tablets[0]!.endpoint}`),
        autoFailover: await s.get(`${root}/config/auto_failover`),
        tables: (await s.children(`${root}/table/db_table_data`)).length,
        term: await s.get(`${root}/table/term`),
        dbs: await s.children(`${root}/db`),
      }));
      assert.equal(layout.leader.length, 2);
      for (const c of layout.leader) assert.match(c, /^lock_request\d{10}$/);
      assert.equal(layout.values[0], state.leader, 'the smallest election node is the leader');
      assert.deepEqual(layout.nodes, state.tablets.map((t) => t.endpoint).sort());
      assert.equal(layout.tablet, `startup_${state.tablets[0]!.endpoint}`);
      assert.equal(layout.autoFailover, 'true');
      assert.equal(layout.tables, 2);
      assert.match(layout.term ?? '', /^\d+$/);
      assert.ok(layout.dbs.includes('demo_db'));

      // The binary finds the leader in ZooKeeper; confset lands in config/auto_failover.
      assert.match((await sim.ns('showns')).stdout, new RegExp(`ns leader: ${state.leader}`));
      // It is there when the nameserver answers (name_server_impl.cc ConfSet: SetNodeValue first)...
      assert.match((await sim.ns('confset auto_failover false')).stdout, /set auto_failover ok/);
      assert.equal(await withSession((s) => s.get(`${root}/config/auto_failover`)), 'false');
      // ...and when ZooKeeper does not take it, confset fails and changes nothing.
      await withSession((s) => s.remove(`${root}/config/auto_failover`));
      assert.match((await sim.ns('confset auto_failover true')).stdout, /failed to set auto_failover\. error msg: set zk failed/);
      assert.equal((await sim.ctl<State>('state')).autoFailover, false);
      await withSession((s) => s.create(`${root}/config/auto_failover`, 'false'));
      // updatetablealive likewise writes the table's node before it answers (name_server_impl.cc
      // UpdateTableAliveStatus -> UpdateZkTableNode): without it, 304 and nothing changed.
      const t0 = state.tables.find((t) => t.db === 'demo_db' && t.name === 't0')!;
      const node = `${root}/table/db_table_data/${t0.tid}`;
      const follower = t0.partitions[0]!.replicas.find((r) => !r.isLeader)!.endpoint;
      assert.match((await sim.ns(`updatetablealive t0 0 ${follower} no`, 'demo_db')).stdout, /^update ok$/m);
      const written = JSON.parse((await withSession((s) => s.get(node))) ?? '{}') as State['tables'][number];
      assert.equal(written.partitions[0]!.replicas.find((r) => r.endpoint === follower)!.isAlive, false, 'in ZooKeeper when it answered');
      const saved = (await withSession((s) => s.get(node))) ?? '';
      await withSession((s) => s.remove(node));
      assert.match((await sim.ns(`updatetablealive t0 0 ${follower} yes`, 'demo_db')).stdout, /set zk failed/);
      const after = (await sim.ctl<State>('state')).tables.find((t) => t.tid === t0.tid)!;
      assert.equal(after.partitions[0]!.replicas.find((r) => r.endpoint === follower)!.isAlive, false, 'unchanged in memory');
      // An op's task that writes the table's node fails with it (UpdatePartitionStatus): the
      // change stays in memory, ZooKeeper keeps the old value.
      await withSession((s) => s.remove(node));
      assert.match((await sim.ns(`recovertable t0 0 ${follower}`, 'demo_db')).stdout, /recover table ok/);
      await sim.waitFor('the recovery op to end', async () => (await sim.ctl<State>('state')).ops.some((o) => o.name === 't0' && o.status === 'kFailed'));
      const failed = (await sim.ctl<State>('state')).ops.filter((o) => o.name === 't0' && o.status === 'kFailed');
      assert.ok(failed.some((o) => o.tasks[o.taskIndex]?.type === 'kUpdatePartitionStatus'), `failed at kUpdatePartitionStatus: ${JSON.stringify(failed)}`);
      assert.equal(await withSession((s) => s.get(node)), undefined, 'no write landed later');
      await withSession((s) => s.create(node, saved));

      // The leader stops: its session and election node go; the standby wins through its watch.
      const old = state.leader!;
      await sim.ctl('nameserver', { action: 'stop', endpoint: old });
      const standby = state.nameservers.find((n) => n.endpoint !== old)!.endpoint;
      await sim.waitFor('one election node left', () => withSession(async (s) => (await s.children(`${root}/leader`)).length === 1));
      await sim.waitFor('the standby to lead', async () => /ns leader: (\S+)/.exec((await sim.ns('showtablet')).stdout)?.[1] === standby && !/not leader/.test((await sim.ns('showtablet')).stdout));
      // It read auto_failover back from ZooKeeper.
      assert.match((await sim.ns('confget auto_failover')).stdout, /false/);

      // A stopped tablet's registration goes with its session.
      const tablet = state.tablets[0]!.endpoint;
      await sim.ctl('tablet', { action: 'stop', endpoint: tablet });
      await sim.waitFor('the tablet node to go', () => withSession(async (s) => !(await s.children(`${root}/nodes`)).includes(tablet)));
      await sim.ctl('tablet', { action: 'start', endpoint: tablet, wait: true });
      await sim.waitFor('the tablet node back', () => withSession(async (s) => (await s.children(`${root}/nodes`)).includes(tablet)));
    } finally {
      await sim.down();
    }
  });

  it('recover converges, with its lock in ZooKeeper, though the leader nameserver is killed mid-run', async () => {
    const sim = await onZooKeeper('failover', ['--no-system-tables', '--scenario', 'full-restart', '--no-power-loss', '--tables', '1', '--partitions', '2', '--storage', 'memory', '--load-base-ms', '1500']);
    try {
      const before = await sim.ctl<State>('state');
      // pid 0 loads for 8 s: the run is surely still at work when its nameserver is stopped.
      await slowLoads(sim, 8000);
      const run = recoverRun(sim, ['recover', '--json', '--lock', 'zk']);
      await sim.waitFor('a load in flight', async () => (await sim.mutations()).some((m) => m.method === 'LoadTable'), 120000);
      await sim.ctl('nameserver', { action: 'stop', endpoint: before.leader });
      const r = await run.done;
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.equal(report.lock?.kind, 'zookeeper');
      assert.equal(report.lock?.path, `${sim.info.zkRootPath}/openmldb-recover/lock`);
      assert.notEqual(report.cluster.leader, before.leader, 'the standby finished the job');
      assert.equal(report.autoFailover.after, true);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
      const left = await withSession(async (s) => s.children(`${sim.info.zkRootPath}/openmldb-recover`));
      assert.deepEqual(left, [], 'lock released and journal cleared');
    } finally {
      await sim.down();
    }
  });
});
