// The manual data recovery in reviewed steps: `plan` probes and writes the decisions (and
// holds auto_failover off for them), `apply` runs the approved ones only on the cluster the
// plan read, `verify` checks them; `plan --abandon` puts auto_failover back.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Report } from '../../src/engine/report.js';
import type { PlanFile } from '../../src/workflow/procedures/reviewed-plan.js';
import { report, statusDoc, validDoc } from '../helpers/report.js';
import { autoFailover, startRecover } from '../helpers/runs.js';
import { REPO, type Sim, recoverCli, startSim, withSim } from '../helpers/sim.js';
import { runPasted } from '../helpers/paste.js';

const SCENARIO = ['--no-system-tables', '--scenario', 'full-restart-after-failover', '--tables', '2', '--partitions', '2'];

async function makePlan(sim: Sim, extra: string[] = []): Promise<{ file: string; plan: PlanFile; code: number; stdout: string; stderr: string }> {
  const file = join(sim.dir, 'plan.json');
  const r = await recoverCli(sim, ['plan', '--out', file, ...extra]);
  const plan = validDoc<PlanFile>('plan', { stdout: readFileSync(file, 'utf8'), stderr: r.stderr, code: r.code });
  return { file, plan, ...r };
}

/**
 * Every partition's serving leader (alive in the metadata, leading and serving on its
 * tablet), named by its tablet's place in the simulator (two simulators of one seed differ
 * only in their ports).
 */
async function leaders(sim: Sim): Promise<Record<string, string | undefined>> {
  const order = (await sim.ctl<{ tablets: Array<{ endpoint: string }> }>('state')).tablets.map((t) => t.endpoint);
  const status = statusDoc(await recoverCli(sim, ['status', '--json']));
  const out: Record<string, string | undefined> = {};
  for (const t of status.tables) {
    for (const p of t.partitions) {
      const l = p.replicas.find((r) => r.role === 'leader' && r.alive && r.loaded?.mode === 'kTableLeader' && r.loaded.state === 'kTableNormal');
      out[`${t.db}.${t.name}:${p.pid}`] = l ? `tablet ${order.indexOf(l.endpoint)}` : undefined;
    }
  }
  return out;
}

describe('plan, apply, verify', () => {
  // Seeds 1-10: scripts/sweep-plan.ts.
  // That plan and apply choose the leaders recover chooses is scripts/sweep-plan.ts's to show
  // (10 seeds, two simulators each); here the leaders are the ones the plan proposed.
  it("the README's walk-through, as printed, on full-restart-after-failover seed 1: plan then apply (no edits) serves every partition by its planned leader; verify 0", async () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### In reviewed steps: `plan`, `apply`, `verify`'));
    const lines = (/```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '').trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ')[1]), ['plan', 'apply', 'verify'], 'the walk-through');
    await withSim([...SCENARIO, '--seed', '1'], async (sim) => {
      const env = { HOME: sim.dir, ...sim.env, XDG_STATE_HOME: sim.stateHome };
      const [plan, apply, verify] = lines as [string, string, string];
      const made = await runPasted(plan, env, 300_000, sim.dir);
      assert.equal(made.code, 0, made.stderr);
      const file = join(sim.dir, 'plan.json');
      const written = validDoc<PlanFile>('plan', { stdout: readFileSync(file, 'utf8'), stderr: '', code: 0 });
      assert.ok(written.partitions.length > 0 && written.partitions.every((p) => p.proposal === 'apply' && p.decision.action === 'apply'), JSON.stringify(written.partitions.map((p) => p.reason)));
      assert.match(made.stdout, /then: openmldb-recover apply \S+plan\.json/);
      assert.equal(await autoFailover(sim), false, 'held off for the review');
      assert.equal((await sim.check()).ok, false, 'nothing decided yet');

      // A cron recovery within the hold does not start: exit 4, naming the plan.
      const cron = await recoverCli(sim, ['recover']);
      assert.equal(cron.code, 4, cron.stderr);
      assert.match(cron.stderr, new RegExp(`plan ${written.id} is pending since .*openmldb-recover apply \\S+plan\\.json`));

      const applied = await runPasted(apply, env, 300_000, sim.dir);
      assert.equal(applied.code, 0, `${applied.stderr}\n${applied.stdout}`);
      assert.match(applied.stdout, new RegExp(`plan ${written.id}, planned -> done:`));
      assert.equal(await autoFailover(sim), true, 'back on after the apply');
      assert.deepEqual((await sim.check()).problems, []);
      const order = (await sim.ctl<{ tablets: Array<{ endpoint: string }> }>('state')).tablets.map((t) => t.endpoint);
      const planned = Object.fromEntries(written.partitions.map((p) => [`${p.db}.${p.table}:${p.pid}`, `tablet ${order.indexOf(p.leader?.endpoint ?? '')}`]));
      assert.deepEqual(await leaders(sim), planned, 'the planned leaders serve');
      const verified = await runPasted(verify, env, 300_000, sim.dir);
      assert.equal(verified.code, 0, verified.stdout);
      assert.match(verified.stdout, /every approved partition is served by its planned leader/);
    });
  });

  it('a cluster that moved since the plan (a tablet restarted) is refused, one line per difference, nothing changed; --abandon puts auto_failover back', async () => {
    await withSim([...SCENARIO, '--seed', '3'], async (sim) => {
      // A plan that could not be written must not hold anything: refused before the lock.
      const nowhere = await recoverCli(sim, ['plan', '--out', join(sim.dir, 'no-such-dir', 'plan.json')]);
      assert.equal(nowhere.code, 2, nowhere.stderr);
      assert.match(nowhere.stderr, /--out \S+plan\.json cannot be written \(ENOENT\): nothing was changed/);
      assert.deepEqual(await sim.mutations(), []);
      const made = await makePlan(sim);
      assert.equal(made.code, 0, made.stderr);
      // status says why auto_failover is off and nothing is served yet.
      const seen = await recoverCli(sim, ['status']);
      assert.equal(seen.code, 1);
      assert.match(seen.stdout, new RegExp(`^plan ${made.plan.id} pending since \\S+: auto_failover is held off until it is applied \\(openmldb-recover apply ${made.file.replace(/[.]/g, '\\.')}\\)`, 'm'));
      assert.equal(statusDoc(await recoverCli(sim, ['status', '--json'])).pendingPlan?.id, made.plan.id);
      const ep = made.plan.partitions[0]?.fingerprint.replicas[0]?.endpoint ?? '';
      await sim.ctl('tablet', { action: 'stop', endpoint: ep });
      await sim.ctl('tablet', { action: 'start', endpoint: ep, wait: true });
      const before = (await sim.mutations()).length;
      const refused = await recoverCli(sim, ['apply', made.file]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, new RegExp(`plan ${made.plan.id} no longer matches the cluster \\(\\d+ differences?, the first: .*${ep.replace(/[.]/g, '\\.')}.*nothing was changed`));
      const lines = refused.stderr.split('\n').filter((l) => / WARN .*replica .* was kTableFollower at offset \d+, now not loaded/.test(l));
      assert.ok(lines.length > 0, refused.stderr);
      assert.equal((await sim.mutations()).length, before, 'nothing changed');
      assert.equal(await autoFailover(sim), false, 'still held for the plan');

      // A new plan replaces the pending one (its value before the first plan kept); abandoning the old one is refused.
      const replaced = await makePlan(sim);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.match(replaced.stderr, new RegExp(`plan ${made.plan.id} \\(pending since \\S+\\) is replaced by this one, ${replaced.plan.id}`));
      assert.equal(replaced.plan.autoFailoverBefore, true);
      const old = await recoverCli(sim, ['plan', '--abandon', made.plan.id]);
      assert.equal(old.code, 2, old.stderr);
      assert.match(old.stderr, new RegExp(`the pending plan is ${replaced.plan.id}, not ${made.plan.id}`));
      const dropped = await recoverCli(sim, ['plan', '--abandon', replaced.plan.id]);
      assert.equal(dropped.code, 0, dropped.stderr);
      assert.match(dropped.stdout, new RegExp(`plan ${replaced.plan.id} abandoned; auto_failover is true`));
      assert.equal(await autoFailover(sim), true);
      assert.doesNotMatch((await recoverCli(sim, ['status'])).stdout, /pending since/, 'no plan pending');
      const gone = await recoverCli(sim, ['apply', made.file]);
      assert.equal(gone.code, 2);
      assert.match(gone.stderr, /is not pending/);
      // And recover then serves everything.
      assert.equal((await recoverCli(sim, ['recover'])).code, 0);
    });
  });

  it('a refused partition approved with a named leader and acceptDataLoss is applied; one left skip stays unserved and is named', async () => {
    // As test/cli/data-loss.test.ts: the best replica's tablet is down, so its partitions are refused.
    const sim = await startSim([...SCENARIO, '--diverged-tails', '0', '--seed', '9', '--heartbeat-timeout-ms', '300000']);
    try {
      const s = await sim.ctl<{ tablets: Array<{ endpoint: string }> }>('state');
      await sim.ctl('tablet', { action: 'stop', endpoint: s.tablets[0]?.endpoint });
      const made = await makePlan(sim);
      assert.equal(made.code, 0, made.stderr);
      const refused = made.plan.partitions.filter((p) => p.proposal === 'refused');
      assert.ok(refused.length >= 2, `two refused partitions: ${JSON.stringify(made.plan.partitions.map((p) => [p.pid, p.proposal, p.reason]))}`);
      const [take, skip] = refused as [PlanFile['partitions'][number], PlanFile['partitions'][number]];
      assert.equal(skip.decision.action, 'skip', 'refused: skip unless the operator decides');
      const down = s.tablets[0]?.endpoint;
      const leader = take.fingerprint.replicas.find((r) => r.endpoint !== down)?.endpoint ?? '';

      // Approving it without the loss accepted is refused, before anything is taken.
      take.decision = { action: 'apply', leader };
      writeFileSync(made.file, JSON.stringify(made.plan));
      const unaccepted = await recoverCli(sim, ['apply', made.file, '--json']);
      const ur = report(unaccepted);
      const tp = (r: Report) => r.tables.find((t) => t.db === take.db && t.name === take.table)?.partitions.find((p) => p.pid === take.pid);
      assert.equal(tp(ur)?.status, 'refused', 'the loss must be accepted in the decision');

      // That apply put auto_failover back and ended the plan: a new plan, approved with the loss accepted.
      const again = await makePlan(sim);
      const take2 = again.plan.partitions.find((p) => p.db === take.db && p.table === take.table && p.pid === take.pid);
      assert.ok(take2);
      take2.decision = { action: 'apply', leader, acceptDataLoss: true };
      writeFileSync(again.file, JSON.stringify(again.plan));
      const applied = await recoverCli(sim, ['apply', again.file, '--json']);
      const rep = report(applied);
      assert.equal(applied.code, 1, 'skipped partitions stay unserved');
      assert.equal(tp(rep)?.leader?.endpoint, leader);
      const order = (await sim.ctl<{ tablets: Array<{ endpoint: string }> }>('state')).tablets.map((t) => t.endpoint);
      assert.equal((await leaders(sim))[`${take.db}.${take.table}:${take.pid}`], `tablet ${order.indexOf(leader)}`, 'served by the named leader');
      assert.equal((await leaders(sim))[`${skip.db}.${skip.table}:${skip.pid}`], undefined, 'the skipped one stays unserved');
      assert.ok(rep.errors.some((e) => e.includes(`${skip.db}.${skip.table} pid ${skip.pid}`) && /skipped by the plan stay unserved/.test(e)), JSON.stringify(rep.errors));
      assert.equal(await autoFailover(sim), true);
    } finally {
      await sim.down();
    }
  });

  it('kill -9 during apply, then apply again with the same file: converges, auto_failover back on, nothing lost', async () => {
    await withSim([...SCENARIO, '--seed', '4', '--task-ms', '800'], async (sim) => {
      const made = await makePlan(sim);
      assert.equal(made.code, 0, made.stderr);
      const before = (await sim.mutations()).length;
      const run = startRecover(sim, [made.file], 'apply');
      await sim.waitFor('apply at work', async () => ((await sim.mutations()).length > before ? true : undefined));
      run.child.kill('SIGKILL');
      await run.done;
      assert.equal(await autoFailover(sim), false, 'the killed apply left it off');
      const again = await recoverCli(sim, ['apply', made.file, '--json']);
      const rep = report(again);
      assert.equal(again.code, 0, `${again.stderr}\n${JSON.stringify(rep.errors)}`);
      assert.equal(await autoFailover(sim), true);
      const check = await sim.check();
      assert.deepEqual(check.problems, []);
      assert.equal((await recoverCli(sim, ['verify', made.file])).code, 0);
    });
  });
});
