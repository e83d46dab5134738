// `--role=sql_client` of the stand-in binary, reduced to what recovery tooling uses:
// the start-up table check (src/cmd/sql_cmd.h CheckAllTableStatus), `show table status
// [like '<pattern>']` (src/sdk/sql_cluster_router.cc ExecuteShowTableStatus,
// CheckTableStatus) and `use <db>`. Everything else answers `Error: ...`.
//
// The real SDK reads table metadata from ZooKeeper; the simulator's registry does not
// serve it, so the stand-in asks the nameserver (ShowTable show_all), as
// ExecuteShowTableStatus itself does.
import { formatTextTable } from '../../../openmldb/tprinter.js';
import type { CliEnv } from './cli-env.js';
import { BrpcChannel, callSt, codeOf, msgOf, statusOk } from './rpc.js';
import {
  type Json,
  STORAGE_MODE,
  TABLE_MODE,
  TABLE_STATE,
  arrField,
  boolField,
  enumField,
  numField,
  objField,
  out,
  println,
  strField,
} from './util.js';
import { openRegistry } from './zk.js';
import { INTERNAL_DBS } from '../../../openmldb/internal-dbs.js';
import { type Registry, host } from './host.js';

const LOGO =
  '  _____                    ______  _       _____   ______   \n' +
  ' / ___ \\                  |  ___ \\| |     (____ \\ (____  \\  \n' +
  '| |   | |____   ____ ____ | | _ | | |      _   \\ \\ ____)  ) \n' +
  '| |   | |  _ \\ / _  )  _ \\| || || | |     | |   | |  __  (  \n' +
  '| |___| | | | ( (/ /| | | | || || | |_____| |__/ /| |__)  ) \n' +
  ' \\_____/| ||_/ \\____)_| |_|_||_||_|_______)_____/ |______/  \n' +
  '        |_|                                                 \n';

const TABLE_STATUS_SCHEMA = [
  'Table_id',
  'Table_name',
  'Database_name',
  'Storage_type',
  'Rows',
  'Memory_data_size',
  'Disk_data_size',
  'Partition',
  'Partition_unalive',
  'Replica',
  'Offline_path',
  'Offline_format',
  'Offline_symbolic_paths',
  'Warnings',
];

const HIDDEN_DBS = new Set<string>(INTERNAL_DBS);
const K_NO_FOLLOWER = 134;
const K_CMD_ERROR = 2000;

interface SqlStatus {
  code: number;
  msg: string;
}

/** hybridse `like(name, pattern)` with the default escape `\`: `%` any run, `_` one char. */
export function sqlLike(name: string, pattern: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) {
      re += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$').test(name);
}

class SqlSession {
  db = '';
  private nsChannel: BrpcChannel | undefined;
  private nsLooked = false;
  /** Tablets registered under <root>/nodes: endpoint (name) -> channel. */
  readonly tablets = new Map<string, BrpcChannel>();

  constructor(
    readonly env: CliEnv,
    readonly zk: Registry,
  ) {}

  private get root(): string {
    return this.env.flags.str('zk_root_path');
  }

  private get timeout(): number {
    return this.env.flags.num('request_timeout_ms');
  }

  /** `ClusterSDK::GetRealEndpointFromZk`: sdkendpoints first, then server names. */
  private async realEndpoint(endpoint: string): Promise<string | undefined> {
    let real = '';
    const sdkPath = `${this.root}/map/sdkendpoints/${endpoint}`;
    if ((await this.zk.exists(sdkPath)) === 0) {
      const v = await this.zk.getValue(sdkPath);
      if (v === undefined) return undefined;
      real = v;
    }
    if (real === '') {
      const namePath = `${this.root}/map/names/${endpoint}`;
      if ((await this.zk.exists(namePath)) === 0) {
        const v = await this.zk.getValue(namePath);
        if (v === undefined) return undefined;
        real = v;
      }
    }
    return real;
  }

  /** `ClusterSDK::InitTabletClient`. */
  async initTablets(): Promise<boolean> {
    const nodes = await this.zk.getChildren(`${this.root}/nodes`);
    if (!nodes) return false;
    for (const node of nodes) {
      const ep = node.startsWith('NLTABLET_') ? node.slice('NLTABLET_'.length) : node;
      const real = await this.realEndpoint(ep);
      if (real === undefined) return false;
      const ch = new BrpcChannel(real === '' ? ep : real, this.timeout, 'sql_cluster_router.cc:4935');
      await ch.init();
      this.tablets.set(ep, ch);
    }
    return true;
  }

  /** `ClusterSDK::GetNsClient` (lazy): the NS leader from the registry. */
  async ns(): Promise<BrpcChannel | undefined> {
    if (this.nsLooked) return this.nsChannel;
    this.nsLooked = true;
    const leaderPath = `${this.root}/leader`;
    const children = await this.zk.getChildren(leaderPath);
    if (!children || children.length === 0) return undefined;
    const endpoint = await this.zk.getValue(`${leaderPath}/${children[0] as string}`);
    if (endpoint === undefined) return undefined;
    const real = await this.realEndpoint(endpoint);
    if (real === undefined) return undefined;
    const ch = new BrpcChannel(real === '' ? endpoint : real, this.timeout, 'ns_client.cc:40');
    if ((await ch.init()) < 0) return undefined;
    this.nsChannel = ch;
    return ch;
  }

  async nsEndpointForPrompt(): Promise<string> {
    const ch = await this.ns();
    return ch ? ch.address : '';
  }

  /** `NsClient::Use`. */
  async use(db: string): Promise<{ ok: boolean; msg: string }> {
    const ch = await this.ns();
    if (!ch) return { ok: false, msg: '' };
    const r = await ch.call('NameServer', 'UseDatabase', { db });
    if (!r.ok) return { ok: false, msg: '' };
    return { ok: codeOf(r.body) === 0, msg: msgOf(r.body) };
  }

  /** `ExecuteShowTableStatus(db, pattern)`. */
  async showTableStatus(db: string, pattern: string): Promise<{ st: SqlStatus; rows: string[][] }> {
    const ns = await this.ns();
    if (!ns) return { st: { code: K_CMD_ERROR, msg: 'no nameserver exist' }, rows: [] };
    const tr = await ns.call('NameServer', 'ShowTable', { db: '', show_all: true });
    const tables = tr.ok && codeOf(tr.body) === 0 ? arrField(tr.body, 'table_info') : [];

    // tid -> pid -> endpoint -> TableStatus
    const statuses = new Map<number, Map<number, Map<string, Json>>>();
    for (const [ep, ch] of this.tablets) {
      const { st, body } = await callSt(ch, 'TabletServer', 'GetTableStatus', {});
      if (!statusOk(st)) continue;
      for (const ts of arrField(body, 'all_table_status')) {
        const tid = numField(ts, 'tid') ?? 0;
        const pid = numField(ts, 'pid') ?? 0;
        let byPid = statuses.get(tid);
        if (!byPid) statuses.set(tid, (byPid = new Map()));
        let byEp = byPid.get(pid);
        if (!byEp) byPid.set(pid, (byEp = new Map()));
        byEp.set(ep, ts);
      }
    }

    const rows: string[][] = [];
    for (const t of [...tables].reverse()) {
      const tdb = strField(t, 'db') ?? '';
      if (pattern !== '') {
        if (!sqlLike(tdb, pattern)) continue;
      } else if (db !== '') {
        if (db !== tdb) continue;
      } else if (HIDDEN_DBS.has(tdb)) {
        continue;
      }
      const tid = numField(t, 'tid') ?? 0;
      const name = strField(t, 'name') ?? '';
      const mode = enumField(t, 'storage_mode', STORAGE_MODE) ?? 'kMemory';
      const storageType = mode.replace(/^k/, '').toLowerCase();
      let rowsCnt = 0;
      let mem = 0;
      let disk = 0;
      let unalive = 0;
      let warnings = '';
      for (const p of arrField(t, 'table_partition')) {
        rowsCnt += numField(p, 'record_cnt') ?? 0;
        mem += numField(p, 'record_byte_size') ?? 0;
        disk += numField(p, 'diskused') ?? 0;
        for (const m of arrField(p, 'partition_meta')) if (boolField(m, 'is_alive') === false) unalive++;
        warnings = await this.checkTableStatus(tid, p, statuses, warnings);
      }
      let offlinePath = 'NULL';
      let offlineFormat = 'NULL';
      let symbolic = 'NULL';
      const offline = objField(t, 'offline_table_info');
      if (offline) {
        offlinePath = strField(offline, 'path') ?? '';
        offlineFormat = strField(offline, 'format') ?? '';
        const paths = Array.isArray(offline['symbolic_paths']) ? (offline['symbolic_paths'] as unknown[]) : [];
        symbolic = paths.map((x) => String(x) + ',').join('');
      }
      rows.push([
        String(tid),
        name,
        tdb,
        storageType,
        String(rowsCnt),
        String(mem),
        String(disk),
        String(numField(t, 'partition_num') ?? 0),
        String(unalive),
        String(numField(t, 'replica_num') ?? 0),
        offlinePath,
        offlineFormat,
        symbolic,
        warnings,
      ]);
    }
    return { st: { code: 0, msg: 'ok' }, rows };
  }

  /** `SQLClusterRouter::CheckTableStatus` for one partition; returns the extended warnings. */
  private async checkTableStatus(tid: number, part: Json, statuses: Map<number, Map<number, Map<string, Json>>>, msgIn: string): Promise<string> {
    let msg = msgIn;
    const pid = numField(part, 'pid') ?? 0;
    const append = (isLeader: number, endpoint: string, error: string) => {
      msg += (msg === '' ? '' : '\n') + `[pid=${pid}]`;
      if (isLeader >= 0) msg += `[${isLeader === 1 ? 'leader' : 'follower'}]`;
      if (endpoint !== '') msg += `[${endpoint}]`;
      msg += `: ${error}`;
    };
    const metas = arrField(part, 'partition_meta');
    const partStatuses = statuses.get(tid)?.get(pid);
    if (partStatuses) {
      if (metas.length !== partStatuses.size) {
        append(-1, '', `real replica number ${partStatuses.size} does not match the configured replicanum ${metas.length}`);
      }
      for (const m of metas) {
        const ep = strField(m, 'endpoint') ?? '';
        const metaLeader = boolField(m, 'is_leader') === true;
        const ts = partStatuses.get(ep);
        if (!ts) {
          append(metaLeader ? 1 : 0, ep, 'state is kNotFound');
          continue;
        }
        const mode = enumField(ts, 'mode', TABLE_MODE);
        const isLeader = mode !== undefined ? mode === 'kTableLeader' : metaLeader;
        if (isLeader !== metaLeader) append(isLeader ? 1 : 0, ep, 'leader/follower mode inconsistent');
        const state = enumField(ts, 'state', TABLE_STATE) ?? 'kTableUndefined';
        if (state === 'kTableUndefined' || (isLeader && state === 'kTableLoading')) {
          append(isLeader ? 1 : 0, ep, `state is ${state}`);
        }
      }
    } else {
      append(-1, '', `real replica number 0 does not match the configured replicanum ${metas.length}`);
    }

    // the followers' connections, asked of the partition's routing leader
    let leader: BrpcChannel | undefined;
    for (const m of metas) {
      if (boolField(m, 'is_alive') === false) continue;
      const ch = this.tablets.get(strField(m, 'endpoint') ?? '');
      if (!ch) continue;
      if (boolField(m, 'is_leader') === true) leader = ch;
    }
    if (leader) {
      const { st, body } = await callSt(leader, 'TabletServer', 'GetTableFollower', { tid, pid });
      if (statusOk(st) || st.code === K_NO_FOLLOWER) {
        const followers = new Set(statusOk(st) ? arrField(body, 'follower_info').map((f) => strField(f, 'endpoint') ?? '') : []);
        for (const m of metas) {
          if (boolField(m, 'is_leader') === true) continue;
          const ep = strField(m, 'endpoint') ?? '';
          if (!followers.has(ep)) append(0, ep, 'not connected to leader');
        }
      } else {
        append(-1, '', `fail to get from tablet: ${st.msg}`);
      }
    }
    return msg;
  }
}

type Parsed = { kind: 'status'; pattern: string } | { kind: 'use'; db: string } | { kind: 'other' };

function parseSql(sql: string): Parsed {
  const s = sql.trim().replace(/;\s*$/, '').trim();
  const st = /^show\s+table\s+status(?:\s+like\s+(?:'([^']*)'|"([^"]*)"))?$/i.exec(s);
  if (st) return { kind: 'status', pattern: st[1] ?? st[2] ?? '' };
  const use = /^use\s+(?:`([^`]+)`|([A-Za-z_][A-Za-z0-9_]*))$/i.exec(s);
  if (use) return { kind: 'use', db: use[1] ?? use[2] ?? '' };
  return { kind: 'other' };
}

/** `ExecFetch` + `HandleSQL`: the text printed for one statement. */
async function handleSql(session: SqlSession, sql: string): Promise<void> {
  const p = parseSql(sql);
  if (p.kind === 'status') {
    const { st, rows } = await session.showTableStatus(session.db, p.pattern);
    if (st.code !== 0) {
      println(`Error: [${st.code}] ${st.msg}`);
      return;
    }
    out(formatTextTable(TABLE_STATUS_SCHEMA, rows) + '\n' + `${rows.length} rows in set\n`);
    return;
  }
  if (p.kind === 'use') {
    if (!(await session.ns())) {
      println(`Error: [${K_CMD_ERROR}] no nameserver exist`);
      return;
    }
    const r = await session.use(p.db);
    if (r.ok) {
      session.db = p.db;
      println('SUCCEED: Database changed');
    } else {
      println(`Error: [${K_CMD_ERROR}] Use database failed for ${r.msg}`);
    }
    return;
  }
  println(`Error: [${K_CMD_ERROR}] statement not supported by the simulated openmldb sql_client: ${sql.trim()}`);
}

/** `CheckAllTableStatus` before anything else. */
async function checkAllTableStatus(session: SqlSession): Promise<boolean> {
  const { st, rows } = await session.showTableStatus(session.db, '%');
  if (st.code !== 0) {
    println(`ERROR: fail to get all table status, [${st.code}] ${st.msg}`);
    return false;
  }
  let ok = true;
  for (const row of rows) {
    const table = row[1] ?? '';
    const db = row[2] ?? '';
    const pu = row[8] ?? '';
    const warnings = row[13] ?? '';
    let msg = `table ${db}.${table} is broken, \`show table status\` to check detail`;
    let broken = false;
    if (pu !== '0') {
      broken = true;
      msg += `, unalive partition: ${pu}`;
    }
    if (warnings !== '') {
      broken = true;
      msg += `, warning preview: ${Buffer.from(warnings, 'utf8').subarray(0, 100).toString('utf8')}`;
    }
    if (broken) {
      ok = false;
      println(`ERROR: ${msg}`);
    }
  }
  return ok;
}

/** `ClusterSQLClient`. */
export async function startSqlClient(env: CliEnv): Promise<void> {
  const { flags } = env;
  if (!flags.isDefault('user') && flags.isDefault('password')) {
    println('Please enter password:');
    if (!host().stdin?.isTTY) {
      // GetPassword: tcgetattr on a non-terminal stdin fails
      println('tcgetattr execute failed!');
      return;
    }
    await env.stdin.readLine('');
  }
  const zk = openRegistry(flags.str('zk_cluster'), flags.num('zk_session_timeout'));
  if (!(await zk.init())) {
    println('ERROR: Failed to connect to db');
    return;
  }
  const session = new SqlSession(env, zk);
  if (!(await session.initTablets())) {
    println('ERROR: Failed to connect to db');
    return;
  }
  if (!(await checkAllTableStatus(session))) {
    println('HINT: Use `openmldb_tool inspect` to get full report.');
  }
  const cmd = flags.str('cmd');
  if (cmd !== '') {
    const db = flags.str('database');
    await session.use(db);
    session.db = db;
    await handleSql(session, cmd);
    return;
  }
  if (flags.bool('interactive')) {
    println(LOGO);
    println(`v${env.version}`);
  }
  const nsEndpoint = await session.nsEndpointForPrompt();
  let sql = '';
  let multiLine = false;
  for (;;) {
    const prompt = `${nsEndpoint}/${session.db}> `;
    const line = await env.stdin.readLine(multiLine ? ' '.repeat(prompt.length - 3) + '-> ' : prompt);
    if (line === null) return;
    if (line === '' || line.startsWith('/')) continue;
    // StripStartingSpaceOfLastStmt
    const last = line.lastIndexOf(';');
    if (last >= 0 && !line.endsWith(';')) {
      sql += line.slice(0, last + 1) + line.slice(last + 1).replace(/^\s+/, '');
    } else {
      sql += line;
    }
    if (sql.endsWith(';')) {
      await handleSql(session, sql);
      sql = '';
      multiLine = false;
    } else {
      sql += '\n';
      multiLine = true;
    }
  }
}

/** `StandAloneSQLClient` (no role): not simulated beyond its argument check. */
export function startStandaloneSqlClient(env: CliEnv): void {
  println('client start in stand-alone mode');
  if (env.flags.str('host') === '' || env.flags.num('port') === 0) {
    println('ERROR: Host or port is missing');
    return;
  }
  println('ERROR: Failed to connect to db');
}
