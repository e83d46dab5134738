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
import { type EvidenceFile, RunMemory, mergeEvidence } from '../../src/engine/run-memory.js';
import { FailoverKeeper } from '../../src/engine/failover-keeper.js';
import { BACKOFF } from '../../src/engine/retry.js';
import { DEFAULT_MAX_FOLLOWER_LAG } from '../../src/engine/health.js';
import type { Journal } from '../../src/engine/journal-content.js';
import { createProgress } from '../../src/engine/progress.js';
import { recoveryProcedure } from '../../src/workflow/procedures/recover.js';
import { END_LOOK, runProcedure } from '../../src/engine/run.js';
import { OBSERVE_BUDGET_MS } from '../../src/engine/observe.js';
import type { Report } from '../../src/engine/report.js';
import { Rng } from '../../src/sim/rng.js';
import { CHAOS_SCENARIOS, judge, sizeOf } from '../../src/chaos/chaos.js';
import type { CheckReport } from '../../src/sim/check.js';
import type { ObserveFilter } from '../../src/cluster/observe.js';
import type { Op as SimOp } from '../../src/sim/model.js';
import { recoverTableProcedure } from '../../src/workflow/procedures/recover-table.js';
import type { SimOptions } from '../../src/sim/cluster.js';
import type { ScenarioOptions } from '../../src/sim/scenarios.js';
import type { TransportMode } from '../../src/cluster/transport.js';
import { type CrashPoint, type InProcessSim, closeAllInProcess, inProcessSim } from '../helpers/in-process.js';

/** What survives a run's death: its journal and evidence record (the state directory). A dead run writes nothing more. */
function stateDir() {
  let journal: Journal | undefined;
  // The evidence as a store keeps it: one record per table, written as the run hands them over.
  const evidence = new Map<string, EvidenceFile>();
  const write = (tables: ReadonlyMap<string, EvidenceFile>) => {
    for (const [t, f] of tables) {
      if (Object.keys(f.partitions).length === 0) evidence.delete(t);
      else evidence.set(t, structuredClone(f));
    }
  };
  return {
    for: (dead: () => boolean) => ({
      journal: { read: () => journal, write: (j: Journal) => void (dead() || (journal = structuredClone(j))), clear: () => void (dead() || (journal = undefined)) },
      evidence: { read: () => structuredClone(mergeEvidence(evidence.values())), write: (tables: ReadonlyMap<string, EvidenceFile>) => void (dead() || write(tables)) },
    }),
    owed: () => journal !== undefined,
  };
}

/** The simulator's clocks and the chaos suite's times run ten times faster here: so do the engine's waits between retries. */
const FAST_BACKOFF = { minTimeout: BACKOFF.minTimeout / 10, maxTimeout: BACKOFF.maxTimeout / 10 };

/** `recover`, or the runbook's manual recovery of one table (`recover-table DB.TABLE`). */
type Command = { command: 'recover' } | { command: 'recover-table'; db: string; name: string };
const RECOVER: Command = { command: 'recover' };

/** A finished run: its report, and the cluster when the run's last look at it ended (what its verdict stood on). */
interface Finished {
  report: Report;
  lastLook: CheckReport | undefined;
  /** The cluster when that look began (what the look saw lies between the two). */
  lookStart: CheckReport | undefined;
  /** The nameserver's ops at that moment. */
  opsAtLastLook: SimOp[] | undefined;
}

async function run(sim: InProcessSim, state: ReturnType<typeof stateDir>, crash?: CrashPoint, what: Command = RECOVER, transport: TransportMode = 'http', onInfo?: (line: string) => void): Promise<Finished> {
  // The look after the run (END_LOOK) is not the one the report's verdict stands on.
  let endLook = false;
  const quiet = createProgress({ quiet: true, stream: { write: () => true } as unknown as NodeJS.WriteStream });
  const progress = { ...quiet, update: (text: string) => ((endLook = text === END_LOOK), quiet.update(text)), info: (text: string) => (onInfo?.(text), quiet.info(text)) };
  const cluster = { zkCluster: 'in-process', zkRootPath: sim.cluster.options.rootPath };
  const { cluster: mortal, died, dead } = sim.connect(crash, transport);
  let lastLook: CheckReport | undefined;
  let lookStart: CheckReport | undefined;
  let opsAtLastLook: SimOp[] | undefined;
  const target = { ...mortal, observe: async (filter?: ObserveFilter) => {
    if (endLook) return mortal.observe(filter);
    const start = lastSeen(sim);
    const seen = await mortal.observe(filter);
    lookStart = start;
    lastLook = lastSeen(sim);
    opsAtLastLook = ((await sim.ctl('state')) as { ops: SimOp[] }).ops;
    return seen;
  } };
  const stores = state.for(dead);
  const interrupt = new Interrupt(() => undefined);
  const keeper = new FailoverKeeper(stores.journal, { command: what.command, cluster }, progress);
  keeper.restoreBackoff = FAST_BACKOFF;
  const running = runProcedure(target, {
    command: what.command,
    dryRun: false,
    procedure:
      what.command === 'recover'
        ? () => recoveryProcedure({ acceptDataLoss: false })
        : recoverTableProcedure({ db: what.db, name: what.name, leaders: new Map(), acceptDataLoss: false }),
    // A run that dies between recording a disk load and sending it leaves a load nobody can
    // tell from a queued one: the rerun waits it out (the load timeout), then reports the
    // partition. Loads take milliseconds here, so a short timeout keeps that wait short.
    apply: { concurrency: 64, perTablet: 3, loadTimeoutMs: 3000, opTimeoutMs: 10000, retries: 4, partitionAttempts: 3, pollMs: 10, backoff: FAST_BACKOFF },
    progress,
    interrupt,
    where: cluster,
    keeper,
    memory: new RunMemory(stores.evidence),
    // As long as `--leader-wait`'s default: a whole look is CPU work here, not scaled down,
    // and on a loaded machine one pass (over the binary: a hundred binary runs) can take
    // seconds; a shorter budget would end a run at the first dropped call of a slow look.
    observeWait: { budgetMs: OBSERVE_BUDGET_MS },
  });
  // Dead is dead: the rerun starts at once. What is left of the dead run stops (its calls
  // fail before reaching the cluster and its state writes are dropped).
  return Promise.race([
    running.then((report) => ({ report, lastLook, lookStart, opsAtLastLook })),
    died.then(() => {
      keeper.restoreAttempts = 1;
      interrupt.controller.abort(new Error('died'));
      void running.catch(() => undefined);
      throw new Error('the run died');
    }),
  ]);
}

/** A whole number from the environment, or the default; anything else stops the file (a run of no seed must not pass). */
function envInt(name: string, fallback: number, min: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? fallback : Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number >= ${min} (got ${v})`);
  return n;
}
/** Seeds per case (ENGINE_SEEDS, default 6; the chaos suite runs 20), from ENGINE_FIRST_SEED (default 1). */
const SEEDS = envInt('ENGINE_SEEDS', 6, 1);
/** Seeds per case over `--transport cli` (ENGINE_CLI_SEEDS, default 2; 0 runs none), the binary's output parsed. */
const CLI_SEEDS = envInt('ENGINE_CLI_SEEDS', 2, 0);
const FIRST_SEED = envInt('ENGINE_FIRST_SEED', 1, 0);
/** Only these cases (ENGINE_CASES=full-restart,node-down), to replay one. */
const CASE_FILTER = process.env['ENGINE_CASES']?.split(',');
for (const c of CASE_FILTER ?? []) if (!(CHAOS_SCENARIOS as readonly string[]).includes(c)) throw new Error(`ENGINE_CASES: no chaos case ${c} (cases: ${CHAOS_SCENARIOS.join(', ')})`);

/** The chaos suite's cases (src/chaos/chaos.ts, CHAOS_SCENARIOS), as scenario and simulator options. */
const CASES: Record<string, { scenario: Partial<ScenarioOptions>; sim?: Partial<SimOptions> }> = {
  'full-restart': { scenario: { scenario: 'full-restart' } },
  'full-restart-after-failover': { scenario: { scenario: 'full-restart-after-failover' } },
  'partition-lost': { scenario: { scenario: 'partition-lost', replicas: 2 }, sim: { tablets: 3 } },
  'node-down': { scenario: { scenario: 'node-down' } },
  'full-restart+disk': { scenario: { scenario: 'full-restart', storage: 'disk' } },
  // The nameserver's 2018 messages over HTTP, and the 2018 binary's showns.
  'full-restart-after-failover+2018': { scenario: { scenario: 'full-restart-after-failover' }, sim: { dialect: '2018' } },
};

/**
 * The chaos suite's large case (10 tables x 8 partitions, `+large`) runs there only: here the
 * simulator shares the engine's event loop with its clocks ten times faster, and a whole
 * look at eighty partitions under the suite's 5% "not leader" answers does not fit.
 */
const IN_PROCESS_CASES = CHAOS_SCENARIOS.filter((c) => !c.endsWith('+large'));

/**
 * One chaos run (src/chaos/chaos.ts chaosRun), in process: the same faults armed in the same
 * order from the same seed, the chaos suite's times divided by 10 (the simulator's clocks
 * run faster here), a death at some call instead of a SIGKILL at some moment, and the same
 * judge. A seed arms the same faults as the chaos suite's, but the run is not the same.
 */
async function chaosSeed(chaosCase: string, seed: number, transport: TransportMode = 'http'): Promise<string[]> {
  const [scenario = chaosCase] = chaosCase.split('+');
  const rng = new Rng(seed * 7919 + scenario.length);
  const c = CASES[chaosCase];
  if (!c) throw new Error(`no case ${chaosCase}`);
  const sim = await inProcessSim({ ...c.scenario, ...sizeOf(chaosCase) }, { ...c.sim, seed });
  const violations: string[] = [];
  const scaled = (ms: number) => Math.round(ms / 10);
  const later = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await sim.ctl('fail', { kind: 'refused', fraction: 0.03 });
    await sim.ctl('fail', { kind: 'not-leader', method: 'ShowTable', fraction: 0.05 });
    // Lost replies: the call took effect, the answer never came.
    for (const method of ['UpdateTableAliveStatus', 'RecoverTable', 'LoadTable', 'ChangeLeader', 'ChangeRole']) {
      if (rng.chance(0.35)) await sim.ctl('fail', { kind: 'timeout-after-apply', method, count: 1, delayMs: scaled(200) });
    }
    // A load that fails: the tablet moves the replica's directory to its recycle bin.
    if (rng.chance(0.3)) {
      const parts = sim.cluster.tables.filter((t) => t.db === 'demo_db').flatMap((t) => t.partitions.map((p) => ({ t, p })));
      if (parts.length > 0) {
        const { t, p } = rng.pick(parts);
        await sim.ctl('load', { table: `${t.db}.${t.name}`, pid: p.pid, endpoint: rng.pick(p.replicas).endpoint, failCount: 1 });
      }
    }
    if (rng.chance(0.5)) await sim.ctl('fail-op', { opType: rng.pick(['kRecoverTableOP', 'kReAddReplicaNoSendOP', 'kReAddReplicaOP']), count: 1 });
    // node-down's tablet stays down: it is never the one that crashes and comes back.
    const tablets = sim.cluster.tablets().filter((t) => scenario !== 'node-down' || t.running).map((t) => t.endpoint);
    // During the first run: a tablet crashing and coming back, the leader nameserver failing
    // over. Timed from the run's first change (its confset auto_failover false, when it was
    // on), as the kill below is: before that the nameserver acts by itself, as it would with
    // no tool running, and over the binary the first look alone outlasts the scaled times
    // (a tablet restarted then, with auto_failover on, is rebuilt by the nameserver from a
    // leader that serves nothing: name_server_impl.cc RecoverEndpointTable deletes its binlog).
    let firstRunOver = false;
    const base = sim.cluster.mutations.length;
    const atWork = (async () => {
      while (sim.cluster.mutations.length === base && !firstRunOver) await later(5);
    })();
    const events: Array<Promise<unknown>> = [];
    if (rng.chance(0.5)) {
      const victim = rng.pick(tablets);
      const at = rng.int(500, 4000);
      events.push(
        (async () => {
          await atWork;
          await later(scaled(at));
          await sim.ctl('tablet', { action: 'stop', endpoint: victim });
          await later(scaled(rng.int(300, 2000)));
          await sim.ctl('tablet', { action: 'start', endpoint: victim, wait: true });
        })(),
      );
    }
    if (rng.chance(0.4)) {
      const at = rng.int(500, 5000);
      events.push(
        (async () => {
          await atWork;
          await later(scaled(at));
          const r = (await sim.ctl('nameserver', { action: 'stop', endpoint: 'leader' })) as { endpoint?: string };
          await later(scaled(rng.int(500, 1500)));
          if (r.endpoint) await sim.ctl('nameserver', { action: 'start', endpoint: r.endpoint });
        })(),
      );
    }
    // The chaos suite kills the first run at a random moment; here it dies a random number
    // of calls after it switched auto_failover off (before that it changed nothing).
    const killAt = rng.chance(0.5) ? rng.int(800, 8000) : undefined;
    const crash: CrashPoint | undefined = killAt !== undefined ? { after: 'confSet', calls: Math.round((killAt - 800) / 90) } : undefined;
    const state = stateDir();
    const ran = (p: Promise<Finished>) => p.catch((err: unknown) => err as Error);
    if (scenario === 'partition-lost') {
      // The manual data recovery of one lost table first (and maybe dying mid-way), as an
      // operator following the runbook would; `recover` then sees to the rest.
      const table = await ran(run(sim, state, crash, { command: 'recover-table', db: 'demo_db', name: 't0' }, transport));
      firstRunOver = true;
      if (table instanceof Error && !/the run died/.test(table.message)) violations.push(`recover-table threw: ${table.message}`);
    }
    let last: Finished | Error | undefined;
    let atExit: CheckReport | undefined;
    let opsAtExit: SimOp[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      last = await ran(run(sim, state, attempt === 0 && scenario !== 'partition-lost' ? crash : undefined, RECOVER, transport));
      firstRunOver = true;
      if (last instanceof Error && /the run died/.test(last.message)) continue;
      // What the report must describe: the cluster as the run last saw it (a node crashing
      // after that is the next run's incident), less a follower a few entries behind its
      // leader (it catches up on the replication clock; the tool accepts lag).
      atExit = (last instanceof Error ? undefined : last.lastLook) ?? lastSeen(sim);
      opsAtExit = ((await sim.ctl('state')) as { ops: SimOp[] }).ops;
      // A run that ended while a tablet was still crashed may report it; run again once
      // everything is back, as cron would.
      await Promise.all(events);
      // (A run that threw is a run that exited non-zero: the CLI prints an error report, exit 3.)
      if ((!(last instanceof Error) && last.report.exitCode === 0) || attempt >= 1) break;
    }
    await Promise.all(events);
    await sim.ctl('clear-faults');
    // Lag is held against exit 0 only: that run is given time to show replication works.
    const final = await settled(sim, !(last instanceof Error) && last?.report.exitCode === 0 ? 20000 : 2000);
    if (last === undefined || last instanceof Error) violations.push(`the last run threw: ${last?.message ?? 'no run'}`);
    else {
      const lastOps = last.opsAtLastLook;
      const lookStart = last.lookStart;
      violations.push(...judge({ exitCode: last.report.exitCode, report: last.report, ...(atExit ? { atExit } : {}), ...(lookStart ? { lookStart } : {}), opsAtExit, ...(lastOps ? { opsAtLastLook: lastOps } : {}), final }));
      // The last look tolerates a follower behind its leader as status does; with the faults
      // gone and the clocks run on, none may still be behind (replication itself broken).
      if (last.report.exitCode === 0) for (const p of final.problems.filter((x) => LAG.test(x))) violations.push(`exit 0 but a follower stays behind: ${p}`);
    }
    if (state.owed()) violations.push('a restore is still owed (the journal stayed)');
    // Over the binary, the looks and the nameserver's changes went through it, none of the
    // changes over HTTP (a run with nothing to do changes nothing).
    if (transport === 'cli') {
      const sent = sim.sent();
      const nsHttp = [...sent.keys()].filter((k) => /^http NameServer\/(ConfSet|UpdateTableAliveStatus|RecoverTable|ChangeLeader|ShowOPStatus)$/.test(k));
      if (nsHttp.length > 0 || !sent.has('cli showtable')) violations.push(`over --transport cli, sent: ${JSON.stringify(Object.fromEntries(sent))}`);
    }
  } finally {
    await sim.close();
  }
  return violations;
}

const LAG = /is at offset \d+, leader at/;

/**
 * What the run's last look must show: every partition served, a follower behind its leader
 * tolerated as `status` tolerates it; auto_failover is left out (the run switches it back
 * after that look; it is judged on the cluster at the end).
 */
function lastSeen(sim: InProcessSim): CheckReport {
  const check = sim.check({ maxLag: DEFAULT_MAX_FOLLOWER_LAG });
  const problems = check.problems.filter((p) => !/^auto_failover is /.test(p));
  return { ...check, problems, ok: problems.length === 0 };
}

/**
 * The check, once no follower is still catching up on its leader (lag the tool accepts is
 * not a fault), or after `patienceMs`: a starved process replicates slowly.
 */
async function settled(sim: InProcessSim, patienceMs: number): Promise<CheckReport> {
  let check = sim.check();
  for (const until = Date.now() + patienceMs; check.problems.some((p) => LAG.test(p)) && Date.now() < until; check = sim.check()) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return check;
}

describe('the recover engine in process', { concurrency: true, timeout: 300000 }, () => {
  // Whatever a timed-out test left running (its runs retry against closed servers) must not
  // keep this file's process alive: close the simulators, and exit once the results are out.
  after(async () => {
    await closeAllInProcess();
    setTimeout(() => process.exit(), 10000).unref();
  });
  it('covers every case of the chaos suite but the large one', () => {
    assert.deepEqual(Object.keys(CASES).sort(), [...IN_PROCESS_CASES].sort());
  });

  for (const chaosCase of IN_PROCESS_CASES.filter((c) => CASE_FILTER === undefined || CASE_FILTER.includes(c))) {
    it(`${chaosCase}, ${SEEDS} seeds of faults and a run dying between calls: served or named, nothing lost, auto_failover as before`, async () => {
      const bad: string[] = [];
      for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) for (const v of await chaosSeed(chaosCase, seed)) bad.push(`seed ${seed}: ${v}`);
      assert.deepEqual(bad, []);
    });
  }

  // The chaos suite runs over HTTP; here every case also runs through the binary: each
  // command's output parsed, each fault seen as the binary prints it (brpc error texts,
  // "not leader" messages, a killed run).
  for (const chaosCase of CLI_SEEDS === 0 ? [] : IN_PROCESS_CASES.filter((c) => CASE_FILTER === undefined || CASE_FILTER.includes(c))) {
    it(`${chaosCase} over --transport cli, ${CLI_SEEDS} seeds: served or named, nothing lost, auto_failover as before`, async () => {
      const bad: string[] = [];
      for (let seed = FIRST_SEED; seed < FIRST_SEED + CLI_SEEDS; seed++) for (const v of await chaosSeed(chaosCase, seed, 'cli')) bad.push(`seed ${seed}: ${v}`);
      assert.deepEqual(bad, []);
    });
  }

  it('a run that dies after switching auto_failover off leaves the restore owed; the next run finishes the job with it still off, then puts it back', async () => {
    const sim = await inProcessSim({ scenario: 'full-restart', tables: 1, partitions: 2 }, { seed: 3 });
    try {
      const state = stateDir();
      // Dies a few calls after switching auto_failover off.
      const dead = await run(sim, state, { after: 'confSet', calls: 5 }).catch((err: unknown) => err as Error);
      assert.ok(dead instanceof Error || dead.report.exitCode !== 0, 'the dying run did not finish');
      assert.equal(sim.cluster.autoFailover, false, 'it left auto_failover off');
      assert.ok(state.owed(), 'and its journal says a restore is owed');
      const since = sim.cluster.mutations.at(-1)?.seq ?? 0;
      const { report: rerun } = await run(sim, state);
      assert.equal(rerun.exitCode, 0, JSON.stringify(rerun.errors));
      assert.equal(rerun.autoFailover.before, true, 'the value from before the dead run');
      assert.equal(sim.cluster.autoFailover, true);
      assert.equal(state.owed(), false);
      // Not on before the job was done: with auto_failover on, the nameserver would act on
      // the half-finished recovery by its own offsets.
      const changes = sim.cluster.mutations.filter((m) => m.seq > since && m.code === 0);
      assert.ok(changes.some((m) => m.method === 'RecoverTable' || m.method === 'LoadTable'), 'the rerun did work');
      assert.deepEqual(changes.filter((m) => m.method === 'ConfSet').map((m) => [m.body, m === changes.at(-1)]), [[{ conf: { key: 'auto_failover', value: 'true' } }, true]], 'one ConfSet, the last change');
      // Followers catch up on the replication clock (exit 0 tolerates lag, as status does).
      const check = await settled(sim, 20000);
      assert.deepEqual(check.problems, []);
      assert.equal(check.entriesLost, 0);
    } finally {
      await sim.close();
    }
  });
  // The interleaving behind "auto_failover ends false": a run finds it off (another run
  // switched it off, no journal of this one explains it), the other run ends and puts it
  // back on, and this run, with work left, switches it off again. It switched it off: it
  // switches it back on, whatever it found at its start.
  it('a run that found auto_failover off and switches it off later, after someone switched it on, puts it back on', async () => {
    const sim = await inProcessSim({ scenario: 'full-restart', tables: 1, partitions: 2, autoFailover: false }, { seed: 5 });
    try {
      // Round 1 begins with auto_failover off (found so: nothing to switch); right then the
      // other run's restore switches it on, and the nameserver refuses this run's manual
      // commands for the rest of the round (name_server_impl.cc: kAutoFailoverIsEnabled).
      let flipped = false;
      const onInfo = (line: string) => {
        if (!flipped && /^round 1:/.test(line)) {
          flipped = true;
          sim.cluster.autoFailover = true;
        }
      };
      const { report } = await run(sim, stateDir(), undefined, RECOVER, 'http', onInfo);
      assert.ok(flipped, 'round 1 began');
      assert.equal(report.autoFailover.switchedOff, true, 'the run switched it off for its later rounds');
      assert.equal(sim.cluster.autoFailover, true, `it put it back: ${JSON.stringify(report.autoFailover)}`);
      assert.equal(report.exitCode, 0, report.errors.join('; '));
      assert.equal(report.autoFailover.before, true, 'the value it found when it switched it off');
      assert.equal(report.autoFailover.foundOff, true, 'and that it was off, unexplained, at its start');
    } finally {
      await sim.close();
    }
  });

  // Runs that do not share a lock (two --state-dir, --lock zk beside --lock local): the
  // second finds auto_failover off with no journal of its own explaining it. It must not
  // act as that value's owner: whichever finishes last, and whenever the second starts,
  // auto_failover ends on, and nothing is lost.
  it('two runs that do not share a lock, the second started at several points of the first: auto_failover ends true, nothing lost', async () => {
    const bad: string[] = [];
    for (const [i, startAfter] of [1, 4, 12, 30, 60].entries()) {
      const sim = await inProcessSim({ scenario: 'full-restart', tables: 2, partitions: 2 }, { seed: 11 + i });
      try {
        const base = sim.cluster.mutations.length;
        const first = run(sim, stateDir()).catch((err: unknown) => err as Error);
        // A first run that ends before making that many changes: the second starts after it.
        let firstOver = false;
        void first.then(() => (firstOver = true));
        while (sim.cluster.mutations.length < base + startAfter && !firstOver) await new Promise((r) => setTimeout(r, 2));
        const second = await run(sim, stateDir()).catch((err: unknown) => err as Error);
        const one = await first;
        for (const [who, r] of [['first', one], ['second', second]] as const) {
          if (r instanceof Error) bad.push(`after ${startAfter} changes: the ${who} run threw: ${r.message}`);
        }
        // Whatever the two left half done (each got in the other's way), a rerun finishes.
        const rerun = await run(sim, stateDir());
        if (rerun.report.exitCode !== 0) bad.push(`after ${startAfter} changes: the rerun exits ${rerun.report.exitCode}: ${rerun.report.errors.join('; ')}`);
        if (!sim.cluster.autoFailover) bad.push(`after ${startAfter} changes: auto_failover ends false (first ${JSON.stringify(one instanceof Error ? one.message : one.report.autoFailover)}, second ${JSON.stringify(second instanceof Error ? second.message : second.report.autoFailover)})`);
        const check = await settled(sim, 20000);
        if (check.entriesLost !== 0 || check.problems.length > 0) bad.push(`after ${startAfter} changes: ${check.entriesLost} lost, ${check.problems.join('; ')}`);
      } finally {
        await sim.close();
      }
    }
    assert.deepEqual(bad, []);
  });
});
