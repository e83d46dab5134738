// Tablet semantics (reference section 6; OpenMLDB src/tablet/tablet_impl.cc): what
// LoadTable, GetTableStatus, GetTermPair, ChangeRole, GetTableFollower and the calls the
// nameserver's op tasks make do to a tablet's runtime state and its disk. Where OpenMLDB
// can lose or hide data, so does this: a failed load moves the partition's directory to the
// recycle bin, a loading partition reports offset 0, a freshly loaded follower reports
// term 0, and a repeated disk-table LoadTable is accepted.
import { append, appendFrom, cloneLog, held, punch, truncate } from './log.js';
import type { DiskPartition, LoadedPartition, SimTiming, StorageMode, TableMode, TabletNode } from './model.js';
import { BYTES_PER_RECORD, partitionKey } from './model.js';
import { type Json, type Status, fail, num, obj, ok, str, Unreachable } from './rpc.js';

/** Per-replica load behaviour injected by `openmldb-sim ctl load`. */
export interface LoadFault {
  /** Loads of this replica that will fail (the table vanishes and its directory goes to the recycle bin). */
  failCount: number;
  /** Extra load time in ms. */
  extraMs: number;
}

export interface TabletHost {
  readonly timing: SimTiming;
  tablet(endpoint: string): TabletNode | undefined;
  loadFault(endpoint: string, tid: number, pid: number): LoadFault | undefined;
  /** A fresh leadership instance (see log.ts). */
  nextEpoch(): number;
  /** Called whenever a partition's runtime state changed (for waiters). */
  changed(): void;
  /** A leader's AppendEntries to this follower fails now (an injected fault). */
  appendBlocked(follower: string): boolean;
}

/** OpenMLDB's base::ReturnCode values used here (src/base/status.h). */
export const CODE = {
  tableIsNotExist: 100,
  tableAlreadyExists: 101,
  tableIsLeader: 102,
  tableIsFollower: 103,
  tableIsLoading: 104,
  tableStatusIsNotKnormal: 105,
  snapshotIsNotExist: 111,
  failToAppendEntries: 122,
  tableMetaIsIllegal: 129,
  noFollower: 134,
} as const;

interface LoadRequest {
  tid: number;
  pid: number;
  name: string;
  storageMode: StorageMode;
  mode: TableMode;
  segCnt: number;
}

interface PendingLoad {
  key: string;
  run: () => void;
}

const isStorageMode = (v: unknown): v is StorageMode => v === 'kMemory' || v === 'kSSD' || v === 'kHDD';

export class TabletService {
  /** Loads running and queued per tablet (the tablet's task_pool_, load_table_thread_num = 3). */
  private running = new Map<string, number>();
  private queued = new Map<string, PendingLoad[]>();
  /** Background loads running now, per tablet and partition key. */
  private inProgress = new Map<string, Map<string, number>>();
  /** Bumped on every tablet stop, so loads of a previous process life are dropped. */
  private generation = new Map<string, number>();
  /** Each pending load's completion, per tablet: a stop resolves them all with false. */
  private loadWaiters = new Map<string, Set<(ok: boolean) => void>>();

  constructor(private readonly host: TabletHost) {}

  private mustRun(endpoint: string): TabletNode {
    const tablet = this.host.tablet(endpoint);
    if (!tablet || !tablet.running) throw new Unreachable(endpoint);
    return tablet;
  }

  /** The tablet process stopped: everything loaded is gone, loads in flight and queued die. */
  onStop(endpoint: string): void {
    this.generation.set(endpoint, (this.generation.get(endpoint) ?? 0) + 1);
    this.running.set(endpoint, 0);
    this.queued.set(endpoint, []);
    this.inProgress.set(endpoint, new Map());
    const waiters = this.loadWaiters.get(endpoint);
    this.loadWaiters.delete(endpoint);
    for (const w of waiters ?? []) w(false);
  }

  /** Which life of the tablet's process this is: bumped on every stop. */
  generationOf(endpoint: string): number {
    return this.generation.get(endpoint) ?? 0;
  }

  /** Loads of `endpoint` queued behind the pool or running now (for `state` and tests). */
  pendingLoads(endpoint: string): { queued: string[]; running: string[] } {
    const running = [...(this.inProgress.get(endpoint) ?? new Map<string, number>()).entries()].flatMap(([k, n]) => Array<string>(n).fill(k));
    return { queued: (this.queued.get(endpoint) ?? []).map((p) => p.key), running };
  }

  // ---- RPC: LoadTable -------------------------------------------------------------

  /**
   * tablet_impl.cc LoadTable: synchronous checks, table_meta.txt rewritten, then the load
   * runs in the background. A memory table exists (kTableUndefined) as soon as this
   * returns, so a repeat is refused with 101; a disk table is created only inside the
   * background task, so a repeat while the first is queued is ACCEPTED and queues another.
   */
  loadTable(endpoint: string, body: Json): Status {
    return this.loadTableTask(endpoint, body).status;
  }

  /** LoadTable, plus (when accepted) the background load's outcome: the nameserver's kLoadTable task waits on it. */
  loadTableTask(endpoint: string, body: Json): { status: Status; done?: Promise<boolean> } {
    const tablet = this.mustRun(endpoint);
    const meta = obj(body, 'table_meta') ?? {};
    const name = str(meta, 'name') ?? '';
    const tid = num(meta, 'tid') ?? 0;
    const pid = num(meta, 'pid') ?? 0;
    const rawMode = meta['storage_mode'] ?? 'kMemory';
    const storageMode = rawMode === 1 ? 'kMemory' : rawMode === 2 ? 'kSSD' : rawMode === 3 ? 'kHDD' : rawMode;
    if (name === '') return { status: fail(CODE.tableMetaIsIllegal, 'table name is empty') };
    if (tid <= 0) return { status: fail(CODE.tableMetaIsIllegal, 'tid <= 0, invalid tid') };
    if (!isStorageMode(storageMode)) return { status: fail(CODE.tableMetaIsIllegal, 'storage_mode is unknown') };
    const key = partitionKey(tid, pid);
    if (tablet.loaded.has(key)) return { status: fail(CODE.tableAlreadyExists, 'table already exists') };
    // The directory is chosen by the REQUEST's storage mode: a wrong mode finds nothing and
    // loads an empty table (the real tablet only logs "table db path does not exist").
    const onDisk = tablet.disk.get(key);
    const disk = onDisk && onDisk.storageMode === storageMode ? onDisk : this.createDisk(tablet, { tid, pid, name, storageMode, segCnt: num(meta, 'seg_cnt') ?? 8 });
    // UpdateTableMeta + WriteTableMeta: the request's fields win over table_meta.txt.
    const reqMode = meta['mode'];
    if (reqMode === 'kTableLeader' || reqMode === 1) disk.metaMode = 'kTableLeader';
    else if (reqMode === 'kTableFollower' || reqMode === 2) disk.metaMode = 'kTableFollower';
    const reqTerm = num(meta, 'term');
    if (reqTerm !== undefined) disk.metaTerm = reqTerm;
    const req: LoadRequest = { tid, pid, name, storageMode, mode: disk.metaMode, segCnt: num(meta, 'seg_cnt') ?? disk.segCnt };
    if (storageMode === 'kMemory') {
      // CreateTableInternal now: the replicator starts with table_meta's term for a leader, 0 for a follower.
      tablet.loaded.set(key, this.tableObject(req, disk));
    }
    return { status: ok(), done: this.startLoad(tablet, req) };
  }

  private tableObject(req: LoadRequest, disk: DiskPartition): LoadedPartition {
    return {
      tid: req.tid,
      pid: req.pid,
      name: req.name,
      storageMode: req.storageMode,
      mode: req.mode,
      state: 'kTableUndefined',
      offset: 0,
      term: req.mode === 'kTableLeader' ? disk.metaTerm : 0,
      epoch: 0,
      segCnt: req.segCnt,
      followers: [],
    };
  }

  /**
   * Queue the background part of a load (LoadTableInternal / LoadDiskTableInternal) on the
   * tablet's pool; resolves true when the partition reached kTableNormal. The nameserver's
   * kLoadTable task calls this too (through the same RPC checks, see ops.ts).
   */
  private startLoad(tablet: TabletNode, req: LoadRequest): Promise<boolean> {
    const endpoint = tablet.endpoint;
    const key = partitionKey(req.tid, req.pid);
    const gen = this.generation.get(endpoint) ?? 0;
    let settle: (ok: boolean) => void = () => {};
    const done = new Promise<boolean>((resolve) => {
      const waiters = this.loadWaiters.get(endpoint) ?? new Set();
      this.loadWaiters.set(endpoint, waiters);
      settle = (v: boolean) => {
        waiters.delete(settle);
        resolve(v);
      };
      waiters.add(settle);
    });
    const alive = () => (this.generation.get(endpoint) ?? 0) === gen;
    const run = () => {
      if (!alive()) return;
      this.running.set(endpoint, (this.running.get(endpoint) ?? 0) + 1);
      const busy = this.inProgress.get(endpoint) ?? new Map<string, number>();
      this.inProgress.set(endpoint, busy);
      const sameKeyRunning = (busy.get(key) ?? 0) > 0;
      busy.set(key, (busy.get(key) ?? 0) + 1);
      const end = (success: boolean | undefined) => {
        if (!alive()) return;
        busy.set(key, Math.max(0, (busy.get(key) ?? 1) - 1));
        if (busy.get(key) === 0) busy.delete(key);
        this.running.set(endpoint, Math.max(0, (this.running.get(endpoint) ?? 1) - 1));
        if (success !== undefined) settle(success);
        this.pump(endpoint);
        this.host.changed();
      };
      if (req.storageMode === 'kMemory') this.runMemoryLoad(tablet, req, alive, end);
      else this.runDiskLoad(tablet, req, sameKeyRunning, alive, end);
    };
    const queue = this.queued.get(endpoint) ?? [];
    queue.push({ key, run });
    this.queued.set(endpoint, queue);
    this.pump(endpoint);
    this.host.changed();
    return done;
  }

  private loadDuration(tablet: TabletNode, req: LoadRequest): { total: number; failing: boolean } {
    const fault = this.host.loadFault(tablet.endpoint, req.tid, req.pid);
    const entries = tablet.disk.get(partitionKey(req.tid, req.pid))?.log.end ?? 0;
    const t = this.host.timing;
    const total = t.loadBaseMs + (entries / 1000) * t.loadMsPer1000 + (fault?.extraMs ?? 0);
    const failing = fault !== undefined && fault.failCount > 0;
    if (failing) fault.failCount -= 1;
    return { total, failing };
  }

  /** LoadTableInternal: kTableLoading, snapshot + binlog replay, kTableNormal; on failure DeleteTableInternal. */
  private runMemoryLoad(tablet: TabletNode, req: LoadRequest, alive: () => boolean, end: (ok: boolean | undefined) => void): void {
    const key = partitionKey(req.tid, req.pid);
    const entry = tablet.loaded.get(key);
    if (!entry) {
      // "table with tid and pid does not exist": dropped while queued.
      end(false);
      return;
    }
    const { total, failing } = this.loadDuration(tablet, req);
    entry.state = 'kTableLoading';
    this.host.changed();
    setTimeout(() => {
      if (!alive()) return;
      if (failing) {
        this.deleteTableInternal(tablet, key, 'load failed (snapshot or binlog recovery)');
        end(false);
        return;
      }
      this.finishReplay(tablet, entry, req);
      end(true);
    }, Math.max(1, total));
  }

  /**
   * LoadDiskTableInternal: rename `data` to `old_data`, hard-link the snapshot checkpoint as
   * `data`, create the table (only now visible), replay the binlog, remove `old_data`.
   */
  private runDiskLoad(tablet: TabletNode, req: LoadRequest, sameKeyRunning: boolean, alive: () => boolean, end: (ok: boolean | undefined) => void): void {
    const key = partitionKey(req.tid, req.pid);
    const disk = tablet.disk.get(key);
    if (sameKeyRunning || disk?.oldData) {
      // Another load of this partition is between its rename and its cleanup, or an earlier
      // repeat left old_data behind: Rename(data, old_data) fails ("rename dir failed").
      end(false);
      return;
    }
    if (tablet.loaded.has(key)) {
      // The first load finished: this repeat renames the live `data` to `old_data`, links the
      // snapshot in its place, then CreateTableInternal fails (the table exists). old_data is
      // left behind and every later load of it fails at the rename.
      if (disk) disk.oldData = true;
      end(false);
      return;
    }
    const { total, failing } = this.loadDuration(tablet, req);
    const linkAt = Math.min(total * 0.3, 100);
    // tablet_impl.cc LoadDiskTableInternal does these steps one after another in one task
    // (the table is created, then its binlog replayed), so the replay is timed from the
    // link, not from the start alongside it: two timers of different lengths that are both
    // overdue (a busy event loop) may run in either order, and a replay that ended before
    // its table existed left it kTableLoading for ever.
    setTimeout(() => {
      if (!alive()) return;
      if (!disk) {
        end(false);
        return;
      }
      const entry = this.tableObject(req, disk);
      entry.state = 'kTableLoading';
      tablet.loaded.set(key, entry);
      this.host.changed();
      setTimeout(() => {
        if (!alive()) return;
        if (failing) {
          this.deleteTableInternal(tablet, key, 'load failed (binlog recovery)');
          end(false);
          return;
        }
        this.finishReplay(tablet, entry, req);
        end(true);
      }, Math.max(1, total - linkAt));
    }, linkAt);
  }

  /**
   * The replay ended: the replicator's offset is set now, leaders start a new epoch of writes.
   * Puts accepted before the load ran sit in a binlog part of their own, the newest, whose
   * first offset (0) is below the snapshot's: storage/binlog.cc RecoverFromBinlog's
   * LogReader (log/log_reader.cc RollRLogFile) starts from the newest part whose first
   * offset is at or below the snapshot's, so it replays that part only. The binlog written
   * after the snapshot before the restart is never replayed (the replicator's offset goes
   * back to the snapshot's, and later writes take its offsets again), and the early Puts
   * numbered at or below the snapshot's offset are skipped: in memory only, never
   * replicated, gone at the next restart.
   */
  private finishReplay(tablet: TabletNode, entry: LoadedPartition, req: LoadRequest): void {
    const disk = tablet.disk.get(partitionKey(req.tid, req.pid));
    entry.state = 'kTableNormal';
    if (disk && entry.early) {
      const { epoch, term, count } = entry.early;
      truncate(disk.log, disk.snapshotOffset);
      disk.syncedOffset = Math.min(disk.syncedOffset, disk.log.end);
      if (count > disk.snapshotOffset) append(disk.log, count, term, epoch);
      delete entry.early;
    }
    entry.offset = disk?.log.end ?? 0;
    if (entry.mode === 'kTableLeader') entry.epoch = this.host.nextEpoch();
    // LogReplicator::Init: the next entry appended goes to a new binlog part.
    if (disk) {
      const next = disk.log.end + 1;
      const starts = (disk.partStarts ?? []).filter((x) => x <= next);
      if (starts[starts.length - 1] !== next) starts.push(next);
      disk.partStarts = starts;
    }
  }

  // ---- RPC: Put ---------------------------------------------------------------------

  /**
   * tablet_impl.cc Put: CheckTable(check_leader) refuses only a partition that is not
   * there (100), a follower (103) or one loading (104); anything else in leader mode takes
   * the write: the replicator appends it at its offset + 1 with its term, and the tablet
   * answers ok before any follower has it. A memory table whose LoadTable was accepted but
   * whose load has not run yet (kTableUndefined) takes it too, numbered from 0 (see
   * finishReplay). Returns which entry the write became.
   */
  put(endpoint: string, body: Json): { status: Status; written?: { epoch: number; term: number; offset: number } } {
    const tablet = this.mustRun(endpoint);
    const key = partitionKey(num(body, 'tid') ?? 0, num(body, 'pid') ?? 0);
    const p = tablet.loaded.get(key);
    if (!p) return { status: fail(CODE.tableIsNotExist, 'table does not exist') };
    if (p.mode !== 'kTableLeader') return { status: fail(CODE.tableIsFollower, 'table is follower') };
    if (p.state === 'kTableLoading') return { status: fail(CODE.tableIsLoading, 'table is loading') };
    const disk = tablet.disk.get(key);
    if (!disk) return { status: fail(CODE.tableIsNotExist, 'table does not exist') };
    if (p.state === 'kTableUndefined') {
      p.early ??= { epoch: this.host.nextEpoch(), term: p.term, count: 0 };
      p.early.count += 1;
      return { status: ok(), written: { epoch: p.early.epoch, term: p.early.term, offset: p.early.count } };
    }
    append(disk.log, disk.log.end + 1, p.term, p.epoch);
    p.offset = disk.log.end;
    return { status: ok(), written: { epoch: p.epoch, term: p.term, offset: p.offset } };
  }

  private createDisk(tablet: TabletNode, req: { tid: number; pid: number; name: string; storageMode: StorageMode; segCnt: number }): DiskPartition {
    const disk: DiskPartition = {
      tid: req.tid,
      pid: req.pid,
      name: req.name,
      db: '',
      storageMode: req.storageMode,
      segCnt: req.segCnt,
      log: { segments: [], end: 0 },
      snapshotOffset: 0,
      snapshotTerm: 0,
      syncedOffset: 0,
      metaTerm: 0,
      metaMode: 'kTableLeader',
    };
    tablet.disk.set(partitionKey(req.tid, req.pid), disk);
    return disk;
  }

  /**
   * DeleteTableInternal: the table leaves the tablet and its whole directory (snapshot,
   * binlog, table_meta.txt) is renamed into the recycle bin.
   */
  private deleteTableInternal(tablet: TabletNode, key: string, reason: string): void {
    tablet.loaded.delete(key);
    this.recycle(tablet, key, reason);
    tablet.disk.delete(key);
    this.host.changed();
  }

  private recycle(tablet: TabletNode, key: string, reason: string): void {
    const disk = tablet.disk.get(key);
    if (disk && disk.log.end > 0) tablet.recycle.push({ key, reason, at: Date.now(), log: cloneLog(disk.log) });
  }

  private pump(endpoint: string): void {
    const queue = this.queued.get(endpoint) ?? [];
    while (queue.length > 0 && (this.running.get(endpoint) ?? 0) < this.host.timing.maxConcurrentLoads) {
      const next = queue.shift();
      next?.run();
    }
  }

  // ---- RPC: GetTableStatus, GetTermPair, GetTableFollower ---------------------------

  getTableStatus(endpoint: string, body: Json): Json {
    const tablet = this.mustRun(endpoint);
    const tid = num(body, 'tid');
    const pid = num(body, 'pid');
    const rows = [...tablet.loaded.values()]
      .filter((p) => (tid === undefined || p.tid === tid) && (pid === undefined || p.pid === pid))
      .sort((a, b) => a.tid - b.tid || a.pid - b.pid)
      .map((p) => statusJson(p, tablet.disk.get(partitionKey(p.tid, p.pid))));
    const reply: Json = { code: 0 };
    if (rows.length > 0) reply['all_table_status'] = rows;
    return reply;
  }

  /**
   * GetTermPair: a partition the tablet has (in any state, loading included) answers with
   * its replicator's term and offset (0 while loading; term 0 for a follower nobody led
   * yet); otherwise the local snapshot MANIFEST's term and offset, never the binlog tail.
   */
  getTermPair(endpoint: string, body: Json): Json {
    const tablet = this.mustRun(endpoint);
    const key = partitionKey(num(body, 'tid') ?? 0, num(body, 'pid') ?? 0);
    const loaded = tablet.loaded.get(key);
    if (loaded) return { code: 0, msg: 'ok', term: loaded.term, offset: loaded.offset, has_table: true, is_leader: loaded.mode === 'kTableLeader' };
    const disk = tablet.disk.get(key);
    const snap = disk?.snapshotOffset ?? 0;
    const reply: Json = { code: 0, msg: 'table does not exist', has_table: false };
    if (disk && snap > 0) Object.assign(reply, { term: disk.snapshotTerm, offset: snap });
    return reply;
  }

  /** GetTableFollower: the leader's replicator list with what it has synced to each. */
  getTableFollower(endpoint: string, body: Json): Json {
    const tablet = this.mustRun(endpoint);
    const p = tablet.loaded.get(partitionKey(num(body, 'tid') ?? 0, num(body, 'pid') ?? 0));
    if (!p) return fail(CODE.tableIsNotExist, 'table does not exist') as unknown as Json;
    if (p.mode !== 'kTableLeader') return fail(CODE.tableIsFollower, 'table is follower') as unknown as Json;
    if (p.followers.length === 0) return { code: CODE.noFollower, msg: 'has no follower', offset: p.offset };
    return {
      code: 0,
      msg: 'ok',
      offset: p.offset,
      follower_info: p.followers.map((f) => ({ endpoint: f, offset: this.followerOffset(f, p.tid, p.pid) })),
    };
  }

  private followerOffset(endpoint: string, tid: number, pid: number): number {
    const t = this.host.tablet(endpoint);
    return t?.running ? (t.loaded.get(partitionKey(tid, pid))?.offset ?? 0) : 0;
  }

  // ---- RPC: ChangeRole; and the calls the nameserver's op tasks make --------------------

  loaded(endpoint: string, tid: number, pid: number): LoadedPartition | undefined {
    return this.mustRun(endpoint).loaded.get(partitionKey(tid, pid));
  }

  /** CheckTable(check_leader=false): exists and not loading. */
  private checkTable(p: LoadedPartition | undefined): Status | undefined {
    if (!p) return fail(CODE.tableIsNotExist, 'table does not exist');
    if (p.state === 'kTableLoading') return fail(CODE.tableIsLoading, 'table is loading');
    return undefined;
  }

  /** HTTP `ChangeRole`: `{tid, pid, mode, term?, replicas?}`. */
  changeRoleRpc(endpoint: string, body: Json): Status {
    const mode = body['mode'] === 'kTableLeader' || body['mode'] === 1 ? 'kTableLeader' : 'kTableFollower';
    const replicas = Array.isArray(body['replicas']) ? body['replicas'].map(String) : [];
    return this.changeRole(endpoint, num(body, 'tid') ?? 0, num(body, 'pid') ?? 0, mode, replicas, num(body, 'term') ?? 0);
  }

  /**
   * tablet_impl.cc ChangeRole. To leader: refused when it already leads ("table is leader");
   * takes the request's term and replicates to `followers`. To follower: a follower answers
   * ok "table is follower" and nothing changes.
   */
  changeRole(endpoint: string, tid: number, pid: number, mode: TableMode, followers: string[], term: number): Status {
    const p = this.loaded(endpoint, tid, pid);
    const bad = this.checkTable(p);
    if (bad || !p) return bad ?? fail(CODE.tableIsNotExist, 'table does not exist');
    if (mode === 'kTableLeader') {
      if (p.mode === 'kTableLeader') return fail(CODE.tableIsLeader, 'table is leader');
      p.mode = 'kTableLeader';
      p.term = term;
      p.epoch = this.host.nextEpoch();
      for (const f of followers) if (!p.followers.includes(f)) p.followers.push(f);
    } else {
      if (p.mode !== 'kTableLeader') return { code: 0, msg: 'table is follower' };
      p.mode = 'kTableFollower';
      p.followers = [];
    }
    this.host.changed();
    return ok();
  }

  addReplica(leader: string, tid: number, pid: number, follower: string): Status {
    const p = this.loaded(leader, tid, pid);
    if (!p) return fail(CODE.tableIsNotExist, 'table does not exist');
    if (p.mode !== 'kTableLeader') return fail(CODE.tableIsFollower, 'table is follower');
    if (p.followers.includes(follower)) return { code: 119, msg: 'replica endpoint already exists' };
    p.followers.push(follower);
    return ok();
  }

  delReplica(leader: string, tid: number, pid: number, follower: string): Status {
    const p = this.loaded(leader, tid, pid);
    if (!p) return fail(CODE.tableIsNotExist, 'table does not exist');
    if (p.mode !== 'kTableLeader') return fail(CODE.tableIsFollower, 'table is follower');
    p.followers = p.followers.filter((f) => f !== follower);
    return ok();
  }

  setSnapshotPaused(endpoint: string, tid: number, pid: number, paused: boolean): Status {
    const p = this.loaded(endpoint, tid, pid);
    if (!p) return fail(CODE.tableIsNotExist, 'table does not exist');
    if (paused && p.state === 'kTableNormal') p.state = 'kSnapshotPaused';
    if (!paused && p.state === 'kSnapshotPaused') p.state = 'kTableNormal';
    return ok();
  }

  /**
   * kSelectLeader's FollowOfNoOne (an AppendEntries without entries, tablet_impl.cc
   * AppendEntries): refused for a missing or loading table, a leader, and a stale term;
   * a higher term is adopted. Answers the replicator's offset.
   */
  followOfNoOne(endpoint: string, tid: number, pid: number, term: number): { status: Status; offset: number } {
    const p = this.loaded(endpoint, tid, pid);
    const bad = this.checkTable(p);
    if (bad || !p) return { status: bad ?? fail(CODE.tableIsNotExist, 'table does not exist'), offset: 0 };
    if (p.mode === 'kTableLeader') return { status: fail(CODE.tableIsLeader, 'table is leader'), offset: 0 };
    if (term < p.term) return { status: fail(CODE.failToAppendEntries, 'fail to append entries to replicator'), offset: 0 };
    if (term > p.term) p.term = term;
    return { status: ok(), offset: p.offset };
  }

  /** kSendSnapshot: the target's directory becomes the leader's snapshot (no binlog beyond it). */
  sendSnapshot(leader: string, tid: number, pid: number, target: string): Status {
    const src = this.mustRun(leader).disk.get(partitionKey(tid, pid));
    const dst = this.mustRun(target);
    if (!src) return fail(CODE.tableIsNotExist, 'table does not exist');
    const log = cloneLog(src.log);
    truncate(log, src.snapshotOffset);
    dst.disk.set(partitionKey(tid, pid), { ...src, log, syncedOffset: log.end, binlogStart: log.end + 1, partStarts: [], oldData: false, metaMode: 'kTableFollower' });
    return ok();
  }

  /**
   * MakeSnapshot (tablet_impl.cc MakeSnapshot -> MakeSnapshotInternal): answers at once and
   * writes the snapshot in the background, only when the partition moved at least
   * make_snapshot_threshold_offset entries past the last one (or an end offset is given),
   * its MANIFEST stamped with the replicator's term.
   */
  makeSnapshot(endpoint: string, body: Json): Status {
    const tablet = this.mustRun(endpoint);
    const key = partitionKey(num(body, 'tid') ?? 0, num(body, 'pid') ?? 0);
    const p = tablet.loaded.get(key);
    // The tablet looks its snapshot object up before the table: a partition not loaded has neither.
    if (!p) return fail(CODE.snapshotIsNotExist, 'snapshot does not exist');
    if (p.state !== 'kTableNormal') return fail(CODE.tableStatusIsNotKnormal, 'table status is not kNormal');
    const endOffset = num(body, 'offset') ?? 0;
    setTimeout(() => {
      const disk = tablet.disk.get(key);
      if (!tablet.running || tablet.loaded.get(key) !== p || !disk || !isServing(p)) return;
      if (endOffset === 0 && p.offset < disk.snapshotOffset + this.host.timing.makeSnapshotThresholdOffset) return;
      const at = endOffset > 0 ? Math.min(endOffset, p.offset) : p.offset;
      if (at <= disk.snapshotOffset) return;
      disk.snapshotMade = { at: Date.now(), previous: disk.snapshotOffset };
      disk.snapshotOffset = at;
      disk.snapshotTerm = p.term;
      this.host.changed();
    }, this.host.timing.taskMs);
    return ok();
  }

  /**
   * LogReplicator::DeleteBinlog, on every loaded partition every binlog_delete_interval: the
   * binlog parts wholly before both the part the snapshot's next entry is in and the part
   * each follower in the replicator list reads next are unlinked. A follower not in that
   * list (attached later, or removed by an offline op meanwhile) is not waited for: once
   * its next entry is in a deleted part, nothing reaches it. The entries stay in the log
   * model (the snapshot holds them); only where the binlog starts moves.
   */
  deleteBinlogs(tablets: Iterable<TabletNode>): void {
    const size = Math.max(1, this.host.timing.binlogPartEntries);
    for (const tablet of tablets) {
      if (!tablet.running) continue;
      for (const p of tablet.loaded.values()) {
        const disk = tablet.disk.get(partitionKey(p.tid, p.pid));
        if (!disk || !isServing(p)) continue;
        // The first offset of the part holding `offset`.
        const partStart = (offset: number) => {
          let from = 1;
          for (const x of disk.partStarts ?? []) if (x <= offset && x > from) from = x;
          return from + Math.floor((offset - from) / size) * size;
        };
        // SetSnapshotLogPartIndex: the part the snapshot's next entry would be read from.
        let start = partStart(disk.snapshotOffset + 1);
        if (p.mode === 'kTableLeader') for (const f of p.followers) start = Math.min(start, partStart((p.synced?.[f] ?? 0) + 1));
        if (start > (disk.binlogStart ?? 1)) disk.binlogStart = start;
      }
    }
  }

  /** DeleteBinlog: the binlog goes to the recycle bin; only the snapshot stays. */
  deleteBinlog(endpoint: string, tid: number, pid: number): void {
    const tablet = this.mustRun(endpoint);
    const key = partitionKey(tid, pid);
    const disk = tablet.disk.get(key);
    if (!disk || disk.log.end <= disk.snapshotOffset) return;
    this.recycle(tablet, key, 'DeleteBinlog');
    truncate(disk.log, disk.snapshotOffset);
    disk.syncedOffset = Math.min(disk.syncedOffset, disk.log.end);
  }

  /** DropTable: the table leaves the tablet and its directory goes to the recycle bin. */
  dropTable(endpoint: string, tid: number, pid: number): Status {
    const tablet = this.mustRun(endpoint);
    const key = partitionKey(tid, pid);
    if (!tablet.loaded.has(key)) return fail(CODE.tableIsNotExist, 'table does not exist');
    this.deleteTableInternal(tablet, key, 'DropTable');
    return ok();
  }

  /** GetManifest: the leader's snapshot offset. */
  manifestOffset(endpoint: string, tid: number, pid: number): number {
    return this.host.tablet(endpoint)?.disk.get(partitionKey(tid, pid))?.snapshotOffset ?? 0;
  }

  /** A client write reached this leader: entries appended under its term and epoch. */
  writeOnLeader(tablet: TabletNode, p: LoadedPartition, entries: number): void {
    const disk = tablet.disk.get(partitionKey(p.tid, p.pid));
    if (!disk) return;
    append(disk.log, disk.log.end + entries, p.term, p.epoch);
    p.offset = disk.log.end;
  }

  /**
   * Replication tick: followers in a leader's replicator list receive what they lack
   * (AppendEntries skips entries at or below the follower's offset, so a follower holding
   * other entries there keeps them), and take the leader's term at their first sync.
   */
  replicate(tablets: Iterable<TabletNode>): void {
    for (const tablet of tablets) {
      if (!tablet.running) continue;
      for (const p of tablet.loaded.values()) {
        if (p.mode !== 'kTableLeader' || !isServing(p)) continue;
        const ldisk = tablet.disk.get(partitionKey(p.tid, p.pid));
        for (const f of p.followers) {
          const ft = this.host.tablet(f);
          const fp = ft?.running ? ft.loaded.get(partitionKey(p.tid, p.pid)) : undefined;
          const fdisk = ft?.disk.get(partitionKey(p.tid, p.pid));
          if (!ft || !fp || !fdisk || !ldisk || fp.mode !== 'kTableFollower' || !isServing(fp)) continue;
          if (this.host.appendBlocked(f)) continue;
          // The follower's next entry is in a binlog part the leader deleted: ReplicateNode
          // finds "no log part matched" on every try and the follower never catches up
          // (replica/replicate_node.cc); only a snapshot sent to it would help.
          if (fp.offset < p.offset && fp.offset + 1 < (ldisk.binlogStart ?? 1)) continue;
          if (fp.term < p.term) fp.term = p.term;
          if (fp.offset < p.offset) {
            appendFrom(fdisk.log, ldisk.log, fp.offset);
            fp.offset = fdisk.log.end;
            this.host.changed();
          }
          (p.synced ??= {})[f] = fp.offset;
        }
      }
    }
  }
}

export function isServing(p: LoadedPartition): boolean {
  return p.state === 'kTableNormal' || p.state === 'kMakingSnapshot' || p.state === 'kSnapshotPaused';
}

/** A power failure: the binlog keeps only what was fsynced (never less than the snapshot). */
export function losePower(disk: DiskPartition, flushMs: number): number {
  const keep = Math.max(disk.syncedOffset, disk.snapshotOffset);
  const lost = Math.max(0, disk.log.end - keep);
  truncate(disk.log, keep);
  // A snapshot written within the flush window: its data file's last pages never reached
  // the disk. It is written in offset order after the previous snapshot's records, so what
  // is missing is the newest half of what it added; the binlog after it (fsynced) stays,
  // and replay starts after the MANIFEST's offset, so nothing fills the hole.
  const made = disk.snapshotMade;
  if (made && disk.storageMode === 'kMemory' && Date.now() - made.at < flushMs && disk.snapshotOffset > made.previous) {
    const added = disk.snapshotOffset - made.previous;
    const missing = Math.max(1, Math.ceil(added / 2));
    punch(disk.log, disk.snapshotOffset - missing + 1, disk.snapshotOffset);
    disk.snapshotMade = undefined;
    return lost + missing;
  }
  return lost;
}

/** Records a loaded partition holds: its offset, less what a short snapshot left out. */
export function recordCount(p: LoadedPartition, disk: DiskPartition | undefined): number {
  const holes = disk ? disk.log.end - held(disk.log) : 0;
  return Math.max(0, p.offset - holes);
}

function statusJson(p: LoadedPartition, disk: DiskPartition | undefined): Json {
  const isMemory = p.storageMode === 'kMemory';
  const loaded = isServing(p);
  return {
    tid: p.tid,
    pid: p.pid,
    offset: p.offset,
    mode: p.mode,
    state: p.state,
    is_expire: false,
    time_offset: 0,
    record_cnt: loaded ? recordCount(p, disk) : 0,
    idx_cnt: 1,
    name: p.name,
    record_byte_size: isMemory && loaded ? p.offset * BYTES_PER_RECORD : 0,
    record_idx_byte_size: isMemory && loaded ? p.offset * 32 : 0,
    compress_type: 'kNoCompress',
    skiplist_height: loaded ? 1 : 0,
    diskused: loaded ? p.offset * (isMemory ? 64 : BYTES_PER_RECORD) : 0,
    storage_mode: p.storageMode,
  };
}
