// `ops`: the nameserver's op list (showopstatus), filtered, as a table or JSON; with
// --wait, until none is kInited or kDoing (bounded), and whether any failed.
import { INTERNAL_DBS, type OpenMLDBClient } from '../cluster/client.js';
import { CommandError, UnknownTable } from '../cluster/errors.js';
import { retryTransient } from '../engine/retry.js';
import { type Op, type OpStatus, isUnfinished } from '../cluster/types.js';
import { EXIT } from '../exit-codes.js';
import { opLine, waitForOps } from '../engine/op-wait.js';
import type { Interrupt } from '../engine/interrupt.js';
import type { Progress } from '../engine/progress.js';
import { columns } from '../engine/report.js';

export interface OpsQuery {
  db?: string;
  table?: { db: string; name: string };
  /** Show only ops in this status (waiting and the failure verdict still see them all). */
  status?: OpStatus;
  /** Only ops with a higher id (e.g. the last id before a command ran). */
  since?: number;
}

export interface OpsOptions {
  wait: boolean;
  timeoutMs: number;
  retries: number;
  progress: Progress;
  interrupt: Interrupt;
  pollMs?: number;
}

export interface OpsReport {
  takenAt: string;
  query: OpsQuery;
  ops: Op[];
  /** Among the selected ops (status filter aside). */
  total: number;
  unfinished: number;
  failed: number;
  waited: boolean;
  timedOut: boolean;
  ok: boolean;
  exitCode: number;
}

/** A database or table that does not exist would just list nothing: say so instead. */
async function checkNames(client: OpenMLDBClient, q: OpsQuery): Promise<void> {
  const db = q.table?.db ?? q.db;
  if (db !== undefined) {
    const dbs = [...INTERNAL_DBS, ...(await client.showDb())];
    if (!dbs.includes(db)) throw new UnknownTable(db, undefined, dbs);
  }
  if (q.table !== undefined) {
    let rows;
    try {
      rows = await client.showTable(q.table.db, q.table.name);
    } catch (err) {
      if (err instanceof CommandError && err.kind === 'table_not_exist') rows = [];
      else throw err;
    }
    if (rows.length === 0) {
      const names = [...new Set((await client.showTable(q.table.db)).map((r) => r.name))];
      throw new UnknownTable(q.table.db, q.table.name, names);
    }
  }
}

export async function runOps(client: OpenMLDBClient, q: OpsQuery, o: OpsOptions): Promise<OpsReport> {
  const retry = <T>(fn: () => Promise<T>) => retryTransient('ops', fn, { retries: o.retries });
  await retry(() => checkNames(client, q));
  const list = (): Promise<Op[]> => {
    if (q.table) return client.showOpStatus(q.table.db, q.table.name);
    if (q.db !== undefined) return client.showOpStatus(q.db);
    return client.showOpStatus();
  };
  const selected = (op: Op) => q.since === undefined || op.opId > q.since;
  let ops: Op[];
  let timedOut = false;
  if (o.wait) {
    let last = -1;
    const w = await waitForOps(list, {
      select: selected,
      timeoutMs: o.timeoutMs,
      signal: o.interrupt.controller.signal,
      retries: o.retries,
      ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
      onPoll: (running) => {
        if (running.length === last) return;
        last = running.length;
        if (running.length > 0) o.progress.update(`waiting for ${running.length} ops: ${running.slice(0, 3).map(opLine).join('; ')}${running.length > 3 ? '; ...' : ''}`);
      },
    });
    ops = w.selected;
    timedOut = w.timedOut;
  } else {
    ops = (await retry(list)).filter(selected);
  }
  const unfinished = ops.filter(isUnfinished).length;
  const failed = ops.filter((op) => op.status === 'kFailed').length;
  let exitCode: number = EXIT.ok;
  if (o.interrupt.signal) exitCode = o.interrupt.exitCode;
  else if (o.wait && (timedOut || failed > 0)) exitCode = EXIT.notRecovered;
  return {
    takenAt: new Date().toISOString(),
    query: q,
    ops: q.status === undefined ? ops : ops.filter((op) => op.status === q.status),
    total: ops.length,
    unfinished,
    failed,
    waited: o.wait,
    timedOut,
    ok: exitCode === EXIT.ok,
    exitCode,
  };
}

export function renderOps(r: OpsReport, timeoutMs: number): string {
  const rows = r.ops.map((op) => [String(op.opId), op.opType, op.db ?? '-', op.table ?? '-', op.pid !== undefined ? String(op.pid) : '-', op.status, op.task ?? '-']);
  const out = [columns(['op_id', 'op_type', 'db', 'table', 'pid', 'status', 'task'], rows), ''];
  const counts = `${r.total} ops: ${r.unfinished} unfinished, ${r.failed} failed`;
  if (!r.waited) out.push(counts);
  else if (r.timedOut) out.push(`${counts}: still running after ${timeoutMs / 1000}s (exit ${r.exitCode})`);
  else if (r.exitCode !== EXIT.ok && r.unfinished > 0) out.push(`${counts}: stopped waiting (exit ${r.exitCode})`);
  else out.push(`${counts}: none running${r.failed > 0 ? '; some failed' : ''} (exit ${r.exitCode})`);
  return out.join('\n');
}
