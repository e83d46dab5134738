// The manual data recovery in reviewed steps (workflow/procedures/reviewed-plan.ts):
// `plan` probes and writes the decisions to a file, `apply PLAN_FILE` runs the approved
// ones on the cluster the plan was made on, `verify PLAN_FILE` checks them, and
// `plan --abandon ID` puts auto_failover back without applying anything.
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { Argv } from 'yargs';
import { openmldbCluster } from '../engine/openmldb.js';
import { type Report, tally } from '../engine/report.js';
import { observe } from '../engine/observe.js';
import { planRecovery } from '../workflow/procedures/recover-plan.js';
import {
  PLAN_SCHEMA,
  type PlanFile,
  applyProcedure,
  approved,
  differences,
  fingerprintDigest,
  invalidDecisions,
  planFile,
  plannedLeader,
  probeOnly,
  verifyPlan,
} from '../workflow/procedures/reviewed-plan.js';
import { defineCommand } from './args.js';
import { openClient, progressFor } from './common.js';
import { shellWord } from '../cluster/command-line.js';
import { EXIT, Refused, UsageError } from '../exit-codes.js';
import { connectionOptions, filterOptions, outputOptions, parallelOptions, refuseOrphanedOption, runOptions } from './options.js';
import { type RunContext, runProcedureCommand } from './procedure-command.js';
import { type RunSettings, filterOf, runSettingsOf, seconds } from './settings.js';
import { json, writeDocument } from './redact-output.js';

/** A plan's id: when it was made, and a few random characters (two plans in one second differ). */
function newPlanId(now: Date): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `plan-${t}-${randomBytes(2).toString('hex')}`;
}

/** Read and check a plan file: the schema, the fields apply relies on, decisions that mean something. */
export function readPlanFile(path: string): PlanFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`plan file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let f: Partial<PlanFile>;
  try {
    f = JSON.parse(text) as Partial<PlanFile>;
  } catch {
    throw new UsageError(`plan file ${path} is not valid JSON: was it cut or edited by hand? (check it with: python3 -m json.tool ${path})`);
  }
  if (f === null || typeof f !== 'object' || f.schema !== PLAN_SCHEMA || typeof f.id !== 'string' || !Array.isArray(f.partitions) || typeof f.cluster !== 'object' || f.cluster === null) {
    throw new UsageError(`plan file ${path} is not a plan of this tool (${PLAN_SCHEMA}): make one with openmldb-recover plan --out FILE`);
  }
  for (const [i, p] of f.partitions.entries()) {
    const fp = (p as { fingerprint?: { replicas?: unknown } } | null)?.fingerprint;
    if (p === null || typeof p !== 'object' || typeof p.db !== 'string' || typeof p.table !== 'string' || !Number.isInteger(p.pid) || !Array.isArray(fp?.replicas)) {
      throw new UsageError(`plan file ${path}: partition ${i + 1} is not one plan wrote (db, table, pid, fingerprint): make a new plan`);
    }
    const d = (p as { decision?: unknown }).decision as { action?: unknown; leader?: unknown; acceptDataLoss?: unknown } | undefined;
    const where = `${String(p.db)}.${String(p.table)} pid ${String(p.pid)}`;
    if (!d || (d.action !== 'apply' && d.action !== 'skip')) throw new UsageError(`plan file ${path}: ${where}: decision.action must be "apply" or "skip"`);
    if (d.leader !== undefined && typeof d.leader !== 'string') throw new UsageError(`plan file ${path}: ${where}: decision.leader must be an endpoint`);
    if (d.acceptDataLoss !== undefined && typeof d.acceptDataLoss !== 'boolean') throw new UsageError(`plan file ${path}: ${where}: decision.acceptDataLoss must be true or false`);
  }
  const plan = f as PlanFile;
  // Only decisions are the operator's to edit: what the plan read must be as it read it.
  if (fingerprintDigest(plan) !== plan.fingerprint) throw new UsageError(`plan file ${path}: its partitions' fingerprints were edited (only each decision may be): make a new plan`);
  const invalid = invalidDecisions(plan);
  if (invalid.length > 0) throw new UsageError(`plan file ${path}: ${invalid.join('; ')}`);
  return plan;
}

function planOptions<T>(y: Argv<T>) {
  return refuseOrphanedOption(runOptions(parallelOptions(filterOptions(outputOptions(connectionOptions(y))))))
    .option('out', { type: 'string', nargs: 1, describe: 'where to write the plan (JSON, docs/plan.schema.json); - for stdout (default: openmldb-recover-PLAN_ID.json here)' })
    .option('plan-hold', { type: 'number', default: 3600, describe: 'seconds other runs (cron) refuse to start while the plan waits (exit 4); after that one takes it over' })
    .option('abandon', { type: 'string', describe: 'PLAN_ID: drop the pending plan and put auto_failover back, applying nothing' });
}

export const planCommand = defineCommand({
  command: 'plan',
  describe: "probe every partition that needs it (marked not alive, loaded as followers, auto_failover off) and write each one's proposed recovery to a file to review, edit and apply",
  examples: [
    ['$0 plan --out plan.json', 'probe, then write the decisions; auto_failover stays off until apply or --abandon'],
    ['$0 plan --table demo_db.t1 --out -', 'one table; the plan on stdout'],
    ['$0 plan --abandon plan-20261207-101501-ab12', 'apply nothing: auto_failover back to its value before the plan'],
  ],
  builder: (y) => planOptions(y),
  handler: async (argv) => {
    const settings = withoutDryRun(runSettingsOf(argv));
    if (argv.abandon !== undefined) return abandon(settings, argv.abandon);
    const hold = seconds('plan-hold', argv['plan-hold']);
    if (argv.out === '-' && settings.output.json) throw new UsageError('--out - prints the plan on stdout: --json would print the report there too; write the plan to a file');
    const filter = filterOf(argv);
    const now = new Date();
    const id = newPlanId(now);
    const out = argv.out === '-' ? '-' : resolvePath(argv.out ?? `openmldb-recover-${id}.json`);
    // Before anything is taken or changed: a plan that cannot be written must not hold auto_failover off.
    if (out !== '-') checkWritable(out);
    const holdUntil = new Date(now.getTime() + hold * 1000).toISOString();
    const options = { acceptDataLoss: false, refuseOrphaned: argv['refuse-orphaned'] };
    return runProcedureCommand(settings, {
      command: 'plan',
      procedure: probeOnly(options),
      ...(filter ? { filter } : {}),
      hold: { id, since: now.toISOString(), holdUntil, file: out },
      reportToStderr: out === '-',
      // A plan pending (this operator's earlier one): this plan replaces it, keeping the value auto_failover had before it.
      beforeRun: async (ctx) => {
        const pending = ctx.safety?.keeper.foundPlan();
        if (pending) ctx.progress.warn(`plan ${pending.id} (pending since ${pending.since}) is replaced by this one, ${id}`);
        return { ownsPendingPlan: pending !== undefined };
      },
      afterRun: async (report, ctx) => {
        if (report.autoFailover.heldForPlan === id) {
          try {
            return await writePlan(report, ctx);
          } catch (err) {
            // No plan to review: auto_failover goes back (journal cleared) rather than held for nothing.
            const errors: string[] = [];
            const after = await ctx.safety?.keeper.restore(ctx.cluster, errors);
            report.autoFailover = { ...report.autoFailover, after: after ?? false, ...(errors.length > 0 ? { owed: true } : {}) };
            delete report.autoFailover.heldForPlan;
            throw err;
          }
        }
        return { lines: report.exitCode === EXIT.ok ? ['nothing to plan: every partition is served'] : [`no plan written: the probe did not finish (see above); auto_failover is back to ${String(report.autoFailover.after)}`] };
      },
    });

    /** The decisions written to the plan file, and the report made to say what the plan did. */
    async function writePlan(report: Report, ctx: RunContext): Promise<{ lines: string[] }> {
      // The decisions from a fresh look, now that every replica the probe loaded serves.
      const look = await observe(ctx.cluster, filter, { progress: ctx.progress });
      const plans = planRecovery(look, { ...options, now: Date.now() }, (k) => ctx.memory.partition(k)).partitions;
      const file = planFile({ id, createdAt: now.toISOString(), cluster: { zkCluster: report.cluster.zkCluster, zkRootPath: report.cluster.zkRootPath }, autoFailoverBefore: report.autoFailover.before ?? look.autoFailover, holdUntil }, look, plans);
      const text = `${JSON.stringify(file, null, 2)}\n`;
      if (out === '-') process.stdout.write(text);
      else writeFileSync(out, text, { mode: 0o600 });
      // The report says what the plan did: each partition in it is planned, not failed.
      for (const t of report.tables) {
        for (const p of t.partitions) {
          const pp = file.partitions.find((x) => x.db === t.db && x.table === t.name && x.pid === p.pid);
          if (!pp || p.status === 'healthy') continue;
          p.status = 'planned';
          p.reason = `plan ${id}: ${pp.proposal === 'apply' ? 'to apply' : pp.proposal}: ${pp.reason}`;
          p.problems = [];
        }
      }
      report.totals = { ...report.totals, ...tally(report.tables) };
      if (report.exitCode === EXIT.notRecovered && report.errors.length === 0) {
        report.exitCode = EXIT.ok;
        report.ok = true;
      }
      const count = (what: string) => file.partitions.filter((p) => p.proposal === what).length;
      return {
        lines: [
          '',
          `plan ${id}: ${file.partitions.length} partitions: ${count('apply')} to apply, ${count('refused')} refused, ${count('blocked')} blocked; written to ${out === '-' ? 'stdout' : out}`,
          ...file.partitions.slice(0, 20).map((p) => `  ${p.db}.${p.table} pid ${p.pid}: ${p.proposal}${p.leader ? `, leader ${p.leader.endpoint} @${p.leader.offset}` : ''}${p.atStake ? `, ${p.atStake} entries at stake` : ''}; decision ${p.decision.action}`),
          ...(file.partitions.length > 20 ? [`  (${file.partitions.length - 20} more in the file)`] : []),
          `review it (decision: apply or skip per partition; a refused one needs leader and acceptDataLoss), then: openmldb-recover apply ${out === '-' ? 'PLAN_FILE' : shellWord(out)}`,
          `auto_failover stays off until then; cron runs wait (exit 4) until ${holdUntil}; to drop it: openmldb-recover plan --abandon ${id}`,
        ],
      };
    }
  },
});

/** The settings of a run that has no --dry-run (a plan is itself the preview; apply and --abandon are what it previewed). */
function withoutDryRun(settings: RunSettings): RunSettings {
  return Object.freeze({ ...settings, dryRun: false, detailedExitcode: false });
}

/** The plan's file can be written: its directory exists and is writable, and it is not a directory. */
function checkWritable(path: string): void {
  try {
    if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`--out ${path} is a directory: name a file`);
    accessSync(dirname(path), fsConstants.W_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--out ${path} cannot be written (${(err as NodeJS.ErrnoException).code ?? String(err)}): nothing was changed`);
  }
}

/**
 * `plan --abandon ID`: the pending plan dropped, auto_failover back to its value before the
 * plan. Through the engine, as every run that puts auto_failover back: the fence first
 * (a leader whose tablet died during the review keeps its partition from the nameserver).
 */
async function abandon(settings: RunSettings, id: string): Promise<number> {
  return runProcedureCommand(settings, {
    command: 'plan-abandon',
    // Nothing to plan: the run only takes the pending plan's journal over and puts auto_failover back.
    procedure: () => ({ scope: (s) => ({ ...s, tables: [] }), plan: () => ({ partitions: [] }) }),
    beforeRun: async (ctx) => {
      const pending = ctx.safety?.keeper.foundPlan();
      if (pending?.id !== id) throw new Refused(pending ? `the pending plan is ${pending.id}, not ${id}: nothing was changed` : 'no plan is pending (applied, abandoned, or taken over by a later run): nothing was changed');
      return { ownsPendingPlan: true };
    },
    afterRun: async (report) => ({
      lines: report.autoFailover.owed ? [] : [`plan ${id} abandoned; auto_failover is ${String(report.autoFailover.after)}, as before the plan`],
    }),
  });
}

function applyOptions<T>(y: Argv<T>) {
  return refuseOrphanedOption(runOptions(parallelOptions(outputOptions(connectionOptions(y))))).positional('file', { type: 'string', describe: 'the plan file written by plan (edited or not)' });
}

export const applyCommand = defineCommand({
  command: 'apply <file>',
  describe: "run a reviewed plan's approved decisions, only on the cluster it was made on (refused, changing nothing, where the cluster moved since)",
  examples: [
    ['$0 apply plan.json', 'each partition whose decision is apply, with the planned (or named) leader; then auto_failover back on'],
  ],
  builder: (y) => applyOptions(y),
  handler: async (argv) => {
    const path = resolvePath(argv.file ?? '');
    const plan = readPlanFile(path);
    const settings = withoutDryRun(runSettingsOf(argv));
    const config = settings.connection;
    if (config.zkCluster !== plan.cluster.zkCluster || config.zkRootPath !== plan.cluster.zkRootPath) {
      throw new UsageError(`plan ${plan.id} was made on ${plan.cluster.zkCluster}${plan.cluster.zkRootPath}, not on ${config.zkCluster}${config.zkRootPath}: nothing was changed`);
    }
    const skipped = plan.partitions.filter((p) => p.decision.action === 'skip');
    return runProcedureCommand(settings, {
      command: 'apply',
      procedure: applyProcedure(plan, { refuseOrphaned: argv['refuse-orphaned'] }),
      beforeRun: async (ctx) => {
        const pending = ctx.safety?.keeper.foundPlan();
        if (pending?.id !== plan.id) {
          throw new Refused(`plan ${plan.id} is not pending (${pending ? `the pending plan is ${pending.id}` : `applied (openmldb-recover verify ${shellWord(path)} says), abandoned, or taken over by a later run since`}): nothing was changed; to recover what is left, make a new plan`);
        }
        const look = await observe(ctx.cluster, undefined, { progress: ctx.progress });
        const diffs = differences(plan, look, pending.applying === true);
        if (diffs.length > 0) {
          for (const d of diffs) ctx.progress.warn(d);
          throw new PlanChanged(`plan ${plan.id} no longer matches the cluster (${diffs.length} difference${diffs.length === 1 ? '' : 's'}${diffs.length > 0 ? `, the first: ${diffs[0]}` : ''}): nothing was changed; make a new plan (the pending one stays until then: openmldb-recover plan --abandon ${plan.id} drops it)`);
        }
        ctx.safety?.keeper.continuePlan(plan.id);
        return { ownsPendingPlan: true };
      },
      afterRun: async (report) => {
        const lines = ['', `plan ${plan.id}, planned -> done:`];
        for (const pp of approved(plan)) {
          const t = report.tables.find((x) => x.db === pp.db && x.name === pp.table);
          const p = t?.partitions.find((x) => x.pid === pp.pid);
          lines.push(`  ${pp.db}.${pp.table} pid ${pp.pid}: apply, leader ${plannedLeader(pp) ?? '?'} -> ${p ? `${p.status}${p.leader ? `, leader ${p.leader.endpoint}` : ''}` : 'not reported'}`);
        }
        for (const pp of skipped) lines.push(`  ${pp.db}.${pp.table} pid ${pp.pid}: skip -> left unserved (${pp.proposal} by the plan)`);
        if (skipped.length > 0) {
          report.errors.push(`${skipped.length} partition${skipped.length === 1 ? '' : 's'} skipped by the plan stay unserved: ${skipped.map((p) => `${p.db}.${p.table} pid ${p.pid}`).join(', ')}`);
          if (report.exitCode === EXIT.ok) {
            report.exitCode = EXIT.notRecovered;
            report.ok = false;
          }
        }
        return { lines };
      },
    });
  },
});

/** `apply` refused a plan the cluster moved away from (exit 2, nothing changed). */
export class PlanChanged extends Refused {}

function verifyOptions<T>(y: Argv<T>) {
  return outputOptions(connectionOptions(y)).positional('file', { type: 'string', describe: 'the plan file' });
}

export const verifyCommand = defineCommand({
  command: 'verify <file>',
  describe: "read-only: is each partition a plan approved served by its planned leader, every replica in step? (exit 0 yes, 1 no)",
  examples: [['$0 verify plan.json', 'after apply: one line per approved partition']],
  builder: (y) => verifyOptions(y),
  handler: async (argv) => {
    const plan = readPlanFile(resolvePath(argv.file ?? ''));
    const settings = runSettingsOf(argv);
    const config = settings.connection;
    if (config.zkCluster !== plan.cluster.zkCluster || config.zkRootPath !== plan.cluster.zkRootPath) {
      throw new UsageError(`plan ${plan.id} was made on ${plan.cluster.zkCluster}${plan.cluster.zkRootPath}, not on ${config.zkCluster}${config.zkRootPath}`);
    }
    const progress = progressFor(settings.output);
    const client = openClient(config, settings.output);
    let look;
    try {
      look = await observe(openmldbCluster(client), undefined, { progress });
    } finally {
      progress.stop();
    }
    const results = verifyPlan(plan, look);
    const ok = results.every((r) => r.ok);
    if (settings.output.json) writeDocument(process.stdout, json({ plan: plan.id, ok, partitions: results }));
    else process.stdout.write(`${results.map((r) => `${r.ok ? 'ok  ' : 'NOT '} ${r.partition}: ${r.detail}`).join('\n')}\nplan ${plan.id}: ${ok ? 'every approved partition is served by its planned leader' : 'NOT all served as planned'}\n`);
    return ok ? EXIT.ok : EXIT.notRecovered;
  },
});
