// The run's report: what was found, what was done, what is left, and why. Rendered as a
// summary table for people or as JSON (schema: docs/report.schema.json) for machines.
import type { ServiceTimes } from './priority.js';
import type { StepRecord } from './apply.js';
import type { ClusterStepRecord } from './cluster-steps.js';

/** `1 partition`, `2 partitions`. */
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
import { type OrphanedTail, type PartitionPlan, describeOrphaned } from './procedure.js';

export const REPORT_SCHEMA = 'openmldb-recover/report@1';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export type PartitionStatus =
  /** Served before the run; nothing done. */
  | 'healthy'
  /** Not served before; served now. */
  | 'recovered'
  /** Not served after the run (the problems say why). */
  | 'failed'
  /** Not touched: recovering it would lose data (see atStake); --accept-data-loss allows it. */
  | 'refused'
  /** Not touched: no replica can be the leader (e.g. every replica's tablet is down). */
  | 'blocked'
  /** The run stopped (signal) before this partition was done. */
  | 'interrupted'
  /** --dry-run: what would be done. */
  | 'planned';

/** Per partition: its deciding plan's reason, leader choice, evidence, entries at stake and replicas left, and what happened. */
export interface PartitionReport extends Pick<PartitionPlan, 'reason' | 'leader' | 'evidence' | 'atStake' | 'atStakeUnknown' | 'orphaned' | 'left'> {
  pid: number;
  status: PartitionStatus;
  /** Refused: the commands that proceed, whole (as the run was invoked), each with what it does. */
  proceed?: Array<{ command: string; effect: string }>;
  /** The planned steps as runbook commands (dry run), or what was run. */
  plan: string[];
  actions: StepRecord[];
  errors: string[];
  problems: string[];
  /** Worth knowing, not wrong (e.g. an old failed op; a replica left not alive by design). */
  warnings?: string[];
  /** Recovered: when its work ended with it served (ms after the run began). */
  servedMs?: number;
}

export interface TableReport {
  db: string;
  name: string;
  tid: number;
  storageMode: string;
  status: 'healthy' | 'recovered' | 'failed' | 'planned';
  partitions: PartitionReport[];
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  command: string;
  ok: boolean;
  exitCode: number;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** `from`: where the address, root path and binary came from (flag, config, environment, default; set by the command layer). */
  cluster: { zkCluster: string; zkRootPath: string; leader?: string; from?: Record<'zkCluster' | 'zkRootPath' | 'bin', 'flag' | 'config' | 'environment' | 'default'> };
  /**
   * `owed`: it could not be put back; the journal stays and the next run restores it first (exit 5).
   * `inherited`: an earlier run died owing the restore; `found` is the value this run found
   * (`before` is the value to leave: from before that run, or, when someone changed it since,
   * the value found, and then `journal` is the value the dead run's journal held).
   * `foundOff`: off at the start with no journal explaining it; the run leaves it so unless
   * it switched it off itself (someone switched it on meanwhile: `before` is then true).
   */
  /** startRace: the nameserver ran with auto_failover on while ZooKeeper said off (failover-keeper.ts `raced`). */
  /** heldForPlan: left off at the end for the plan of that id (`plan`), until it is applied or abandoned. */
  autoFailover: { before?: boolean; after?: boolean; switchedOff: boolean; owed?: boolean; foundOff?: boolean; startRace?: boolean; heldForPlan?: string; inherited?: { found: boolean; journal?: boolean } };
  /** The cluster lock the run held (set by the command layer, commands/run-safety.ts). */
  lock?: { kind: 'zookeeper' | 'local'; path: string; why?: string; lost?: string };
  totals: Record<PartitionStatus, number> & { tables: number; partitions: number; entriesAtStake: number; entriesOrphaned: number };
  /** Cluster-wide runbook commands (offlineendpoint, recoverendpoint): run, or planned (dry run). */
  clusterSteps?: ClusterStepRecord[];
  tables: TableReport[];
  errors: string[];
  /** Where the run stopped when an error ended it early (restore-owed, observe, plan, apply, verify). */
  stoppedIn?: string;
  /** Transient failures retried: while observing, and by the steps. */
  retries?: { observe: number; steps: number };
  /** Per service class (priority.ts), when its first, median and last recovered partition was served. */
  service?: ServiceTimes[];
  /** A dry run's plan as a shell script (dry-run.ts): command lines to paste, `#` comments for what is decided later. */
  script?: string[];
}

export function emptyTotals(): Report['totals'] {
  return { tables: 0, partitions: 0, entriesAtStake: 0, entriesOrphaned: 0, healthy: 0, recovered: 0, failed: 0, refused: 0, blocked: 0, interrupted: 0, planned: 0 };
}

/** Entries of a partition's orphaned tails, each offset once: a tail copied to a second replica is one tail. */
function orphanedEntries(tails: OrphanedTail[]): number {
  let n = 0;
  let reached = 0;
  for (const t of [...tails].sort((a, b) => a.fromOffset - b.fromOffset)) {
    const from = Math.max(t.fromOffset, reached + 1);
    if (t.toOffset >= from) n += t.toOffset - from + 1;
    reached = Math.max(reached, t.toOffset);
  }
  return n;
}

export function tally(tables: TableReport[]): Report['totals'] {
  const t = emptyTotals();
  t.tables = tables.length;
  for (const table of tables) {
    for (const p of table.partitions) {
      t.partitions++;
      t[p.status]++;
      t.entriesAtStake += p.atStake;
      t.entriesOrphaned += orphanedEntries(p.orphaned ?? []);
    }
  }
  return t;
}

/** A command to paste: quoted for a POSIX shell where needed. */
export function commandLine(args: string[], invocation: string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['openmldb-recover', ...args, ...invocation].map(quote).join(' ');
}

/** Plain aligned columns (no dependency on OpenMLDB's own printer: this is our output). */
export function columns(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** What became of an orphaned tail, by how the partition ended. */
function orphanedFate(status: PartitionStatus, o: OrphanedTail): string {
  const bin = `OpenMLDB moves a rebuilt replica's old data to its tablet's recycle bin (with recycle_bin_enabled, the default, kept for recycle_ttl minutes, 0 = for ever): ${o.recycleBin}`;
  if (status === 'refused') return 'kept where it is: the partition was refused';
  if (status === 'planned') return `it would be rebuilt from term ${o.newerTerm}, as OpenMLDB would have; ${bin}`;
  if (status === 'recovered' || status === 'healthy') return `rebuilt from term ${o.newerTerm}, as OpenMLDB would have; ${bin}`;
  return `rebuilt from term ${o.newerTerm} once the partition is recovered; ${bin}`;
}

/** The outcome in one line: partitions and tables, then the count of each status (`proceed`: where the commands that proceed are printed). */
export function resultLine(r: Report, proceed = 'the commands above'): string {
  const t = r.totals;
  return (
    `${r.dryRun ? 'plan' : 'result'}: ${plural(t.partitions, 'partition')} in ${plural(t.tables, 'table')}: ` +
    [
      `${t.healthy} healthy`,
      t.recovered ? `${t.recovered} recovered` : '',
      t.planned ? `${t.planned} to recover` : '',
      t.failed ? `${t.failed} failed` : '',
      t.refused ? `${t.refused} refused (${t.entriesAtStake} entries at stake${r.tables.some((x) => x.partitions.some((p) => (p.proceed ?? []).length > 0)) ? `; ${proceed} proceed` : ''})` : '',
      t.blocked ? `${t.blocked} blocked` : '',
      t.interrupted ? `${t.interrupted} interrupted` : '',
    ]
      .filter(Boolean)
      .join(', ')
  );
}

export function renderReport(r: Report): string {
  const out: string[] = [];
  const rows: string[][] = [];
  let unlisted = 0;
  for (const t of r.tables) {
    for (const p of t.partitions) {
      // Big clusters stay readable: healthy partitions are counted, not listed.
      if (p.status === 'healthy' && r.tables.length * t.partitions.length > 40) {
        unlisted++;
        continue;
      }
      rows.push([
        `${t.db}.${t.name}`,
        String(p.pid),
        p.status,
        p.leader ? `${p.leader.endpoint} @${p.leader.offset}` : '-',
        p.atStakeUnknown ? (p.atStake > 0 ? `${p.atStake}+?` : 'unknown') : p.atStake > 0 ? String(p.atStake) : '-',
        p.status === 'healthy' ? '' : p.status === 'refused' || p.status === 'blocked' ? p.reason : (p.errors.at(-1) ?? p.problems[0] ?? p.reason),
      ]);
    }
  }
  out.push(columns(['table', 'pid', 'status', 'leader @offset', 'at stake', 'detail'], rows));
  if (unlisted > 0) out.push(`(${plural(unlisted, 'healthy partition')} not listed: --json lists every partition)`);
  const orphaned = r.tables.flatMap((t) => t.partitions.flatMap((p) => (p.orphaned ?? []).map((o) => ({ where: `${t.db}.${t.name} pid ${p.pid}`, status: p.status, o }))));
  if (orphaned.length > 0) {
    out.push('', 'orphaned at an earlier failover (OpenMLDB gave these up then; not lost by this run):');
    for (const { where, status, o } of orphaned) out.push(`  ${where}: ${describeOrphaned(o)}; ${orphanedFate(status, o)}`);
  }
  const ways = r.tables.flatMap((t) => t.partitions.flatMap((p) => (p.proceed ?? []).map((w) => ({ where: `${t.db}.${t.name} pid ${p.pid}`, w }))));
  if (ways.length > 0) {
    out.push('', 'to proceed where the run refused, run one of:');
    for (const { where, w } of ways) out.push(`  ${where}: ${w.effect}`, `    ${w.command}`);
  }
  for (const c of r.clusterSteps ?? []) {
    const failed = c.ops.filter((o) => o.status === 'kFailed' || o.status === 'kCanceled');
    out.push(`${c.result === 'planned' ? 'would run' : c.result}: ${c.command}${c.detail ? ` (${c.detail})` : ''}`);
    for (const o of failed) out.push(`    op ${o.opId} ${o.opType} ${o.table ?? '?'} pid ${o.pid ?? '?'} ${o.status}${o.task ? ` at ${o.task}` : ''}`);
  }
  out.push('', resultLine(r));
  const af = r.autoFailover;
  if (af.heldForPlan !== undefined) out.push(`auto_failover: ${af.before} -> false, held off while plan ${af.heldForPlan} is reviewed (apply it, or abandon it: openmldb-recover plan --abandon ${af.heldForPlan})`);
  else if (af.owed) out.push('auto_failover: STILL FALSE, must go back to true: run `openmldb-recover failover on` once the nameserver answers (the next run also does it first)');
  else if (af.inherited?.journal !== undefined) out.push(`auto_failover: ${af.inherited.found}, changed since an earlier run died (its journal held ${af.inherited.journal}): ${af.inherited.found} stands${af.switchedOff ? ` -> false during the run -> ${af.after}` : ''}`);
  else if (af.inherited) out.push(`auto_failover: ${af.inherited.found} as an earlier run left it -> ${af.after ?? '?'} (its value before that run)`);
  else if (af.foundOff && af.switchedOff) out.push(`auto_failover: false as found (no journal of this tool explained it), switched on meanwhile by someone else -> false during the run -> ${af.after}`);
  else if (af.foundOff) out.push(`auto_failover: false as found, with no journal of this tool explaining it (an operator's choice, or a run not sharing this run's lock): left as it was${af.after === true ? '; now true, switched on by someone else meanwhile' : ''}`);
  else if (af.before !== undefined && r.dryRun && af.before && r.totals.planned > 0) out.push(`auto_failover: true -> false during the run (confset auto_failover false) -> true (confset auto_failover true); the dry run changed nothing`);
  else if (af.before !== undefined) out.push(`auto_failover: ${af.before}${af.switchedOff ? ` -> false during the run -> ${af.after}` : ' (untouched)'}`);
  for (const c of r.service ?? []) {
    if (c.class === 'other' && (r.service ?? []).length === 1) continue;
    out.push(`served, ${c.class === 'system' ? 'system tables' : c.class === 'priority' ? '--priority tables' : 'other tables'}: ${c.partitions} partition${c.partitions === 1 ? '' : 's'}, first at ${seconds(c.firstMs)}, median ${seconds(c.medianMs)}, last ${seconds(c.lastMs)}`);
  }
  if (r.stoppedIn) out.push(`stopped early, while: ${r.stoppedIn}`);
  for (const e of r.errors) out.push(`error: ${e}`);
  out.push(`${r.ok ? 'OK' : 'NOT OK'} (exit ${r.exitCode}) in ${(r.durationMs / 1000).toFixed(1)}s`);
  return out.join('\n');
}
