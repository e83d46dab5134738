// `history` and `history show` stream a record, never read it whole: a 650 MB record written
// in the first format (before reads were tallied, every reply kept whole: a 1000-table
// recovery wrote more than the 512 MB a string may hold) is listed, shown and copied out,
// each in bounded memory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunSummary } from '../../src/history/store.js';
import { RECOVER_BIN, REPO } from '../helpers/sim.js';

const ID = '20251101-020000-000-recover-ab12';
const REPLY_BYTES = 1024 * 1024;
const REPLIES = 650;

/** `openmldb-recover ARGS` with stdout counted (not kept) unless `keep`, and the peak memory it used. */
function cli(stateDir: string, args: string[], keep = true): Promise<{ code: number | null; stdout: string; bytes: number; stderr: string; peakMb: number }> {
  const rusage = join(stateDir, `rusage-${args.join('-')}.json`);
  const child = spawn(process.execPath, ['--import', join(REPO, 'scripts/bench-rusage.mjs'), RECOVER_BIN, ...args, '--state-dir', stateDir], {
    env: { ...process.env, BENCH_RUSAGE_FILE: rusage },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let bytes = 0;
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    bytes += d.length;
    if (keep) stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const peakMb = (JSON.parse(readFileSync(rusage, 'utf8')) as { maxRssKb: number }).maxRssKb / 1024;
      resolve({ code, stdout, bytes, stderr, peakMb });
    }),
  );
}

describe('a run record larger than a string can hold', () => {
  let stateDir: string;
  let size = 0;

  before(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'history-large-'));
    mkdirSync(join(stateDir, 'runs'), { mode: 0o700 });
    const fd = openSync(join(stateDir, 'runs', `${ID}.jsonl`), 'w', 0o600);
    const put = (line: object | string) => {
      const text = `${typeof line === 'string' ? line : JSON.stringify(line)}\n`;
      size += writeSync(fd, text);
    };
    put({ type: 'start', schema: 'openmldb-recover/run-record@1', id: ID, at: '2025-11-01T02:00:00.000Z', command: 'recover', dryRun: false, argv: ['recover', '--quiet'], options: { quiet: true }, cluster: { zkCluster: 'zk1:2181', zkRootPath: '/openmldb' }, connection: { bin: '/opt/openmldb/bin/openmldb', user: 'root', passwordFrom: 'none' }, tool: { version: '0.1.0', pid: 4242, host: 'ops1' } });
    // One whole ShowTable reply per line, as the first format kept them.
    const reply = JSON.stringify(JSON.stringify({ table_info: [{ name: 't'.repeat(REPLY_BYTES - 40) }], code: 0 }));
    for (let seq = 1; seq <= REPLIES; seq++) {
      put(`{"type":"command","at":"2025-11-01T02:00:01.000Z","seq":${seq},"kind":"http","role":"ns","target":"10.0.0.1:7527","command":"NameServer/ShowTable","request":"{\\"db\\":\\"demo_db\\"}","startedAt":"2025-11-01T02:00:01.000Z","durationMs":12,"output":${reply},"httpStatus":200}`);
    }
    put({ type: 'command', at: '2025-11-01T02:09:00.000Z', seq: REPLIES + 1, kind: 'http', role: 'ns', target: '10.0.0.1:7527', command: 'NameServer/ConfSet', request: '{"conf":{"key":"auto_failover","value":"true"}}', startedAt: '2025-11-01T02:09:00.000Z', durationMs: 3, output: '{"code":0,"msg":"ok"}', httpStatus: 200 });
    put({ type: 'observation', at: '2025-11-01T02:10:00.000Z', observation: { autoFailover: true, tables: [] } });
    put({ type: 'plan', at: '2025-11-01T02:10:00.000Z', plan: { clusterSteps: [], partitions: [] } });
    put({ type: 'report', at: '2025-11-01T02:10:00.000Z', report: { totals: { tables: 1000, partitions: 8006, healthy: 6, recovered: 8000, planned: 0, failed: 0, refused: 0, blocked: 0, interrupted: 0, entriesAtStake: 0, entriesOrphaned: 0 } } });
    put({ type: 'end', at: '2025-11-01T02:10:00.000Z', exitCode: 0, durationMs: 600000 });
    closeSync(fd);
  });
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  it('is over 600 MB', () => {
    assert.ok(size > 600 * 1024 * 1024, `${size} bytes`);
  });

  it('history lists it, its summary read by streaming it once', async () => {
    const r = await cli(stateDir, ['history', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const [run] = JSON.parse(r.stdout) as RunSummary[];
    assert.equal(run?.id, ID);
    assert.equal(run?.summary, '8006 partitions: 8000 recovered');
    assert.equal(run?.commands, REPLIES + 1);
    assert.equal(run?.bytes, size);
    assert.ok(r.peakMb < 300, `peak ${r.peakMb.toFixed(0)} MB`);
  });

  it('history show prints it, each reply cut to a line of 1000 characters', async () => {
    const r = await cli(stateDir, ['history', 'show', ID]);
    assert.equal(r.code, 0, r.stderr);
    // (assert.ok, not match: a failure must not print megabytes)
    const has = (re: RegExp) => assert.ok(re.test(r.stdout), `history show printed nothing matching ${re}`);
    has(/^run 20251101-020000-000-recover-ab12: openmldb-recover recover --quiet\n/);
    assert.equal(r.stdout.match(/POST http:\/\/10\.0\.0\.1:7527\/NameServer\/ShowTable/g)?.length, REPLIES);
    has(/\.\.\. \(1047573 more characters\)\n/);
    has(/"recovered": 8000/);
    has(/ended 2025-11-01 02:10:00Z: exit 0 after 600\.0s\n$/);
    assert.ok(r.bytes < 5 * 1024 * 1024, `${r.bytes} bytes printed`);
    assert.ok(r.peakMb < 300, `peak ${r.peakMb.toFixed(0)} MB`);
  });

  it('history show --json copies it out as stored', async () => {
    const r = await cli(stateDir, ['history', 'show', ID, '--json'], false);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.bytes, size);
    assert.ok(r.peakMb < 300, `peak ${r.peakMb.toFixed(0)} MB`);
  });
});
