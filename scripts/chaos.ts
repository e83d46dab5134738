// The chaos suite: for each simulator scenario and many seeds, random faults while
// `openmldb-recover recover` (and, for lost partitions, `recover-table`) runs: a fraction of calls failing transiently,
// replies lost after the call took effect, an op failing, a load failing (the replica's data
// goes to the recycle bin), a tablet crashing during the run and coming back, the
// nameserver leader failing over, and the tool SIGKILLed at a random moment and then rerun
// (an operator maybe switching auto_failover on by hand in between; some clusters kept with
// auto_failover off; on a private ZooKeeper, the server frozen for seconds). Every run must
// end either with `openmldb-sim check` passing and 0 entries lost, or with a non-zero
// exit whose report names exactly the partitions not served when it ended; in both cases auto_failover
// is back at its value before the incident.
//
//   npm run chaos                       (every case x 20 seeds, 2 at a time)
//   npx tsx scripts/chaos.ts --seeds 3 --scenarios full-restart,partition-lost --jobs 1
//   npx tsx scripts/chaos.ts --zookeeper start    (on a private ZooKeeper server; or HOST:PORT)
// The runs themselves live in src/chaos/chaos.ts (the tests use them too); this is the command.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHAOS_SCENARIOS, CHAOS_TRAFFIC, type ChaosRun, chaosRun, reproduce, summarize } from '../src/chaos/chaos.js';
import { startZooKeeper } from '../src/zk/server.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    scenarios: { type: 'string', default: CHAOS_SCENARIOS.join(',') },
    'first-seed': { type: 'string', default: '1' },
    jobs: { type: 'string', default: '2' },
    zookeeper: { type: 'string' },
  },
});
let zookeeper = values.zookeeper;
/** A private server can be frozen (SIGSTOP) during runs; one given by address is left alone. */
let zookeeperPid: number | undefined;
let stopZooKeeper: (() => Promise<void>) | undefined;
if (zookeeper === 'start') {
  const zkDir = mkdtempSync(join(tmpdir(), 'openmldb-chaos-zk-'));
  const server = await startZooKeeper({ dir: zkDir });
  zookeeper = server.address;
  zookeeperPid = server.pid;
  stopZooKeeper = async () => {
    await server.stop();
    rmSync(zkDir, { recursive: true, force: true });
  };
}
const seeds = Number(values.seeds);
const first = Number(values['first-seed']);
const todo = String(values.scenarios).split(',').flatMap((c) => Array.from({ length: seeds }, (_, i) => ({ c, seed: first + i })));
const runs: ChaosRun[] = [];
const started = Date.now();
// A few simulators at once: each run is mostly waiting.
const worker = async () => {
  for (let next = todo.shift(); next; next = todo.shift()) {
    const r = await chaosRun(next.c, next.seed, zookeeper ? { zookeeper, ...(zookeeperPid !== undefined ? { zookeeperPid } : {}) } : {});
    runs.push(r);
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${next.c} seed ${next.seed}: exit ${r.exitCode}, ${r.outcome}, ${r.toolRuns} tool runs, ${r.kills} kills, faults ${JSON.stringify(r.faults)} (${(r.durationMs / 1000).toFixed(0)}s)${r.ok ? '' : `: ${r.violations.join('; ')}\n     reproduce: ${reproduce(next.c, next.seed)}`}`);
  }
};
await Promise.all(Array.from({ length: Math.max(1, Number(values.jobs)) }, worker));
await stopZooKeeper?.();
runs.sort((a, b) => a.scenario.localeCompare(b.scenario) || a.seed - b.seed);
console.log(summarize(runs));
console.log(`  ${new Date().toISOString().slice(0, 10)}, ${seeds} seeds x ${String(values.scenarios).split(',').length} cases, 2 tables x 2 partitions (10 x 8 in +large), clients writing ${CHAOS_TRAFFIC}/s, in ${((Date.now() - started) / 60000).toFixed(1)} min`);
process.exitCode = runs.every((r) => r.ok) ? 0 : 1;
