// What every mutating command does around its workflow: take the cluster lock (exit 4
// when another run holds it), and keep the run journal so auto_failover survives a crash.
// Read-only commands (status, ops, --dry-run) take neither.
//
// --lock zk:    the lock is an ephemeral node in the cluster's ZooKeeper and the journal a
//               node beside it, shared by every operations host (safety/zk-lock.ts).
// --lock local: a file lock and journal in --state-dir, for this host only.
// --lock auto:  ZooKeeper when a ZooKeeper server answers at --zk_cluster, else local.
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { OpenMLDBClient } from '../cluster/client.js';
import { ClusterUnreachable } from '../cluster/errors.js';
import { retryTransient } from '../engine/retry.js';
import type { CommandLog, CommandLogEntry } from '../cluster/transport.js';
import type { Journal, PendingPlan, SentCommand } from '../engine/journal-content.js';
import { Room } from '../safety/room.js';
import { JournalError, asJournal, checkJournalCluster, clearJournal, journalPath, readJournal, writeJournal } from '../safety/journal.js';
import { printable } from '../safety/files.js';
import { clusterIdentifiers, knownKey, lockCluster, rememberKey } from '../safety/identity.js';
import { type LockHolder, alive } from '../safety/lock.js';
import { clusterKey, ensureStateDir, sweepStaleTemps } from '../safety/state-dir.js';
import { evidenceStore } from '../safety/evidence-file.js';
import { type ZkEvidenceTexts, ZkLockUnavailable, ZkRunLock, readZkEvidence, zkEvidenceNode, zkEvidencePath, zkJournalPath } from '../safety/zk-lock.js';
import { type EvidenceFile, RunMemory, mergeEvidence, splitEvidence } from '../engine/run-memory.js';
import { FailoverKeeper, type JournalStore } from '../engine/failover-keeper.js';
import type { Progress } from '../engine/progress.js';
import { probeZooKeeper } from '../zk/probe.js';
import { ZkError, ZkSession, ZkUnreachable } from '../zk/session.js';
import type { ConnectionConfig } from './connection.js';
import type { RunSettings } from './settings.js';
import { UsageError, errorMessage } from '../exit-codes.js';

/** What a run's lock, journal and evidence are placed by. */
export type SafetySettings = Pick<RunSettings, 'connection' | 'lock' | 'state' | 'retries'>;

/** Which lock a run holds, for the report. */
export interface LockInfo {
  kind: 'zookeeper' | 'local';
  path: string;
  /** Why this kind (auto's choice). */
  why?: string;
}

export interface RunSafety {
  keeper: FailoverKeeper;
  lock: LockInfo & { holder: LockHolder };
  /** The evidence record, kept across runs (and hosts, in ZooKeeper) until the partitions are served again. */
  memory: RunMemory;
  /** Set when the lock can no longer be trusted (ZooKeeper lost mid-run): stop changing the cluster. */
  lost(): string | undefined;
  /** Called once if the lock is lost. */
  onLost(listener: (why: string) => void): void;
  /** Awaited before each change to the cluster: waits while ZooKeeper is cut off, rejects once the lock is lost. */
  changeGate(restore: boolean, signal?: AbortSignal): Promise<void>;
  /** Record the run's mutating commands in the journal (once it exists). */
  recordSent(log: CommandLog): void;
  /** Drop an unfinished run's journal (the operator chose auto_failover's value); returns it. */
  dropJournal(): Promise<Journal | undefined>;
  release(): Promise<void>;
}

/** Changing commands as the command log names them: `recovertable t0 1 ...` (binary) or `TabletServer/LoadTable` (HTTP). */
const MUTATING = /^(confset|updatetablealive|recovertable|changeleader|offlineendpoint|recoverendpoint|cancelop|deleteop|loadtable)\b|\/(LoadTable|ConfSet|UpdateTableAliveStatus|RecoverTable|ChangeLeader|OfflineEndpoint|RecoverEndpoint|CancelOP|DeleteOP)$/;
const SENT_KEPT = 50;
const SENT_WRITE_MS = 250;

/** What a changing command's answer said: a refusal over HTTP is a status or a code in the body, over the binary a failing line or exit status. */
export function outcomeOf(e: CommandLogEntry): string {
  if (e.error) return `no-answer: ${e.error}`;
  const text = (e.output ?? '').trim();
  if (e.kind === 'http') {
    if (e.httpStatus !== undefined && e.httpStatus >= 400) return `failed: HTTP ${e.httpStatus} ${text.slice(0, 160)}`.trimEnd();
    let body: { code?: unknown; msg?: unknown } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return `failed: an answer that is not JSON (${text.length} bytes)`;
    }
    const code = body && typeof body === 'object' ? body.code : undefined;
    return code === undefined || code === 0 ? 'ok' : `failed: code ${String(code)} ${String(body?.msg ?? '').slice(0, 160)}`.trimEnd();
  }
  const last = text.split('\n').pop() ?? '';
  // Whole words: "set auto_failover ok" is a success.
  if (/\b(fail|failed|error)\b/i.test(last)) return `failed: ${last.slice(0, 160)}`;
  return e.exitCode !== undefined && e.exitCode !== null && e.exitCode !== 0 ? `failed: exit status ${e.exitCode}` : 'ok';
}

/** Where this run's lock, journal and evidence live (--lock; auto probes ZooKeeper). */
async function chooseLock(s: SafetySettings): Promise<{ useZk: boolean; why?: string }> {
  const config = s.connection;
  if (s.lock.choice !== 'auto') return { useZk: s.lock.choice === 'zk' };
  const probe = await probeZooKeeper(config.zkCluster, 3000);
  const useZk = probe === 'zookeeper';
  return { useZk, why: useZk ? `a ZooKeeper server answers at ${config.zkCluster}` : `no ZooKeeper server answers at ${config.zkCluster} (${probe})` };
}

/** What names a cluster: its ZooKeeper hosts as addresses and its nameservers (safety/identity.ts). */
async function identify(client: OpenMLDBClient, config: Readonly<ConnectionConfig>, retries: number): Promise<string[]> {
  // Before the lock, and so before a restore an earlier run may owe: a passing failure must not end the run here.
  const ns = await retryTransient('showns', () => client.showNs(), { retries });
  return clusterIdentifiers(config.zkCluster, config.zkRootPath, ns.nameservers.map((n) => n.realEndpoint ?? n.endpoint));
}

export async function openRunSafety(s: SafetySettings, command: string, progress: Progress, client: OpenMLDBClient): Promise<RunSafety> {
  const config = s.connection;
  if (s.lock.choice === 'zk') {
    // A quick look first: a server that is not ZooKeeper answers in milliseconds.
    const probe = await probeZooKeeper(config.zkCluster, 3000);
    if (probe !== 'zookeeper') {
      const what = probe === 'not-zookeeper' ? 'the server there does not answer as ZooKeeper' : 'no answer';
      throw new ClusterUnreachable('zookeeper', `${config.zkCluster}${config.zkRootPath}`, `--lock zk: ${what}; use --lock local to lock on this host only`);
    }
  }
  const { useZk, why } = await chooseLock(s);
  return useZk ? openZk(s, command, progress, why) : openLocal(s, command, progress, why, client);
}

/**
 * The reviewed plan pending for this cluster, if any, as `status` shows it: from the
 * journal where a run would find it (ZooKeeper when it answers, else the state directory),
 * read without the lock, creating nothing. Best effort: `status` never fails for it.
 */
export async function readPendingPlan(s: SafetySettings, client: OpenMLDBClient): Promise<PendingPlan | undefined> {
  try {
    return await readUnlocked(s, client, {
      zk: async (session, lockPath) => {
        const where = zkJournalPath(lockPath);
        const text = await session.get(where);
        return text === undefined || text === '' ? undefined : asJournal(JSON.parse(text), `the run journal ${where} in ZooKeeper`, 'delete that node').plan;
      },
      zkDown: () => undefined,
      local: (dir, key) => readJournal(journalPath(dir, key))?.plan,
    });
  } catch {
    return undefined;
  }
}

/**
 * The evidence record for a dry run: read if present (a dry run should know what an earlier
 * run learnt, e.g. a replica whose load failed), never written. From ZooKeeper when the
 * lock would be there (without taking it), else from the state directory.
 */
export async function readOnlyMemory(s: SafetySettings, client: OpenMLDBClient): Promise<RunMemory> {
  return readUnlocked(s, client, {
    zk: async (session, lockPath) => {
      const where = zkEvidencePath(lockPath);
      const found = parseZkEvidence(await readZkEvidence(session, where), where);
      return new RunMemory({ read: () => found, write: () => undefined });
    },
    zkDown: () => new RunMemory(), // ZooKeeper out of reach: the run itself will say so
    local: (dir, key) => new RunMemory(evidenceStore(dir, key, true)),
  });
}

/**
 * A run's state read without its lock, where the run would keep it: in ZooKeeper when the
 * lock would be there (`zkDown` when ZooKeeper cannot be read; a state it finds malformed
 * still throws), else in the state directory under the cluster's key as an earlier run spelled it.
 */
async function readUnlocked<T>(
  s: SafetySettings,
  client: OpenMLDBClient,
  read: { zk: (session: ZkSession, lockPath: string) => Promise<T>; zkDown: () => T; local: (dir: string, key: string) => T },
): Promise<T> {
  const config = s.connection;
  const { useZk } = await chooseLock(s).catch(() => ({ useZk: false }));
  if (useZk) {
    try {
      const session = await ZkSession.connect(config.zkCluster, { sessionTimeoutMs: 4000 });
      try {
        return await read.zk(session, s.lock.path);
      } finally {
        await session.close();
      }
    } catch (err) {
      if (err instanceof JournalError || err instanceof UsageError) throw err;
      return read.zkDown();
    }
  }
  const dir = s.state.dir;
  return read.local(dir, knownKey(dir, await identify(client, config, s.retries), clusterKey(config.zkCluster, config.zkRootPath)));
}

function parseEvidence(text: string | undefined, where: string): EvidenceFile | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let f: Partial<EvidenceFile> | null;
  try {
    f = JSON.parse(text) as Partial<EvidenceFile> | null;
  } catch {
    // Never quote the content: it is not ours.
    throw new JournalError(`the evidence record in ZooKeeper ${where} is not valid JSON (${text.length} bytes): check it, then delete that node to start afresh`);
  }
  if (f === null || typeof f !== 'object' || f.version !== 1 || typeof f.partitions !== 'object' || f.partitions === null) {
    throw new JournalError(`the evidence record in ZooKeeper ${where} is not one this tool wrote: check it, then delete that node to start afresh`);
  }
  return f as EvidenceFile;
}

/** The record as found in ZooKeeper: an older build's whole record, then the table nodes over it. */
function parseZkEvidence(texts: ZkEvidenceTexts, where: string): EvidenceFile | undefined {
  const parts = [parseEvidence(texts.legacy, where), ...texts.tables.map((t) => parseEvidence(t.text, `${where}/${t.node}`))];
  return mergeEvidence(parts.filter((f): f is EvidenceFile => f !== undefined));
}

/** The record's tables as ZooKeeper nodes (serialized now: the store's contract). */
function zkEvidenceNodes(tables: ReadonlyMap<string, EvidenceFile>): Array<{ node: string; text: string | undefined }> {
  return [...tables].map(([table, f]) => ({ node: zkEvidenceNode(table), text: Object.keys(f.partitions).length === 0 ? undefined : JSON.stringify(f) }));
}

/**
 * Keeps the journal last written, so each mutating command sent can be appended to it. The
 * list is written at most every SENT_WRITE_MS (the first at once): a fsynced rewrite per
 * command was a fifth of the tool's CPU at 1600 partitions, and the list is a courtesy to
 * the next run (what the dead one was doing), not what makes it safe.
 */
export class SentRecorder {
  current: Journal | undefined;
  private queue: Promise<void> = Promise.resolve();
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly write: (j: Journal) => void | Promise<void>) {}

  wrote(j: Journal): void {
    this.current = j;
  }

  cleared(): void {
    this.current = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  attach(log: CommandLog, runId: string): void {
    log.onEntry((e) => {
      if (!MUTATING.test(e.command) || !this.current) return;
      const entry: SentCommand = { at: e.startedAt, runId, command: e.command, outcome: outcomeOf(e) };
      this.current = { ...this.current, sent: [...(this.current.sent ?? []), entry].slice(-SENT_KEPT), sentTotal: (this.current.sentTotal ?? this.current.sent?.length ?? 0) + 1 };
      if (this.timer) return;
      const wait = this.lastWrite + SENT_WRITE_MS - Date.now();
      if (wait <= 0) this.flush();
      else this.timer = setTimeout(() => this.flush(), wait).unref();
    });
  }

  /** The list held back by the timer written now (a run ending with its journal kept), and every write done. */
  async settle(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.flush();
    }
    await this.queue;
  }

  private flush(): void {
    this.timer = undefined;
    this.lastWrite = Date.now();
    // Best effort and in order, the newest list when its turn comes; the journal's one duty
    // (auto_failover's value) is already written.
    this.queue = this.queue
      .then(async () => {
        const j = this.current;
        if (j) await this.write(j);
      })
      .catch(() => undefined);
  }
}

function describeFound(j: Journal, progress: Progress): void {
  const last = j.sent?.at(-1);
  const total = typeof j.sentTotal === 'number' && Number.isSafeInteger(j.sentTotal) && j.sentTotal >= (j.sent?.length ?? 0) ? j.sentTotal : (j.sent?.length ?? 0);
  if (last) progress.warn(`the unfinished run had sent ${total} changing commands; the last: \`${printable(last.command)}\` (${printable(last.outcome)}); its ops, if still running, are waited on`);
}

/**
 * The lock and journal in --state-dir. The lock covers every identifier of the cluster (its
 * ZooKeeper hosts as addresses, its nameservers), so two spellings of one cluster's address
 * exclude each other; the journal and evidence are named by the cluster's key from the
 * state directory's index, so a rerun spelled otherwise finds them.
 */
async function openLocal(s: SafetySettings, command: string, progress: Progress, why: string | undefined, client: OpenMLDBClient): Promise<RunSafety> {
  const config = s.connection;
  const dir = ensureStateDir(s.state.dir);
  const ids = await identify(client, config, s.retries);
  const cluster = { zkCluster: config.zkCluster, zkRootPath: config.zkRootPath };
  const runId = randomUUID();
  const lock = lockCluster(dir, ids, `openmldb-recover ${command}`, runId);
  if (lock.tookOverFrom) {
    progress.warn(`took over the lock of a run that is gone (pid ${lock.tookOverFrom.pid}, started ${printable(lock.tookOverFrom.startedAt, 40)}, ${printable(lock.tookOverFrom.command)})`);
  }
  if (why) progress.info(`cluster lock: local files in ${dir} (${why})`);
  let memory: RunMemory;
  let keeper: FailoverKeeper;
  let recorder: SentRecorder;
  let jpath: string;
  let room: Room | undefined;
  try {
    // Under the lock: the cluster's key (as an earlier run spelled it, if any), the journal
    // (validated; a restore it owes comes first), room on disk for what follows, then the
    // evidence, all before any change.
    const key = knownKey(dir, ids, clusterKey(config.zkCluster, config.zkRootPath));
    jpath = journalPath(dir, key);
    const path = jpath;
    const found = readJournal(jpath);
    if (found) checkJournalCluster(found, ids, config, `the run journal ${jpath}`);
    let reserved: Room;
    try {
      reserved = Room.reserve(join(dir, `${key}.reserve`));
    } catch (err) {
      // No room, but a dead run left auto_failover off: this run must still put it back
      // (that needs no room). A change it would journal first fails before it is sent.
      if (!found || !(err instanceof JournalError)) throw err;
      progress.warn(`${err.message.replace(/: nothing was changed.*$/, '')}; an earlier run left auto_failover off, so this run goes on to put it back`);
      reserved = Room.none();
    }
    room = reserved;
    reserved.onGiveBack = (file) => progress.warn(`the state directory's disk is full (writing ${file}): the room reserved for this run's journal and evidence is given back; free space on it before the next run`);
    reserved.write(join(dir, 'id-*.key'), () => rememberKey(dir, ids, key));
    sweepStaleTemps(dir, (pid) => pid === process.pid || alive(pid));
    // The sent-command record is best effort: its writes never take the reserved room.
    const rec = new SentRecorder((j) => writeJournal(path, j));
    recorder = rec;
    const store: JournalStore = {
      read: () => readJournal(path),
      write: (j) => {
        reserved.write(path, () => writeJournal(path, j));
        rec.wrote(j);
      },
      clear: () => {
        rec.cleared();
        clearJournal(path);
      },
    };
    keeper = new FailoverKeeper(store, { command, cluster, identifiers: ids }, progress, runId);
    if (found) describeFound(found, progress);
    const evidence = evidenceStore(dir, key);
    memory = new RunMemory({ read: evidence.read, write: (tables) => reserved.write(evidence.path, () => evidence.write(tables)) });
  } catch (err) {
    room?.release();
    lock.release();
    throw err;
  }
  const held = room;
  const journal = jpath;
  return {
    keeper,
    memory,
    lock: { kind: 'local', path: lock.path, holder: lock.holder, ...(why ? { why } : {}) },
    lost: () => undefined,
    onLost: () => undefined,
    changeGate: async () => undefined,
    recordSent: (log) => recorder.attach(log, keeper.runId),
    dropJournal: async () => {
      const j = readJournal(journal);
      if (j) clearJournal(journal);
      return j;
    },
    release: async () => {
      await recorder.settle();
      held.release();
      lock.release();
    },
  };
}

async function openZk(s: SafetySettings, command: string, progress: Progress, why: string | undefined): Promise<RunSafety> {
  const config = s.connection;
  const cluster = { zkCluster: config.zkCluster, zkRootPath: config.zkRootPath };
  const path = s.lock.path;
  const listeners: Array<(why: string) => void> = [];
  let lostWhy: string | undefined;
  // The keeper's run id names the lock's holder; the store reads what acquire found.
  let lock: ZkRunLock | undefined;
  const recorder = new SentRecorder((j) => lock?.writeJournal(j));
  // What the journal node holds now: what acquire found, then what this run wrote or cleared.
  let current: Journal | undefined;
  const store: JournalStore = {
    read: () => current,
    write: async (j) => {
      if (!lock) throw new ZkLockUnavailable('the ZooKeeper lock is not held');
      // First: a sent-command record queued meanwhile must build on this journal, not
      // put the one before it back after this write.
      recorder.wrote(j);
      await lock.writeJournal(j);
      current = j;
    },
    clear: async () => {
      recorder.cleared();
      current = undefined;
      try {
        await lock?.clearJournal();
      } catch (err) {
        // Harmless: the next run restores the same original value, then clears it.
        progress.warn(`could not clear the run journal ${lock?.journalPath} in ZooKeeper (${errorMessage(err)}); the next run will find it and clear it`);
      }
    },
  };
  const keeper = new FailoverKeeper(store, { command, cluster }, progress);
  try {
    lock = await ZkRunLock.acquire({
      zkCluster: config.zkCluster,
      lockPath: path,
      sessionTimeoutMs: s.lock.sessionTimeoutMs,
      command: `openmldb-recover ${command}`,
      runId: keeper.runId,
      onLost: (w) => {
        lostWhy = w;
        progress.warn(`${w}: the cluster lock may now be another run's; no more changes to the cluster`);
        for (const l of listeners) l(w);
      },
    });
  } catch (err) {
    if (err instanceof ZkUnreachable) {
      throw new ClusterUnreachable('zookeeper', `${config.zkCluster}${config.zkRootPath}`, `--lock zk: ${err.message}; use --lock local to lock on this host only`);
    }
    if (err instanceof ZkLockUnavailable) throw new UsageError(err.message);
    if (err instanceof ZkError && err.code === 'CONNECTION_LOSS') throw new ClusterUnreachable('zookeeper', `${config.zkCluster}${config.zkRootPath}`, err.message);
    throw err;
  }
  const held = lock;
  current = held.journalFound;
  // What an operator chose, which a nameserver's memory may not hold (the start race).
  const configNode = `${config.zkRootPath.replace(/\/+$/, '')}/config/auto_failover`;
  keeper.readStored = async () => {
    const v = await held.read(configNode);
    return v === 'true' ? true : v === 'false' ? false : undefined;
  };
  // Under --lock-path, two clusters could share a node: the journal names its root path.
  const rootOf = (p: string) => p.replace(/\/+$/, '') || '/';
  if (current && rootOf(current.cluster.zkRootPath) !== rootOf(config.zkRootPath)) {
    await held.release();
    throw new JournalError(`the run journal ${held.journalPath} in ZooKeeper belongs to the cluster at root path ${printable(current.cluster.zkRootPath)}, not ${config.zkRootPath}: it is not this cluster's; check it, then delete that node (or pass another --lock-path)`);
  }
  progress.info(`cluster lock: ZooKeeper node ${held.path} at ${config.zkCluster}${why ? ` (${why})` : ''}`);
  if (held.journalFound) describeFound(held.journalFound, progress);
  let memory: RunMemory;
  try {
    const found = parseZkEvidence(held.evidenceFound, zkEvidencePath(held.path));
    // An older build's whole record is moved into table nodes before anything else is written.
    if (held.evidenceFound.legacy !== undefined && found) await held.writeEvidence(zkEvidenceNodes(splitEvidence(found)));
    memory = new RunMemory({
      read: () => found,
      // Nothing left to remember: no node, so a clean parent means a clean cluster (writeEvidence).
      write: (tables) => held.writeEvidence(zkEvidenceNodes(tables)),
    });
  } catch (err) {
    await held.release();
    throw err;
  }
  return {
    keeper,
    memory,
    lock: { kind: 'zookeeper', path: held.path, holder: held.holder, ...(why ? { why } : {}) },
    lost: () => lostWhy,
    onLost: (l) => listeners.push(l),
    changeGate: (restore, signal) => held.usable(restore, signal),
    recordSent: (log) => recorder.attach(log, keeper.runId),
    dropJournal: async () => {
      const j = current;
      if (j) await held.clearJournal();
      current = undefined;
      return j;
    },
    release: async () => {
      await recorder.settle();
      await held.release();
    },
  };
}
