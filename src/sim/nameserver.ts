// Nameserver semantics (reference sections 3 and 5): the RPC methods the `openmldb`
// binary and HTTP clients call, with the real checks in the real order, and the
// offline/recover logic shared by those RPCs and by auto_failover.
import type { Dialect, Op, OpStatus, PartitionMeta, ReplicaMeta, TableMeta, TabletView } from './model.js';
import { INTERNAL_DBS, cloneTable } from './model.js';
import type { NewOp, OpEngine } from './ops.js';
import { DEFAULT_CONCURRENCY } from './ops.js';
import { type Json, type Status, bool, fail, num, obj, ok, str } from './rpc.js';

/** `name_server_task_max_concurrency`. */
const MAX_CONCURRENCY = 8;

export interface NsHost {
  readonly dialect: Dialect;
  readonly opEngine: OpEngine;
  autoFailover: boolean;
  readonly tables: TableMeta[];
  readonly databases: Set<string>;
  /** The leader nameserver's view of the tablets (only those seen since it started). */
  tabletViews(): Map<string, TabletView>;
  /** Address to show as real_endpoint when server names are used. */
  realEndpoint(endpoint: string): string | undefined;
  /** The nameserver rewrote the table's node in ZooKeeper (UpdateZkTableNode), carrying what it has in memory. */
  persistTable(table: TableMeta): void;
  persist(): void;
  /** Write config/auto_failover where the cluster keeps it, then hold it in memory; false (nothing changed) when the write failed. */
  writeAutoFailover(value: boolean): Promise<boolean>;
  /** UpdateZkTableNode, before the nameserver answers: false when ZooKeeper did not take it. */
  writeTableNode(table: TableMeta): Promise<boolean>;
  /** Hold the nameserver's metadata lock (OpenMLDB's mu_, metadata-lock.ts) across `fn`. */
  withMetadata<T>(fn: () => T | Promise<T>): Promise<T>;
  /** An op's node written to ZooKeeper (AddOPData), by a caller holding the lock. */
  writeOpNode(): Promise<void>;
}

export class NameserverService {
  constructor(private readonly host: NsHost) {}

  /** NS messages before v0.6.7 said "is not exist" (section 3). */
  private m(msg: string): string {
    return this.host.dialect === '2018' ? msg.replace('does not exist', 'is not exist') : msg;
  }

  private f(code: number, msg: string): Status {
    return fail(code, this.m(msg));
  }

  private findTable(db: string, name: string): TableMeta | undefined {
    return this.host.tables.find((t) => t.db === db && t.name === name);
  }

  /**
   * `fn` under the metadata lock, as OpenMLDB runs these calls under mu_: after every write
   * queued before it. Each op it creates writes its node (AddOPData) before the call answers.
   */
  private locked<T>(fn: () => T): Promise<T> {
    return this.host.withMetadata(async () => {
      const before = this.host.opEngine.ops.length;
      const result = fn();
      for (let i = this.host.opEngine.ops.length - before; i > 0; i--) await this.host.writeOpNode();
      return result;
    });
  }

  private healthy(endpoint: string): boolean {
    return this.host.tabletViews().get(endpoint)?.state === 'kHealthy';
  }

  // ---- read-only -------------------------------------------------------------------

  showTable(body: Json): Promise<Json> {
    return this.locked(() => this.showTableNow(body));
  }

  private showTableNow(body: Json): Json {
    const db = str(body, 'db') ?? '';
    const name = str(body, 'name');
    const showAll = bool(body, 'show_all') === true;
    const tables = this.host.tables
      .filter((t) => (showAll || t.db === '' || t.db === db) && (name === undefined || t.name === name))
      // Default-database tables first, then the requested database's, by name.
      .sort((a, b) => (a.db === b.db ? a.name.localeCompare(b.name) : a.db === '' ? -1 : b.db === '' ? 1 : a.db.localeCompare(b.db)));
    return { table_info: tables.map(tableJson), code: 0, msg: 'ok' };
  }

  showTablet(): Promise<Json> {
    return this.locked(() => this.showTabletNow());
  }

  private showTabletNow(): Json {
    const now = Date.now();
    const tablets = [...this.host.tabletViews().values()]
      .sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0))
      .map((v) => {
        const t: Json = { endpoint: v.endpoint, state: v.state, age: Math.max(0, now - v.changedAt) };
        const real = this.host.realEndpoint(v.endpoint);
        if (real !== undefined) t['real_endpoint'] = real;
        return t;
      });
    return { tablets, code: 0, msg: 'ok' };
  }

  showDatabase(): Json {
    const hidden = new Set<string>(INTERNAL_DBS);
    const db = [...this.host.databases].filter((d) => !hidden.has(d)).sort();
    return { code: 0, msg: 'ok', db };
  }

  useDatabase(body: Json): Status {
    const db = str(body, 'db') ?? '';
    return this.host.databases.has(db) ? ok() : fail(802, 'database not found');
  }

  confGet(): Json {
    return { code: 0, msg: 'ok', conf: [{ key: 'auto_failover', value: String(this.host.autoFailover) }] };
  }

  showOpStatus(body: Json): Promise<Json> {
    return this.locked(() => this.showOpStatusNow(body));
  }

  private showOpStatusNow(body: Json): Json {
    const db = str(body, 'db');
    const name = str(body, 'name');
    const pid = num(body, 'pid');
    const opId = num(body, 'op_id');
    const rows = this.host.opEngine.ops
      .filter(
        (o) =>
          (db === undefined || db === '' || o.db === db) &&
          (name === undefined || o.name === name) &&
          (pid === undefined || o.pid === pid) &&
          (opId === undefined || o.opId === opId),
      )
      .sort((a, b) => a.opId - b.opId)
      .map(opJson);
    const reply: Json = { code: 0, msg: 'ok' };
    if (rows.length > 0) reply['op_status'] = rows;
    return reply;
  }

  // ---- mutating ----------------------------------------------------------------------

  async confSet(body: Json): Promise<Status> {
    const conf = obj(body, 'conf') ?? {};
    const key = str(conf, 'key') ?? '';
    const value = (str(conf, 'value') ?? '').toLowerCase();
    if (key === '' || value === '' || key !== 'auto_failover' || (value !== 'true' && value !== 'false')) {
      return fail(307, this.host.dialect === '2018' ? 'invalid value' : 'invalid parameter');
    }
    // name_server_impl.cc ConfSet: ZooKeeper first; when that fails, 304 and nothing changed.
    // (OpenMLDB holds its mutex across the write, so a ConfGet meanwhile waits; here it
    // answers the old value: no kinder, nothing is lost either way.)
    if (!(await this.host.writeAutoFailover(value === 'true'))) return fail(304, 'set zk failed');
    this.host.persist();
    return ok();
  }

  async updateTableAliveStatus(body: Json): Promise<Status> {
    if (this.host.autoFailover) return fail(301, 'auto_failover is enabled');
    const endpoint = str(body, 'endpoint') ?? '';
    if (!this.host.tabletViews().has(endpoint)) return this.f(302, 'endpoint does not exist');
    const table = this.findTable(str(body, 'db') ?? '', str(body, 'name') ?? '');
    if (!table) return this.f(100, 'table does not exist');
    const pid = num(body, 'pid');
    const isAlive = bool(body, 'is_alive') ?? true;
    const matches = (partPid: number, r: { endpoint: string }) => (pid === undefined || partPid === pid) && r.endpoint === endpoint;
    if (!table.partitions.some((part) => part.replicas.some((r) => matches(part.pid, r)))) return fail(321, 'no pid has update');
    // name_server_impl.cc UpdateTableAliveStatus: the changed copy goes to ZooKeeper first
    // (UpdateZkTableNode); when that fails, 304 and the metadata in memory stays as it was.
    return this.host.withMetadata(async () => {
      const next = cloneTable(table);
      for (const part of next.partitions) for (const r of part.replicas) if (matches(part.pid, r)) r.isAlive = isAlive;
      if (!(await this.host.writeTableNode(next))) return fail(304, 'set zk failed');
      for (const part of table.partitions) for (const r of part.replicas) if (matches(part.pid, r)) r.isAlive = isAlive;
      return ok();
    });
  }

  recoverTable(body: Json): Promise<Status> {
    return this.locked(() => this.recoverTableNow(body));
  }

  private recoverTableNow(body: Json): Status {
    if (this.host.autoFailover) return fail(301, 'auto_failover is enabled');
    const endpoint = str(body, 'endpoint') ?? '';
    const view = this.host.tabletViews().get(endpoint);
    if (!view) return this.f(302, 'endpoint does not exist');
    if (view.state !== 'kHealthy') return fail(303, 'tablet is not healthy');
    const table = this.findTable(str(body, 'db') ?? '', str(body, 'name') ?? '');
    if (!table) return this.f(100, 'table does not exist');
    const pid = num(body, 'pid') ?? -1;
    const part = table.partitions.find((p) => p.pid === pid);
    const replica = part?.replicas.find((r) => r.endpoint === endpoint);
    if (replica?.isAlive) return fail(311, 'table is alive, need not recover');
    if (!part || !replica) return this.f(308, 'pid does not exist');
    // The op's creation result is ignored: "recover table ok" even when no op appears.
    this.createRecoverTableOp(table, part, replica, DEFAULT_CONCURRENCY);
    return ok();
  }

  changeLeader(body: Json): Promise<Status> {
    return this.locked(() => this.changeLeaderNow(body));
  }

  private changeLeaderNow(body: Json): Status {
    if (this.host.autoFailover) return fail(301, 'auto_failover is enabled');
    const table = this.findTable(str(body, 'db') ?? '', str(body, 'name') ?? '');
    if (!table) return this.f(100, 'table does not exist');
    const pid = num(body, 'pid') ?? -1;
    const part = table.partitions.find((p) => p.pid === pid);
    if (!part || pid > table.partitionNum - 1) return this.f(308, 'pid does not exist');
    if (part.replicas.length === 1) return fail(134, 'no follower');
    const candidate = str(body, 'candidate_leader');
    const hasAliveLeader = part.replicas.some((r) => r.isLeader && r.isAlive);
    if (hasAliveLeader && candidate === undefined) return fail(309, 'leader is alive');
    const followers = part.replicas.filter((r) => r.isAlive && !r.isLeader);
    if (followers.length === 0) return fail(310, 'no alive follower');
    const specific = candidate !== undefined && candidate !== 'auto' ? candidate : undefined;
    if (this.createChangeLeaderOp(table, part, specific, DEFAULT_CONCURRENCY) === 'failed') return fail(305, 'create op failed');
    return ok();
  }

  offlineEndpoint(body: Json): Promise<Status> {
    return this.locked(() => this.offlineEndpointNow(body));
  }

  private offlineEndpointNow(body: Json): Status {
    if (this.host.autoFailover) return fail(301, 'auto_failover is enabled');
    const concurrency = num(body, 'concurrency');
    if (concurrency !== undefined && concurrency > MAX_CONCURRENCY) return fail(307, 'invalid parameter');
    const endpoint = str(body, 'endpoint') ?? '';
    if (!this.host.tabletViews().has(endpoint)) return this.f(302, 'endpoint does not exist');
    this.offlineEndpointInternal(endpoint, concurrency ?? DEFAULT_CONCURRENCY);
    return ok();
  }

  recoverEndpoint(body: Json): Promise<Status> {
    return this.locked(() => this.recoverEndpointNow(body));
  }

  private recoverEndpointNow(body: Json): Status {
    if (this.host.autoFailover) return fail(301, 'auto_failover is enabled');
    const concurrency = num(body, 'concurrency');
    if (concurrency !== undefined && concurrency > MAX_CONCURRENCY) return fail(307, 'invalid parameter');
    const endpoint = str(body, 'endpoint') ?? '';
    const view = this.host.tabletViews().get(endpoint);
    if (!view) return this.f(302, 'endpoint does not exist');
    if (view.state !== 'kHealthy') return fail(303, 'tablet is not healthy');
    this.recoverEndpointInternal(endpoint, bool(body, 'need_restore') === true, concurrency ?? DEFAULT_CONCURRENCY);
    return ok();
  }

  cancelOp(body: Json): Status {
    if (this.host.autoFailover) return fail(301, 'auto_failover is enabled');
    const result = this.host.opEngine.cancel(num(body, 'op_id') ?? -1);
    if (result === 'not-found') return fail(312, 'op does not exist');
    if (result === 'bad-status') return fail(312, 'op status is not kDoing or kInited');
    return ok();
  }

  deleteOp(body: Json): Status {
    const opId = num(body, 'op_id');
    const status = str(body, 'status') as OpStatus | undefined;
    const db = str(body, 'db');
    const ops = this.host.opEngine.ops;
    let removed = 0;
    for (let i = ops.length - 1; i >= 0; i--) {
      const o = ops[i] as Op;
      const finished = o.status === 'kDone' || o.status === 'kFailed' || o.status === 'kCanceled';
      if (!finished) continue;
      if (opId !== undefined && o.opId !== opId) continue;
      if (status !== undefined && o.status !== status) continue;
      if (db !== undefined && db !== '' && o.db !== db) continue;
      ops.splice(i, 1);
      removed++;
    }
    if (opId !== undefined && removed === 0) return fail(312, 'op does not exist');
    this.host.persist();
    return ok();
  }

  // ---- shared by RPCs and auto_failover ----------------------------------------------

  /**
   * Automatic path (name_server_impl.cc UpdateEndpointTableAliveHandle): set the endpoint's
   * replicas' is_alive, skipping a partition whose alive count is one when marking not
   * alive; each table that changed is written to ZooKeeper.
   */
  updateEndpointTableAlive(endpoint: string, isAlive: boolean): void {
    for (const table of this.host.tables) {
      let changed = false;
      for (const part of table.partitions) {
        if (!isAlive && part.replicas.filter((x) => x.isAlive).length === 1) continue;
        for (const r of part.replicas) {
          if (r.endpoint !== endpoint) continue;
          r.isAlive = isAlive;
          changed = true;
        }
      }
      if (changed) this.host.persistTable(table);
    }
  }

  /** OfflineEndpointDBInternal. */
  offlineEndpointInternal(endpoint: string, concurrency: number): void {
    for (const table of this.host.tables) {
      for (const part of table.partitions) {
        const replica = part.replicas.find((r) => r.endpoint === endpoint);
        if (!replica) continue;
        if (part.replicas.length === 1) {
          this.create(table, part, endpoint, 'kUpdatePartitionStatusOP', concurrency, [
            { type: 'kUpdatePartitionStatus', endpoint, args: { isLeader: true, isAlive: false } },
          ]);
          continue;
        }
        const aliveLeader = part.replicas.find((r) => r.isLeader && r.isAlive);
        if (replica.isLeader || !aliveLeader) {
          if (!aliveLeader || aliveLeader.endpoint === endpoint) this.createChangeLeaderOp(table, part, undefined, concurrency);
        } else {
          this.create(table, part, endpoint, 'kOfflineReplicaOP', concurrency, [
            { type: 'kDelReplica', endpoint: aliveLeader.endpoint, args: { leader: aliveLeader.endpoint } },
            { type: 'kUpdatePartitionStatus', endpoint, args: { isLeader: false, isAlive: false } },
          ]);
        }
      }
    }
  }

  /** RecoverEndpointDBInternal. */
  recoverEndpointInternal(endpoint: string, needRestore: boolean, concurrency: number): void {
    for (const table of this.host.tables) {
      for (const part of table.partitions) {
        const replica = part.replicas.find((r) => r.endpoint === endpoint);
        if (!replica) continue;
        if (replica.isAlive && part.replicas.length > 1) continue;
        const wasLeader = replica.isLeader;
        // offset_delta = need_restore ? 0 : FLAGS_check_binlog_sync_progress_delta (name_server_impl.cc RecoverEndpointDBInternal).
        this.createRecoverTableOp(table, part, replica, concurrency, needRestore ? 0 : undefined);
        if (needRestore && wasLeader && part.replicas.length > 1) {
          const displaced = part.replicas.find((r) => r.isLeader && r.isAlive && r.endpoint !== endpoint);
          this.createChangeLeaderOp(table, part, endpoint, concurrency, true);
          if (displaced) this.create(table, part, displaced.endpoint, 'kRecoverTableOP', concurrency, [{ type: 'kRecoverTable', endpoint: displaced.endpoint }]);
        }
      }
    }
  }

  /** CreateRecoverTableOPTask; returns undefined when creation fails (silently, like the real one). */
  createRecoverTableOp(table: TableMeta, part: PartitionMeta, replica: ReplicaMeta, concurrency: number, offsetDelta?: number): Op | undefined {
    const recover = { type: 'kRecoverTable' as const, endpoint: replica.endpoint, ...(offsetDelta !== undefined ? { args: { offsetDelta } } : {}) };
    if (replica.isLeader) {
      return this.create(table, part, replica.endpoint, 'kRecoverTableOP', concurrency, [recover]);
    }
    const leader = part.replicas.find((r) => r.isLeader && r.isAlive);
    if (!leader) return undefined;
    return this.create(table, part, replica.endpoint, 'kRecoverTableOP', concurrency, [
      { type: 'kDelReplica', endpoint: leader.endpoint, args: { leader: leader.endpoint } },
      recover,
    ]);
  }

  /**
   * name_server_impl.cc CreateChangeLeaderOP: the followers asked by kSelectLeader are fixed
   * now (alive, not leader, on a healthy tablet; with need_restore the candidate too). No
   * follower: no op, but success.
   */
  private createChangeLeaderOp(table: TableMeta, part: PartitionMeta, candidate: string | undefined, concurrency: number, needRestore = false): Op | 'failed' | undefined {
    const followers = part.replicas.filter((r) => r.isAlive && !r.isLeader && this.healthy(r.endpoint)).map((r) => r.endpoint);
    if (needRestore && candidate !== undefined && !followers.includes(candidate)) followers.push(candidate);
    if (followers.length === 0) return undefined;
    if (candidate !== undefined && !followers.includes(candidate)) return 'failed';
    const target = candidate ?? part.replicas.find((r) => r.isLeader)?.endpoint ?? '';
    const args: Record<string, string> = { followers: followers.join(','), ...(candidate !== undefined ? { candidate } : {}) };
    return this.create(table, part, target, 'kChangeLeaderOP', concurrency, [
      { type: 'kSelectLeader', args },
      { type: 'kChangeLeader' },
      { type: 'kUpdateLeaderInfo' },
    ]);
  }

  private create(table: TableMeta, part: PartitionMeta, endpoint: string, opType: NewOp['opType'], concurrency: number, tasks: NewOp['tasks']): Op {
    return this.host.opEngine.create({ opType, db: table.db, name: table.name, pid: part.pid, endpoint, tasks, concurrency });
  }
}

export function tableJson(t: TableMeta): Json {
  return {
    name: t.name,
    seg_cnt: t.segCnt,
    table_partition: t.partitions.map((p) => ({
      pid: p.pid,
      partition_meta: p.replicas.map((r) => {
        const m: Json = { endpoint: r.endpoint, is_leader: r.isLeader, is_alive: r.isAlive };
        if (r.offset !== undefined) m['offset'] = r.offset;
        if (r.recordCnt !== undefined) m['record_cnt'] = r.recordCnt;
        if (r.recordByteSize !== undefined) m['record_byte_size'] = r.recordByteSize;
        m['tablet_has_partition'] = r.tabletHasPartition;
        if (r.diskused !== undefined) m['diskused'] = r.diskused;
        return m;
      }),
      term_offset: p.termOffset.map((x) => ({ term: x.term, offset: x.offset })),
      record_cnt: Math.max(0, ...p.replicas.map((r) => r.recordCnt ?? 0)),
      record_byte_size: Math.max(0, ...p.replicas.map((r) => r.recordByteSize ?? 0)),
      diskused: Math.max(0, ...p.replicas.map((r) => r.diskused ?? 0)),
    })),
    tid: t.tid,
    partition_num: t.partitionNum,
    replica_num: t.replicaNum,
    compress_type: 'kNoCompress',
    key_entry_max_height: 4,
    column_desc: [
      { name: 'id', data_type: 'kString' },
      { name: 'ts', data_type: 'kTimestamp' },
    ],
    column_key: [{ index_name: 'idx0', col_name: ['id'], ts_name: 'ts' }],
    db: t.db,
    storage_mode: t.storageMode,
    format_version: 1,
  };
}

function opJson(o: Op): Json {
  const task = o.status === 'kDoing' ? o.tasks[o.taskIndex]?.type : o.status === 'kFailed' || o.status === 'kCanceled' ? o.failedTask : undefined;
  return {
    op_id: o.opId,
    op_type: o.opType,
    name: o.name,
    pid: o.pid,
    status: o.status,
    start_time: o.startTime,
    end_time: o.endTime,
    task_type: task ?? '-',
    for_replica_cluster: 0,
    db: o.db,
  };
}
