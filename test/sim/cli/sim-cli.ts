// Helpers for the tests of the stand-in `openmldb` binary against the simulator
// (openmldb-commands*.test.ts): run the cluster's own binary (DIR/bin/openmldb, built
// code), read the simulator's state, and check the printed table layouts.
import assert from 'node:assert/strict';
import { humanReadableString } from '../../../src/openmldb/tprinter.js';
import { loadFixture } from '../../helpers/fixtures.js';
import type { Sim } from '../../helpers/sim.js';
import { spawnCapture } from './run-cli.js';

export type Json = Record<string, unknown>;

export interface BinResult {
  stdout: string;
  stderr: string;
  /** Exit status; null when killed (`until`). */
  code: number | null;
  /** Wall time of the run. */
  ms: number;
}

export interface BinOptions {
  /** Written to stdin, then stdin is closed. Without it stdin is closed at once. */
  stdin?: string;
  /** Kill the process as soon as stdout satisfies this. */
  until?: (stdout: string) => boolean;
  env?: Record<string, string>;
}

/** Run the simulator's `bin/openmldb` (a shell wrapper that `exec`s node, so a kill reaches it). */
export function bin(sim: Sim, args: string[], opts: BinOptions = {}): Promise<BinResult> {
  // a safety net only: every run here ends by itself or through `until` long before
  return spawnCapture(sim.info.bin, args, { ...opts, killAfterMs: 40000 });
}

/** ns_client in ZooKeeper mode (prints `ns leader: ...` first). */
export function nsZk(sim: Sim, cmd: string, extra: string[] = [], opts: BinOptions = {}): Promise<BinResult> {
  return bin(sim, [`--zk_cluster=${sim.info.zkCluster}`, `--zk_root_path=${sim.info.zkRootPath}`, '--role=ns_client', '--interactive=false', ...extra, `--cmd=${cmd}`], opts);
}

/** ns_client talking to the current leader nameserver by `--endpoint`; its stdout. */
export async function ns(sim: Sim, cmd: string, extra: string[] = []): Promise<string> {
  const leader = await sim.leaderAddress();
  return (await bin(sim, [`--endpoint=${leader}`, '--role=ns_client', '--interactive=false', ...extra, `--cmd=${cmd}`])).stdout;
}

/** ns_client with `--database=db`; its stdout. */
export function nsDb(sim: Sim, db: string, cmd: string): Promise<string> {
  return ns(sim, cmd, [`--database=${db}`]);
}

/**
 * Several ns_client commands that print one line each, typed into one interactive session
 * (banner, `use DB`, the commands, `exit`): one process start instead of one per command.
 * Returns the line each command printed.
 */
export async function nsSession(sim: Sim, cmds: string[], db?: string): Promise<string[]> {
  const leader = await sim.leaderAddress();
  const input = [...(db !== undefined ? [`use ${db}`] : []), ...cmds, 'exit'];
  const r = await bin(sim, [`--endpoint=${leader}`, '--role=ns_client'], { stdin: input.join('\n') + '\n' });
  const out = r.stdout.split('\n');
  assert.match(out[0] ?? '', /^Welcome to openmldb with version \S+$/, r.stdout);
  let i = 1;
  if (db !== undefined) assert.equal(out[i++], `Use database: ${db}`);
  assert.deepEqual(out.slice(i + cmds.length), ['bye', ''], r.stdout);
  return out.slice(i, i + cmds.length);
}

/** Tablet client (`--role=client`) on a tablet's address. */
export function tabletCli(sim: Sim, address: string, cmd: string, opts: BinOptions = {}): Promise<BinResult> {
  return bin(sim, [`--endpoint=${address}`, '--role=client', '--interactive=false', `--cmd=${cmd}`], opts);
}

/** sql_client with `--cmd`. */
export function sql(sim: Sim, cmd: string, db: string): Promise<BinResult> {
  return bin(sim, ['--role=sql_client', `--zk_cluster=${sim.info.zkCluster}`, `--zk_root_path=${sim.info.zkRootPath}`, `--database=${db}`, '--interactive=false', `--cmd=${cmd}`]);
}

// ---- the simulator's state ---------------------------------------------------------

export interface ReplicaState {
  endpoint: string;
  isLeader: boolean;
  isAlive: boolean;
  offset?: number;
}
export interface TableState {
  tid: number;
  db: string;
  name: string;
  storageMode: string;
  partitions: Array<{ pid: number; replicas: ReplicaState[] }>;
}
export interface OpState {
  opId: number;
  opType: string;
  db: string;
  name: string;
  pid: number;
  status: string;
  startTime: number;
  endTime: number;
  taskIndex: number;
  tasks: Array<{ type: string }>;
  failedTask?: string;
  parentId?: number;
  endpoint: string;
}
export interface LoadedState {
  tid: number;
  pid: number;
  mode: string;
  state: string;
  offset: number;
  followers: string[];
}
export interface SimState {
  autoFailover: boolean;
  leader: string | null;
  dialect: string;
  nameservers: Array<{ endpoint: string; address: string; running: boolean; seq: number }>;
  tablets: Array<{ endpoint: string; address: string; running: boolean; view: string | null; loaded: LoadedState[] }>;
  tables: TableState[];
  ops: OpState[];
}

export function state(sim: Sim): Promise<SimState> {
  return sim.ctl<SimState>('state');
}

export function table(s: SimState, db: string, name: string): TableState {
  const t = s.tables.find((x) => x.db === db && x.name === name);
  assert.ok(t, `table ${db}.${name}`);
  return t;
}

export function partition(s: SimState, db: string, name: string, pid: number): ReplicaState[] {
  const p = table(s, db, name).partitions.find((x) => x.pid === pid);
  assert.ok(p, `partition ${db}.${name} ${pid}`);
  return p.replicas;
}

export function leaderOf(replicas: ReplicaState[]): string {
  const l = replicas.find((r) => r.isLeader && r.isAlive);
  assert.ok(l, 'an alive leader');
  return l.endpoint;
}

export function followersOf(replicas: ReplicaState[]): string[] {
  return replicas.filter((r) => !r.isLeader).map((r) => r.endpoint);
}

export function tabletAddress(s: SimState, endpoint: string): string {
  const t = s.tablets.find((x) => x.endpoint === endpoint);
  assert.ok(t, `tablet ${endpoint}`);
  return t.address;
}

/** Mutating calls received after `since` (a mutation seq), as [method, body]. */
export async function sentSince(sim: Sim, since: number): Promise<Array<[string, unknown]>> {
  return (await sim.mutations(since)).map((m) => [m.method, m.body]);
}

export async function lastMutationSeq(sim: Sim): Promise<number> {
  const all = await sim.mutations(0);
  return all.length === 0 ? 0 : (all[all.length - 1]?.seq ?? 0);
}

// ---- TPrinter (fixtures INDEX "Table layouts"; reference section 2) ---------------

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * The text TPrinter prints, written from its description and independent of the
 * project's own formatter: column width = longest cell; every cell, the last one too,
 * is two spaces + the cell padded to the width; after the header a dash line of length
 * sum(width + 2) + 2; an empty cell is printed `-`.
 */
export function tprint(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(bytes(h), ...rows.map((r) => bytes(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => '  ' + (c === '' ? '-' : c) + ' '.repeat(Math.max(0, (widths[i] ?? 0) - bytes(c === '' ? '-' : c)))).join('') + '\n';
  return line(header) + '-'.repeat(widths.reduce((a, w) => a + w + 2, 0) + 2) + '\n' + rows.map(line).join('');
}

/**
 * Parse a TPrinter table, asserting its layout on the way: header cells at the column
 * starts, the dash line's length, every line exactly as long as the header line (trailing
 * padding), two spaces before every cell, each width the longest cell of its column.
 */
export function parseTPrinter(text: string): { header: string[]; rows: string[][] } {
  assert.ok(text.endsWith('\n'), `table text ends with a newline: ${JSON.stringify(text)}`);
  const lines = text.slice(0, -1).split('\n');
  const head = lines[0] ?? '';
  assert.ok(head.startsWith('  '), `header line starts with two spaces: ${JSON.stringify(head)}`);
  const header = head.trim().split(/ +/);
  const starts: number[] = [];
  let from = 0;
  for (const h of header) {
    const at = head.indexOf(h, from);
    starts.push(at);
    from = at + h.length;
  }
  const widths = starts.map((s, i) => (i + 1 < starts.length ? (starts[i + 1] as number) - 2 - s : head.length - s));
  header.forEach((h, i) => assert.equal(head.slice((starts[i] as number) - 2, starts[i]), '  ', `two spaces before header ${h}`));
  const total = widths.reduce((a, w) => a + w + 2, 0);
  assert.equal(head.length, total, 'header line padded to full width');
  assert.equal(lines[1], '-'.repeat(total + 2), 'dash line = sum(width + 2) + 2');
  const rows = lines.slice(2).map((l) => {
    assert.equal(bytes(l), total, `row padded to full width: ${JSON.stringify(l)}`);
    return starts.map((s, i) => {
      assert.equal(l.slice(s - 2, s), '  ', `two spaces before each cell: ${JSON.stringify(l)}`);
      const cell = l.slice(s, s + (widths[i] as number));
      assert.ok(!cell.startsWith(' '), `cell left-justified: ${JSON.stringify(l)}`);
      return cell.trimEnd();
    });
  });
  widths.forEach((w, i) => {
    const longest = Math.max(bytes(header[i] as string), ...rows.map((r) => bytes(r[i] as string)));
    assert.equal(w, longest, `column ${header[i]} as wide as its longest cell`);
  });
  return { header, rows };
}

// ---- the sql_client's framed result table (hybridse TextTable) ---------------------

/**
 * Parse `ruler, header, ruler, rows, ruler`, asserting the frame: every line as long as
 * the ruler, each cell ` value` padded to the column width and followed by a space, each
 * width the longest value + 2. A row whose first cell is empty continues the previous
 * row (multi-line Warnings); its cells are joined with "\n".
 */
export function parseTextTable(text: string): { header: string[]; rows: string[][]; rulers: string[] } {
  const lines = text.split('\n');
  const ruler = lines[0] ?? '';
  assert.match(ruler, /^ (-+ )+$/, 'ruler');
  const widths = ruler.trim().split(' ').map((d) => d.length);
  const cellsOf = (l: string): string[] => {
    assert.equal(bytes(l), bytes(ruler), `line as long as the ruler: ${JSON.stringify(l)}`);
    let pos = 1;
    return widths.map((w) => {
      const cell = l.slice(pos, pos + w);
      assert.equal(l[pos + w], ' ', 'a space after each cell');
      assert.equal(cell[0], ' ', 'a space before each value');
      pos += w + 1;
      return cell.slice(1).trimEnd();
    });
  };
  assert.equal(lines[2], ruler, 'ruler under the header');
  const header = cellsOf(lines[1] ?? '');
  const rows: string[][] = [];
  let i = 3;
  for (; i < lines.length && lines[i] !== ruler; i++) {
    const cells = cellsOf(lines[i] as string);
    const prev = rows[rows.length - 1];
    if (cells[0] === '' && prev) cells.forEach((c, k) => (prev[k] = c === '' ? (prev[k] as string) : `${prev[k] as string}\n${c}`));
    else rows.push(cells);
  }
  assert.equal(lines[i], ruler, 'closing ruler');
  widths.forEach((w, k) => {
    const longest = Math.max(...[header, ...rows].flatMap((r) => (r[k] as string).split('\n').map(bytes)));
    assert.equal(w, longest + 2, `column ${header[k]} = longest value + 2`);
  });
  return { header, rows, rulers: [lines[0] as string, lines[2] as string, lines[i] as string] };
}

// ---- fixtures -------------------------------------------------------------------------

/** The output lines of a transcript fixture (prompt lines `> ...` dropped). */
export function fixtureLines(file: string): string[] {
  return loadFixture(file)
    .body.split(/\r?\n/)
    .filter((l) => l !== '' && !l.startsWith('>'));
}

/** The single output line of an error/success fixture (files 065-079). */
export function fixtureLine(file: string): string {
  const lines = fixtureLines(file);
  assert.equal(lines.length, 1, `${file} holds one line`);
  return lines[0] as string;
}

/** NS messages since v0.6.7 say "does not exist" where older ones said "is not exist". */
export const modernized = (line: string): string => line.replace(/ is not exist$/, ' does not exist');

/** `%Y%m%d%H%M%S` in this process's local time zone (the binary inherits it). */
export function localTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p2(d.getMonth() + 1)}${p2(d.getDate())}${p2(d.getHours())}${p2(d.getMinutes())}${p2(d.getSeconds())}`;
}

/** Resolves once a TCP connection to `address` is refused (a stopped node closed its port). */
export async function waitClosed(sim: Sim, address: string): Promise<void> {
  await sim.waitFor(`${address} closed`, async () => {
    try {
      await fetch(`http://${address}/version`);
      return false;
    } catch {
      return true;
    }
  });
}

// ---- expected rows, from the simulator's RPC replies ---------------------------------

export const SHOWTABLE_HEADER = ['name', 'tid', 'pid', 'endpoint', 'role', 'is_alive', 'offset', 'record_cnt', 'memused', 'diskused'];
export const SHOWTABLE_HEADER_2018 = ['name', 'tid', 'pid', 'endpoint', 'role', 'ttl', 'is_alive', 'compress_type', 'offset', 'record_cnt', 'memused'];
export const GTS_HEADER = ['tid', 'pid', 'offset', 'mode', 'state', 'enable_expire', 'ttl', 'ttl_offset', 'memused', 'compress_type', 'skiplist_height'];
export const GTS_HEADER_2018 = GTS_HEADER.slice(0, -1);
export const OPS_HEADER = ['op_id', 'op_type', 'name', 'pid', 'status', 'start_time', 'execute_time', 'end_time', 'cur_task', 'for_replica_cluster'];
export const OPS_HEADER_2018 = OPS_HEADER.slice(0, -1);

const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const opt = (v: unknown, f: (x: number) => string = String): string => (typeof v === 'number' ? f(v) : '-');

/** showtable rows for a ShowTable reply's table_info (reference 3.4; 2018: the docs' layout). */
export function showtableRows(tableInfo: unknown, dialect: 'modern' | '2018' = 'modern'): string[][] {
  const rows: string[][] = [];
  for (const t of arr(tableInfo)) {
    for (const p of arr(t['table_partition'])) {
      for (const m of arr(p['partition_meta'])) {
        const common = [String(t['name']), String(t['tid']), String(p['pid']), String(m['endpoint']), m['is_leader'] === true ? 'leader' : 'follower'];
        const alive = m['is_alive'] === false ? 'no' : 'yes';
        const tail = [opt(m['offset']), opt(m['record_cnt']), opt(m['record_byte_size'], humanReadableString)];
        rows.push(dialect === '2018' ? [...common, '0min', alive, 'kNoCompress', ...tail] : [...common, alive, ...tail, humanReadableString(typeof m['diskused'] === 'number' ? m['diskused'] : 0)]);
      }
    }
  }
  return rows;
}

/** gettablestatus rows for a GetTableStatus reply (reference 3.15). */
export function tableStatusRows(reply: Json, dialect: 'modern' | '2018' = 'modern'): string[][] {
  return arr(reply['all_table_status']).map((s) => {
    const mem = (Number(s['record_byte_size'] ?? 0) || 0) + (Number(s['record_idx_byte_size'] ?? 0) || 0);
    const row = [String(s['tid']), String(s['pid']), String(s['offset'] ?? 0), String(s['mode']), String(s['state']), s['is_expire'] === true ? 'true' : 'false', '0min', '0s', humanReadableString(mem), 'kNoCompress'];
    if (dialect !== '2018') row.push(String(s['skiplist_height'] ?? 0));
    return row;
  });
}
