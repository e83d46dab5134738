// What a run record keeps: each change in full, reads tallied per method (calls per address,
// time, size, digest) with failed reads on their own line, phase changes rather than every
// progress line, the report once with untouched healthy partitions counted, not listed; and a
// run that changed nothing condensed to a few lines. `history show` renders it as it streams.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CommandLog, type CommandLogEntry } from '../../src/cluster/transport.js';
import { emptyTotals, type PartitionReport, type Report } from '../../src/engine/report.js';
import { RunRecord } from '../../src/history/record.js';
import { recordLines } from '../../src/history/record-file.js';
import type { RecordLine } from '../../src/history/record-lines.js';
import { expandReport, type RecordedReport } from '../../src/history/recorded-report.js';
import { Redactor } from '../../src/history/redact.js';
import { renderRun } from '../../src/history/render.js';
import { summarizeRun } from '../../src/history/store.js';
import { validRecord } from '../helpers/report.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function open(dryRun = false): { record: RunRecord; log: CommandLog; stateDir: string } {
  const stateDir = mkdtempSync(join(tmpdir(), 'record-test-'));
  dirs.push(stateDir);
  const record = RunRecord.open({
    stateDir,
    command: 'recover',
    dryRun,
    argv: ['recover'],
    options: { quiet: true },
    cluster: { zkCluster: '127.0.0.1:2181', zkRootPath: '/openmldb' },
    connection: { bin: '/usr/bin/openmldb', user: 'root', passwordFrom: 'none' },
    version: 'test',
    retention: { keep: 10, maxBytes: 0, maxAgeMs: 0 },
    redactor: new Redactor('root', ''),
  });
  const log = new CommandLog();
  record.attach(log);
  return { record, log, stateDir };
}

const http = (command: string, target: string, output: string, e: Partial<CommandLogEntry> = {}): Omit<CommandLogEntry, 'seq'> => ({
  kind: 'http',
  role: command.startsWith('NameServer') ? 'ns' : 'tablet',
  target,
  command,
  request: '{}',
  startedAt: new Date().toISOString(),
  durationMs: 5,
  output,
  httpStatus: 200,
  mutating: false,
  ...e,
});

const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RecordLine);

function partition(pid: number, status: PartitionReport['status'], touched: boolean): PartitionReport {
  const command = `updatetablealive t0 ${pid} 127.0.0.1:10921 yes`;
  return {
    pid,
    status,
    reason: touched ? 'leader chosen' : 'healthy',
    evidence: [],
    atStake: 0,
    plan: touched ? [command] : [],
    actions: touched ? [{ step: 'set-alive', command, result: 'ok', attempts: 1, durationMs: 3 }] : [],
    left: [],
    errors: [],
    problems: [],
  };
}

function report(partitions: PartitionReport[], extraTables = 0): Report {
  const totals = { ...emptyTotals(), tables: 1 + extraTables, partitions: partitions.length + extraTables * 4 };
  for (const p of partitions) totals[p.status]++;
  totals.healthy += extraTables * 4;
  const healthyTable = (i: number) => ({ db: 'demo_db', name: `h${i}`, tid: 10 + i, storageMode: 'kMemory', status: 'healthy' as const, partitions: [0, 1, 2, 3].map((pid) => partition(pid, 'healthy', false)) });
  return {
    schema: 'openmldb-recover/report@1',
    command: 'recover',
    ok: true,
    exitCode: 0,
    dryRun: false,
    startedAt: '',
    finishedAt: '',
    durationMs: 10,
    cluster: { zkCluster: '127.0.0.1:2181', zkRootPath: '/openmldb' },
    autoFailover: { before: true, after: true, switchedOff: true },
    totals,
    tables: [{ db: 'demo_db', name: 't0', tid: 1, storageMode: 'kMemory', status: 'recovered', partitions }, ...Array.from({ length: extraTables }, (_, i) => healthyTable(i))],
    errors: [],
  } as Report;
}

describe('run record', () => {
  it('keeps changes whole, tallies reads per method with a digest, keeps a failed read on its own', async () => {
    const { record, log, stateDir } = open();
    log.add(http('NameServer/ShowTable', '127.0.0.1:9527', '{"table_info":[1]}'));
    log.add(http('NameServer/ShowTable', '127.0.0.1:9527', '{"table_info":[2]}', { durationMs: 9 }));
    log.add(http('TabletServer/GetTableStatus', '127.0.0.1:10921', '{"all_table_status":[]}'));
    log.add(http('TabletServer/GetTableStatus', '127.0.0.1:10922', '', { error: 'connection refused', httpStatus: undefined }));
    log.add(http('NameServer/UpdateTableAliveStatus', '127.0.0.1:9527', '{"code":0,"msg":"ok"}', { mutating: true, request: '{"name":"t0","pid":0}' }));
    record.progress('step', 'partitions 1/4 done; demo_db.t0 pid 0 done');
    record.progress('step', 'partitions 2/4 done; demo_db.t0 pid 1 done'); // same phase, within 30 s: not recorded
    record.progress('step', 'verifying');
    record.report(report([partition(0, 'recovered', true)]));
    record.end(0);
    const got = lines(record.path);
    assert.deepEqual(got.map((l) => l.type), ['start', 'read-failed', 'command', 'reads', 'progress', 'progress', 'report', 'end']);
    validRecord(readFileSync(record.path, 'utf8'));
    const failed = got[1];
    assert.ok(failed?.type === 'read-failed' && failed.read.error === 'connection refused' && failed.read.target === '127.0.0.1:10922');
    const change = got[2];
    assert.ok(change?.type === 'command' && change.output === '{"code":0,"msg":"ok"}' && change.request === '{"name":"t0","pid":0}');
    const reads = got[3];
    assert.ok(reads?.type === 'reads');
    const showTable = reads.reads.find((g) => g.command === 'NameServer/ShowTable');
    const digest = createHash('sha256').update('{"table_info":[1]}\0{"table_info":[2]}\0').digest('hex');
    assert.deepEqual(showTable, { command: 'NameServer/ShowTable', calls: 2, targets: { '127.0.0.1:9527': 2 }, ms: 14, maxMs: 9, bytes: 36, sha256: digest });
    assert.deepEqual(got.filter((l) => l.type === 'progress').map((l) => l.type === 'progress' && l.text), ['partitions 1/4 done; demo_db.t0 pid 0 done', 'verifying']);
    const end = got.at(-1);
    assert.ok(end?.type === 'end' && end.changes === 1 && end.reads === 3 && end.summary === '1 partition: 1 recovered' && end.condensed === undefined, JSON.stringify(end));
    const summary = await summarizeRun(stateDir, record.id);
    assert.equal(summary?.commands, 1);
    assert.equal(summary?.reads, 3);
  });

  it('the report once: untouched healthy partitions counted, not listed; steps equal to the actions not repeated', () => {
    const { record } = open();
    record.report(report([partition(0, 'recovered', true), partition(1, 'healthy', false)], 3));
    record.end(1);
    const got = lines(record.path).find((l) => l.type === 'report');
    const r = (got?.type === 'report' ? got.report : undefined) as RecordedReport;
    assert.equal(r.tables.length, 1);
    assert.equal(r.tablesOmitted, 3);
    assert.equal(r.tables[0]?.healthyOmitted, 1);
    assert.deepEqual(r.tables[0]?.partitions.map((p) => [p.pid, p.plan]), [[0, undefined]]);
    assert.deepEqual(expandReport(r).tables[0]?.partitions[0]?.plan, ['updatetablealive t0 0 127.0.0.1:10921 yes']);
  });

  it('a run that changed nothing and ended OK is condensed: start, warnings, read totals, end', async () => {
    const { record, log, stateDir } = open();
    for (let i = 0; i < 300; i++) log.add(http('TabletServer/GetTableFollower', `127.0.0.1:1092${i % 4}`, '{"code":0}'));
    record.progress('info', 'cluster lock: local files');
    record.progress('warn', 'something worth a warning');
    record.report(report([], 40));
    record.end(0);
    const got = lines(record.path);
    assert.deepEqual(got.map((l) => l.type), ['start', 'progress', 'reads', 'end']);
    validRecord(readFileSync(record.path, 'utf8'));
    const end = got.at(-1);
    assert.ok(end?.type === 'end' && end.condensed === true && end.summary === '160 partitions: all healthy, nothing to do');
    assert.ok(readFileSync(record.path).length < 2048);
    const out: string[] = [];
    await renderRun(recordLines(record.path), (t) => void out.push(t));
    assert.match(out.join(''), /GetTableFollower: 300 calls, \d+ ms \(longest 5 ms\), 2\.9 KB\n.*160 partitions: all healthy, nothing to do \(changed nothing/);
    assert.equal((await summarizeRun(stateDir, record.id))?.reads, 300);
  });

  it('a dry run, or a run that did not end OK, is not condensed', () => {
    const dry = open(true);
    dry.log.add(http('NameServer/ShowTable', '127.0.0.1:9527', '{}'));
    dry.record.report({ ...report([partition(0, 'planned', true)]), dryRun: true });
    dry.record.end(0);
    assert.ok(lines(dry.record.path).some((l) => l.type === 'report'));
    const failed = open();
    failed.log.add(http('NameServer/ShowTable', '127.0.0.1:9527', '{}'));
    failed.record.end(3, 'no nameserver is registered');
    const end = lines(failed.record.path).at(-1);
    assert.ok(end?.type === 'end' && end.condensed === undefined && end.error === 'no nameserver is registered');
  });
});
