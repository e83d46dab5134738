// Every way a cluster can be out of reach exits 3 ("unreachable") from status, recover and
// recover-table, with one line naming what could not be reached; never 1, which a
// monitoring check reads as a verdict about a cluster the tool never saw. Nothing changes.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorLines } from '../helpers/report.js';
import { type Sim, recoverCli, startSim } from '../helpers/sim.js';

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Mode {
  name: string;
  /** Environment for the run (over the simulator's). */
  env: () => Record<string, string>;
  /** Faults set before the runs of this mode (cleared after). */
  faults?: () => Promise<void>;
  line: RegExp;
}

describe('exit 3 for every way the cluster is out of reach', () => {
  let sim: Sim;
  let dir: string;
  let port: number;
  let leader: string;
  let tablet: string;
  let script: (name: string, body: string) => string;

  before(async () => {
    sim = await startSim(['--scenario', 'healthy', '--tables', '1', '--partitions', '2', '--no-system-tables']);
    dir = mkdtempSync(join(tmpdir(), 'openmldb-unreachable-'));
    port = await closedPort();
    leader = await sim.leaderAddress();
    tablet = sim.info.tablets[0]?.address as string;
    script = (name, body) => {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\n${body}\n`);
      chmodSync(path, 0o755);
      return path;
    };
  });
  after(async () => {
    await sim.down();
    rmSync(dir, { recursive: true, force: true });
  });

  const modes: Mode[] = [
    { name: 'ZooKeeper not answering', env: () => ({ OPENMLDB_ZK_CLUSTER: `127.0.0.1:${port}` }), line: /cannot connect to ZooKeeper at 127\.0\.0\.1:\d+/ },
    { name: 'no nameserver under the root path', env: () => ({ OPENMLDB_ZK_ROOT_PATH: '/no_such_root' }), line: /no nameserver is registered at .*\/no_such_root/ },
    {
      name: 'leader nameserver refusing the CLI',
      env: () => ({}),
      faults: async () => void (await sim.ctl('fail', { method: 'ShowTablet', kind: 'refused', count: 10000, endpoint: leader })),
      // observe asks for the tablets through the CLI and over HTTP at once: either fails first
      line: /the nameserver at 127\.0\.0\.1:\d+ does not answer \(`(showtablet|HTTP NameServer\/ShowTablet)`/,
    },
    {
      // ZooKeeper names a leader whose port refuses: the binary's own calls still work
      // (it finds the leader itself), the tool's HTTP calls to that address do not.
      name: 'leader nameserver refusing HTTP',
      env: () => ({ OPENMLDB_BIN: script('ns-http-refused', `"${sim.info.bin}" "$@" | sed 's/^ns leader: .*/ns leader: 127.0.0.1:${port}/'`) }),
      line: /the nameserver at 127\.0\.0\.1:\d+ does not answer \(`HTTP NameServer\/\w+`: connection refused\)/,
    },
    {
      name: 'a tablet the nameserver lists as healthy refusing',
      env: () => ({}),
      faults: async () => void (await sim.ctl('fail', { kind: 'refused', count: 10000, endpoint: tablet })),
      line: /the tablet at 127\.0\.0\.1:\d+ does not answer/,
    },
    {
      name: 'nameserver "not leader" arriving inside glog lines',
      env: () => ({
        // The binary's output is the point: over HTTP it would only run showns.
        OPENMLDB_RECOVER_TRANSPORT: 'cli',
        OPENMLDB_BIN: script(
          'glog-not-leader',
          `case "$*" in *--cmd=showtablet*) echo "ns leader: ${leader}"; echo "W20240508 10:15:01.123456 4242 ns_client.cc:88] nameserver is not leader";; *) exec "${sim.info.bin}" "$@";; esac`,
        ),
      }),
      line: /no nameserver answers as leader .*`showtablet`: nameserver is not leader/,
    },
    { name: 'binary missing', env: () => ({ OPENMLDB_BIN: join(dir, 'no-such-openmldb') }), line: /openmldb binary .*no-such-openmldb does not exist/ },
    { name: 'binary neither given nor on PATH', env: () => ({ OPENMLDB_BIN: '', PATH: '/usr/bin:/bin' }), line: /openmldb binary openmldb is not on PATH/ },
  ];
  // A short --leader-wait: a nameserver that never answers as leader is waited for that long (default 30 s).
  const commands = [['status', '--leader-wait', '3'], ['recover', '--retries', '1', '--quiet', '--leader-wait', '3'], ['recover-table', 'demo_db.t0', '--retries', '1', '--quiet', '--leader-wait', '3']];

  for (const mode of modes) {
    it(mode.name, async () => {
      await mode.faults?.();
      try {
        // The three commands at once (the mode's faults hold for all), each with a state
        // directory of its own: recover and recover-table would otherwise meet at the lock.
        const runs = await Promise.all(commands.map(async (args) => ({ args, r: await recoverCli(sim, args, { XDG_STATE_HOME: join(dir, `state-${args[0]}`), ...mode.env() }) })));
        for (const { args, r } of runs) {
          assert.equal(r.code, 3, `${args[0]}: exit ${r.code}\n${r.stderr}`);
          const lines = errorLines(r.stderr);
          assert.equal(lines.length, 1, `${args[0]}: one line\n${r.stderr}`);
          assert.match(lines[0] as string, mode.line, args[0]);
          assert.doesNotMatch(r.stderr, /no table found|is this an OpenMLDB binary/, args[0]);
          assert.equal(r.stdout, '', `${args[0]}: no report for a cluster never seen`);
        }
      } finally {
        await sim.ctl('clear-faults');
      }
    });
  }

  // A dead tablet stays listed healthy until its ZooKeeper session expires: the wait for
  // one that does not answer is the cluster's zk_session_timeout (and 2 s), not a constant.
  it('a tablet listed healthy that does not answer is waited out for --zk-session-timeout, then exit 3', async () => {
    await sim.ctl('fail', { kind: 'refused', count: 100000, endpoint: tablet });
    try {
      const timed = async (session: string) => {
        const began = Date.now();
        const r = await recoverCli(sim, ['status', '--leader-wait', '60', '--zk-session-timeout', session]);
        return { r, ms: Date.now() - began };
      };
      const [short, long] = await Promise.all([timed('0.5'), timed('6')]);
      for (const { r } of [short, long]) {
        assert.equal(r.code, 3, r.stderr);
        assert.match(errorLines(r.stderr)[0] ?? '', /the tablet at 127\.0\.0\.1:\d+ does not answer/);
      }
      assert.ok(long.ms >= 8000, `waited ${long.ms} ms with a 6 s session (and 2 s)`);
      assert.ok(short.ms < long.ms, `a 0.5 s session waited ${short.ms} ms, a 6 s one ${long.ms} ms`);
    } finally {
      await sim.ctl('clear-faults');
    }
  });

  it('every other command that talks to the cluster exits 3 the same way', async () => {
    for (const args of [
      ['ops'],
      ['failover'],
      ['failover', 'off', '--retries', '0'],
      ['change-leader', 'demo_db.t0', '0', '--retries', '0', '--quiet'],
      ['offline-endpoint', tablet, '--retries', '0', '--quiet'],
      ['recover-endpoint', tablet, '--retries', '0', '--quiet'],
    ]) {
      const r = await recoverCli(sim, args, { OPENMLDB_ZK_ROOT_PATH: '/no_such_root' });
      assert.equal(r.code, 3, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(errorLines(r.stderr)[0] ?? '', /no nameserver is registered/, args.join(' '));
    }
  });

  it('changed nothing, and the cluster is still fully served', async () => {
    assert.deepEqual(await sim.mutations(), []);
    assert.equal((await recoverCli(sim, ['status'])).code, 0);
  });
});
