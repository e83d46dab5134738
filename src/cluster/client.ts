/**
 * Typed access to one OpenMLDB cluster. Each method runs exactly one command or RPC
 * (exceptions, each noted: a lazy address lookup, and the confirmation of answers the
 * binary makes ambiguous) and returns typed values or throws the errors of errors.ts.
 *
 * Endpoints vs addresses: nameserver metadata and ns_client commands use endpoints as
 * registered (server names when the cluster runs with use_name); every connection to a
 * tablet or nameserver (tablet client, HTTP) needs the real ip:port. Methods that
 * connect take either and map names through showtablet/showns `real_endpoint`.
 */
import { changeRoleBody, loadTableBody, loadTableCmd } from './command-line.js';
import { ClusterUnreachable, CommandError, type CommandTarget, type UnreachableReason } from './errors.js';
import {
  ageUpperBoundMs,
  classifyFailureLine,
  classifyResult,
  isTransient,
  CommandFailedError,
  logMessageOf,
  logMessages,
  nsLeaderOf,
  ParseError,
  parseConfGet,
  parseGetTableStatus,
  parseShowDb,
  parseShowNs,
  parseShowOpStatus,
  parseShowTable,
  parseShowTablet,
  resultLines,
  splitLines,
  type FailureKind,
  type MutatingCommand,
  type ShowTableRow,
  type TabletTableStatus,
} from './parse/index.js';
import { type CliOutput, Transport, type TransportMode, type TransportOptions } from './transport.js';
import type { Nameserver, Op, StorageMode, TableMode, Tablet, TermStart } from './types.js';

export type { ShowTableRow, TabletTableStatus };

/** The three system databases `showdb` hides (protocol reference section 10). */
export { INTERNAL_DBS } from '../openmldb/internal-dbs.js';


export interface ShowNsResult {
  /** Leader endpoint (as registered; a server name with use_name). */
  leader: string;
  nameservers: Nameserver[];
}

export interface ReplicaInfo {
  endpoint: string;
  isLeader: boolean;
  isAlive: boolean;
  offset?: number;
}

export interface PartitionInfo {
  pid: number;
  replicas: ReplicaInfo[];
  /** `term_offset`: each term and its first offset, oldest first. */
  terms: TermStart[];
}

/** What a leader's replicator says it has synced to each follower (GetTableFollower). */
export interface FollowerView {
  /** The leader's own offset. */
  offset: number;
  followers: Array<{ endpoint: string; offset: number }>;
}

export interface RoleChange {
  tid: number;
  pid: number;
  mode: TableMode;
  /** The term a new leader writes with. */
  term: number;
  /** Followers a new leader replicates to. */
  replicas: string[];
}

/** A table as HTTP `NameServer/ShowTable` describes it: what the CLI does not print. */
export interface TableInfo {
  db: string;
  name: string;
  tid: number;
  segCnt: number;
  storageMode: StorageMode;
  partitions: PartitionInfo[];
  /** Some index has a TTL (column_key ttl, or the old table-level ttl_desc / ttl): records expire, so record counts move by themselves. */
  expires?: boolean;
}

export interface TermPair {
  term: number;
  /** Loaded: the current offset; not loaded: the local snapshot's offset (0 if none). */
  offset: number;
  hasTable: boolean;
  isLeader: boolean;
}

export interface LoadSpec {
  name: string;
  tid: number;
  pid: number;
  segCnt: number;
  storageMode: StorageMode;
  mode: TableMode;
}

/** `started`: the tablet accepted the load (it continues in the background). */
export type LoadResult = 'started' | 'already-loaded';

/** Startup lines of ns_client that mean no nameserver can be reached (section 1.5). */
const UNREACHABLE: ReadonlyArray<readonly [RegExp, UnreachableReason]> = [
  [/^zk client init failed/, 'zookeeper'],
  [/^get children failed/, 'no-nameserver'],
  [/^get leader failed/, 'no-nameserver'],
  [/^client init failed/, 'nameserver'],
  [/^Start failed! not set endpoint/, 'zookeeper'],
];

export class OpenMLDBClient {
  readonly transport: Transport;
  /** Leader endpoint from the last `ns leader:` line or showns; undefined = ask again. */
  private leader: string | undefined;
  private readonly nsAddresses = new Map<string, string>();
  private readonly tabletAddresses = new Map<string, string>();
  private tabletsKnown = false;
  /**
   * Awaited before every command that changes the cluster; it rejects to stop them (the
   * run's lock is in doubt). `restore` marks auto_failover being switched back on, which
   * may go out even then: it only returns the cluster to its normal setting.
   */
  changeGate: ((restore: boolean) => Promise<void>) | undefined;
  /** The leader lookup in progress, shared by every call waiting for it. */
  private findingLeader: Promise<ShowNsResult> | undefined;

  constructor(transport: Transport | TransportOptions) {
    this.transport = transport instanceof Transport ? transport : new Transport(transport);
  }

  /** Everything with an HTTP method goes over HTTP (`--transport http`); else the binary where it can. */
  private get http(): boolean {
    return this.transport.mode === 'http';
  }

  get mode(): TransportMode {
    return this.transport.mode;
  }

  get log() {
    return this.transport.log;
  }

  // ---- nameserver: read-only --------------------------------------------------------

  /** `showns` (reads ZooKeeper only). Learns the leader and nameserver addresses. */
  async showNs(): Promise<ShowNsResult> {
    const out = await this.ns('showns');
    const parsed = this.parse('showns', () => parseShowNs(out));
    const nameservers: Nameserver[] = parsed.nameservers.map((n) => ({
      endpoint: n.endpoint,
      ...(n.realEndpoint !== undefined ? { realEndpoint: n.realEndpoint } : {}),
      role: n.role,
    }));
    for (const n of nameservers) this.nsAddresses.set(n.endpoint, n.realEndpoint ?? n.endpoint);
    const leader = parsed.leader ?? nameservers.find((n) => n.role === 'leader')?.endpoint;
    if (leader === undefined) {
      throw new ClusterUnreachable('no-nameserver', this.transport.zkWhere, 'showns lists no leader');
    }
    this.leader = leader;
    return { leader, nameservers };
  }

  /** `showtablet`: the leader's view of the tablets. Learns their real addresses. */
  async showTablet(): Promise<Tablet[]> {
    let tablets: Tablet[];
    if (this.http) {
      tablets = tabletsOf(await this.nsHttp('ShowTablet', {}), Date.now());
    } else {
      const out = await this.ns('showtablet');
      const now = Date.now();
      const rows = this.parse('showtablet', () => parseShowTablet(out));
      tablets = rows.map((r): Tablet => {
        const age = ageUpperBoundMs(r.age);
        return { endpoint: r.endpoint, address: r.realEndpoint ?? r.endpoint, state: r.state, ...(age !== undefined ? { changedAfter: now - age } : {}) };
      });
    }
    for (const t of tablets) this.tabletAddresses.set(t.endpoint, t.address);
    this.tabletsKnown = true;
    return tablets;
  }

  /**
   * HTTP `NameServer/ShowTablet`: when each tablet last registered or went offline, to the
   * millisecond (`showtablet` prints the age rounded down to its unit: `15s`, `7m`). A load
   * sent before that moment died with the tablet's previous process.
   */
  async tabletChanges(): Promise<Map<string, number>> {
    const now = Date.now();
    const reply = await this.nsHttp('ShowTablet', {});
    const out = new Map<string, number>();
    for (const t of Array.isArray(reply['tablets']) ? reply['tablets'] : []) {
      if (!isObj(t) || typeof t['endpoint'] !== 'string') continue;
      const age = num(t, 'age');
      if (age !== undefined) out.set(t['endpoint'], now - age);
    }
    return out;
  }

  /**
   * `showdb`: user databases (the internal ones are hidden, see INTERNAL_DBS). The CLI
   * prints an empty table when its RPC fails, so an empty answer is confirmed over HTTP
   * `ShowDatabase`, whose `code` tells the two apart.
   */
  async showDb(): Promise<string[]> {
    if (this.http) return stringArray((await this.nsHttp('ShowDatabase', {}))['db']);
    const out = await this.ns('showdb');
    const dbs = this.parse('showdb', () => parseShowDb(out));
    if (dbs.length > 0) return dbs;
    const reply = await this.nsHttp('ShowDatabase', {});
    return stringArray(reply['db']);
  }

  /** `showtable [name]` in `db`, parsed by header: one row per replica. */
  async showTable(db: string, name?: string): Promise<ShowTableRow[]> {
    const cmd = name === undefined ? 'showtable' : `showtable ${token(name, 'table name')}`;
    if (this.http) return showTableRows(await this.nsHttp('ShowTable', name === undefined ? { db } : { db, name }));
    const out = await this.ns(cmd, db);
    return this.parse(cmd, () => parseShowTable(out));
  }

  /**
   * HTTP `NameServer/ShowTable` for `db` on the leader: storage mode, seg_cnt and tid,
   * which the CLI does not print. Tables of the legacy default database `""` are
   * always included by the nameserver; each TableInfo carries its own db.
   */
  async tableInfo(db: string, name?: string): Promise<TableInfo[]> {
    const reply = await this.nsHttp('ShowTable', name === undefined ? { db } : { db, name: token(name, 'table name') });
    const raw = reply['table_info'];
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) throw new ParseError('NameServer/ShowTable', JSON.stringify(reply), 'table_info is not a list');
    return raw.map((t) => toTableInfo(t, reply));
  }

  /** `confget auto_failover` (the key is always passed: without it an RPC failure is undefined behaviour). */
  async confGet(): Promise<boolean> {
    if (this.http) {
      const reply = await this.nsHttp('ConfGet', {});
      const entry = (Array.isArray(reply['conf']) ? reply['conf'] : []).filter(isObj).find((c) => c['key'] === 'auto_failover');
      const value = String(entry?.['value'] ?? '').toLowerCase();
      if (value !== 'true' && value !== 'false') throw new ParseError('NameServer/ConfGet', JSON.stringify(reply), 'auto_failover is not listed as true or false');
      return value === 'true';
    }
    const out = await this.ns('confget auto_failover');
    return this.parse('confget', () => parseConfGet(out)).autoFailover;
  }

  /**
   * `showopstatus [table [pid]]`; with `db` only that database's ops, without it all
   * databases' (then `Op.db` is unknown: the CLI does not print it).
   */
  async showOpStatus(db?: string, table?: string, pid?: number): Promise<Op[]> {
    if (pid !== undefined && table === undefined) throw new TypeError('showOpStatus: a pid needs a table');
    if (table !== undefined && db === undefined) throw new TypeError('showOpStatus: a table needs its database');
    let cmd = 'showopstatus';
    if (table !== undefined) cmd += ` ${token(table, 'table name')}`;
    if (pid !== undefined) cmd += ` ${uint(pid, 'pid')}`;
    if (this.http) {
      const reply = await this.nsHttp('ShowOPStatus', { ...(db !== undefined ? { db } : {}), ...(table !== undefined ? { name: table } : {}), ...(pid !== undefined ? { pid } : {}) });
      return opsOf(reply, db);
    }
    const out = await this.ns(cmd, db);
    const rows = this.parse('showopstatus', () => parseShowOpStatus(out));
    return rows.map((r) => ({
      opId: r.opId,
      opType: r.opType,
      ...(db !== undefined ? { db } : {}),
      ...(r.name !== undefined ? { table: r.name } : {}),
      ...(r.pid !== undefined ? { pid: r.pid } : {}),
      status: r.status,
      ...(r.curTask !== undefined ? { task: r.curTask } : {}),
    }));
  }

  // ---- nameserver: mutating (each returns the success line) --------------------------

  async confSet(value: boolean): Promise<string> {
    await this.changeGate?.(value);
    if (this.http) return this.nsChange('ConfSet', { conf: { key: 'auto_failover', value: value ? 'true' : 'false' } }, 'set auto_failover ok');
    return this.mutate('confset', `confset auto_failover ${value ? 'true' : 'false'}`);
  }

  /** `updatetablealive <table> <pid|*> <endpoint> <yes|no>` (refused while auto_failover is on). */
  async updateTableAlive(db: string, table: string, pid: number | '*', endpoint: string, alive: boolean): Promise<string> {
    const p = pid === '*' ? '*' : uint(pid, 'pid');
    if (this.http) {
      // pid absent: every partition of the table on that endpoint (the CLI's `*`).
      const body = { db, name: token(table, 'table name'), endpoint: token(endpoint, 'endpoint'), is_alive: alive, ...(pid === '*' ? {} : { pid }) };
      return this.nsChange('UpdateTableAliveStatus', body, 'update ok');
    }
    return this.mutate('updatetablealive', `updatetablealive ${token(table, 'table name')} ${p} ${token(endpoint, 'endpoint')} ${alive ? 'yes' : 'no'}`, db);
  }

  /** `recovertable`: `recover table ok` only means "op queued" (maybe not even that, section 3.8). */
  async recoverTable(db: string, table: string, pid: number, endpoint: string): Promise<string> {
    if (this.http) return this.nsChange('RecoverTable', { db, name: token(table, 'table name'), pid: Number(uint(pid, 'pid')), endpoint: token(endpoint, 'endpoint') }, 'recover table ok');
    return this.mutate('recovertable', `recovertable ${token(table, 'table name')} ${uint(pid, 'pid')} ${token(endpoint, 'endpoint')}`, db);
  }

  /** `changeleader <table> <pid> [candidate|auto]`. */
  async changeLeader(db: string, table: string, pid: number, candidate?: string): Promise<string> {
    const c = candidate === undefined ? '' : ` ${token(candidate, 'candidate')}`;
    if (this.http) {
      const body = { db, name: token(table, 'table name'), pid: Number(uint(pid, 'pid')), ...(candidate !== undefined ? { candidate_leader: candidate } : {}) };
      return this.nsChange('ChangeLeader', body, 'change leader ok');
    }
    return this.mutate('changeleader', `changeleader ${token(table, 'table name')} ${uint(pid, 'pid')}${c}`, db);
  }

  async offlineEndpoint(endpoint: string, concurrency?: number): Promise<string> {
    const c = concurrency === undefined ? '' : ` ${positive(concurrency, 'concurrency')}`;
    if (this.http) return this.nsChange('OfflineEndpoint', { endpoint: token(endpoint, 'endpoint'), ...(concurrency !== undefined ? { concurrency } : {}) }, 'offline endpoint ok');
    return this.mutate('offlineendpoint', `offlineendpoint ${token(endpoint, 'endpoint')}${c}`);
  }

  async recoverEndpoint(endpoint: string, needRestore: boolean, concurrency?: number): Promise<string> {
    const c = concurrency === undefined ? '' : ` ${positive(concurrency, 'concurrency')}`;
    if (this.http) {
      const body = { endpoint: token(endpoint, 'endpoint'), need_restore: needRestore, ...(concurrency !== undefined ? { concurrency } : {}) };
      return this.nsChange('RecoverEndpoint', body, 'recover endpoint ok');
    }
    return this.mutate('recoverendpoint', `recoverendpoint ${token(endpoint, 'endpoint')} ${needRestore ? 'true' : 'false'}${c}`);
  }

  // ---- tablets -------------------------------------------------------------------------

  /**
   * Tablet `gettablestatus` (all loaded partitions), or `gettablestatus <tid> <pid>`.
   * An empty list means nothing (or not that partition) is loaded: the v0.8.4+ bogus
   * `0 0 ... kTableUndefined` row is dropped by matching tid/pid, and the old
   * `gettablestatus failed` of the tid/pid form is that version's "not loaded".
   */
  async getTableStatus(endpoint: string, tid?: number, pid?: number): Promise<TabletTableStatus[]> {
    if ((tid === undefined) !== (pid === undefined)) throw new TypeError('getTableStatus: give both tid and pid, or neither');
    const address = await this.addressOf(endpoint);
    const cmd = tid === undefined ? 'gettablestatus' : `gettablestatus ${uint(tid, 'tid')} ${uint(pid as number, 'pid')}`;
    if (this.http) {
      const reply = await this.transport.http('tablet', address, 'GetTableStatus', tid === undefined ? {} : { tid, pid });
      const { code, msg } = status(reply);
      if (code !== 0) {
        const kind = kindOf(msg);
        throw new CommandError('HTTP TabletServer/GetTableStatus', kind, `${msg} (code ${code})`, { role: 'tablet', endpoint: address }, { transient: isTransient(kind) });
      }
      const rows = tableStatusRows(reply);
      return tid === undefined ? rows : rows.filter((r) => r.tid === tid && r.pid === pid);
    }
    const out = withLogLines(await this.transport.tablet(address, cmd));
    const target: CommandTarget = { role: 'tablet', endpoint: address };
    const result = this.parse(cmd, () => parseGetTableStatus(out), target);
    if (!result.ok) {
      // <= v0.8.3 prints the bare line both for "not loaded" (tid/pid form) and for an
      // RPC failure; the all-partitions form never fails for "not loaded".
      const bare = result.message === 'gettablestatus failed';
      if (bare && tid !== undefined) return [];
      throw new CommandError(cmd, bare ? 'rpc' : result.kind, result.message, target, { transient: bare || result.transient, output: out });
    }
    if (tid === undefined) return [...result.rows];
    return result.rows.filter((r) => r.tid === tid && r.pid === pid);
  }

  /**
   * Load a partition on a tablet. Memory tables go through the CLI `loadtable`; SSD/HDD
   * tables over HTTP `TabletServer/LoadTable`, since the CLI cannot send a storage mode.
   * `already-loaded` is the tablet's `table already exists`.
   */
  async loadTable(endpoint: string, spec: LoadSpec): Promise<LoadResult> {
    const address = await this.addressOf(endpoint);
    await this.changeGate?.(false);
    const target: CommandTarget = { role: 'tablet', endpoint: address };
    if (spec.storageMode !== 'kMemory' || this.http) {
      const reply = await this.transport.http('tablet', address, 'LoadTable', loadTableBody(spec));
      const { code, msg } = status(reply);
      if (code === 0) return 'started';
      const kind = code === 101 ? 'table_already_exists' : kindOf(msg);
      if (kind === 'table_already_exists') return 'already-loaded';
      throw new CommandError('HTTP TabletServer/LoadTable', kind, `${msg} (code ${code})`, target, { transient: isTransient(kind), mutating: true });
    }
    token(spec.name, 'table name');
    uint(spec.tid, 'tid');
    uint(spec.pid, 'pid');
    positive(spec.segCnt, 'seg_cnt');
    const cmd = loadTableCmd(spec);
    const out = withLogLines(await this.transport.tablet(address, cmd));
    const r = classifyResult('loadtable', out);
    if (r.ok) return 'started';
    if (r.kind === 'table_already_exists') return 'already-loaded';
    if (r.kind === 'failed' && (r.message === '' || r.message === 'Fail to LoadTable')) {
      // <= v0.8.3 prints a bare `Fail to LoadTable` for every failure: ask whether the
      // partition is there (then it was "table already exists").
      const loaded = await this.getTableStatus(address, spec.tid, spec.pid);
      if (loaded.length > 0) return 'already-loaded';
    }
    throw new CommandError(cmd, r.kind, r.message, target, { transient: r.transient, mutating: true, output: out });
  }

  /** HTTP `TabletServer/GetTermPair`: read-only; for an unloaded partition the snapshot's term/offset. */
  async getTermPair(endpoint: string, tid: number, pid: number, storageMode: StorageMode): Promise<TermPair> {
    const address = await this.addressOf(endpoint);
    const reply = await this.transport.http('tablet', address, 'GetTermPair', { tid, pid, storage_mode: storageMode });
    const { code, msg } = status(reply);
    if (code !== 0) {
      const kind = kindOf(msg);
      throw new CommandError('HTTP TabletServer/GetTermPair', kind, `${msg} (code ${code})`, { role: 'tablet', endpoint: address }, { transient: isTransient(kind) });
    }
    return {
      term: num(reply, 'term') ?? 0,
      offset: num(reply, 'offset') ?? 0,
      hasTable: reply['has_table'] === true,
      isLeader: reply['is_leader'] === true,
    };
  }

  /**
   * HTTP `TabletServer/GetTableFollower` on a leader: its replicator's followers and their
   * synced offsets. `has no follower` (134) is an empty list, not an error.
   */
  async getTableFollower(endpoint: string, tid: number, pid: number): Promise<FollowerView> {
    const address = await this.addressOf(endpoint);
    const reply = await this.transport.http('tablet', address, 'GetTableFollower', { tid, pid });
    const { code, msg } = status(reply);
    if (code === 134) return { offset: num(reply, 'offset') ?? 0, followers: [] };
    if (code !== 0) {
      const kind = kindOf(msg);
      throw new CommandError('HTTP TabletServer/GetTableFollower', kind, `${msg} (code ${code})`, { role: 'tablet', endpoint: address }, { transient: isTransient(kind) });
    }
    const info = Array.isArray(reply['follower_info']) ? reply['follower_info'] : [];
    const followers = info.filter(isObj).map((f) => ({ endpoint: String(f['endpoint'] ?? ''), offset: num(f, 'offset') ?? 0 }));
    return { offset: num(reply, 'offset') ?? 0, followers };
  }

  /**
   * HTTP `TabletServer/ChangeRole`: make a loaded partition the leader (with a term and the
   * followers to replicate to) or a follower. The tablet client's `changerole` sends no
   * followers and prints only ok or not, so HTTP is used.
   */
  async changeRole(endpoint: string, change: RoleChange): Promise<void> {
    const address = await this.addressOf(endpoint);
    await this.changeGate?.(false);
    const reply = await this.transport.http('tablet', address, 'ChangeRole', changeRoleBody(change));
    const { code, msg } = status(reply);
    if (code === 0) return;
    const kind = code === 102 ? 'failed' : kindOf(msg);
    throw new CommandError('HTTP TabletServer/ChangeRole', kind, `${msg} (code ${code})`, { role: 'tablet', endpoint: address }, { transient: isTransient(kind), mutating: true });
  }

  /** Real ip:port of a tablet given by endpoint or server name (learns the map once if needed). */
  async addressOf(endpoint: string): Promise<string> {
    const known = this.tabletAddresses.get(endpoint);
    if (known !== undefined) return known;
    if (!this.tabletsKnown) {
      await this.showTablet();
      return this.tabletAddresses.get(endpoint) ?? endpoint;
    }
    return endpoint;
  }

  // ---- plumbing -------------------------------------------------------------------------

  /**
   * Run an ns_client command; start-up failures become ClusterUnreachable. Returns stdout
   * (with stderr's glog lines after it, see withLogLines).
   */
  private async ns(cmd: string, db?: string): Promise<string> {
    const out = withLogLines(await this.transport.ns(cmd, db));
    for (const line of splitLines(out)) {
      const leader = nsLeaderOf(line);
      if (leader !== undefined) this.leader = leader;
    }
    // Plain output first; a start-up failure that arrives only inside a log line counts too.
    for (const line of [...resultLines(out), ...logMessages(out)]) {
      for (const [re, reason] of UNREACHABLE) {
        if (re.test(line.trim())) {
          const where = reason === 'nameserver' ? (this.leader ?? this.transport.zkWhere) : this.transport.zkWhere;
          throw new ClusterUnreachable(reason, where, line.trim());
        }
      }
    }
    return out;
  }

  private nsTarget(): CommandTarget {
    return { role: 'ns', endpoint: this.leader ?? this.transport.zkWhere };
  }

  /** Run a parser; a failure message printed instead of the table becomes CommandError. */
  private parse<T>(cmd: string, fn: () => T, target?: CommandTarget): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof CommandFailedError) {
        const kind = err.kind as FailureKind;
        if (kind === 'not_leader') this.leader = undefined;
        throw new CommandError(cmd, kind, err.detail, target ?? this.nsTarget(), { transient: err.transient, output: err.text });
      }
      throw err;
    }
  }

  private async mutate(command: MutatingCommand, cmd: string, db?: string): Promise<string> {
    if (command !== 'confset') await this.changeGate?.(false);
    const out = await this.ns(cmd, db);
    const r = classifyResult(command, out);
    if (r.ok) return r.message;
    if (r.kind === 'not_leader') this.leader = undefined;
    throw new CommandError(cmd, r.kind, r.message, this.nsTarget(), { transient: r.transient, mutating: true, output: out });
  }

  /** A mutating nameserver call over HTTP; resolves to the line the binary would print on success. */
  private async nsChange(method: string, body: Record<string, unknown>, okLine: string): Promise<string> {
    // confSet passed the gate itself (switching auto_failover back on may go out when nothing else may).
    if (method !== 'ConfSet') await this.changeGate?.(false);
    await this.nsHttp(method, body, true);
    return okLine;
  }

  /** HTTP to the leader nameserver's real address; a non-zero `code` becomes CommandError. */
  private async nsHttp(method: string, body: Record<string, unknown>, mutating = false): Promise<Record<string, unknown>> {
    if (this.leader === undefined) {
      // Hundreds of calls may find the leader unknown at once (after a "not leader"): one showns for all.
      this.findingLeader ??= this.showNs().finally(() => {
        this.findingLeader = undefined;
      });
      await this.findingLeader;
    }
    const leader = this.leader as string;
    const address = this.nsAddresses.get(leader) ?? leader;
    let reply: Record<string, unknown>;
    try {
      reply = await this.transport.http('ns', address, method, body);
    } catch (err) {
      // The leader may have moved: look it up again next time.
      if (err instanceof CommandError && err.transient) this.leader = undefined;
      throw err;
    }
    const { code, msg } = status(reply);
    if (code === 0) return reply;
    const kind = KIND_BY_CODE[code] ?? kindOf(msg);
    if (kind === 'not_leader') this.leader = undefined;
    throw new CommandError(`HTTP NameServer/${method}`, kind, `${msg} (code ${code})`, { role: 'ns', endpoint: address }, { transient: isTransient(kind), mutating });
  }
}

// ---- helpers ------------------------------------------------------------------------------

/** OpenMLDB's base::ReturnCode values the nameserver answers with, as the binary's messages classify them. */
const KIND_BY_CODE: Readonly<Record<number, FailureKind>> = {
  100: 'table_not_exist',
  101: 'table_already_exists',
  134: 'no_follower',
  300: 'not_leader',
  301: 'auto_failover_enabled',
  302: 'endpoint_not_exist',
  303: 'tablet_not_healthy',
  305: 'create_op_failed',
  307: 'invalid_parameter',
  308: 'pid_not_exist',
  309: 'leader_alive',
  310: 'no_alive_follower',
  311: 'table_alive',
  312: 'op_state',
  321: 'no_pid_updated',
};

/** NameServer/ShowTablet as `showtablet` reads it. */
function tabletsOf(reply: Record<string, unknown>, now: number): Tablet[] {
  const out: Tablet[] = [];
  for (const t of Array.isArray(reply['tablets']) ? reply['tablets'] : []) {
    if (!isObj(t) || typeof t['endpoint'] !== 'string') throw new ParseError('NameServer/ShowTablet', JSON.stringify(reply), 'a tablet has no endpoint');
    const state = String(t['state'] ?? '');
    if (!/^k(?:Tablet)?(?:Healthy|Offline)$/.test(state)) throw new ParseError('NameServer/ShowTablet', JSON.stringify(reply), `tablet ${t['endpoint']} has state ${JSON.stringify(t['state'])}`);
    const real = typeof t['real_endpoint'] === 'string' && t['real_endpoint'] !== '' ? t['real_endpoint'] : undefined;
    const age = num(t, 'age');
    out.push({ endpoint: t['endpoint'], address: real ?? t['endpoint'], state: state.endsWith('Healthy') ? 'healthy' : 'offline', ...(age !== undefined ? { changedAfter: now - age } : {}) });
  }
  return out;
}

/** NameServer/ShowTable as `showtable` prints it: one row per replica. */
function showTableRows(reply: Record<string, unknown>): ShowTableRow[] {
  return rowsOf((Array.isArray(reply['table_info']) ? reply['table_info'] : []).map((t) => toTableInfo(t, reply)));
}

/** Tables as `showtable` prints them: one row per replica. */
export function rowsOf(infos: readonly TableInfo[]): ShowTableRow[] {
  const rows: ShowTableRow[] = [];
  for (const info of infos) {
    for (const p of info.partitions) {
      for (const r of p.replicas) {
        rows.push({ name: info.name, tid: info.tid, pid: p.pid, endpoint: r.endpoint, role: r.isLeader ? 'leader' : 'follower', isAlive: r.isAlive, ...(r.offset !== undefined ? { offset: r.offset } : {}) });
      }
    }
  }
  return rows;
}

const TABLE_MODES: ReadonlySet<string> = new Set(['kTableLeader', 'kTableFollower']);
const TABLE_STATES: ReadonlySet<string> = new Set(['kTableUndefined', 'kTableNormal', 'kTableLoading', 'kMakingSnapshot', 'kSnapshotPaused']);

/** TabletServer/GetTableStatus as `gettablestatus` prints it. */
function tableStatusRows(reply: Record<string, unknown>): TabletTableStatus[] {
  const fail = (reason: string): never => {
    throw new ParseError('TabletServer/GetTableStatus', JSON.stringify(reply), reason);
  };
  const rows: TabletTableStatus[] = [];
  for (const s of Array.isArray(reply['all_table_status']) ? reply['all_table_status'] : []) {
    if (!isObj(s)) return fail('a status is not an object');
    const tid = num(s, 'tid') ?? fail('a status has no tid');
    const pid = num(s, 'pid') ?? fail('a status has no pid');
    // proto defaults: mode kTableLeader, state kTableUndefined, offset 0
    const mode = String(s['mode'] ?? 'kTableLeader');
    const state = String(s['state'] ?? 'kTableUndefined');
    if (!TABLE_MODES.has(mode)) return fail(`${tid}/${pid} has mode ${mode}`);
    if (!TABLE_STATES.has(state)) return fail(`${tid}/${pid} has state ${state}`);
    const recordCnt = num(s, 'record_cnt');
    rows.push({ tid, pid, offset: num(s, 'offset') ?? 0, mode: mode as TabletTableStatus['mode'], state: state as TabletTableStatus['state'], ...(recordCnt !== undefined ? { recordCnt } : {}) });
  }
  return rows;
}

/** NameServer/ShowOPStatus as `showopstatus` prints it; each op names its database. */
function opsOf(reply: Record<string, unknown>, db: string | undefined): Op[] {
  const ops: Op[] = [];
  for (const o of Array.isArray(reply['op_status']) ? reply['op_status'] : []) {
    if (!isObj(o)) throw new ParseError('NameServer/ShowOPStatus', JSON.stringify(reply), 'an op is not an object');
    const opId = num(o, 'op_id');
    const st = o['status'];
    if (opId === undefined || (st !== 'kInited' && st !== 'kDoing' && st !== 'kDone' && st !== 'kFailed' && st !== 'kCanceled')) {
      throw new ParseError('NameServer/ShowOPStatus', JSON.stringify(o), 'an op has no op_id or an unknown status');
    }
    const opDb = typeof o['db'] === 'string' && o['db'] !== '' ? o['db'] : db;
    const pid = num(o, 'pid');
    const task = typeof o['task_type'] === 'string' && o['task_type'] !== '-' && o['task_type'] !== '' ? o['task_type'] : undefined;
    ops.push({
      opId,
      opType: String(o['op_type'] ?? ''),
      ...(opDb !== undefined ? { db: opDb } : {}),
      ...(typeof o['name'] === 'string' && o['name'] !== '' ? { table: o['name'] } : {}),
      ...(pid !== undefined ? { pid } : {}),
      status: st,
      ...(task !== undefined ? { task } : {}),
    });
  }
  return ops.sort((a, b) => a.opId - b.opId);
}

/**
 * stdout, followed by the glog lines of stderr. Parsers skip log lines, so they change
 * nothing when stdout holds a result; when it holds neither a result nor a failure, the
 * classifiers read their messages (an error logged instead of printed).
 */
function withLogLines(out: CliOutput): string {
  const logged = splitLines(out.stderr).filter((l) => logMessageOf(l) !== undefined);
  if (logged.length === 0) return out.stdout;
  const sep = out.stdout === '' || out.stdout.endsWith('\n') ? '' : '\n';
  return `${out.stdout}${sep}${logged.join('\n')}\n`;
}

function kindOf(msg: string): FailureKind {
  return classifyFailureLine(msg)?.kind ?? 'failed';
}

function status(reply: Record<string, unknown>): { code: number; msg: string } {
  const code = num(reply, 'code') ?? 0;
  const msg = typeof reply['msg'] === 'string' ? reply['msg'] : '';
  return { code, msg };
}

/** JSON number, or a numeric string (int64 may arrive quoted). */
function num(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const STORAGE_BY_NUMBER: Record<number, StorageMode> = { 1: 'kMemory', 2: 'kSSD', 3: 'kHDD' };

function toTableInfo(t: unknown, reply: Record<string, unknown>): TableInfo {
  const fail = (reason: string): never => {
    throw new ParseError('NameServer/ShowTable', JSON.stringify(reply), reason);
  };
  if (!isObj(t)) return fail('a table_info entry is not an object');
  const name = typeof t['name'] === 'string' ? t['name'] : fail('a table has no name');
  const tid = num(t, 'tid') ?? fail(`table ${name} has no tid`);
  // Absent = kMemory (proto default); kUnknown would load from the wrong directory.
  const rawMode = t['storage_mode'];
  let storageMode: StorageMode;
  if (rawMode === undefined) storageMode = 'kMemory';
  else if (rawMode === 'kMemory' || rawMode === 'kSSD' || rawMode === 'kHDD') storageMode = rawMode;
  else if (typeof rawMode === 'number' && STORAGE_BY_NUMBER[rawMode] !== undefined) storageMode = STORAGE_BY_NUMBER[rawMode];
  else return fail(`table ${name} has storage_mode ${JSON.stringify(rawMode)}`);
  const partitions: PartitionInfo[] = [];
  const rawParts = t['table_partition'];
  for (const p of Array.isArray(rawParts) ? rawParts : []) {
    if (!isObj(p)) return fail(`table ${name}: a partition is not an object`);
    const pid = num(p, 'pid') ?? fail(`table ${name}: a partition has no pid`);
    const replicas: ReplicaInfo[] = [];
    const metas = p['partition_meta'];
    for (const m of Array.isArray(metas) ? metas : []) {
      if (!isObj(m) || typeof m['endpoint'] !== 'string') return fail(`table ${name} pid ${pid}: a replica has no endpoint`);
      const offset = num(m, 'offset');
      replicas.push({
        endpoint: m['endpoint'],
        // proto defaults: is_leader false, is_alive true
        isLeader: m['is_leader'] === true,
        isAlive: m['is_alive'] !== false,
        ...(offset !== undefined ? { offset } : {}),
      });
    }
    const terms: TermStart[] = [];
    for (const x of Array.isArray(p['term_offset']) ? p['term_offset'] : []) {
      if (!isObj(x)) continue;
      const term = num(x, 'term');
      if (term !== undefined) terms.push({ term, offset: num(x, 'offset') ?? 0 });
    }
    partitions.push({ pid, replicas, terms });
  }
  return {
    db: typeof t['db'] === 'string' ? t['db'] : '',
    name,
    tid,
    // seg_cnt default in TableInfo is 8
    segCnt: num(t, 'seg_cnt') ?? 8,
    storageMode,
    partitions,
    ...(expires(t) ? { expires: true } : {}),
  };
}

/** A TTL anywhere in the table's definition (0 means never; a ttl reply without numbers counts as one). */
function expires(t: Record<string, unknown>): boolean {
  const ttl = (x: unknown): boolean => {
    if (typeof x === 'number') return x > 0;
    if (!isObj(x)) return false;
    return (num(x, 'abs_ttl') ?? 0) > 0 || (num(x, 'lat_ttl') ?? 0) > 0 || (num(x, 'ttl') ?? 0) > 0;
  };
  if (ttl(t['ttl_desc']) || ttl(t['ttl'])) return true;
  const keys = t['column_key'];
  return Array.isArray(keys) && keys.some((k) => isObj(k) && ttl(k['ttl']));
}

/** One CLI token: the binary splits `--cmd` on spaces and has no quoting. */
function token(value: string, what: string): string {
  if (value === '' || /\s/.test(value)) throw new TypeError(`${what} ${JSON.stringify(value)} cannot be passed to the openmldb binary (empty or contains whitespace)`);
  return value;
}

function uint(value: number, what: string): string {
  if (!Number.isInteger(value) || value < 0 || value > 4294967295) throw new TypeError(`${what} must be a uint32, got ${value}`);
  return String(value);
}

function positive(value: number, what: string): string {
  if (!Number.isInteger(value) || value <= 0) throw new TypeError(`${what} must be a positive integer, got ${value}`);
  return String(value);
}
