// The cluster-wide lock and run journal, kept in the cluster's own ZooKeeper so that runs
// from different operations hosts exclude each other and pick up each other's journal.
//
//   <lock path>            EPHEMERAL  holder: host, pid, start, command, run id (JSON)
//   <parent>/journal       PERSISTENT the run journal (engine/journal-content.ts), written before the first change
//   <parent>/evidence      PERSISTENT the evidence record (engine/run-memory.ts), while any is kept:
//                          a child node per table (an older build: the whole record as its value)
//
// The default parent, <zk_root_path>/openmldb-recover, is a name OpenMLDB never uses (its
// nodes under the root are leader, nodes, map, config, table, op, db, cluster, notify,
// data, store_procedure, offline_endpoint_lock, ...). Needed ACL: create and delete on the
// parent (the lock node comes and goes), read and write on the journal; the first run also
// creates the parent under the root path unless an administrator did.
//
// The lock is ours only while our session lives. A crashed run's lock vanishes when the
// server expires its session; a run whose connection drops longer than the session timeout
// must assume another host may hold the lock now, so it is told to stop (onLost).
import { hostname } from 'node:os';
import type { Journal } from '../engine/journal-content.js';
import { JournalError, asJournal } from './journal.js';
import { LockHeld, type LockHolder } from './lock.js';
import { ZkError, ZkSession, ZkUnreachable, parentOf, zkJoin } from '../zk/session.js';

export const LOCK_DIR = 'openmldb-recover';

export function defaultZkLockPath(zkRootPath: string): string {
  return zkJoin(zkRootPath, LOCK_DIR, 'lock');
}

export function zkJournalPath(lockPath: string): string {
  return zkJoin(parentOf(lockPath), 'journal');
}

export function zkEvidencePath(lockPath: string): string {
  return zkJoin(parentOf(lockPath), 'evidence');
}

/**
 * The evidence record's texts in ZooKeeper: one child node per table under the evidence
 * node (a node holds at most 1 MB; the whole record of 8000 partitions is several), and the
 * whole record an older build kept in the evidence node's own value (`legacy`).
 */
export interface ZkEvidenceTexts {
  legacy: string | undefined;
  tables: Array<{ node: string; text: string }>;
}

/** A table's evidence node: the table as `db.table`, made safe for a node name. */
export function zkEvidenceNode(table: string): string {
  return `${encodeURIComponent(table)}.json`;
}

/**
 * The evidence node's own value once its record is kept in table nodes: a record no older
 * build accepts (they check `version: 1`), so one running on another host stops with an
 * error instead of reading "nothing remembered" and, say, loading a disk table twice.
 */
export const ZK_EVIDENCE_MARKER = JSON.stringify({ version: 2, record: 'one child node per table' });

export async function readZkEvidence(session: ZkSession, path: string): Promise<ZkEvidenceTexts> {
  const value = await session.get(path);
  if (value === undefined) return { legacy: undefined, tables: [] };
  const names = (await session.children(path)).sort();
  const texts = await Promise.all(names.map(async (node) => ({ node, text: (await session.get(zkJoin(path, node))) ?? '' })));
  return { legacy: value === '' || value === ZK_EVIDENCE_MARKER ? undefined : value, tables: texts };
}

/** Control characters out, length bounded: node content is foreign input. */
export function sanitize(text: unknown, max = 200): string {
  const s = String(text ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/** A LockHeld (exit 4) whose message says how a ZooKeeper lock goes away. */
export class ZkLockHeld extends LockHeld {
  constructor(path: string, holder: LockHolder | undefined, raw: string) {
    super(path, holder);
    this.message =
      holder
        ? `another run holds the cluster lock in ZooKeeper: pid ${sanitize(holder.pid)} on ${sanitize(holder.host)}, started ${sanitize(holder.startedAt)}, running \`${sanitize(holder.command)}\` (run ${sanitize(holder.runId)}); wait for it to end, or, if that host died, for its ZooKeeper session to expire (its lock ${path} then vanishes)`
        : `another run holds the cluster lock ${path} in ZooKeeper (its content is not a holder record: '${sanitize(raw, 80)}'); if no run is active, delete that node`;
  }
}

/** ZooKeeper failed or dropped under a run that needs it for its lock or journal. */
export class ZkLockUnavailable extends Error {
  override readonly name = 'ZkLockUnavailable';
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const h = JSON.parse(raw) as Partial<LockHolder>;
    if (typeof h.host === 'string' && typeof h.pid === 'number' && typeof h.command === 'string') return h as LockHolder;
  } catch {
    // not ours
  }
  return undefined;
}

export interface ZkLockOptions {
  zkCluster: string;
  lockPath: string;
  sessionTimeoutMs: number;
  command: string;
  runId: string;
  /** Called once when the lock can no longer be trusted (session expired or cut off too long). */
  onLost?: (why: string) => void;
}

export class ZkRunLock {
  readonly kind = 'zookeeper';
  readonly journalPath: string;
  /** Set once the lock can no longer be trusted; the run must stop changing the cluster. */
  lost: string | undefined;
  /** The journal as found when the lock was taken (read under the lock). */
  readonly journalFound: Journal | undefined;
  /** The evidence record's texts as found when the lock was taken. */
  readonly evidenceFound: ZkEvidenceTexts;
  private evidenceQueue: Promise<void> = Promise.resolve();
  /** The evidence node holds ZK_EVIDENCE_MARKER (set by this lock's first table write). */
  private evidenceMarked = false;
  private lostTimer: NodeJS.Timeout | undefined;
  /** Disconnected, session not yet known lost: changes wait (see usable). */
  private cutOff = false;
  /** release() has begun: nothing more may change the cluster under this lock. */
  private released = false;
  private waiters: Array<() => void> = [];
  /** While held: a cheap request every third of the session timeout, so a silent server is found out even between writes. */
  private liveness: NodeJS.Timeout | undefined;

  /** Cut off from ZooKeeper, not yet past the session timeout: changes are held. */
  get suspended(): boolean {
    return this.cutOff;
  }

  private constructor(
    private readonly session: ZkSession,
    readonly path: string,
    readonly holder: LockHolder,
    journalFound: Journal | undefined,
    evidenceFound: ZkEvidenceTexts,
    private readonly onLost: ((why: string) => void) | undefined,
  ) {
    this.journalPath = zkJournalPath(path);
    this.journalFound = journalFound;
    this.evidenceFound = evidenceFound;
    session.on('disconnected', () => {
      if (this.released || this.lost || this.lostTimer) return;
      this.cutOff = true;
      // The session outlives a short cut; past its timeout the server has dropped our lock.
      this.lostTimer = setTimeout(() => this.markLost(`lost contact with ZooKeeper (${session.hosts}) for longer than the session timeout (${session.timeoutMs} ms)`), session.timeoutMs);
    });
    session.on('connected', () => {
      if (this.lostTimer) clearTimeout(this.lostTimer);
      this.lostTimer = undefined;
      this.cutOff = false;
      this.wakeWaiters();
    });
    session.on('expired', () => this.markLost(`the ZooKeeper session holding the lock expired, or ZooKeeper (${session.hosts}) stopped answering`));
    this.liveness = setInterval(() => {
      if (this.released || this.lost) return;
      this.session.exists(this.path).catch(() => undefined); // its deadline, not its answer, is the point
    }, Math.max(500, Math.floor(session.timeoutMs / 3)));
    this.liveness.unref();
  }

  private markLost(why: string): void {
    if (this.released || this.lost) return;
    this.lost = why;
    if (this.lostTimer) clearTimeout(this.lostTimer);
    this.lostTimer = undefined;
    // The session is no use any more: closing it fails the journal and evidence writes still
    // waiting for a connection, so the run stops at them instead of waiting forever.
    this.session.removeAllListeners();
    void this.session.close();
    this.cutOff = false;
    this.onLost?.(why);
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }

  /**
   * Before each change to the cluster. Connected: go on. Disconnected: the session may
   * already be gone on the server and the lock another host's, so wait until ZooKeeper is
   * back (go on) or the session timeout has passed (lost: refuse). Curator's SUSPENDED
   * state is the same idea: a lock holder stops acting the moment the connection drops.
   * `restore` is the put-back of auto_failover, allowed even when lost (it only returns
   * the cluster to its operator's setting). A change waiting here stops with `signal`.
   */
  async usable(restore = false, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.lost || this.released) {
        if (restore) return;
        throw new ZkLockUnavailable(`no more changes to the cluster: ${this.lost ?? 'the lock was released'}`);
      }
      if (!this.cutOff) return;
      if (signal?.aborted && !restore) throw new ZkLockUnavailable(`no more changes to the cluster: the run was stopped while ZooKeeper was out of reach`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  static async acquire(o: ZkLockOptions): Promise<ZkRunLock> {
    // Every request has a deadline: a server that goes silent (frozen, a stalled disk, a
    // network that drops without a reset) never closes the connection, and the client
    // library would wait on it for ever, the run holding auto_failover off. Unanswered
    // past the session timeout, the session is given up as expired: the lock is lost.
    const session = await ZkSession.connect(o.zkCluster, { sessionTimeoutMs: o.sessionTimeoutMs, requestTimeoutMs: o.sessionTimeoutMs });
    const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: o.command, runId: o.runId };
    try {
      await session.mkdirp(parentOf(o.lockPath));
      try {
        await session.create(o.lockPath, JSON.stringify(me), 'ephemeral');
      } catch (err) {
        if (!(err instanceof ZkError) || err.code !== 'NODE_EXISTS') throw err;
        const raw = (await session.get(o.lockPath)) ?? '';
        throw new ZkLockHeld(o.lockPath, parseHolder(raw), raw);
      }
      const journalFound = parseJournal(await session.get(zkJournalPath(o.lockPath)), zkJournalPath(o.lockPath));
      const evidenceFound = await readZkEvidence(session, zkEvidencePath(o.lockPath));
      return new ZkRunLock(session, o.lockPath, me, journalFound, evidenceFound, o.onLost);
    } catch (err) {
      await session.close();
      if (err instanceof ZkError && err.code === 'NO_AUTH') {
        throw new ZkLockUnavailable(`ZooKeeper refused ${err.op} on ${err.path} (NO_AUTH): the lock needs create, delete, read and write on ${parentOf(o.lockPath)}; grant them or pass --lock-path to a node you may use`);
      }
      throw err;
    }
  }

  /** Another node of the cluster, read through the lock's session (config/auto_failover). */
  async read(path: string): Promise<string | undefined> {
    return this.session.get(path);
  }

  /** The journal store for FailoverKeeper: read what was found, write and clear in ZooKeeper. */
  async writeJournal(j: Journal): Promise<void> {
    if (this.lost) throw new ZkLockUnavailable(`not writing the run journal: ${this.lost}`);
    await this.session.put(this.journalPath, `${JSON.stringify(j, null, 2)}\n`);
  }

  async clearJournal(): Promise<void> {
    await this.session.remove(this.journalPath);
  }

  /**
   * Write (or, given undefined, remove) tables' evidence nodes, all at once; writes land in
   * call order. Then the evidence node's own value is the marker older builds refuse (an
   * older build's whole record kept there is replaced only once its tables are written).
   * Nothing left: the evidence node goes too.
   */
  writeEvidence(tables: ReadonlyArray<{ node: string; text: string | undefined }>): Promise<void> {
    const path = zkEvidencePath(this.path);
    const next = this.evidenceQueue.then(async () => {
      if (this.lost) throw new ZkLockUnavailable(`not writing the evidence record: ${this.lost}`);
      await Promise.all(tables.map((t) => (t.text === undefined ? this.session.remove(zkJoin(path, t.node)) : this.session.put(zkJoin(path, t.node), t.text))));
      if (tables.some((t) => t.text !== undefined) && !this.evidenceMarked) {
        await this.session.set(path, ZK_EVIDENCE_MARKER);
        this.evidenceMarked = true;
      }
      if (tables.some((t) => t.text === undefined) && (await this.session.exists(path)) && (await this.session.children(path)).length === 0) {
        await this.session.remove(path);
        this.evidenceMarked = false;
      }
    });
    this.evidenceQueue = next.catch(() => undefined);
    return next;
  }

  /** Remove our lock node (only if it is still ours) and close the session. */
  async release(): Promise<void> {
    this.released = true;
    if (this.liveness) clearInterval(this.liveness);
    if (this.lostTimer) clearTimeout(this.lostTimer);
    this.lostTimer = undefined;
    this.cutOff = false;
    this.wakeWaiters();
    try {
      if (!this.lost && this.session.connected) {
        const raw = await this.session.get(this.path);
        if (raw !== undefined && parseHolder(raw)?.runId === this.holder.runId) await this.session.remove(this.path);
      }
    } catch {
      // Closing the session removes the ephemeral node anyway.
    } finally {
      this.session.removeAllListeners();
      await this.session.close();
    }
  }
}

function parseJournal(raw: string | undefined, path: string): Journal | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const what = `the run journal in ZooKeeper ${path}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Not the parser's message: it quotes the content, which is not ours.
    throw new JournalError(`${what} is not valid JSON (${raw.length} bytes): check it, then delete that node to start afresh`);
  }
  return asJournal(parsed, what, 'delete that node');
}

export { ZkUnreachable };
