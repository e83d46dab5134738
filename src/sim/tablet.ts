// Tablet semantics (reference section 6): what LoadTable, GetTableStatus, GetTermPair and
// the replication calls the nameserver's op tasks make do to a tablet's runtime state and
// its disk.
import type { DiskPartition, LoadedPartition, SimTiming, StorageMode, TableMode, TabletNode } from './model.js';
import { BYTES_PER_RECORD, partitionKey } from './model.js';
import { type Json, type Status, fail, num, obj, ok, str, Unreachable } from './rpc.js';

/** Per-replica load behaviour injected by `openmldb-sim ctl load`. */
export interface LoadFault {
  /** Loads of this replica that will fail (the table vanishes again). */
  failCount: number;
  /** Extra load time in ms. */
  extraMs: number;
}

export interface TabletHost {
  readonly timing: SimTiming;
  tablet(endpoint: string): TabletNode | undefined;
  loadFault(endpoint: string, tid: number, pid: number): LoadFault | undefined;
  /** Called whenever a partition's runtime state changed (for waiters). */
  changed(): void;
}

interface PendingLoad {
  key: string;
  run: () => void;
}

const isStorageMode = (v: unknown): v is StorageMode => v === 'kMemory' || v === 'kSSD' || v === 'kHDD';

export class TabletService {
  /** Loads running and queued per tablet (the tablet's load thread pool). */
  private running = new Map<string, number>();
  private queued = new Map<string, PendingLoad[]>();
  /** Bumped on every tablet stop, so loads of a previous process life are dropped. */
  private generation = new Map<string, number>();
  private loadWaiters = new Map<string, Array<(ok: boolean) => void>>();

  constructor(private readonly host: TabletHost) {}

  private mustRun(endpoint: string): TabletNode {
    const tablet = this.host.tablet(endpoint);
    if (!tablet || !tablet.running) throw new Unreachable(endpoint);
    return tablet;
  }

  /** The tablet process stopped: everything loaded is gone, loads in flight die. */
  onStop(endpoint: string): void {
    this.generation.set(endpoint, (this.generation.get(endpoint) ?? 0) + 1);
    this.running.set(endpoint, 0);
    this.queued.set(endpoint, []);
    for (const [key, waiters] of this.loadWaiters) {
      if (key.startsWith(`${endpoint}|`)) {
        this.loadWaiters.delete(key);
        for (const w of waiters) w(false);
      }
    }
  }

  // ---- RPC: LoadTable -------------------------------------------------------------

  loadTable(endpoint: string, body: Json): Status {
    const tablet = this.mustRun(endpoint);
    const meta = obj(body, 'table_meta') ?? {};
    const name = str(meta, 'name') ?? '';
    const tid = num(meta, 'tid') ?? 0;
    const pid = num(meta, 'pid') ?? 0;
    const rawMode = meta['storage_mode'] ?? 'kMemory';
    const storageMode = rawMode === 1 ? 'kMemory' : rawMode === 2 ? 'kSSD' : rawMode === 3 ? 'kHDD' : rawMode;
    if (name === '') return fail(129, 'table name is empty');
    if (tid <= 0) return fail(129, 'tid <= 0, invalid tid');
    if (!isStorageMode(storageMode)) return fail(129, 'storage_mode is unknown');
    const key = partitionKey(tid, pid);
    if (tablet.loaded.has(key) || this.isQueued(endpoint, key)) return fail(101, 'table already exists');
    // The disk directory is chosen by the REQUEST's storage mode: a wrong mode finds
    // nothing and loads an empty table (the real tablet only logs a warning).
    const onDisk = tablet.disk.get(key);
    const disk = onDisk && onDisk.storageMode === storageMode ? onDisk : undefined;
    const reqMode = meta['mode'];
    const mode: TableMode =
      reqMode === 'kTableLeader' || reqMode === 1
        ? 'kTableLeader'
        : reqMode === 'kTableFollower' || reqMode === 2
          ? 'kTableFollower'
          : (disk?.metaMode ?? 'kTableLeader');
    const segCnt = num(meta, 'seg_cnt') ?? disk?.segCnt ?? 8;
    this.startLoad(tablet, { tid, pid, name, storageMode, mode, segCnt, disk });
    return ok();
  }

  private isQueued(endpoint: string, key: string): boolean {
    return (this.queued.get(endpoint) ?? []).some((p) => p.key === key);
  }

  /** Start (or queue) an asynchronous load; resolves true when it reached kTableNormal. */
  startLoad(
    tablet: TabletNode,
    req: { tid: number; pid: number; name: string; storageMode: StorageMode; mode: TableMode; segCnt: number; disk: DiskPartition | undefined },
  ): Promise<boolean> {
    const endpoint = tablet.endpoint;
    const key = partitionKey(req.tid, req.pid);
    const gen = this.generation.get(endpoint) ?? 0;
    const isMemory = req.storageMode === 'kMemory';
    const entry: LoadedPartition = {
      tid: req.tid,
      pid: req.pid,
      name: req.name,
      storageMode: req.storageMode,
      mode: req.mode,
      state: 'kTableUndefined',
      offset: 0,
      segCnt: req.segCnt,
      followers: [],
    };
    // Memory tables exist (kTableUndefined) at once; disk tables only once the snapshot
    // is linked, so they are invisible to GetTableStatus until then.
    if (isMemory) tablet.loaded.set(key, entry);
    const done = new Promise<boolean>((resolve) => {
      const waiters = this.loadWaiters.get(`${endpoint}|${key}`) ?? [];
      waiters.push(resolve);
      this.loadWaiters.set(`${endpoint}|${key}`, waiters);
    });
    const run = () => {
      if ((this.generation.get(endpoint) ?? 0) !== gen) return;
      this.running.set(endpoint, (this.running.get(endpoint) ?? 0) + 1);
      const fault = this.host.loadFault(endpoint, req.tid, req.pid);
      const entries = req.disk?.binlogOffset ?? 0;
      const t = this.host.timing;
      const total = t.loadBaseMs + (entries / 1000) * t.loadMsPer1000 + (fault?.extraMs ?? 0);
      const failing = fault !== undefined && fault.failCount > 0;
      if (failing) fault.failCount -= 1;
      const linkAt = isMemory ? 0 : Math.min(total * 0.3, 100);
      setTimeout(() => {
        if ((this.generation.get(endpoint) ?? 0) !== gen) return;
        entry.state = 'kTableLoading';
        tablet.loaded.set(key, entry);
        this.host.changed();
      }, linkAt);
      setTimeout(() => {
        if ((this.generation.get(endpoint) ?? 0) !== gen) return;
        this.running.set(endpoint, Math.max(0, (this.running.get(endpoint) ?? 1) - 1));
        if (failing) {
          // A failed background load deletes the table again: no trace, no error state.
          tablet.loaded.delete(key);
          this.finishLoad(endpoint, key, false);
        } else {
          entry.state = 'kTableNormal';
          entry.offset = req.disk?.binlogOffset ?? 0;
          // LoadTable rewrites table_meta.txt with the merged meta (including the role).
          const disk = req.disk ?? this.createDisk(tablet, req);
          disk.metaMode = req.mode;
          this.finishLoad(endpoint, key, true);
        }
        this.pump(endpoint);
        this.host.changed();
      }, Math.max(total, linkAt + 1));
    };
    const queue = this.queued.get(endpoint) ?? [];
    queue.push({ key, run });
    this.queued.set(endpoint, queue);
    this.pump(endpoint);
    this.host.changed();
    return done;
  }

  private createDisk(
    tablet: TabletNode,
    req: { tid: number; pid: number; name: string; storageMode: StorageMode; mode: TableMode; segCnt: number },
  ): DiskPartition {
    const disk: DiskPartition = {
      tid: req.tid,
      pid: req.pid,
      name: req.name,
      db: '',
      storageMode: req.storageMode,
      segCnt: req.segCnt,
      snapshotOffset: 0,
      binlogOffset: 0,
      term: 0,
      metaMode: req.mode,
    };
    tablet.disk.set(partitionKey(req.tid, req.pid), disk);
    return disk;
  }

  private finishLoad(endpoint: string, key: string, success: boolean): void {
    const waiters = this.loadWaiters.get(`${endpoint}|${key}`) ?? [];
    this.loadWaiters.delete(`${endpoint}|${key}`);
    for (const w of waiters) w(success);
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
      .map((p) => statusJson(p));
    const reply: Json = { code: 0 };
    if (rows.length > 0) reply['all_table_status'] = rows;
    return reply;
  }

  getTermPair(endpoint: string, body: Json): Json {
    const tablet = this.mustRun(endpoint);
    const tid = num(body, 'tid') ?? 0;
    const pid = num(body, 'pid') ?? 0;
    const key = partitionKey(tid, pid);
    const loaded = tablet.loaded.get(key);
    const disk = tablet.disk.get(key);
    if (loaded && loaded.state !== 'kTableUndefined' && loaded.state !== 'kTableLoading') {
      return { code: 0, msg: 'ok', term: disk?.term ?? 0, offset: loaded.offset, has_table: true, is_leader: loaded.mode === 'kTableLeader' };
    }
    // Not loaded: the snapshot MANIFEST only, not the binlog tail.
    return { code: 0, msg: 'ok', term: disk?.term ?? 0, offset: disk?.snapshotOffset ?? 0, has_table: false, is_leader: false };
  }

  getTableFollower(endpoint: string, body: Json): Json {
    const tablet = this.mustRun(endpoint);
    const p = tablet.loaded.get(partitionKey(num(body, 'tid') ?? 0, num(body, 'pid') ?? 0));
    if (!p) return fail(100, 'table does not exist') as unknown as Json;
    if (p.mode !== 'kTableLeader') return fail(105, 'table is follower') as unknown as Json;
    if (p.followers.length === 0) return fail(134, 'has no follower') as unknown as Json;
    return {
      code: 0,
      msg: 'ok',
      offset: p.offset,
      follower_info: p.followers.map((f) => ({ endpoint: f, offset: this.followerOffset(f, p.tid, p.pid) })),
    };
  }

  private followerOffset(endpoint: string, tid: number, pid: number): number {
    return this.host.tablet(endpoint)?.loaded.get(partitionKey(tid, pid))?.offset ?? 0;
  }

  // ---- Calls made by the nameserver's op tasks ---------------------------------------

  loaded(endpoint: string, tid: number, pid: number): LoadedPartition | undefined {
    return this.mustRun(endpoint).loaded.get(partitionKey(tid, pid));
  }

  addReplica(leader: string, tid: number, pid: number, follower: string): Status {
    const p = this.loaded(leader, tid, pid);
    if (!p) return fail(100, 'table does not exist');
    if (p.mode !== 'kTableLeader') return fail(105, 'table is follower');
    if (!p.followers.includes(follower)) p.followers.push(follower);
    return ok();
  }

  delReplica(leader: string, tid: number, pid: number, follower: string): Status {
    const p = this.loaded(leader, tid, pid);
    if (!p) return fail(100, 'table does not exist');
    if (p.mode !== 'kTableLeader') return fail(105, 'table is follower');
    p.followers = p.followers.filter((f) => f !== follower);
    return ok();
  }

  changeRole(endpoint: string, tid: number, pid: number, mode: TableMode, followers: string[], term: number): Status {
    const p = this.loaded(endpoint, tid, pid);
    if (!p) return fail(100, 'table does not exist');
    p.mode = mode;
    p.followers = mode === 'kTableLeader' ? [...followers] : [];
    const disk = this.mustRun(endpoint).disk.get(partitionKey(tid, pid));
    if (disk && mode === 'kTableLeader') disk.term = term;
    this.host.changed();
    return ok();
  }

  setSnapshotPaused(endpoint: string, tid: number, pid: number, paused: boolean): Status {
    const p = this.loaded(endpoint, tid, pid);
    if (!p) return fail(100, 'table does not exist');
    if (paused && p.state === 'kTableNormal') p.state = 'kSnapshotPaused';
    if (!paused && p.state === 'kSnapshotPaused') p.state = 'kTableNormal';
    return ok();
  }

  /** Follower side of kSelectLeader: stop following, report the offset. */
  followOfNoOne(endpoint: string, tid: number, pid: number): { status: Status; offset: number } {
    const p = this.loaded(endpoint, tid, pid);
    if (!p) return { status: fail(100, 'table does not exist'), offset: 0 };
    return { status: ok(), offset: p.offset };
  }

  /** kSendSnapshot: the target's disk becomes a copy of the leader's snapshot. */
  sendSnapshot(leader: string, tid: number, pid: number, target: string): Status {
    const src = this.mustRun(leader).disk.get(partitionKey(tid, pid));
    const dst = this.mustRun(target);
    if (!src) return fail(100, 'table does not exist');
    dst.disk.set(partitionKey(tid, pid), { ...src, binlogOffset: src.snapshotOffset, metaMode: 'kTableFollower' });
    return ok();
  }

  /** Recovery of an unloaded replica moves its binlog to the recycle bin: only the snapshot stays. */
  deleteBinlog(endpoint: string, tid: number, pid: number): void {
    const disk = this.mustRun(endpoint).disk.get(partitionKey(tid, pid));
    if (disk) disk.binlogOffset = disk.snapshotOffset;
  }

  dropTable(endpoint: string, tid: number, pid: number): Status {
    const tablet = this.mustRun(endpoint);
    const key = partitionKey(tid, pid);
    if (!tablet.loaded.has(key)) return fail(100, 'table does not exist');
    tablet.loaded.delete(key);
    tablet.disk.delete(key);
    this.host.changed();
    return ok();
  }

  /**
   * Replication tick: followers in a leader's replicator list catch up with it. Entries
   * received are appended to the follower's binlog.
   */
  replicate(tablets: Iterable<TabletNode>): void {
    for (const tablet of tablets) {
      if (!tablet.running) continue;
      for (const p of tablet.loaded.values()) {
        if (p.mode !== 'kTableLeader' || !isServing(p)) continue;
        for (const f of p.followers) {
          const ft = this.host.tablet(f);
          const fp = ft?.running ? ft.loaded.get(partitionKey(p.tid, p.pid)) : undefined;
          if (!ft || !fp || fp.mode !== 'kTableFollower' || !isServing(fp)) continue;
          if (fp.offset < p.offset) {
            fp.offset = p.offset;
            const disk = ft.disk.get(partitionKey(p.tid, p.pid));
            if (disk) disk.binlogOffset = Math.max(disk.binlogOffset, p.offset);
            this.host.changed();
          }
        }
      }
    }
  }
}

export function isServing(p: LoadedPartition): boolean {
  return p.state === 'kTableNormal' || p.state === 'kMakingSnapshot' || p.state === 'kSnapshotPaused';
}

function statusJson(p: LoadedPartition): Json {
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
    record_cnt: loaded ? p.offset : 0,
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
