// The nameserver's operations (reference sections 5.4-5.6): ops wait in queues, only the
// head of each queue runs, its tasks run in order, a failed task fails the op. Child ops
// (created by kRecoverTable) go right behind their parent in the same queue.
import type { Rng } from './rng.js';
import type { Op, OpType, PartitionMeta, ReplicaMeta, SimTiming, TableMeta, TabletNode, TaskSpec, TaskType } from './model.js';
import type { TabletService } from './tablet.js';
import { setTimeout as sleep } from 'node:timers/promises';

export const QUEUE_COUNT = 10;
/** `name_server_task_concurrency`: recovertable/changeleader always use it. */
export const DEFAULT_CONCURRENCY = 2;
/** `check_binlog_sync_progress_delta`. */
export const SYNC_DELTA = 100000;

export interface OpHost {
  readonly timing: SimTiming;
  readonly rng: Rng;
  readonly tabletService: TabletService;
  tableByName(db: string, name: string): TableMeta | undefined;
  tablet(endpoint: string): TabletNode | undefined;
  /** The leader nameserver sees this tablet kHealthy, and it runs. */
  tabletHealthy(endpoint: string): boolean;
  /** Identifies the current leader's term of office; undefined while there is none. */
  leaderEpoch(): number | undefined;
  /** An injected op failure for this task, if any (its error message). */
  takeOpFault(op: Op, task: TaskSpec): string | undefined;
  readonly autoFailover: boolean;
  /** The nameserver rewrote the table's node in ZooKeeper (UpdateZkTableNode). */
  persistTable(table: TableMeta): void;
  /** UpdateZkTableNode as a task does it, before the task ends: false when ZooKeeper did not take it. */
  writeTableNode(table: TableMeta): Promise<boolean>;
  /** Hold the nameserver's metadata lock (OpenMLDB's mu_, metadata-lock.ts) across `fn`. */
  withMetadata<T>(fn: () => T | Promise<T>): Promise<T>;
  /** SelectLeader: `term_ + 1` for FollowOfNoOne; the counter moves on by two (persisted). */
  takeTerms(): number;
  persist(): void;
  changed(): void;
}

class TaskFailed extends Error {}

export interface NewOp {
  opType: OpType;
  db: string;
  name: string;
  pid: number;
  endpoint: string;
  tasks: TaskSpec[];
  concurrency?: number;
}

export class OpEngine {
  readonly ops: Op[] = [];
  nextOpId = 1;
  private queues: Op[][] = Array.from({ length: QUEUE_COUNT }, () => []);
  private runningQueues = new Set<number>();
  /** Wakes the queue runner of an op cancelled while one of its tasks runs. */
  private cancelWaiters = new Map<number, () => void>();

  constructor(private readonly host: OpHost) {}

  create(spec: NewOp): Op {
    const concurrency = spec.concurrency ?? DEFAULT_CONCURRENCY;
    const op: Op = {
      opId: this.nextOpId++,
      opType: spec.opType,
      db: spec.db,
      name: spec.name,
      pid: spec.pid,
      status: 'kInited',
      startTime: 0,
      endTime: 0,
      tasks: spec.tasks,
      taskIndex: 0,
      queue: spec.pid % concurrency,
      endpoint: spec.endpoint,
      createdAt: Date.now(),
    };
    this.ops.push(op);
    this.queues[op.queue]?.push(op);
    this.host.persist();
    this.kick(op.queue);
    return op;
  }

  /** A child op runs next in its parent's queue. */
  private createChild(parent: Op, spec: NewOp): Op {
    const op: Op = {
      opId: this.nextOpId++,
      opType: spec.opType,
      db: spec.db,
      name: spec.name,
      pid: spec.pid,
      status: 'kInited',
      startTime: 0,
      endTime: 0,
      tasks: spec.tasks,
      taskIndex: 0,
      queue: parent.queue,
      endpoint: spec.endpoint,
      createdAt: Date.now(),
      parentId: parent.opId,
    };
    this.ops.push(op);
    const queue = this.queues[parent.queue] ?? [];
    const at = queue.indexOf(parent);
    queue.splice(at + 1, 0, op);
    return op;
  }

  cancel(opId: number): 'ok' | 'not-found' | 'bad-status' {
    const op = this.ops.find((o) => o.opId === opId);
    if (!op) return 'not-found';
    if (op.status !== 'kInited' && op.status !== 'kDoing') return 'bad-status';
    op.status = 'kCanceled';
    op.failedTask = op.tasks[op.taskIndex]?.type;
    op.endTime = Math.floor(Date.now() / 1000);
    this.removeFromQueue(op);
    this.host.persist();
    this.cancelWaiters.get(opId)?.();
    return 'ok';
  }

  /** Leader change or nameserver restart: forget done/cancelled ops, keep the rest. */
  onLeaderChange(): void {
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const s = this.ops[i]?.status;
      if (s === 'kDone' || s === 'kCanceled') this.ops.splice(i, 1);
    }
    for (let q = 0; q < QUEUE_COUNT; q++) this.kick(q);
  }

  private removeFromQueue(op: Op): void {
    const queue = this.queues[op.queue];
    if (!queue) return;
    const at = queue.indexOf(op);
    if (at >= 0) queue.splice(at, 1);
  }

  private kick(queue: number): void {
    if (this.runningQueues.has(queue)) return;
    this.runningQueues.add(queue);
    void this.runQueue(queue).finally(() => this.runningQueues.delete(queue));
  }

  private async runQueue(q: number): Promise<void> {
    const queue = this.queues[q] ?? [];
    while (queue.length > 0) {
      const epoch = this.host.leaderEpoch();
      if (epoch === undefined) {
        // No leader: ops stay queued and resume from their stored task when one is elected.
        await sleep(50);
        continue;
      }
      const op = queue[0];
      if (!op) break;
      if (op.status === 'kCanceled' || op.status === 'kFailed' || op.status === 'kDone') {
        queue.shift();
        continue;
      }
      if (op.taskIndex >= op.tasks.length) {
        this.finish(op, 'kDone');
        continue;
      }
      const task = op.tasks[op.taskIndex] as TaskSpec;
      if (op.status === 'kInited') {
        op.status = 'kDoing';
        op.startTime = Math.floor(Date.now() / 1000);
        this.host.persist();
      }
      // Timing jitter only; semantic choices use the seeded RNG so runs are reproducible.
      await sleep(this.host.timing.taskMs * (0.75 + Math.random() * 0.5));
      if (this.host.leaderEpoch() !== epoch) continue; // leader changed: re-run this task
      if ((op.status as string) !== 'kDoing') continue; // cancelled meanwhile
      try {
        const injected = this.host.takeOpFault(op, task);
        if (injected !== undefined) throw new TaskFailed(injected);
        if ((await this.runTaskUnlessCancelled(op, task)) === 'done') {
          op.taskIndex += 1;
          this.host.persist();
        }
      } catch (err) {
        op.error = err instanceof Error ? err.message : String(err);
        op.failedTask = task.type;
        this.finish(op, 'kFailed');
      }
      this.host.changed();
    }
  }

  /**
   * Run a task; a cancelop meanwhile frees the queue at once, as the real nameserver drops a
   * cancelled head op and starts the next one (what the task started, e.g. a load on a
   * tablet, carries on by itself).
   */
  private async runTaskUnlessCancelled(op: Op, task: TaskSpec): Promise<'done' | 'cancelled'> {
    const cancelled = new Promise<'cancelled'>((resolve) => this.cancelWaiters.set(op.opId, () => resolve('cancelled')));
    try {
      return await Promise.race([this.runTask(op, task).then(() => 'done' as const), cancelled]);
    } finally {
      this.cancelWaiters.delete(op.opId);
    }
  }

  private finish(op: Op, status: 'kDone' | 'kFailed'): void {
    if (op.status === 'kDoing' || op.status === 'kInited') {
      op.status = status;
      op.endTime = Math.floor(Date.now() / 1000);
      if (op.startTime === 0) op.startTime = op.endTime;
    }
    this.removeFromQueue(op);
    this.host.persist();
    this.host.changed();
  }

  // ---- tasks -------------------------------------------------------------------------

  private partition(op: Op): { table: TableMeta; part: PartitionMeta } {
    const table = this.host.tableByName(op.db, op.name);
    if (!table) throw new TaskFailed('table does not exist');
    const part = table.partitions.find((p) => p.pid === op.pid);
    if (!part) throw new TaskFailed('pid does not exist');
    return { table, part };
  }

  private need(status: { code: number; msg: string }, what: TaskType): void {
    if (status.code !== 0) throw new TaskFailed(`${what}: ${status.msg}`);
  }

  private healthyOrFail(endpoint: string): void {
    if (!this.host.tabletHealthy(endpoint)) throw new TaskFailed(`tablet ${endpoint} is not healthy`);
  }

  private async runTask(op: Op, task: TaskSpec): Promise<void> {
    const ts = this.host.tabletService;
    const args = task.args ?? {};
    const { table, part } = this.partition(op);
    const tid = table.tid;
    const pid = op.pid;
    switch (task.type) {
      case 'kDelReplica': {
        const leader = String(args['leader']);
        this.healthyOrFail(leader);
        this.need(ts.delReplica(leader, tid, pid, op.endpoint), task.type);
        return;
      }
      case 'kAddReplica': {
        const leader = String(args['leader']);
        this.healthyOrFail(leader);
        const r = ts.addReplica(leader, tid, pid, op.endpoint);
        // "replica endpoint already exists" still marks the task done (tablet_impl.cc AddReplica).
        if (r.code !== 119) this.need(r, task.type);
        return;
      }
      case 'kPauseSnapshot':
      case 'kRecoverSnapshot': {
        const leader = String(args['leader']);
        this.healthyOrFail(leader);
        this.need(ts.setSnapshotPaused(leader, tid, pid, task.type === 'kPauseSnapshot'), task.type);
        return;
      }
      case 'kSendSnapshot': {
        const leader = String(args['leader']);
        this.healthyOrFail(leader);
        this.healthyOrFail(op.endpoint);
        const entries = ts.manifestOffset(leader, tid, pid);
        await sleep((entries / 1000) * this.host.timing.sendMsPer1000);
        this.need(ts.sendSnapshot(leader, tid, pid, op.endpoint), task.type);
        return;
      }
      case 'kDropTable': {
        this.healthyOrFail(op.endpoint);
        ts.dropTable(op.endpoint, tid, pid);
        return;
      }
      case 'kLoadTable': {
        // The nameserver sends name, tid, pid, seg_cnt, storage_mode and the mode; no term
        // (name_server_impl.cc CreateTask kLoadTable), so a leader takes table_meta.txt's.
        this.healthyOrFail(op.endpoint);
        const mode = args['mode'] === 'kTableFollower' ? 'kTableFollower' : 'kTableLeader';
        const { status, done } = ts.loadTableTask(op.endpoint, {
          table_meta: { name: table.name, tid, pid, seg_cnt: table.segCnt, storage_mode: table.storageMode, mode },
        });
        this.need(status, task.type);
        if (!(await done)) throw new TaskFailed('kLoadTable: load failed');
        return;
      }
      case 'kCheckBinlogSyncProgress': {
        const delta = typeof args['delta'] === 'number' ? args['delta'] : SYNC_DELTA;
        for (;;) {
          if (op.status !== 'kDoing') return; // cancelled: stop watching
          const { part: p } = this.partition(op);
          if (p.replicas.length <= 1 || p.replicas.some((r) => !r.tabletHasPartition)) return;
          const leader = p.replicas.find((r) => r.isLeader && r.isAlive);
          const me = p.replicas.find((r) => r.endpoint === op.endpoint);
          if (!leader || !me) throw new TaskFailed('kCheckBinlogSyncProgress: replica not found');
          if ((leader.offset ?? 0) <= (me.offset ?? 0) + delta) return;
          await sleep(Math.max(50, this.host.timing.statusPollMs));
          if (this.host.leaderEpoch() === undefined) throw new TaskFailed('nameserver is not leader');
        }
      }
      case 'kUpdatePartitionStatus': {
        const replica = part.replicas.find((r) => r.endpoint === op.endpoint);
        if (!replica) throw new TaskFailed('kUpdatePartitionStatus: replica not found');
        await this.changeTable(table, task.type, () => {
          if (typeof args['isLeader'] === 'boolean') replica.isLeader = args['isLeader'];
          if (typeof args['isAlive'] === 'boolean') replica.isAlive = args['isAlive'];
        });
        return;
      }
      case 'kSelectLeader':
        this.selectLeader(op, task, tid, pid);
        return;
      case 'kChangeLeader': {
        // name_server_impl.cc ChangeLeader: ChangeRole(leader, followers of the op minus it, term).
        const select = op.tasks.find((t) => t.type === 'kSelectLeader');
        const chosen = String(select?.args?.['chosen'] ?? '');
        const term = Number(select?.args?.['term'] ?? 0);
        this.healthyOrFail(chosen);
        const followers = String(select?.args?.['followers'] ?? '')
          .split(',')
          .filter((e) => e !== '' && e !== chosen);
        this.need(ts.changeRole(chosen, tid, pid, 'kTableLeader', followers, term), task.type);
        return;
      }
      case 'kUpdateLeaderInfo': {
        // name_server_impl.cc UpdateLeaderInfo: the old alive leader becomes not alive (it keeps
        // is_leader); the new leader gets is_leader only (it was an alive follower); the term
        // pair records the HIGHEST offset FollowOfNoOne saw, plus one.
        const select = op.tasks.find((t) => t.type === 'kSelectLeader');
        const chosen = String(select?.args?.['chosen'] ?? '');
        const offset = Number(select?.args?.['offset'] ?? 0);
        const term = Number(select?.args?.['term'] ?? 0);
        const next = part.replicas.find((r) => r.endpoint === chosen);
        if (!next) throw new TaskFailed(`kUpdateLeaderInfo: endpoint ${chosen} does not exist`);
        await this.changeTable(table, task.type, () => {
          const old = part.replicas.find((r) => r.isLeader && r.isAlive);
          if (old) old.isAlive = false;
          next.isLeader = true;
          part.termOffset.push({ term, offset: offset + 1 });
        });
        return;
      }
      case 'kRecoverTable':
        this.recoverTable(op, table, part, typeof args['offsetDelta'] === 'number' ? args['offsetDelta'] : SYNC_DELTA);
        return;
      default:
        throw new TaskFailed(`unsupported task ${task.type}`);
    }
  }

  /**
   * name_server_impl.cc UpdatePartitionStatus, UpdateLeaderInfo: the change is made in memory,
   * then written to ZooKeeper (UpdateZkTableNode); a failed write fails the task and is not
   * tried again, the change staying in memory only until the table's node is next written.
   * Under the metadata lock, as OpenMLDB holds mu_ across the change and the write.
   */
  private changeTable(table: TableMeta, what: string, change: () => void): Promise<void> {
    return this.host.withMetadata(async () => {
      change();
      if (!(await this.host.writeTableNode(table))) throw new TaskFailed(`${what}: update table node in zk failed`);
    });
  }

  /**
   * name_server_impl.cc SelectLeader: with auto_failover on, an alive leader fails the task;
   * two terms are taken from the nameserver's counter; every follower of the op (fixed when
   * the op was made) must answer FollowOfNoOne with the new term, or the task fails; the
   * candidate, or the highest offset (ties at random), leads with term cur_term + 1.
   */
  private selectLeader(op: Op, task: TaskSpec, tid: number, pid: number): void {
    const ts = this.host.tabletService;
    const args = task.args ?? {};
    const { part } = this.partition(op);
    if (this.host.autoFailover && part.replicas.some((r) => r.isLeader && r.isAlive)) throw new TaskFailed('kSelectLeader: leader is alive, need not changeleader');
    const candidate = typeof args['candidate'] === 'string' ? args['candidate'] : undefined;
    const followers = String(args['followers'] ?? '')
      .split(',')
      .filter((e) => e !== '');
    if (candidate !== undefined && !followers.includes(candidate)) throw new TaskFailed(`kSelectLeader: candidate ${candidate} is not follower`);
    for (const f of followers) if (!this.host.tabletHealthy(f)) throw new TaskFailed(`kSelectLeader: endpoint ${f} is offline`);
    const curTerm = this.host.takeTerms();
    let maxOffset = 0;
    let best: string[] = [];
    for (const f of followers) {
      const r = ts.followOfNoOne(f, tid, pid, curTerm);
      if (r.status.code !== 0) throw new TaskFailed(`kSelectLeader: followOfNoOne failed on ${f}: ${r.status.msg}`);
      if (r.offset > maxOffset || best.length === 0) {
        maxOffset = r.offset;
        best = [f];
      } else if (r.offset === maxOffset) {
        best.push(f);
      }
    }
    const chosen = candidate ?? best.sort((a, b) => tieBreak(this.host.rng.seed, tid, pid, replicaIndex(part, a)) - tieBreak(this.host.rng.seed, tid, pid, replicaIndex(part, b)))[0] ?? '';
    task.args = { ...args, chosen, offset: maxOffset, term: curTerm + 1 };
  }

  /**
   * name_server_impl.cc RecoverEndpointTable (section 5.5): decide how the replica comes
   * back, as a child op. GetTermPair is asked BEFORE the binlog is deleted; its term/offset
   * (the snapshot's, for an unloaded replica; the replicator's, for a loaded one) is matched
   * against the partition's term history.
   */
  private recoverTable(op: Op, table: TableMeta, part: PartitionMeta, offsetDelta: number): void {
    const ts = this.host.tabletService;
    const target = part.replicas.find((r) => r.endpoint === op.endpoint);
    if (!target) throw new TaskFailed('kRecoverTable: pid does not exist');
    let leader: ReplicaMeta | undefined;
    if (part.replicas.length > 1) {
      leader = part.replicas.find((r) => r.isLeader && r.isAlive && r.endpoint !== op.endpoint);
      if (!leader || !this.host.tabletHealthy(leader.endpoint)) throw new TaskFailed('kRecoverTable: no alive leader');
    }
    if (target.isAlive) return; // already alive: nothing to do
    this.healthyOrFail(op.endpoint);
    const tid = table.tid;
    const pid = part.pid;
    const pair = ts.getTermPair(op.endpoint, { tid, pid, storage_mode: table.storageMode });
    const hasTable = pair['has_table'] === true;
    const isLeader = pair['is_leader'] === true;
    const term = Number(pair['term'] ?? 0);
    const offset = Number(pair['offset'] ?? 0);
    const base = { db: op.db, name: op.name, pid, endpoint: op.endpoint };
    if (!leader) {
      // Single replica: make it the leader again, loading it when needed.
      if (hasTable) {
        this.createChild(op, {
          ...base,
          opType: 'kUpdatePartitionStatusOP',
          tasks: [{ type: 'kUpdatePartitionStatus', endpoint: op.endpoint, args: { isLeader: true, isAlive: true } }],
        });
      } else {
        this.createChild(op, {
          ...base,
          opType: 'kReLoadTableOP',
          tasks: [
            { type: 'kLoadTable', endpoint: op.endpoint, args: { mode: 'kTableLeader' } },
            { type: 'kUpdatePartitionStatus', endpoint: op.endpoint, args: { isLeader: true, isAlive: true } },
          ],
        });
      }
      return;
    }
    if (hasTable && isLeader) this.need(ts.changeRole(op.endpoint, tid, pid, 'kTableFollower', [], 0), 'kRecoverTable');
    if (!hasTable) ts.deleteBinlog(op.endpoint, tid, pid);
    const matched = matchTermOffset(part, hasTable, term, offset);
    const manifest = ts.manifestOffset(leader.endpoint, tid, pid);
    const L = leader.endpoint;
    const fin: TaskSpec = { type: 'kUpdatePartitionStatus', endpoint: op.endpoint, args: { isLeader: false, isAlive: true } };
    // The RecoverTableData's offset_delta: 0 under recoverendpoint --need_restore, so the
    // check waits until the metadata offsets say the replica holds all its leader's entries
    // before the ChangeLeaderOP queued after it makes it leader (name_server_impl.cc
    // RecoverEndpointDBInternal, CreateReAddReplica*OP). Like OpenMLDB's CheckBinlogSyncProgress
    // it reads the metadata offsets, which can be stale for a replica that was down.
    const sync: TaskSpec = { type: 'kCheckBinlogSyncProgress', endpoint: op.endpoint, args: { delta: offsetDelta } };
    const add: TaskSpec = { type: 'kAddReplica', endpoint: L, args: { leader: L } };
    const pause: TaskSpec = { type: 'kPauseSnapshot', endpoint: L, args: { leader: L } };
    const resume: TaskSpec = { type: 'kRecoverSnapshot', endpoint: L, args: { leader: L } };
    const load: TaskSpec = { type: 'kLoadTable', endpoint: op.endpoint, args: { mode: 'kTableFollower' } };
    const send: TaskSpec = { type: 'kSendSnapshot', endpoint: L, args: { leader: L } };
    const drop: TaskSpec = { type: 'kDropTable', endpoint: op.endpoint };
    if (hasTable && matched && offset >= manifest) {
      this.createChild(op, { ...base, opType: 'kReAddReplicaSimplifyOP', tasks: [add, sync, fin] });
    } else if (hasTable) {
      this.createChild(op, { ...base, opType: 'kReAddReplicaWithDropOP', tasks: [pause, drop, send, load, add, resume, sync, fin] });
    } else if (matched && offset >= manifest) {
      this.createChild(op, { ...base, opType: 'kReAddReplicaNoSendOP', tasks: [pause, load, add, resume, sync, fin] });
    } else {
      this.createChild(op, { ...base, opType: 'kReAddReplicaOP', tasks: [pause, send, load, add, resume, sync, fin] });
    }
  }
}

/**
 * name_server_impl.cc MatchTermOffset: is (term, offset) consistent with the partition's
 * term history (each term's first offset)? No table and offset 0, or an unknown term (a
 * loaded follower reports term 0), is "not matched".
 */
export function matchTermOffset(part: PartitionMeta, hasTable: boolean, term: number, offset: number): boolean {
  if (!hasTable && offset === 0) return false;
  const starts = new Map<number, number>();
  for (const t of part.termOffset) if (!starts.has(t.term)) starts.set(t.term, t.offset);
  const terms = [...starts.keys()].sort((a, b) => a - b);
  const start = starts.get(term);
  if (start === undefined) return false;
  if (start > offset) return starts.get(terms[terms.length - 1] as number) === offset + 1;
  const next = terms[terms.indexOf(term) + 1];
  if (next === undefined) return true;
  return (starts.get(next) as number) > offset;
}

/**
 * Deterministic "random" choice among equal offsets, independent of timing and of the
 * ports the OS handed out: by the replica's place in the partition.
 */
function tieBreak(seed: number, tid: number, pid: number, index: number): number {
  let h = (seed ^ Math.imul(tid, 0x9e3779b1) ^ Math.imul(pid + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (index + 1), 0x01000193) >>> 0;
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
}

function replicaIndex(part: PartitionMeta, endpoint: string): number {
  return part.replicas.findIndex((r) => r.endpoint === endpoint);
}
