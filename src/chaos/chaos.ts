// One chaos run: a simulated incident with random faults while the tool recovers it, and
// the verdict on how it ended (the rules are in scripts/chaos.ts, which runs many). A
// harness over both programs: it spawns the built simulator and tool, never imports either
// beyond the simulator's seeded PRNG and the types of what they print.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Rng } from '../sim/rng.js';
import type { CheckReport } from '../sim/check.js';
import type { SimInfo } from '../sim/daemon.js';
import type { Op as SimOp } from '../sim/model.js';
import type { Report } from '../engine/report.js';
import { DEFAULT_MAX_FOLLOWER_LAG } from '../engine/health.js';
import { setTimeout as sleep } from 'node:timers/promises';

// Two levels below the repository both as source (src/sim) and built (dist/sim).
const REPO = resolve(import.meta.dirname, '..', '..');
const SIM = join(REPO, 'dist/sim/cli/openmldb-sim.js');
const RECOVER = join(REPO, 'dist/cli/openmldb-recover.js');

/**
 * The cases: a simulator scenario, maybe with a variant (`+disk`: every table on SSD/HDD,
 * loaded over HTTP; `+2018`: the 2018-era output dialect of the binary).
 */
export const CHAOS_SCENARIOS = [
  'full-restart',
  'full-restart-after-failover',
  'partition-lost',
  'node-down',
  'full-restart+disk',
  'full-restart-after-failover+2018',
  'full-restart+large',
] as const;

const VARIANTS: Record<string, string[]> = { disk: ['--storage', 'disk'], '2018': ['--dialect', '2018'] };

/** Tables x partitions: 2 x 2, or 10 x 8 for `+large`. */
export function sizeOf(c: string): { tables: number; partitions: number } {
  return c.split('+').includes('large') ? { tables: 10, partitions: 8 } : { tables: 2, partitions: 2 };
}

/** Client writes per second during every run (the SDK's Puts, to each partition's alive leader). */
export const CHAOS_TRAFFIC = 200;

/** The simulator scenario and its extra `up` arguments for a case such as `full-restart+disk`. */
function scenarioOf(c: string): { scenario: string; args: string[] } {
  const [scenario = c, ...variants] = c.split('+');
  const { tables, partitions } = sizeOf(c);
  return { scenario, args: ['--tables', String(tables), '--partitions', String(partitions), ...variants.flatMap((v) => VARIANTS[v] ?? [])] };
}

/** The command that replays one run. */
export const reproduce = (c: string, seed: number) => `npx tsx scripts/chaos.ts --scenarios ${c} --first-seed ${seed} --seeds 1`;

export interface ChaosRun {
  scenario: string;
  seed: number;
  faults: Record<string, number>;
  kills: number;
  toolRuns: number;
  exitCode: number;
  outcome: 'served' | 'reported';
  /** Entries orphaned at a failover before the incident and left behind (OpenMLDB's loss, not the tool's): counted apart from lost ones. */
  orphaned: number;
  /** Client writes acknowledged during the run (every one must survive). */
  acknowledged: number;
  /**
   * Once the faults were cleared and every node was back, one more `recover` served
   * everything, or named only what an operator must decide (refused partitions, a tablet
   * left down on purpose).
   */
  converged: boolean;
  ok: boolean;
  violations: string[];
  durationMs: number;
}

interface Proc {
  code: number;
  stdout: string;
  stderr: string;
  killed: boolean;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, killAfterMs?: number): Promise<Proc> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [cmd, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs !== undefined ? setTimeout(() => { killed = true; child.kill('SIGKILL'); }, killAfterMs) : undefined;
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ code: code ?? (signal === 'SIGKILL' ? 137 : 1), stdout, stderr, killed });
    });
  });
}

/** The (stand-in) openmldb binary, as an operator runs it. */
function runBinary(bin: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', () => resolvePromise({ code: null, stdout }));
    child.on('exit', (code) => resolvePromise({ code, stdout }));
  });
}

async function ctl(info: SimInfo, action: string, body: Record<string, unknown> = {}): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${info.controlPort}/ctl/${action}`, { method: 'POST', body: JSON.stringify(body) });
  return res.json();
}

const LAG = /is at offset \d+, leader at/;
/** The check's own line on auto_failover (the judge weighs it apart). */
const AUTO_FAILOVER = /^auto_failover is /;

/** The check while clients write: a follower a few entries behind is replication in flight, as `status` accepts it. */
export async function checkUnderTraffic(info: SimInfo): Promise<CheckReport> {
  return (await ctl(info, 'check', { maxLag: DEFAULT_MAX_FOLLOWER_LAG })) as CheckReport;
}

/** The check on a cluster at rest: once no follower is still catching up on its leader, or after 20 s (then it says which). */
export async function settledCheck(info: SimInfo): Promise<CheckReport> {
  let check = (await ctl(info, 'check')) as CheckReport;
  for (const until = Date.now() + 20_000; check.problems.some((p) => LAG.test(p)) && Date.now() < until; check = (await ctl(info, 'check')) as CheckReport) await sleep(200);
  return check;
}

/** Partitions a report names as not served (neither healthy nor recovered): `db.table:pid`. */
export function namedInReport(report: Report): Set<string> {
  return new Set(report.tables.flatMap((t) => t.partitions.filter((p) => p.status !== 'healthy' && p.status !== 'recovered').map((p) => `${t.db}.${t.name}:${p.pid}`)));
}

/** Partitions the sim says are not served: `db.table:pid`. */
export function unserved(check: CheckReport): Set<string> {
  const out = new Set<string>();
  for (const p of check.problems) {
    const m = p.match(/^(\S+)\.(\S+) pid (\d+):/);
    if (m) out.add(`${m[1]}.${m[2]}:${m[3]}`);
  }
  return out;
}

/** What the judge looks at: the last completed run and the cluster as it left it. */
export interface Verdicted {
  exitCode: number;
  /** The run's JSON report (absent when it printed none: judged separately). */
  report?: Report;
  /** The cluster when the run exited (or when its last look at the cluster ended). */
  atExit?: CheckReport;
  /**
   * The cluster when that last look began, when known (the engine tier): a partition whose
   * state changed during the look may be reported either way; one that did not must be
   * reported as it was.
   */
  lookStart?: CheckReport;
  /** The nameserver's ops when the run exited. */
  opsAtExit: SimOp[];
  /**
   * The ops when the run's last look ended, when known (the engine tier): an op excuses a
   * named partition only if it was not done then. Without it, op end times (whole
   * seconds) at or after the report's end excuse it.
   */
  opsAtLastLook?: SimOp[];
  /** The cluster after the faults were cleared and every crashed node was back. */
  final: CheckReport;
  /** An operator's choice made after the incident began (it stands); else the value before the incident. */
  autoFailoverExpected?: boolean;
}

/**
 * The chaos verdict (also the engine tier's, test/engine/): auto_failover as it was before
 * the incident; exit 0 only with every partition served when the run exited and nothing
 * lost; otherwise a report that names exactly the partitions not served when the run
 * exited, each with a reason, and nothing lost.
 */
export function judge(v: Verdicted): string[] {
  const violations: string[] = [];
  const { final: check, report } = v;
  if (v.autoFailoverExpected !== undefined) {
    if (check.autoFailover !== v.autoFailoverExpected) violations.push(`auto_failover is ${check.autoFailover}, but an operator set it ${v.autoFailoverExpected} after the killed run`);
  } else if (check.autoFailoverBefore !== undefined && check.autoFailover !== check.autoFailoverBefore) {
    violations.push(`auto_failover is ${check.autoFailover}, was ${check.autoFailoverBefore}`);
  }
  // Whatever the exit: a write a client was told had succeeded must survive.
  if ((check.acknowledgedLost ?? 0) > 0) violations.push(check.problems.find((p) => /acknowledged client writes are lost/.test(p)) ?? `${check.acknowledgedLost} acknowledged client writes lost`);
  const atExit = v.atExit ?? check;
  // Not served all through the last look (or at exit), and not served at some moment of it.
  const unservedThroughout = v.lookStart ? new Set([...unserved(atExit)].filter((p) => unserved(v.lookStart as CheckReport).has(p))) : unserved(atExit);
  const unservedAtSomePoint = v.lookStart ? new Set([...unserved(atExit), ...unserved(v.lookStart)]) : unserved(atExit);
  if (v.exitCode === 0) {
    // Served when it exited: a tablet that crashes after the run is the next run's incident.
    // (auto_failover is judged above, against an operator's later choice where there was one.)
    const problems = atExit.problems.filter((p) => !AUTO_FAILOVER.test(p));
    if (v.lookStart ? unservedThroughout.size > 0 : problems.length > 0) violations.push(`exit 0 but check fails: ${problems.slice(0, 3).join('; ')}`);
    if (check.entriesLost > 0) violations.push(`exit 0 but ${check.entriesLost} entries lost`);
    return violations;
  }
  if (report) {
    const named = namedInReport(report);
    const actual = unservedThroughout;
    const why = report.errors[0] !== undefined ? ` (the run's error: ${report.errors[0].slice(0, 300)})` : '';
    for (const p of actual) if (!named.has(p)) violations.push(`partition ${p} is not served but the report does not name it${why}`);
    // Served at exit though the report names it: a violation unless a nameserver op on
    // it ended after the run's last look (auto_failover back on, the nameserver healed it).
    const finished = Math.floor(Date.parse(report.finishedAt) / 1000);
    // (Op times are whole seconds: an op done in the second the run finished counts.)
    const doneAtLastLook = new Set((v.opsAtLastLook ?? []).filter((op) => op.status === 'kDone').map((op) => op.opId));
    const healedAfter = (k: string) =>
      v.opsAtExit.some((op) => `${op.db}.${op.name}:${op.pid}` === k && op.status === 'kDone' && (v.opsAtLastLook ? !doneAtLastLook.has(op.opId) : op.endTime >= finished));
    for (const t of report.tables) for (const p of t.partitions) {
      const k = `${t.db}.${t.name}:${p.pid}`;
      // The report itself says it was served by the end, though not by the run.
      const saysServed = p.reason.startsWith('served when the run ended');
      if (named.has(k) && !unservedAtSomePoint.has(k) && !healedAfter(k) && !saysServed) violations.push(`the report names ${k} (${p.status}: ${(p.problems[0] || p.errors.at(-1) || p.reason || '').slice(0, 200)}) but it is served${why}`);
    }
    for (const t of report.tables) for (const p of t.partitions) {
      if (p.status !== 'healthy' && p.status !== 'recovered' && p.problems.length + p.errors.length === 0 && p.reason === '') violations.push(`${t.db}.${t.name}:${p.pid} has no reason`);
    }
  }
  // Orphaned entries (an old leader's tail OpenMLDB gave up at a failover before the
  // incident) are counted apart by the check: leaving them behind is no violation, but
  // serving them instead of the newer term loses that term's entries, which are counted here.
  if (check.entriesLost > 0) violations.push(`${check.entriesLost} entries lost without --accept-data-loss`);
  return violations;
}

/**
 * What one more run, on a cluster without faults, left that an operator did not have to
 * decide: nothing when it exited 0 with everything served; else each partition it did not
 * serve that it neither refused (its data at stake) nor found blocked or failed for a
 * tablet left down on purpose (node-down).
 */
export function convergenceLeft(exitCode: number, report: Report | undefined, check: CheckReport, downTablets: string[]): string[] {
  if (exitCode === 0) return check.problems.filter((p) => !AUTO_FAILOVER.test(p)).slice(0, 3);
  if (!report) return [`exit ${exitCode} without a report`];
  const left: string[] = [];
  for (const t of report.tables) for (const p of t.partitions) {
    if (p.status === 'healthy' || p.status === 'recovered' || p.status === 'refused') continue;
    const text = [p.reason, ...p.problems, ...p.errors].join(' ');
    if ((p.status === 'blocked' || p.status === 'failed') && downTablets.some((ep) => new RegExp(`(^|[^\\d.])${ep.replace(/[.]/g, '\\.')}(?!\\d)`).test(text))) continue;
    left.push(`${t.db}.${t.name}:${p.pid} ${p.status}: ${(p.reason || p.errors[0] || p.problems[0] || '').slice(0, 160)}`);
  }
  if (left.length === 0 && report.tables.length === 0) left.push(`exit ${exitCode}: ${(report.errors[0] ?? '').slice(0, 200)}`);
  return left;
}

/** zookeeper: the simulator keeps its ZooKeeper state in that server (and the tool takes its lock there). */
export async function chaosRun(chaosCase: string, seed: number, options: { zookeeper?: string; zookeeperPid?: number } = {}): Promise<ChaosRun> {
  const { scenario, args: variantArgs } = scenarioOf(chaosCase);
  const started = Date.now();
  const rng = new Rng(seed * 7919 + scenario.length);
  // The later events draw from their own stream: a seed arms the same faults as before them.
  const more = new Rng(seed * 104729 + scenario.length);
  // An operator who keeps auto_failover off (the runbook's first step, left so): the run must leave it off.
  const offBefore = more.chance(0.25);
  const dir = mkdtempSync(join(tmpdir(), 'openmldb-chaos-'));
  const stateDir = join(dir, 'state');
  const violations: string[] = [];
  const faults: Record<string, number> = {};
  const count = (k: string, n = 1) => (faults[k] = (faults[k] ?? 0) + n);
  let kills = 0;
  let toolRuns = 0;
  let last: Proc | undefined;
  const upArgs = ['up', '--dir', dir, '--scenario', scenario, '--seed', String(seed), '--traffic', String(CHAOS_TRAFFIC), ...variantArgs];
  if (scenario === 'partition-lost') upArgs.push('--replicas', '2', '--tablets', '3');
  if (offBefore) upArgs.push('--no-auto-failover');
  if (options.zookeeper) upArgs.push('--zookeeper', options.zookeeper, '--zk-root-path', `/chaos-${chaosCase.replace(/\+/g, '-')}-${seed}-${process.pid}`);
  const up = await run(SIM, upArgs, {});
  if (up.code !== 0) throw new Error(`sim up failed: ${up.stderr}`);
  const info = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as SimInfo;
  const env = { OPENMLDB_ZK_CLUSTER: info.zkCluster, OPENMLDB_ZK_ROOT_PATH: info.zkRootPath, OPENMLDB_BIN: info.bin, XDG_STATE_HOME: stateDir };
  try {
    // Transient faults for the whole run.
    await ctl(info, 'fail', { kind: 'refused', fraction: 0.03 });
    await ctl(info, 'fail', { kind: 'not-leader', method: 'ShowTable', fraction: 0.05 });
    // Lost replies: the call took effect, the answer never came.
    for (const method of ['UpdateTableAliveStatus', 'RecoverTable', 'LoadTable', 'ChangeLeader', 'ChangeRole']) {
      if (rng.chance(0.35)) {
        await ctl(info, 'fail', { kind: 'timeout-after-apply', method, count: 1, delayMs: 200 });
        count('lost-reply-armed');
      }
    }
    // A load that fails: the tablet moves the replica's directory to its recycle bin.
    if (rng.chance(0.3)) {
      const st = (await ctl(info, 'state')) as { tables: Array<{ db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string }> }> }> };
      const parts = st.tables.filter((t) => t.db === 'demo_db').flatMap((t) => t.partitions.map((p) => ({ t, p })));
      if (parts.length > 0) {
        const { t, p } = rng.pick(parts);
        await ctl(info, 'load', { table: `${t.db}.${t.name}`, pid: p.pid, endpoint: rng.pick(p.replicas).endpoint, failCount: 1 });
        count('load-fail-armed');
      }
    }
    if (rng.chance(0.5)) {
      await ctl(info, 'fail-op', { opType: rng.pick(['kRecoverTableOP', 'kReAddReplicaNoSendOP', 'kReAddReplicaOP']), count: 1 });
      count('op-fail-armed');
    }
    const tablets = info.tablets.map((t) => t.endpoint);
    const downAtStart = scenario === 'node-down' ? new Set(((await ctl(info, 'state')) as { tablets: Array<{ endpoint: string; running: boolean }> }).tablets.filter((t) => !t.running).map((t) => t.endpoint)) : new Set<string>();

    // Events during the first run.
    const events: Array<Promise<void>> = [];
    /** A tool run is at work now: a crash is only this run's to survive while one is. */
    let toolRunning = false;
    let runsEnded = 0;
    if (rng.chance(0.5)) {
      const victim = rng.pick(tablets.filter((t) => !downAtStart.has(t)));
      const after = rng.int(0, 700);
      // Started again after 0.3-2 s: a supervisor's restart, which succeeds only once the
      // crashed tablet's ZooKeeper session expired (10 s, OpenMLDB's default).
      const back = rng.int(300, 2000);
      // While auto_failover is on (no run at work, or a run that has not switched it off
      // yet) a crash is OpenMLDB's own business: the nameserver fails the leader over and
      // drops the writes only it held. That is not the tool's to prevent, nor to be judged
      // on. While it is off, the run's or the operator's, nothing else acts: the run must.
      // So the crash comes a while after a run found it off or switched it off.
      const offInRun = async () => toolRunning && ((await ctl(info, 'state')) as { autoFailover?: boolean }).autoFailover === false;
      events.push((async () => {
        while (runsEnded === 0 && !(await offInRun())) await sleep(100);
        await sleep(after);
        if (!(await offInRun())) {
          count('tablet-crash-skipped');
          return;
        }
        await ctl(info, 'tablet', { action: 'stop', endpoint: victim });
        count('tablet-crash');
        await sleep(back);
        await ctl(info, 'tablet', { action: 'start', endpoint: victim, wait: true });
      })());
    }
    if (rng.chance(0.4)) {
      const at = rng.int(500, 5000);
      events.push((async () => {
        await sleep(at);
        const r = (await ctl(info, 'nameserver', { action: 'stop', endpoint: 'leader' })) as { endpoint?: string };
        count('nameserver-failover');
        await sleep(rng.int(500, 1500));
        if (r.endpoint) await ctl(info, 'nameserver', { action: 'start', endpoint: r.endpoint });
      })());
    }
    // A frozen ZooKeeper (its server stopped, the connections left open: nothing answers)
    // for a few seconds during the first run: only on a private ZooKeeper server.
    // (Drawn whether or not there is a server to freeze: a seed's other events stay the same.)
    const freeze = { on: more.chance(0.25), at: more.int(500, 4000), ms: more.int(2000, 8000) };
    const zkPid = options.zookeeperPid;
    if (zkPid !== undefined && zkPid > 0 && freeze.on) {
      events.push((async () => {
        await sleep(freeze.at);
        // However the harness ends meanwhile, the server must not stay stopped.
        const thaw = () => {
          try {
            process.kill(zkPid, 'SIGCONT');
          } catch {
            /* gone */
          }
        };
        process.once('exit', thaw);
        process.kill(zkPid, 'SIGSTOP');
        count('zookeeper-frozen');
        try {
          await sleep(freeze.ms);
        } finally {
          thaw();
          process.off('exit', thaw);
        }
      })());
    }
    // Every nameserver restarts at once: the one that wins the election during its own start
    // stores its auto_failover flag (true) over ZooKeeper's value (the start race), and the
    // run must switch it off again. Not where an operator keeps it off: there only
    // ZooKeeper's value tells the race from that choice, and the race may come after the
    // run ended, which is the next run's business.
    const nsRestart = { on: more.chance(0.2), at: more.int(800, 5000) };
    if (nsRestart.on && !offBefore) {
      events.push((async () => {
        await sleep(nsRestart.at);
        for (const n of info.nameservers) await ctl(info, 'nameserver', { action: 'stop', endpoint: n.endpoint });
        for (const n of info.nameservers) await ctl(info, 'nameserver', { action: 'start', endpoint: n.endpoint });
        count('nameservers-restarted');
      })());
    }
    const killAt = rng.chance(0.5) ? rng.int(800, 8000) : undefined;
    // After a killed run, an operator may switch auto_failover on by hand before the rerun:
    // that choice stands (the dead run's journal must not revert it).
    const operatorSwitchesOn = more.chance(0.4);
    let expectAutoFailover: boolean | undefined;
    const operator = async () => {
      if (!operatorSwitchesOn || expectAutoFailover !== undefined) return;
      // Once every node is back: switched on while a leader's tablet is down, the nameserver
      // fails it over by itself and its unreplicated writes go, the operator's doing.
      await Promise.all(events);
      const r = await runBinary(info.bin, [`--zk_cluster=${info.zkCluster}`, `--zk_root_path=${info.zkRootPath}`, '--role=ns_client', '--interactive=false', '--cmd=confset auto_failover true']);
      // Its answer may be lost though it applied: what the cluster holds decides.
      const now = ((await ctl(info, 'state')) as { autoFailover?: boolean }).autoFailover;
      if (/set auto_failover ok/.test(r.stdout) || now === true) {
        expectAutoFailover = true;
        count('operator-switched-on');
      }
    };
    const tool = ['--json', '--quiet', '--load-timeout', '60', '--op-timeout', '120', '--lock-session-timeout', '2'];
    // A SIGKILLed run's ZooKeeper lock outlives it by the session timeout: exit 4 meanwhile,
    // and cron would simply try again. So it would after exit 3 (nothing reached, nothing
    // changed): a ZooKeeper frozen for seconds, by this run's events or, on a shared
    // server, another run's.
    const runTool = async (args: string[], killAfterMs?: number): Promise<Proc> => {
      for (let waited = 0, unreachable = 0; ; waited++) {
        toolRunning = true;
        const p = await run(RECOVER, args, env, killAfterMs).finally(() => {
          toolRunning = false;
          runsEnded++;
        });
        if (p.code === 3 && !p.killed && unreachable < 5) {
          unreachable++;
          count('rerun-after-exit-3');
          await sleep(2000);
          continue;
        }
        if (p.code !== 4 || waited >= 30) return p;
        await sleep(500);
      }
    };
    if (scenario === 'partition-lost') {
      // The manual data recovery of one lost table first (and maybe killed mid-way), as an
      // operator following the runbook would; `recover` then sees to the rest.
      toolRuns++;
      const table = await runTool(['recover-table', 'demo_db.t0', ...tool], killAt);
      if (table.killed) {
        kills++;
        await operator();
      }
    }
    let atExit: CheckReport | undefined;
    let opsAtExit: SimOp[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      toolRuns++;
      last = await runTool(['recover', ...tool], attempt === 0 && scenario !== 'partition-lost' ? killAt : undefined);
      if (last.killed) {
        kills++;
        await operator();
        continue;
      }
      // What the report must describe: the cluster as the run left it. Later, with
      // auto_failover back on, the nameserver may heal a restarted tablet's partitions itself.
      // Clients keep writing (at rest, below, no follower may stay behind).
      atExit = await checkUnderTraffic(info);
      opsAtExit = ((await ctl(info, 'state')) as { ops: SimOp[] }).ops;
      // A run that ended while a tablet was still crashed may legitimately report it; run again
      // once everything is back, as cron would.
      await Promise.all(events);
      if (last.code === 0 || attempt >= 1) break;
    }
    await Promise.all(events);
    const state = (await ctl(info, 'state')) as { faults: { firedByKind: Record<string, number> } };
    for (const [k, v] of Object.entries(state.faults.firedByKind)) count(k, v);
    await ctl(info, 'clear-faults');
    // The clients stop: what they were told was written is judged on a cluster at rest.
    await ctl(info, 'traffic', { rate: 0 });
    const check = await settledCheck(info);
    const code = last?.code ?? -1;
    let report: Report | undefined;
    if (code !== 0) {
      try {
        report = JSON.parse(last?.stdout ?? '') as Report;
      } catch {
        violations.push(`exit ${code} without a JSON report: ${(last?.stderr ?? '').slice(0, 300)}`);
      }
    }
    violations.push(...judge({ exitCode: code, ...(report ? { report } : {}), ...(atExit ? { atExit } : {}), opsAtExit, final: check, ...(expectAutoFailover !== undefined ? { autoFailoverExpected: expectAutoFailover } : {}) }));
    // Convergence: the faults are gone and every node is back (but a tablet node-down keeps
    // down); one more run must finish the job, or leave only what an operator decides.
    let converged = code === 0;
    if (!converged) {
      toolRuns++;
      const again = await runTool(['recover', ...tool]);
      const againState = (await ctl(info, 'state')) as { tablets?: Array<{ endpoint: string; running: boolean }>; ops?: SimOp[] };
      const afterAgain = await settledCheck(info);
      const downTablets = (againState.tablets ?? []).filter((t) => !t.running).map((t) => t.endpoint);
      let againReport: Report | undefined;
      try {
        againReport = JSON.parse(again.stdout) as Report;
      } catch {
        /* judged below */
      }
      const left = convergenceLeft(again.code, againReport, afterAgain, downTablets);
      converged = left.length === 0;
      if (!converged) violations.push(`not converged: once the faults were cleared, one more recover exits ${again.code}: ${left.slice(0, 3).join('; ')}`);
      // Ops done after the run's end (auto_failover back on, the nameserver healing) excuse a named partition.
      const opsAfter = (((await ctl(info, 'state')) as { ops?: SimOp[] }).ops ?? []);
      violations.push(...judge({ exitCode: again.code, ...(againReport ? { report: againReport } : {}), atExit: afterAgain, opsAtExit: opsAfter, final: afterAgain, ...(expectAutoFailover !== undefined ? { autoFailoverExpected: expectAutoFailover } : {}) }).map((v) => `after the faults: ${v}`));
    }
    const outcome: ChaosRun['outcome'] = code === 0 ? 'served' : 'reported';
    return { scenario: chaosCase, seed, faults, kills, toolRuns, exitCode: code, outcome, orphaned: check.entriesOrphaned, acknowledged: check.acknowledgedWrites ?? 0, converged, ok: violations.length === 0, violations, durationMs: Date.now() - started };
  } finally {
    await run(SIM, ['down', '--dir', dir], {});
    // CHAOS_KEEP=1 keeps the simulator's directory (its daemon log, mutation log, state) to trace a run.
    if (process.env['CHAOS_KEEP'] === '1') console.error(`chaos: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

export function summarize(runs: ChaosRun[]): string {
  const faults: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + v;
  const lines = [
    `chaos: ${runs.length} runs, ${runs.filter((r) => r.ok).length} ok, ${runs.filter((r) => !r.ok).length} violating`,
    `  outcomes: ${runs.filter((r) => r.outcome === 'served').length} fully served (exit 0, 0 lost), ${runs.filter((r) => r.outcome === 'reported').length} reported (non-zero exit naming the partitions)`,
    `  tool runs: ${runs.reduce((s, r) => s + r.toolRuns, 0)}, SIGKILLs: ${runs.reduce((s, r) => s + r.kills, 0)}; converged once the faults were cleared: ${runs.filter((r) => r.converged).length} (${runs.filter((r) => r.exitCode === 0).length} at once)`,
    `  client writes acknowledged during the runs (${CHAOS_TRAFFIC}/s): ${runs.reduce((s, r) => s + r.acknowledged, 0)}, none may be lost`,
    `  entries orphaned at a failover before the incident and left behind (OpenMLDB's loss, not counted as lost): ${runs.reduce((s, r) => s + r.orphaned, 0)} in ${runs.filter((r) => r.orphaned > 0).length} runs`,
    `  faults by kind: ${Object.entries(faults).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  for (const r of runs.filter((x) => !x.ok)) lines.push(`  VIOLATION ${r.scenario} seed ${r.seed}: ${r.violations.join('; ')}\n    reproduce: ${reproduce(r.scenario, r.seed)}`);
  return lines.join('\n');
}
