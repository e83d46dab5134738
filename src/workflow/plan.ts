// The recovery plan: a pure function of a ClusterSnapshot and of what the run remembers
// (engine/evidence.ts). Per partition it decides whether anything must be done, which replica
// must lead, what would be lost, and lists the runbook's steps. The applier re-checks every
// step against the live cluster, so the plan lists the full procedure.
//
// The leader is chosen on what the replicas really hold, never on the metadata's offsets:
// after a restart those are whatever was persisted the last time the table's node was
// rewritten (hours old, or `-`), and a replica that was loading was recorded at 0. So a
// partition that needs a leader is first PROBED: every replica is marked not alive and
// loaded as a follower (a follower reads its disk and changes nothing), and only when each
// one's offset is known is the leader chosen:
//   1. Replicas in step with the leader's lineage hold prefixes of one history, so the one
//      with the highest offset holds every entry the others hold.
//   2. A replica that was not alive in the metadata (as first found, before any run changed
//      it) may have missed a leader change: beyond the first offset of a term newer than
//      its snapshot's, its entries may be an old leader's tail that nobody else has, while
//      the others hold the new term's entries at the same offsets. OpenMLDB's own
//      MatchTermOffset judges the same way. Where such a tail and another replica's entries
//      overlap, any choice loses one side: the partition is refused unless the operator
//      names the leader or accepts the loss (then the newer term wins).
//   3. A replica that cannot be read (tablet down, its load failed) may hold anything: the
//      partition is refused, entries at stake unknown, unless the loss is accepted.
import {
  type ClusterSnapshot,
  isUnfinished,
  type Partition,
  type Replica,
  type StorageMode,
  type Table,
  type Tablet,
} from '../cluster/types.js';
import type { PartitionEvidence, ReplicaRecord } from '../engine/evidence.js';
import { type Action, type Evidence, type LeaderChoice, type PartitionPlan, type Step, partitionKey } from '../engine/procedure.js';
import { assessPartition, describeOp, isServing, opsForPartition, servesAsLeader } from '../engine/health.js';

export interface Plan {
  autoFailover: boolean;
  partitions: PartitionPlan[];
}

export interface PlanOptions {
  /** Allow a leader that may lack entries another replica holds, or one chosen without reading every replica. */
  acceptDataLoss: boolean;
  /** Plan even partitions that look healthy (recover-table). */
  force?: boolean;
  /** Operator-chosen leaders, keyed by `partitionKey(db, table, pid)`. */
  leaders?: Map<string, string>;
  /** When the plan is made (ms): bounds the wait for a disk load that may still be queued. */
  now?: number;
  /** How long a sent disk load may stay invisible before the partition is reported blocked (ms). */
  loadTimeoutMs?: number;
}


// ---- evidence --------------------------------------------------------------------------

const NO_EVIDENCE: PartitionEvidence = {};

/** The first term counts as proven for any replica: every entry was written in it or later. */
function laterTermStart(p: Partition, provenTerm: number): number | undefined {
  const terms = [...(p.terms ?? [])].sort((a, b) => a.term - b.term);
  const first = terms[0]?.term ?? 0;
  const proven = Math.max(provenTerm, first);
  const later = terms.filter((t) => t.term > proven).map((t) => t.offset);
  return later.length > 0 ? Math.min(...later) : undefined;
}

/** Why a replica's data cannot be read, if it cannot. */
function unreadable(r: Replica, rec: ReplicaRecord | undefined): string | undefined {
  if (r.tablet === 'offline') return 'its tablet is offline';
  if (r.tablet === 'unknown') return 'its tablet is unknown to the nameserver (not registered since it started)';
  if (rec?.unreadable) return rec.unreadable.reason;
  // The snapshot seen before the tool loaded it is gone now: a failed load moved the
  // partition's directory to the recycle bin (tablet_impl.cc DeleteTableInternal).
  if (r.loaded === undefined && rec?.snapshot && rec.snapshot.offset > 0 && r.snapshot !== undefined && r.snapshot.offset === 0) {
    return `its snapshot (offset ${rec.snapshot.offset}) is gone from its data directory: a load failed and the tablet moved the partition to its recycle bin`;
  }
  return undefined;
}

/** Everything the run knows of a replica. */
function replicaEvidence(p: Partition, r: Replica, rec: ReplicaRecord | undefined): Evidence {
  const trusted = rec?.found?.isAlive ?? r.isAlive;
  const snapshot = rec?.snapshot ?? (r.loaded === undefined ? r.snapshot : undefined);
  // The metadata offset as found: once the tool loads replicas, the poll rewrites it.
  const metaOffset = rec?.found ? rec.found.metaOffset : r.metaOffset;
  const base: Evidence = {
    endpoint: r.endpoint,
    source: 'unread',
    trusted,
    tablet: r.tablet,
    flaggedLeader: r.isLeader,
    alive: r.isAlive,
    ...(snapshot !== undefined ? { snapshot } : {}),
    ...(metaOffset !== undefined ? { metaOffset } : {}),
  };
  const bad = unreadable(r, rec);
  if (bad !== undefined) return { ...base, source: 'unreadable', why: bad };
  if (!r.loaded || !isServing(r)) {
    return { ...base, why: r.loaded ? `loading (${r.loaded.state})` : 'not loaded: it is loaded as a follower to read its offset' };
  }
  const offset = r.loaded.offset;
  const start = trusted ? undefined : laterTermStart(p, snapshot?.term ?? 0);
  const certainTo = start === undefined ? offset : Math.min(offset, start - 1);
  return { ...base, offset, source: 'loaded', certainTo };
}

/** Evidence of every replica of a partition, in metadata order. */
export function partitionEvidence(p: Partition, memory: PartitionEvidence = NO_EVIDENCE): Evidence[] {
  return p.replicas.map((r) => replicaEvidence(p, r, memory[r.endpoint]));
}

/** Up to which offset two read replicas certainly hold the same entries. */
function agreeTo(x: Evidence, y: Evidence): number {
  const ox = x.offset ?? 0;
  const oy = y.offset ?? 0;
  const cx = x.certainTo ?? ox;
  const cy = y.certainTo ?? oy;
  const d = Math.min(cx, cy);
  const mayDiffer = (cx < ox || cy < oy) && ox > d && oy > d;
  return mayDiffer ? d : Math.min(ox, oy);
}

/** Entries `other` holds that `leader` may lack. */
function lossTo(leader: Evidence, other: Evidence): number {
  return Math.max(0, (other.offset ?? 0) - agreeTo(leader, other));
}

/** Entries the read replicas hold that `leader` may lack: the worst single replica, and who. */
function lossIf(leader: Evidence, read: Evidence[]): { atStake: number; holder?: Evidence } {
  let atStake = 0;
  let holder: Evidence | undefined;
  for (const e of read) {
    if (e === leader) continue;
    const l = lossTo(leader, e);
    if (l > atStake) {
      atStake = l;
      holder = e;
    }
  }
  return holder ? { atStake, holder } : { atStake };
}

/** Ties: serving as alive leader before, flagged alive leader, flagged leader, trusted, metadata order. */
function preference(e: Evidence, replicas: Replica[]): number[] {
  const i = replicas.findIndex((r) => r.endpoint === e.endpoint);
  const r = replicas[i] as Replica;
  const servedLeader = r.isLeader && r.isAlive && r.loaded?.mode === 'kTableLeader';
  return [servedLeader ? 0 : 1, r.isLeader && r.isAlive ? 0 : 1, r.isLeader ? 0 : 1, e.trusted ? 0 : 1, i];
}

function byPreference(replicas: Replica[]) {
  return (a: Evidence, b: Evidence): number => {
    const ka = preference(a, replicas);
    const kb = preference(b, replicas);
    for (let k = 0; k < ka.length; k++) if (ka[k] !== kb[k]) return (ka[k] as number) - (kb[k] as number);
    return 0;
  };
}

// ---- planning --------------------------------------------------------------------------

interface Decision {
  leader?: Evidence;
  why: string;
  atStake: number;
  atStakeUnknown?: boolean;
  fail?: { action: 'refused' | 'blocked'; reason: string };
}

const offsetText = (e: Evidence): string => (e.offset !== undefined ? String(e.offset) : '?');

/** Choose among replicas whose offsets are all read (or unreadable). */
function decide(p: Partition, ev: Evidence[], named: string | undefined, acceptDataLoss: boolean): Decision {
  const read = ev.filter((e) => e.source === 'loaded');
  const lost = ev.filter((e) => e.source === 'unreadable');
  const unknownLoss = lost.length > 0;
  const unknownText = lost.map((e) => `${e.endpoint} (${e.why})`).join('; ');
  if (named !== undefined) {
    const e = ev.find((x) => x.endpoint === named);
    if (!e) return { why: '', atStake: 0, fail: { action: 'refused', reason: `named leader ${named} is not a replica (replicas: ${ev.map((x) => x.endpoint).join(', ')})` } };
    if (e.source !== 'loaded') return { why: '', atStake: 0, fail: { action: 'refused', reason: `named leader ${named} cannot be read: ${e.why ?? 'its offset is unknown'}` } };
    const { atStake, holder } = lossIf(e, read);
    const why = `named by the operator; offset ${offsetText(e)}`;
    if ((atStake > 0 || unknownLoss) && !acceptDataLoss) {
      const parts = [
        atStake > 0 && holder ? `${holder.endpoint} holds ${atStake} entries ${named} may lack (offset ${offsetText(holder)} vs ${offsetText(e)})` : '',
        unknownLoss ? `unreadable replicas may hold more: ${unknownText}` : '',
      ].filter(Boolean);
      return { leader: e, why, atStake, ...(unknownLoss ? { atStakeUnknown: true } : {}), fail: { action: 'refused', reason: `${parts.join('; ')}: pass --accept-data-loss to lead with ${named} anyway` } };
    }
    return { leader: e, why, atStake, ...(unknownLoss ? { atStakeUnknown: true } : {}) };
  }
  if (read.length === 0) {
    return { why: '', atStake: 0, atStakeUnknown: unknownLoss, fail: { action: unknownLoss && !acceptDataLoss ? 'refused' : 'blocked', reason: `no replica can be read: ${unknownText}` } };
  }
  if (unknownLoss && !acceptDataLoss) {
    return { why: '', atStake: 0, atStakeUnknown: true, fail: { action: 'refused', reason: `a replica cannot be read, so what it holds is unknown: ${unknownText}; bring it back (or restore its data), or pass --accept-data-loss to choose among the others` } };
  }
  const order = byPreference(p.replicas);
  const candidates = read.map((e) => ({ e, ...lossIf(e, read) }));
  const safe = candidates.filter((c) => c.atStake === 0).sort((a, b) => (b.e.offset ?? 0) - (a.e.offset ?? 0) || order(a.e, b.e));
  const best = safe[0];
  if (best) {
    const e = best.e;
    const tied = safe.filter((c) => c !== best && c.e.offset === e.offset).map((c) => c.e.endpoint);
    const others = read.filter((x) => x !== e).map((x) => `${x.endpoint} ${offsetText(x)}`);
    const why = [`highest offset ${offsetText(e)} (read by loading every replica)`, others.length ? `others: ${others.join(', ')}` : '', tied.length ? `tied with ${tied.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    return { leader: e, why, atStake: 0, ...(unknownLoss ? { atStakeUnknown: true } : {}) };
  }
  // Every choice may lose entries: a tail of an older term overlaps a newer term's entries.
  const suspects = read.filter((e) => (e.certainTo ?? 0) < (e.offset ?? 0));
  const lineage = read.filter((e) => !suspects.includes(e)).sort((a, b) => (b.offset ?? 0) - (a.offset ?? 0) || order(a, b));
  const winner = lineage[0] ?? [...read].sort((a, b) => (b.offset ?? 0) - (a.offset ?? 0) || order(a, b))[0];
  const sides = suspects.map((s) => {
    const from = (s.certainTo ?? 0) + 1;
    return `${s.endpoint} (not alive before the incident; snapshot term ${s.snapshot?.term ?? 'unknown'}) holds ${(s.offset ?? 0) - (s.certainTo ?? 0)} entries from offset ${from}, where a newer term began, that may be an old leader's tail`;
  });
  const { atStake } = winner ? lossIf(winner, read) : { atStake: 0 };
  const otherSide = winner ? Math.max(0, ...suspects.map((s) => lossTo(s, winner))) : 0;
  const reason = `diverged histories: ${sides.join('; ')}; ${winner ? `${winner.endpoint} holds ${otherSide} entries of the newer term at those offsets` : ''}. Any leader loses one side: name it (recover-table --leader PID=ENDPOINT) or pass --accept-data-loss (the newer term wins)`;
  if (!acceptDataLoss || !winner) return { ...(winner ? { leader: winner } : {}), why: '', atStake, fail: { action: 'refused', reason } };
  return { leader: winner, why: `newer term wins (--accept-data-loss): ${winner.endpoint} offset ${offsetText(winner)}; ${sides.join('; ')}`, atStake };
}

/** A disk LoadTable sent earlier may still be queued: sending another would damage the replica. */
function pendingDiskLoad(r: Replica, rec: ReplicaRecord | undefined, storageMode: StorageMode, tablet: Tablet | undefined): boolean {
  if (storageMode === 'kMemory' || !rec?.load || rec.load.seen || r.loaded) return false;
  // The tablet restarted after the load was sent: the queue died with the old process.
  if (tablet?.changedAfter !== undefined && tablet.changedAfter > rec.load.sentAt) return false;
  return true;
}

/** Probe: stop routing to the replicas, load each unread one as a follower, wait until every one serves. */
function probeSteps(p: Partition, ev: Evidence[], table: Table, memory: PartitionEvidence, tablets: Map<string, Tablet>, opts: PlanOptions): { steps: Step[]; pending?: string } {
  const steps: Step[] = [];
  for (const r of p.replicas) if (r.isAlive && r.tablet !== 'unknown') steps.push({ kind: 'set-alive', endpoint: r.endpoint, alive: false });
  let pending: string | undefined;
  const waits: Step[] = [];
  // Every load is sent before any wait: the replicas' tablets load them side by side.
  for (const [i, r] of p.replicas.entries()) {
    const e = ev[i] as Evidence;
    if (e.source !== 'unread') continue;
    const rec = memory[r.endpoint];
    if (pendingDiskLoad(r, rec, table.storageMode, tablets.get(r.endpoint))) {
      const age = (opts.now ?? Date.now()) - (rec?.load?.sentAt ?? 0);
      if (opts.loadTimeoutMs !== undefined && age > opts.loadTimeoutMs) {
        pending = `a LoadTable sent to ${r.endpoint} ${Math.round(age / 1000)} s ago never became visible and may still be queued there; a second one would move the live data to old_data (OpenMLDB LoadDiskTableInternal), so none is sent: check the tablet's load queue and data directory, then run again`;
      }
    } else if (!r.loaded) {
      steps.push({ kind: 'load', endpoint: r.endpoint, mode: 'kTableFollower' });
    }
    waits.push({ kind: 'wait-loaded', endpoint: r.endpoint });
  }
  steps.push(...waits);
  return pending !== undefined ? { steps, pending } : { steps };
}

/** After the choice: make the winner lead, keep in-step followers attached, rebuild the rest. */
function promoteSteps(p: Partition, ev: Evidence[], leader: Evidence): { steps: Step[]; left: Array<{ endpoint: string; why: string }> } {
  const steps: Step[] = [];
  const left: Array<{ endpoint: string; why: string }> = [];
  const w = p.replicas.find((r) => r.endpoint === leader.endpoint) as Replica;
  const leadsAlready = w.loaded?.mode === 'kTableLeader';
  // Followers that hold nothing the leader lacks can follow it as they are (no snapshot
  // resend); a leader already running keeps the followers its replicator has.
  const attach = p.replicas.filter((r, i) => {
    const e = ev[i] as Evidence;
    const fits = r !== w && !r.isLeader && e.source === 'loaded' && r.loaded?.mode === 'kTableFollower' && lossTo(leader, e) === 0 && agreeTo(leader, e) === (e.offset ?? 0);
    return fits && (!leadsAlready || (w.followers ?? []).some((f) => f.endpoint === r.endpoint));
  });
  const lastTerm = Math.max(0, ...(p.terms ?? []).map((t) => t.term));
  for (const r of p.replicas) if (r.isAlive && r !== w && !attach.includes(r) && r.tablet !== 'unknown') steps.push({ kind: 'set-alive', endpoint: r.endpoint, alive: false });
  if (w.isLeader) {
    // A replica flagged leader cannot be changeleader's candidate: its tablet makes it the
    // leader, continuing the partition's last recorded term, then it is routed to.
    if (!leadsAlready) steps.push({ kind: 'change-role', endpoint: w.endpoint, mode: 'kTableLeader', term: lastTerm, followers: attach.map((r) => r.endpoint) });
    if (!w.isAlive) steps.push({ kind: 'set-alive', endpoint: w.endpoint, alive: true });
    for (const r of attach) if (!r.isAlive) steps.push({ kind: 'set-alive', endpoint: r.endpoint, alive: true });
  } else {
    // changeleader: FollowOfNoOne on the alive followers, ChangeRole on the winner with the
    // others attached, UpdateLeaderInfo recording a new term after the highest offset.
    // FollowOfNoOne refuses a table that leads ("table is leader"): step it down first.
    if (leadsAlready) steps.push({ kind: 'change-role', endpoint: w.endpoint, mode: 'kTableFollower', term: 0, followers: [] });
    if (!w.isAlive) steps.push({ kind: 'set-alive', endpoint: w.endpoint, alive: true });
    for (const r of attach) if (!r.isAlive) steps.push({ kind: 'set-alive', endpoint: r.endpoint, alive: true });
    steps.push({ kind: 'change-leader', endpoint: w.endpoint }, { kind: 'wait-ops' });
  }
  let recovering = 0;
  for (const r of p.replicas) {
    if (r === w || attach.includes(r)) continue;
    if (r.tablet === 'healthy') {
      steps.push({ kind: 'recover-replica', endpoint: r.endpoint });
      recovering++;
      continue;
    }
    const stillAlive = r.isAlive && r.tablet === 'unknown' ? '; it stays marked alive (updatetablealive refuses an unknown endpoint)' : '';
    left.push({ endpoint: r.endpoint, why: `tablet ${r.tablet}: a later run or recoverendpoint brings it back${stillAlive}` });
  }
  if (recovering > 0) steps.push({ kind: 'wait-ops' });
  return { steps, left };
}

/** A partition whose alive leader serves: only its other replicas are rebuilt (recovertable). */
function followerSteps(table: Table, p: Partition, leader: Replica, snapshot: ClusterSnapshot, force: boolean): { steps: Step[]; left: Array<{ endpoint: string; why: string }> } {
  const steps: Step[] = [];
  const left: Array<{ endpoint: string; why: string }> = [];
  const verdict = assessPartition(table, p, snapshot);
  const needs = (r: Replica) => force || verdict.problems.some((x) => x.includes(r.endpoint));
  let recovering = 0;
  for (const r of p.replicas) {
    if (r === leader || !needs(r)) continue;
    if (r.tablet !== 'healthy') {
      left.push({ endpoint: r.endpoint, why: `tablet ${r.tablet}: a later run or recoverendpoint brings it back` });
      continue;
    }
    if (r.isAlive) steps.push({ kind: 'set-alive', endpoint: r.endpoint, alive: false });
    steps.push({ kind: 'recover-replica', endpoint: r.endpoint });
    recovering++;
  }
  if (recovering > 0) steps.push({ kind: 'wait-ops' });
  return { steps, left };
}

/** The alive leader, if the partition has exactly one and its tablet serves it as leader. */
function servingLeader(p: Partition): Replica | undefined {
  const leaders = p.replicas.filter((r) => r.isLeader && r.isAlive);
  const l = leaders[0];
  return leaders.length === 1 && l && l.tablet === 'healthy' && servesAsLeader(l) ? l : undefined;
}

/** Plan one partition. */
function planPartition(table: Table, partition: Partition, snapshot: ClusterSnapshot, options: PlanOptions, memory: PartitionEvidence = NO_EVIDENCE): PartitionPlan {
  const replicas = partition.replicas;
  const evidence = partitionEvidence(partition, memory);
  const base = {
    db: table.db,
    table: table.name,
    tid: table.tid,
    pid: partition.pid,
    storageMode: table.storageMode,
    segCnt: table.segCnt,
    evidence,
  };
  const result = (action: Action, reason: string, more: Partial<PartitionPlan> = {}): PartitionPlan => ({ ...base, action, reason, atStake: 0, left: [], steps: [], ...more });
  const choice = (e: Evidence, why: string): LeaderChoice => ({ endpoint: e.endpoint, offset: e.offset ?? 0, source: e.source, flaggedLeader: e.flaggedLeader, why });

  // a. Nothing to do.
  if (!options.force && assessPartition(table, partition, snapshot).healthy) return result('none', 'healthy');
  // b. Ops already running are waited on, never fired twice.
  const running = opsForPartition(snapshot, table, partition.pid).filter(isUnfinished);
  if (running.length > 0) {
    return result('wait', `${running.map(describeOp).join('; ')}: waiting for it to finish, firing nothing`, { steps: [{ kind: 'wait-ops' }] });
  }
  if (replicas.length === 0) return result('blocked', 'the partition has no replica in the metadata');
  const named = options.leaders?.get(partitionKey(table.db, table.name, partition.pid));

  // c. An alive leader serves it: keep it; rebuild the other replicas from it, unless one of
  //    them is known to hold entries it lacks.
  const served = servingLeader(partition);
  if (served && (named === undefined || named === served.endpoint)) {
    const le = evidence[replicas.indexOf(served)] as Evidence;
    const ahead = evidence.filter((e) => e !== le && Math.max(e.snapshot?.offset ?? 0, e.source === 'loaded' ? (e.offset ?? 0) : 0) > (le.offset ?? 0));
    const atStake = Math.max(0, ...ahead.map((e) => Math.max(e.snapshot?.offset ?? 0, e.offset ?? 0) - (le.offset ?? 0)));
    if (ahead.length > 0 && !options.acceptDataLoss) {
      return result('refused', `leader ${served.endpoint} serves offset ${le.offset}, but ${ahead.map((e) => `${e.endpoint} holds at least ${Math.max(e.snapshot?.offset ?? 0, e.offset ?? 0)}`).join(', ')}: rebuilding it from the leader would discard entries; name a leader (recover-table --leader) or pass --accept-data-loss`, { leader: choice(le, 'serving alive leader'), atStake });
    }
    const { steps, left } = followerSteps(table, partition, served, snapshot, options.force === true);
    if (steps.length === 0 && left.length > 0) return result('blocked', `leader ${served.endpoint} serves; ${left.map((l) => `${l.endpoint}: ${l.why}`).join('; ')}`, { leader: choice(le, 'serving alive leader'), left });
    return result('recover', `leader ${served.endpoint} serves: rebuilding the other replicas from it${left.length ? `; partial: ${left.map((l) => l.endpoint).join(', ')} stay behind` : ''}`, { leader: choice(le, 'serving alive leader'), steps, left, atStake });
  }

  // d. A single replica: load it as the leader (the runbook), unless it is not flagged leader.
  if (replicas.length === 1) {
    const r = replicas[0] as Replica;
    const e = evidence[0] as Evidence;
    if (!r.isLeader) return result('blocked', `the only replica ${r.endpoint} is not flagged leader in the metadata`);
    if (e.source === 'unreadable') return result(options.acceptDataLoss ? 'blocked' : 'refused', `the only replica ${r.endpoint} cannot be read: ${e.why}`, { atStakeUnknown: true });
    const steps: Step[] = [];
    if (!r.loaded) steps.push({ kind: 'load', endpoint: r.endpoint, mode: 'kTableLeader' });
    if (!isServing(r)) steps.push({ kind: 'wait-loaded', endpoint: r.endpoint });
    if (r.loaded && r.loaded.mode !== 'kTableLeader') steps.push({ kind: 'change-role', endpoint: r.endpoint, mode: 'kTableLeader', term: Math.max(0, ...(partition.terms ?? []).map((t) => t.term)), followers: [] });
    if (!r.isAlive) steps.push({ kind: 'set-alive', endpoint: r.endpoint, alive: true });
    return result('recover', `single replica ${r.endpoint}: load it as the leader`, { steps, ...(e.offset !== undefined ? { leader: choice(e, 'the only replica') } : {}) });
  }

  // e. Unreadable replicas are refused before anything changes, unless the loss is accepted.
  const unreadableOnes = evidence.filter((e) => e.source === 'unreadable');
  if (unreadableOnes.length > 0 && !options.acceptDataLoss && !evidence.some((e) => e.source === 'unread')) {
    const d = decide(partition, evidence, named, false);
    return result(d.fail?.action ?? 'refused', d.fail?.reason ?? 'a replica cannot be read', { atStakeUnknown: true, ...(d.leader ? { leader: choice(d.leader, d.why) } : {}) });
  }
  if (unreadableOnes.length > 0 && !options.acceptDataLoss) {
    return result('refused', `a replica cannot be read, so what it holds is unknown: ${unreadableOnes.map((e) => `${e.endpoint} (${e.why})`).join('; ')}; bring it back (or restore its data), or pass --accept-data-loss to choose among the others`, { atStakeUnknown: true });
  }

  // f. Read every readable replica before choosing.
  if (evidence.some((e) => e.source === 'unread')) {
    const tablets = new Map(snapshot.tablets.map((t) => [t.endpoint, t]));
    const { steps, pending } = probeSteps(partition, evidence, table, memory, tablets, options);
    if (pending !== undefined) return result('blocked', pending);
    const toLoad = steps.filter((s) => s.kind === 'load').map((s) => s.endpoint);
    const waiting = evidence.filter((e) => e.source === 'unread').map((e) => e.endpoint).filter((ep) => !toLoad.includes(ep));
    const what = [toLoad.length ? `loading ${toLoad.join(', ')} as followers` : '', waiting.length ? `waiting for ${waiting.join(', ')} to finish loading` : ''].filter(Boolean).join('; ');
    return result('probe', `reading every replica's offset before choosing the leader (metadata offsets are not evidence after a restart): ${what}; then the replica holding the most entries leads and the others follow it or are rebuilt from it`, { steps });
  }

  // g. Choose, then the procedure.
  const d = decide(partition, evidence, named, options.acceptDataLoss);
  const more = { atStake: d.atStake, ...(d.atStakeUnknown ? { atStakeUnknown: true } : {}), ...(d.leader ? { leader: choice(d.leader, d.why) } : {}) };
  if (d.fail || !d.leader) return result(d.fail?.action ?? 'blocked', d.fail?.reason ?? 'no leader could be chosen', more);
  const { steps, left } = promoteSteps(partition, evidence, d.leader);
  const loss = d.atStake > 0 ? `; ${d.atStake} entries accepted as lost` : d.atStakeUnknown ? '; entries of unreadable replicas accepted as lost' : '';
  const partial = left.length > 0 ? `; partial: ${left.length} replica(s) stay behind (${left.map((l) => l.endpoint).join(', ')})` : '';
  return result('recover', `leader ${d.leader.endpoint}: ${d.why}${loss}${partial}`, { ...more, steps, left });
}

/**
 * Plan every partition of the snapshot's tables: tables as given, partitions by pid.
 * `options` may differ per partition (by its `db.table:pid` key).
 */
export function planRecovery(snapshot: ClusterSnapshot, options: PlanOptions | ((key: string) => PlanOptions), memory?: (key: string) => PartitionEvidence): Plan {
  const partitions = snapshot.tables.flatMap((t) =>
    [...t.partitions].sort((a, b) => a.pid - b.pid).map((p) => {
      const k = partitionKey(t.db, t.name, p.pid);
      return planPartition(t, p, snapshot, typeof options === 'function' ? options(k) : options, memory?.(k));
    }),
  );
  return { autoFailover: snapshot.autoFailover, partitions };
}
