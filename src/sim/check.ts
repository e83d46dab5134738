// `openmldb-sim check`: is the cluster fully served, and what did the incident cost?
// The verdict reads the simulator's true state (all three layers of every replica),
// which no client can see, so it is the judge of every end-to-end test.
import type { MetadataStats } from './metadata-lock.js';
import type { SimCluster } from './cluster.js';
import { commonPrefix, count, type Log, minus, missing, type Run } from './log.js';
import { partitionKey } from './model.js';
import { isServing } from './tablet.js';

export interface LedgerLine {
  db: string;
  table: string;
  pid: number;
  /** Best on-disk offset of any replica when the incident began. */
  bestBefore: number;
  bestEndpoint: string;
  /** Distinct entries the replicas held between them when the incident began. */
  entriesBefore: number;
  /** Offset the partition serves now (its leader's); undefined if not served. */
  served?: number;
  /**
   * Entries of before that are gone: for a served partition, those its leader does not hold
   * (clients can never read them again); for one not served, those no disk and no recycle
   * bin holds any more (a partition left for an operator keeps what its disks hold).
   * Entries orphaned at a failover before the incident are counted apart (`orphaned`).
   */
  lost: number;
  /** Where the lost entries were: `writer W offsets A-B (term T)`, at most a few. */
  lostRuns?: string[];
  /**
   * Entries orphaned at a failover before the incident (held only by replicas not alive
   * then, at offsets a newer term had re-used: sim/model.ts LedgerEntry) that are gone as
   * `lost` counts: OpenMLDB had given them up before the incident, so they are not held
   * against the recovery. A recovery that serves them instead loses the newer term's.
   */
  orphaned: number;
  /** Where the orphaned entries were, as `lostRuns`. */
  orphanedRuns?: string[];
  /** Client writes acknowledged since the clients started (traffic.ts). */
  acknowledged: number;
  /** Of those, the ones gone as `lost` counts them: the client was told ok, and the entry is not served. */
  acknowledgedLost: number;
  /** Where they were, as `lostRuns`. */
  acknowledgedLostRuns?: string[];
}

export interface CheckReport {
  ok: boolean;
  problems: string[];
  /** Failed ops from before the incident: shown, not counted against the recovery. */
  notes: string[];
  autoFailover: boolean;
  /** config/auto_failover as stored (differs from autoFailover after the nameserver start race). */
  autoFailoverStored: boolean;
  autoFailoverBefore?: boolean;
  ledger: LedgerLine[];
  entriesLost: number;
  /** Entries orphaned at a failover before the incident and not served now (not counted in entriesLost). */
  entriesOrphaned: number;
  /** Client writes acknowledged (the clients saw ok), and of those the ones lost. */
  acknowledgedWrites: number;
  acknowledgedLost: number;
  partitions: number;
  partitionsServed: number;
  /** The nameserver's metadata lock since the simulator started (metadata-lock.ts): ZooKeeper writes, time held and waited. */
  metadata: MetadataStats;
}

export interface CheckOptions {
  /**
   * A follower this many entries behind its leader, holding the leader's entries up to its
   * own offset, counts as served (what `status` accepts by default); 0 (the default): a
   * follower must be at its leader's offset.
   */
  maxLag?: number;
}

export function checkCluster(c: SimCluster, options: CheckOptions = {}): CheckReport {
  const maxLag = options.maxLag ?? 0;
  const problems: string[] = [];
  const notes: string[] = [];
  const servedOffsets = new Map<string, number>();
  const servedLogs = new Map<string, Log>();
  const heldLogs = new Map<string, Log[]>();
  const unhealthy = new Set<string>();
  let partitions = 0;
  let served = 0;

  if (c.leaderEndpoint === undefined) problems.push('no nameserver is leader');
  for (const t of c.tablets()) {
    if (!t.running) problems.push(`tablet ${t.endpoint} is down`);
  }

  for (const table of c.tables) {
    const label = `${table.db}.${table.name}`;
    for (const part of table.partitions) {
      partitions++;
      const where = `${label} pid ${part.pid}`;
      const before = problems.length;
      const key = partitionKey(table.tid, part.pid);
      const leaders = part.replicas.filter((r) => r.isLeader && r.isAlive);
      if (leaders.length !== 1) {
        problems.push(`${where}: ${leaders.length} alive leaders in the nameserver metadata (want exactly 1)`);
      }
      const leader = leaders[0];
      const leaderTablet = leader ? c.tablet(leader.endpoint) : undefined;
      const lp = leaderTablet?.running ? leaderTablet.loaded.get(key) : undefined;
      if (leader) {
        if (!lp) problems.push(`${where}: leader ${leader.endpoint} has not loaded the partition`);
        else if (lp.mode !== 'kTableLeader') problems.push(`${where}: leader ${leader.endpoint} runs it as ${lp.mode}`);
        else if (lp.state !== 'kTableNormal') problems.push(`${where}: leader ${leader.endpoint} is in ${lp.state}`);
      }
      for (const r of part.replicas) {
        if (r === leader) continue;
        if (!r.isAlive) {
          problems.push(`${where}: replica ${r.endpoint} is not alive`);
          continue;
        }
        if (r.isLeader) {
          problems.push(`${where}: replica ${r.endpoint} is also flagged leader`);
          continue;
        }
        const t = c.tablet(r.endpoint);
        const fp = t?.running ? t.loaded.get(key) : undefined;
        if (!fp) {
          problems.push(`${where}: follower ${r.endpoint} has not loaded the partition`);
        } else if (fp.mode !== 'kTableFollower') {
          problems.push(`${where}: follower ${r.endpoint} runs it as ${fp.mode}`);
        } else if (!isServing(fp)) {
          problems.push(`${where}: follower ${r.endpoint} is in ${fp.state}`);
        } else if (lp && !lp.followers.includes(r.endpoint)) {
          problems.push(`${where}: follower ${r.endpoint} is not in the leader's replica set`);
        } else if (lp && (fp.offset > lp.offset || lp.offset - fp.offset > maxLag)) {
          problems.push(`${where}: follower ${r.endpoint} is at offset ${fp.offset}, leader at ${lp.offset}`);
        } else if (leaderTablet && t) {
          // Same offset (or a tolerated lag) is not enough: the follower must hold the leader's entries.
          const fl = t.disk.get(key)?.log;
          const ll = leaderTablet.disk.get(key)?.log;
          if (fl && ll && commonPrefix(fl, ll) < Math.min(fl.end, ll.end)) {
            problems.push(`${where}: follower ${r.endpoint} holds other entries than its leader from offset ${commonPrefix(fl, ll) + 1}`);
          }
        }
      }
      if (lp && lp.mode === 'kTableLeader' && isServing(lp)) {
        servedOffsets.set(`${label}|${part.pid}`, lp.offset);
        const ll = leaderTablet?.disk.get(key)?.log;
        if (ll) servedLogs.set(`${label}|${part.pid}`, ll);
      }
      // Everything any disk or recycle bin still holds for the partition.
      const logs: Log[] = [];
      for (const r of part.replicas) {
        const t = c.tablet(r.endpoint);
        const d = t?.disk.get(key);
        if (d) logs.push(d.log);
        for (const rec of t?.recycle ?? []) if (rec.key === key) logs.push(rec.log);
      }
      heldLogs.set(`${label}|${part.pid}`, logs);
      if (problems.length === before) served++;
      else unhealthy.add(`${label}|${part.pid}`);
    }
  }

  const baseline = c.incident?.opIdBaseline ?? 0;
  for (const op of c.opEngine.ops) {
    const what = `op ${op.opId} ${op.opType} ${op.db}.${op.name} pid ${op.pid}`;
    if (op.status === 'kInited' || op.status === 'kDoing') problems.push(`${what} is unfinished (${op.status})`);
    if (op.status === 'kFailed') {
      const detail = `failed at ${op.failedTask ?? '?'}: ${op.error ?? ''}`;
      // A failed op whose partition is fully served now was repaired since: shown, not held against.
      if (op.opId <= baseline) notes.push(`${what} ${detail} (before the incident)`);
      else if (!unhealthy.has(`${op.db}.${op.name}|${op.pid}`)) notes.push(`${what} ${detail} (partition served since)`);
      else problems.push(`${what} ${detail}`);
    }
  }

  const before = c.incident?.autoFailoverBefore;
  if (c.autoFailover !== c.storedAutoFailover) {
    problems.push(`the leader nameserver runs with auto_failover ${c.autoFailover}, but config/auto_failover says ${c.storedAutoFailover} (the nameserver start race)`);
  }
  if (before !== undefined && c.autoFailover !== before) {
    problems.push(`auto_failover is ${c.autoFailover}, was ${before} before the incident`);
  }

  const describe = (g: Run) => `writer ${g.epoch} offsets ${g.from}-${g.to} (term ${g.term})`;
  const ledger: LedgerLine[] = (c.incident?.ledger ?? []).map((l) => {
    const k = `${l.db}.${l.name}|${l.pid}`;
    const s = servedOffsets.get(k);
    const servedLog = servedLogs.get(k);
    const gone: Run[] = missing(l.entries, servedLog ? [servedLog] : (heldLogs.get(k) ?? []));
    const orphanedGone = minus(gone, minus(gone, l.orphaned ?? []));
    const lostRuns = minus(gone, l.orphaned ?? []);
    const lost = count(lostRuns);
    const orphaned = count(orphanedGone);
    const acked = c.writes.of(l.tid, l.pid);
    const ackedGone = missing(acked, servedLog ? [servedLog] : (heldLogs.get(k) ?? []));
    const ackedLost = count(ackedGone);
    return {
      db: l.db,
      table: l.name,
      pid: l.pid,
      bestBefore: l.bestBefore,
      bestEndpoint: l.bestEndpoint,
      entriesBefore: count(l.entries),
      ...(s !== undefined ? { served: s } : {}),
      lost,
      ...(lost > 0 ? { lostRuns: lostRuns.slice(0, 4).map(describe) } : {}),
      orphaned,
      ...(orphaned > 0 ? { orphanedRuns: orphanedGone.slice(0, 4).map(describe) } : {}),
      acknowledged: count(acked),
      acknowledgedLost: ackedLost,
      ...(ackedLost > 0 ? { acknowledgedLostRuns: ackedGone.slice(0, 4).map(describe) } : {}),
    };
  });
  const entriesLost = ledger.reduce((sum, l) => sum + l.lost, 0);
  const entriesOrphaned = ledger.reduce((sum, l) => sum + l.orphaned, 0);
  const acknowledgedLost = ledger.reduce((sum, l) => sum + l.acknowledgedLost, 0);
  if (acknowledgedLost > 0) {
    const where = ledger.filter((l) => l.acknowledgedLost > 0).map((l) => `${l.db}.${l.table} pid ${l.pid} (${l.acknowledgedLost})`);
    problems.push(`${acknowledgedLost} acknowledged client writes are lost: ${where.join(', ')}`);
  }
  if (entriesLost > 0) {
    const where = ledger.filter((l) => l.lost > 0).map((l) => `${l.db}.${l.table} pid ${l.pid} (${l.lost})`);
    problems.push(`${entriesLost} entries held before the incident are lost: ${where.join(', ')}`);
  }
  return {
    ok: problems.length === 0,
    problems,
    notes,
    autoFailover: c.autoFailover,
    autoFailoverStored: c.storedAutoFailover,
    ...(before !== undefined ? { autoFailoverBefore: before } : {}),
    ledger,
    entriesLost,
    entriesOrphaned,
    acknowledgedWrites: c.writes.acknowledged,
    acknowledgedLost,
    partitions,
    partitionsServed: served,
    metadata: { ...c.metadata.stats, heldMs: Math.round(c.metadata.stats.heldMs), waitedMs: Math.round(c.metadata.stats.waitedMs) },
  };
}
