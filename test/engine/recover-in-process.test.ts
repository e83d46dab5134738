// The engine in process, against the simulator's model (test/helpers/in-process.ts),
// through its cluster interface: no process is spawned, and the simulator's clocks and the
// engine's retry waits run in milliseconds, so a seed takes a fraction of a second. The
// chaos suite's cases (every scenario, disk tables, the 2018 dialect) and interleavings:
// calls refused or answered "not leader", replies lost after the call took effect, an op
// failing, a load failing, a tablet crashing, the leader nameserver failing over, and the
// run dying between two calls (every call from some point on fails, so nothing more
// reaches the cluster, not even the restore) and run again from its journal and evidence
// record, as a rerun after kill -9 would.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Interrupt } from '../../src/engine/interrupt.js';
import { type EvidenceFile, RunMemory } from '../../src/engine/evidence.js';
import { FailoverKeeper } from '../../src/engine/failover-keeper.js';
import type { Journal } from '../../src/engine/journal.js';
import { createProgress } from '../../src/engine/progress.js';
import { recoveryProcedure } from '../../src/workflow/procedures/recover.js';
import { runProcedure } from '../../src/engine/run.js';
import type { Report } from '../../src/engine/report.js';
import { Rng } from '../../src/sim/rng.js';
import { CHAOS_SCENARIOS, namedInReport, unserved } from '../../src/chaos/chaos.js';
import type { SimOptions } from '../../src/sim/cluster.js';
import type { ScenarioOptions } from '../../src/sim/scenarios.js';
import { type CrashPoint, type InProcessSim, closeAllInProcess, inProcessSim } from '../helpers/in-process.js';

/** What survives a run's death: its journal and evidence record (the state directory). A dead run writes nothing more. */
function stateDir() {
  let journal: Journal | undefined;
  let evidence: EvidenceFile | undefined;
  return {
    for: (dead: () => boolean) => ({
      journal: { read: () => journal, write: (j: Journal) => void (dead() || (journal = structuredClone(j))), clear: () => void (dead() || (journal = undefined)) },
      evidence: { read: () => (evidence ? structuredClone(evidence) : undefined), write: (f: EvidenceFile) => void (dead() || (evidence = structuredClone(f))) },
    }),
    owed: () => journal !== undefined,
  };
}

/** The simulator's clocks run in milliseconds here (FAST_TIMING): so do the engine's waits between retries. */
const FAST_BACKOFF = { minTimeout: 5, maxTimeout: 100 };

async function run(sim: InProcessSim, state: ReturnType<typeof stateDir>, crash?: CrashPoint): Promise<Report> {
  const progress = createProgress({ quiet: true, stream: { write: () => true } as unknown as NodeJS.WriteStream });
  const cluster = { zkCluster: 'in-process', zkRootPath: sim.cluster.options.rootPath };
  const { cluster: target, died, dead } = sim.connect(crash);
  const stores = state.for(dead);
  const interrupt = new Interrupt(() => undefined);
  const keeper = new FailoverKeeper(stores.journal, { command: 'recover', cluster }, progress);
  keeper.restoreBackoff = FAST_BACKOFF;
  const running = runProcedure(target, {
    command: 'recover',
    dryRun: false,
    procedure: () => recoveryProcedure({ acceptDataLoss: false }),
    // A run that dies between recording a disk load and sending it leaves a load nobody can
    // tell from a queued one: the rerun waits it out (the load timeout), then reports the
    // partition. Loads take milliseconds here, so a short timeout keeps that wait short.
    apply: { concurrency: 64, perTablet: 3, loadTimeoutMs: 3000, opTimeoutMs: 10000, retries: 4, partitionAttempts: 3, pollMs: 10, backoff: FAST_BACKOFF },
    progress,
    interrupt,
    where: cluster,
    keeper,
    memory: new RunMemory(stores.evidence),
    observeBudgetMs: 5000,
  });
  // Dead is dead: the rerun starts at once. What is left of the dead run stops (its calls
  // fail before reaching the cluster and its state writes are dropped).
  return Promise.race([
    running,
    died.then(() => {
      keeper.restoreAttempts = 1;
      interrupt.controller.abort(new Error('died'));
      void running.catch(() => undefined);
      throw new Error('the run died');
    }),
  ]);
}

/** Seeds per case (ENGINE_SEEDS, default 6; the chaos suite runs 20), from ENGINE_FIRST_SEED (default 1). */
const SEEDS = Number(process.env['ENGINE_SEEDS'] ?? 6);
const FIRST_SEED = Number(process.env['ENGINE_FIRST_SEED'] ?? 1);
/** Only these cases (ENGINE_CASES=full-restart,node-down), to replay one. */
const CASE_FILTER = process.env['ENGINE_CASES']?.split(',');

/** The chaos suite's cases (src/chaos/chaos.ts, CHAOS_SCENARIOS), as scenario and simulator options. */
const CASES: Record<string, { scenario: Partial<ScenarioOptions>; sim?: Partial<SimOptions> }> = {
  'full-restart': { scenario: { scenario: 'full-restart' } },
  'full-restart-after-failover': { scenario: { scenario: 'full-restart-after-failover' } },
  'partition-lost': { scenario: { scenario: 'partition-lost', replicas: 2 } },
  'node-down': { scenario: { scenario: 'node-down' } },
  'full-restart+disk': { scenario: { scenario: 'full-restart', storage: 'disk' } },
  // The nameserver's 2018 messages over HTTP, and the 2018 binary's showns.
  'full-restart-after-failover+2018': { scenario: { scenario: 'full-restart-after-failover' }, sim: { dialect: '2018' } },
};

async function chaosSeed(chaosCase: string, seed: number): Promise<string[]> {
  const rng = new Rng(seed * 7919 + chaosCase.length);
  const c = CASES[chaosCase];
  if (!c) throw new Error(`no case ${chaosCase}`);
  const sim = await inProcessSim({ ...c.scenario, tables: 2, partitions: 2 }, { ...c.sim, seed });
  const violations: string[] = [];
  try {
    const before = sim.cluster.incident?.autoFailoverBefore;
    await sim.ctl('fail', { kind: 'refused', fraction: 0.03 });
    await sim.ctl('fail', { kind: 'not-leader', method: 'ShowTable', fraction: 0.05 });
    for (const method of ['UpdateTableAliveStatus', 'RecoverTable', 'LoadTable', 'ChangeLeader', 'ChangeRole']) {
      if (rng.chance(0.35)) await sim.ctl('fail', { kind: 'timeout-after-apply', method, count: 1, delayMs: 20 });
    }
    if (rng.chance(0.5)) await sim.ctl('fail-op', { opType: rng.pick(['kRecoverTableOP', 'kReAddReplicaNoSendOP', 'kReAddReplicaOP']), count: 1 });
    // A load that fails: the tablet moves the replica's directory to its recycle bin.
    if (rng.chance(0.3)) {
      const t = sim.cluster.tables.find((x) => x.db === 'demo_db');
      const p = t ? rng.pick(t.partitions) : undefined;
      if (t && p) await sim.ctl('load', { table: `${t.db}.${t.name}`, pid: p.pid, endpoint: rng.pick(p.replicas).endpoint, failCount: 1 });
    }
    // During the first run: a tablet crashing and coming back, the leader nameserver failing over.
    const events: Array<Promise<unknown>> = [];
    const later = (ms: number) => new Promise((r) => setTimeout(r, ms));
    if (rng.chance(0.5)) {
      const victim = rng.pick(sim.cluster.tablets()).endpoint;
      const [at, down] = [rng.int(10, 300), rng.int(20, 200)];
      events.push(later(at).then(() => sim.ctl('tablet', { action: 'stop', endpoint: victim })).then(() => later(down)).then(() => sim.ctl('tablet', { action: 'start', endpoint: victim })));
    }
    if (rng.chance(0.4)) {
      const [at, down] = [rng.int(10, 300), rng.int(20, 150)];
      events.push(
        later(at)
          .then(() => sim.ctl('nameserver', { action: 'stop', endpoint: 'leader' }))
          .then(async (r) => {
            await later(down);
            const ep = (r as { endpoint?: string }).endpoint;
            if (ep) await sim.ctl('nameserver', { action: 'start', endpoint: ep });
          }),
      );
    }
    const state = stateDir();
    // The first run dies a random number of calls after it switched auto_failover off (or not at all).
    const crash = rng.chance(0.6) ? { after: 'confSet', calls: rng.int(0, 80) } : undefined;
    let last = await run(sim, state, crash).catch((err: unknown) => err as Error);
    // Reruns once every tablet and nameserver is back, as cron would.
    await Promise.all(events);
    for (let attempt = 0; attempt < 3 && (last instanceof Error || last.exitCode !== 0 || state.owed()); attempt++) {
      last = await run(sim, state).catch((err: unknown) => err as Error);
    }
    await sim.ctl('clear-faults');
    // A follower a few entries behind its leader catches up on the replication clock: the
    // tool accepts lag (status's --max-lag), the check does not. Wait for it, briefly.
    let check = sim.check();
    for (const until = Date.now() + 3000; check.problems.some((p) => /is at offset \d+, leader at/.test(p)) && Date.now() < until; check = sim.check()) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (last instanceof Error) violations.push(`the last run threw: ${last.message}`);
    else {
      if (last.exitCode === 0 && (!check.ok || check.entriesLost > 0)) violations.push(`exit 0 but check: ${check.problems.slice(0, 3).join('; ')}; ${check.entriesLost} lost`);
      if (last.exitCode !== 0) {
        const named = namedInReport(last);
        for (const p of unserved(check)) if (!named.has(p)) violations.push(`${p} is not served and the report does not name it`);
      }
    }
    if (check.entriesLost > 0) violations.push(`${check.entriesLost} entries lost`);
    if (before !== undefined && sim.cluster.autoFailover !== before) violations.push(`auto_failover is ${sim.cluster.autoFailover}, was ${before}`);
    if (state.owed()) violations.push('a restore is still owed (the journal stayed)');
  } finally {
    await sim.close();
  }
  return violations;
}

describe('the recover engine in process', { concurrency: true, timeout: 300000 }, () => {
  // Whatever a timed-out test left running (its runs retry against closed servers) must not
  // keep this file's process alive: close the simulators, and exit once the results are out.
  after(async () => {
    await closeAllInProcess();
    setTimeout(() => process.exit(), 10000).unref();
  });
  it('covers every case of the chaos suite', () => {
    assert.deepEqual(Object.keys(CASES).sort(), [...CHAOS_SCENARIOS].sort());
  });

  for (const chaosCase of CHAOS_SCENARIOS.filter((c) => CASE_FILTER === undefined || CASE_FILTER.includes(c))) {
    it(`${chaosCase}, ${SEEDS} seeds of faults and a run dying between calls: served or named, nothing lost, auto_failover as before`, async () => {
      const bad: string[] = [];
      for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) for (const v of await chaosSeed(chaosCase, seed)) bad.push(`seed ${seed}: ${v}`);
      assert.deepEqual(bad, []);
    });
  }

  it('a run that dies after switching auto_failover off leaves the restore owed; the next run pays it first and converges', async () => {
    const sim = await inProcessSim({ scenario: 'full-restart', tables: 1, partitions: 2 }, { seed: 3 });
    try {
      const state = stateDir();
      // Dies a few calls after switching auto_failover off.
      const dead = await run(sim, state, { after: 'confSet', calls: 5 }).catch((err: unknown) => err as Error);
      assert.ok(dead instanceof Error || dead.exitCode !== 0, 'the dying run did not finish');
      assert.equal(sim.cluster.autoFailover, false, 'it left auto_failover off');
      assert.ok(state.owed(), 'and its journal says a restore is owed');
      const rerun = await run(sim, state);
      assert.equal(rerun.exitCode, 0, JSON.stringify(rerun.errors));
      assert.equal(rerun.autoFailover.before, true, 'the value from before the dead run');
      assert.equal(sim.cluster.autoFailover, true);
      assert.equal(state.owed(), false);
      const check = sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
    } finally {
      await sim.close();
    }
  });
});
