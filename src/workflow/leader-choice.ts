// Which replica leads a partition that needs a leader, and what that choice costs. Pure:
// the partition's metadata and what the run remembers in, evidence per replica and a
// choice out. The leader is chosen on what the replicas really hold, never on the
// metadata's offsets (procedures/recover-plan.ts probes every replica first), by these rules:
//   1. Replicas in step with the leader's lineage hold prefixes of one history, so the one
//      with the highest offset holds every entry the others hold.
//   2. A replica that was not alive in the metadata (as first found, before any run changed
//      it) may have missed a leader change: beyond the first offset of a term newer than
//      its snapshot's, its entries may be an old leader's tail that nobody else has, while
//      the others hold the new term's entries at the same offsets. So may a replica alive
//      before the incident whose snapshot already holds an entry where a newer term had
//      begun: it diverged there (OpenMLDB's MatchTermOffset fails for it).
//   3. An old leader's tail on a replica that was NOT alive before the incident was given up
//      by OpenMLDB at that failover (name_server_impl.cc: OnTabletOffline -> CreateChangeLeaderOP
//      takes alive replicas only, UpdateLeaderInfo starts the new term at their max offset + 1;
//      OnTabletOnline -> RecoverEndpointTable moves the returning replica's binlog, or whole
//      directory, to its recycle bin). The cluster served the newer term's history since, so
//      that term leads here too, the tail reported apart as orphaned, not as at stake.
//      `--refuse-orphaned` refuses instead, for operators who copy the tail out first.
//   4. Any other choice that may lose entries is refused (diverged histories between
//      replicas alive before the incident: no OpenMLDB rule chose between them), unless
//      the operator names the leader and accepts the loss.
//   5. A replica that cannot be read (tablet down, its load failed) may hold anything: the
//      partition is refused, entries at stake unknown, unless the loss is accepted.
//   6. A replica holding fewer records than its offset allows beside another (a snapshot
//      cut short by a power loss) lacks entries the other holds: it leads only if it loses
//      nothing; where every leader loses entries, the choice is refused.
//      Among replicas at one offset, the one holding more records leads.
import type { Partition, Replica } from '../cluster/types.js';
import type { PartitionEvidence, ReplicaRecord } from '../engine/run-memory.js';
import { type Evidence, type OrphanedTail, describeOrphaned } from '../engine/procedure.js';
import { isServing } from '../engine/health.js';

// ---- evidence --------------------------------------------------------------------------

export const NO_EVIDENCE: PartitionEvidence = {};

/** The first term of the history. Every entry was written in it or later, so any replica has followed it. */
function firstTerm(p: Partition): number {
  const terms = (p.terms ?? []).map((t) => t.term);
  return terms.length > 0 ? Math.min(...terms) : 0;
}

/** The earliest-starting term newer than `provenTerm`, if the history has one. */
function newerTermThan(p: Partition, provenTerm: number): { term: number; offset: number } | undefined {
  const proven = Math.max(provenTerm, firstTerm(p));
  let found: { term: number; offset: number } | undefined;
  for (const t of p.terms ?? []) {
    if (t.term <= proven) continue;
    if (!found || t.offset < found.offset || (t.offset === found.offset && t.term < found.term)) found = { term: t.term, offset: t.offset };
  }
  return found;
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
  // Loaded again after that: it serves what is left, less than its snapshot held. (A load
  // replays the snapshot and the binlog after it: it never ends below the snapshot.) Seen
  // when the failure looked like a tablet restart, e.g. every nameserver restarted
  // meanwhile and lists each tablet as changed since.
  if (r.loaded !== undefined && isServing(r) && rec?.snapshot && r.loaded.offset < rec.snapshot.offset) {
    return `it serves offset ${r.loaded.offset}, below the snapshot it had before it was loaded (offset ${rec.snapshot.offset}): a load failed and the tablet moved the partition to its recycle bin`;
  }
  return undefined;
}

/** Everything the run knows of a replica. */
function replicaEvidence(p: Partition, r: Replica, rec: ReplicaRecord | undefined): Evidence {
  const trusted = rec?.found?.isAlive ?? r.isAlive;
  const snapshot = rec?.snapshot ?? (r.loaded === undefined ? r.snapshot : undefined);
  // The metadata offset as found: once the tool loads replicas, the poll rewrites it.
  const metaOffset = rec?.found ? rec.found.metaOffset : r.metaOffset;
  const newer = newerTermThan(p, snapshot?.term ?? 0);
  const snapshotDiverged = newer !== undefined && snapshot !== undefined && snapshot.offset >= newer.offset;
  const uncertain = newer !== undefined && (!trusted || snapshotDiverged) ? newer : undefined;
  const base: Evidence = {
    endpoint: r.endpoint,
    source: 'unread',
    trusted,
    tablet: r.tablet,
    flaggedLeader: r.isLeader,
    alive: r.isAlive,
    ...(snapshot !== undefined ? { snapshot } : {}),
    ...(metaOffset !== undefined ? { metaOffset } : {}),
    ...(uncertain ? { uncertainFrom: uncertain } : {}),
    ...(snapshotDiverged ? { snapshotDiverged } : {}),
  };
  const bad = unreadable(r, rec);
  if (bad !== undefined) return { ...base, source: 'unreadable', why: bad };
  if (!r.loaded || !isServing(r)) {
    return { ...base, why: r.loaded ? `loading (${r.loaded.state})` : 'not loaded: it is loaded as a follower to read its offset' };
  }
  const offset = r.loaded.offset;
  const certainTo = uncertain ? Math.min(offset, uncertain.offset - 1) : offset;
  const records = r.loaded.recordCnt !== undefined ? { records: r.loaded.recordCnt } : {};
  return { ...base, offset, source: 'loaded', certainTo, ...records };
}

/** Evidence of every replica of a partition, in metadata order. */
export function partitionEvidence(p: Partition, memory: PartitionEvidence = NO_EVIDENCE): Evidence[] {
  return p.replicas.map((r) => replicaEvidence(p, r, memory[r.endpoint]));
}

// ---- what a choice costs ---------------------------------------------------------------

const offsetOf = (e: Evidence): number => e.offset ?? 0;
const certainOf = (e: Evidence): number => e.certainTo ?? offsetOf(e);
/** Not a suspect: every entry it holds is certainly the lineage's. */
const inLineage = (e: Evidence): boolean => certainOf(e) >= offsetOf(e);

/** Up to which offset two read replicas certainly hold the same entries. */
export function agreeTo(x: Evidence, y: Evidence): number {
  const ox = offsetOf(x);
  const oy = offsetOf(y);
  const d = Math.min(certainOf(x), certainOf(y));
  const mayDiffer = (!inLineage(x) || !inLineage(y)) && ox > d && oy > d;
  return mayDiffer ? d : Math.min(ox, oy);
}

/** What a replica holds, as its tablet counts it. */
interface Counted {
  offset: number;
  records: number | undefined;
}

/**
 * Entries at or below its offset that `mine` lacks although `theirs` holds them, as their
 * record counts show: one entry is one record, so replicas of one lineage differ by at
 * most the entries between their offsets. More: a snapshot cut short (OpenMLDB fsyncs a
 * snapshot's MANIFEST, not its data file, and loading a short one only logs a warning).
 * Deletes also move counts; the loss then shown is the most it can be.
 */
function recordsShort(mine: Counted, theirs: Counted): number {
  if (mine.records === undefined || theirs.records === undefined) return 0;
  return Math.max(0, theirs.records - mine.records - Math.abs(theirs.offset - mine.offset));
}

/** recordsShort between two replicas' evidence. */
export function lacking(e: Evidence, other: Evidence): number {
  return recordsShort({ offset: offsetOf(e), records: e.records }, { offset: offsetOf(other), records: other.records });
}

/**
 * A loaded replica short of records beside its leader: `lacking` on what their tablets
 * report now. recovertable cannot mend it: its offset matches, so OpenMLDB re-adds it as it
 * is (kReAddReplicaSimplifyOP); it is left out of the partition, named.
 */
export function shortBeside(r: Replica, leader: Replica): number {
  if (!r.loaded || !leader.loaded) return 0;
  return recordsShort({ offset: r.loaded.offset, records: r.loaded.recordCnt }, { offset: leader.loaded.offset, records: leader.loaded.recordCnt });
}

/** Why a replica short of records is left out of its partition. */
export function shortWhy(by: number): string {
  return `it holds at least ${by} entries fewer than its leader at about the same offset (a snapshot cut short by a power loss): attached, it would be chosen by a later failover and serve without them, and recovertable re-adds it as it is; rebuild it by hand (drop it on its tablet, then recovertable sends it the leader's snapshot)`;
}

/** Entries `other` holds that `leader` may lack. */
export function lossTo(leader: Evidence, other: Evidence): number {
  return Math.max(0, offsetOf(other) - agreeTo(leader, other)) + lacking(leader, other);
}

/** Where OpenMLDB keeps a rebuilt replica's data (tablet_impl.cc DeleteTableInternal, DeleteBinlog; recycle_ttl 0 keeps it). */
function recycleBin(endpoint: string, tid: number, pid: number, storageMode: string): string {
  const root = storageMode === 'kSSD' ? 'recycle_bin_ssd_root_path' : storageMode === 'kHDD' ? 'recycle_bin_hdd_root_path' : 'recycle_bin_root_path';
  return `${endpoint} <${root}>/${tid}_${pid}_<time> (or ${tid}_${pid}_binlog_<time>)`;
}

/** Which table a choice is for: names where the orphaned entries are kept. */
export interface Where {
  tid: number;
  pid: number;
  storageMode: string;
}

/** An orphaned tail of `e`: entries `from`..`to`, beyond where `e.uncertainFrom`'s term took over. */
function tail(p: Partition, w: Where, e: Evidence, from: number, to: number): OrphanedTail | undefined {
  if (!e.uncertainFrom || to < from) return undefined;
  return {
    endpoint: e.endpoint,
    entries: to - from + 1,
    fromOffset: from,
    toOffset: to,
    ...(e.source !== 'loaded' ? { atLeast: true } : {}),
    term: Math.max(e.snapshot?.term ?? 0, firstTerm(p)),
    newerTerm: e.uncertainFrom.term,
    newerTermOffset: e.uncertainFrom.offset,
    recycleBin: recycleBin(e.endpoint, w.tid, w.pid, w.storageMode),
  };
}

/**
 * The part of what `leader` loses from `other` that is an old leader's tail orphaned at a
 * failover before the incident: `other` was not alive then, `leader` is the newer term's
 * lineage, and the entries lie beyond where that term began AND at offsets the leader holds
 * entries of its own at: the newer term re-used them. Beyond the leader's offset nothing
 * tells an old tail from entries of the newer term that only `other` kept (a follower that
 * followed it, then died): those stay at stake.
 */
function orphanedPart(p: Partition, w: Where, leader: Evidence, other: Evidence, loss: number): OrphanedTail | undefined {
  if (loss === 0 || other.trusted || inLineage(other) || !inLineage(leader)) return undefined;
  const from = certainOf(other) + 1;
  const to = Math.min(offsetOf(other), offsetOf(leader), certainOf(other) + loss);
  return tail(p, w, other, from, to);
}

export interface Cost {
  /** Entries some read replica holds that the leader may lack, orphaned tails aside: the worst single replica. */
  atStake: number;
  /** Who holds them. */
  holder?: Evidence;
  /** Old leaders' tails the leader leaves behind. */
  orphaned: OrphanedTail[];
}

/** What leading with `leader` costs, against the replicas read. */
export function costOf(p: Partition, w: Where, leader: Evidence, read: Evidence[]): Cost {
  const cost: Cost = { atStake: 0, orphaned: [] };
  for (const e of read) {
    if (e === leader) continue;
    const loss = lossTo(leader, e);
    const t = orphanedPart(p, w, leader, e, loss);
    if (t) cost.orphaned.push(t);
    const rest = loss - (t?.entries ?? 0);
    if (rest > cost.atStake) {
      cost.atStake = rest;
      cost.holder = e;
    }
  }
  return cost;
}

/** A replica holding entries a serving leader lacks (or entries of another lineage). */
export interface Ahead {
  endpoint: string;
  /** Its offset, or for one not read its snapshot's (at least that many). */
  holds: number;
  /** Its history may not be the leader's (see Evidence.uncertainFrom): leading with it needs the loss accepted. */
  diverged: boolean;
}

/**
 * What keeping a serving leader costs, when the other replicas may not all be read (one not
 * read counts as far as its snapshot goes). A replica's entries up to where a newer term
 * took over are the lineage's: those beyond the leader's offset are at stake. Beyond that
 * point its entries may be another lineage's: for one not alive before the incident, those
 * at offsets the leader holds are an orphaned tail, the rest at stake; for one alive then,
 * all of them are at stake (its history diverged from the leader's).
 */
export function costOfKeeping(p: Partition, w: Where, leader: Evidence, ev: Evidence[]): Cost & { ahead: Ahead[] } {
  const cost: Cost & { ahead: Ahead[] } = { atStake: 0, orphaned: [], ahead: [] };
  const base = offsetOf(leader);
  for (const e of ev) {
    if (e === leader) continue;
    const holds = Math.max(e.snapshot?.offset ?? 0, e.source === 'loaded' ? offsetOf(e) : 0);
    const bound = e.uncertainFrom ? e.uncertainFrom.offset - 1 : holds;
    const lineageAhead = Math.max(0, Math.min(holds, bound) - base);
    const uncertain = Math.max(0, holds - bound);
    const t = !e.trusted && uncertain > 0 ? tail(p, w, e, bound + 1, Math.min(holds, base)) : undefined;
    if (t) cost.orphaned.push(t);
    const rest = lineageAhead + uncertain - (t?.entries ?? 0);
    if (rest > 0) cost.ahead.push({ endpoint: e.endpoint, holds, diverged: uncertain > 0 });
    if (rest > cost.atStake) {
      cost.atStake = rest;
      cost.holder = e;
    }
  }
  return cost;
}

// ---- the choice ------------------------------------------------------------------------

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

/** A way on where the choice was refused: the leader to name, and whether the loss must be accepted. */
export interface Alternative {
  leader?: string;
  acceptDataLoss: boolean;
  effect: string;
}

export interface Choice {
  leader?: Evidence;
  why: string;
  atStake: number;
  atStakeUnknown?: boolean;
  orphaned: OrphanedTail[];
  fail?: { action: 'refused' | 'blocked'; reason: string; alternatives: Alternative[] };
}

export interface ChoiceOptions {
  /** The operator's leader (recover-table --leader): orphaned tails never hold it back. */
  named?: string;
  acceptDataLoss: boolean;
  /** Refuse to leave an orphaned tail behind without a named leader (--refuse-orphaned). */
  refuseOrphaned: boolean;
}

const offsetText = (e: Evidence): string => (e.offset !== undefined ? String(e.offset) : '?');
const totalOf = (tails: OrphanedTail[]): number => tails.reduce((n, t) => n + t.entries, 0);

/** Why a suspect's tail may not be the lineage's. */
function suspectText(s: Evidence): string {
  const held = offsetOf(s) - certainOf(s);
  const from = certainOf(s) + 1;
  const term = s.uncertainFrom ? `term ${s.uncertainFrom.term} began at offset ${s.uncertainFrom.offset}` : 'a newer term began';
  const who = s.snapshotDiverged && s.snapshot
    ? `${s.trusted ? 'alive before the incident, but ' : 'not alive before the incident; '}its snapshot at offset ${s.snapshot.offset} is of term ${s.snapshot.term}, where ${term}: it diverged there`
    : `not alive before the incident; ${s.snapshot && s.snapshot.offset > 0 ? `snapshot of term ${s.snapshot.term} at offset ${s.snapshot.offset}` : 'no snapshot'}; ${term}`;
  return `${s.endpoint} (${who}) holds ${held} entries from offset ${from}`;
}

/** Choose among replicas whose offsets are all read (or unreadable). */
export function chooseLeader(p: Partition, w: Where, ev: Evidence[], o: ChoiceOptions): Choice {
  const read = ev.filter((e) => e.source === 'loaded');
  const unreadableOnes = ev.filter((e) => e.source === 'unreadable');
  const unknownLoss = unreadableOnes.length > 0;
  const unknown = unknownLoss ? { atStakeUnknown: true } : {};
  const unknownText = unreadableOnes.map((e) => `${e.endpoint} (${e.why})`).join('; ');
  const refused = (reason: string, alternatives: Alternative[], more: Partial<Choice> = {}): Choice => ({ why: '', atStake: 0, orphaned: [], ...more, fail: { action: 'refused', reason, alternatives } });

  if (o.named !== undefined) {
    const e = ev.find((x) => x.endpoint === o.named);
    if (!e) return refused(`named leader ${o.named} is not a replica (replicas: ${ev.map((x) => x.endpoint).join(', ')})`, []);
    if (e.source !== 'loaded') return refused(`named leader ${o.named} cannot be read: ${e.why ?? 'its offset is unknown'}`, []);
    const cost = costOf(p, w, e, read);
    const why = `named by the operator; offset ${offsetText(e)}`;
    const chosen = { leader: e, why, atStake: cost.atStake, orphaned: cost.orphaned, ...unknown };
    if ((cost.atStake > 0 || unknownLoss) && !o.acceptDataLoss) {
      const parts = [
        cost.atStake > 0 && cost.holder ? `${cost.holder.endpoint} holds ${cost.atStake} entries ${o.named} may lack (offset ${offsetText(cost.holder)} vs ${offsetText(e)})` : '',
        unknownLoss ? `unreadable replicas may hold more: ${unknownText}` : '',
      ].filter(Boolean);
      const lose = cost.atStake > 0 ? `the ${cost.atStake} entries only ${cost.holder?.endpoint ?? 'another replica'} holds are lost` : 'what the unreadable replicas hold is lost';
      return refused(`${parts.join('; ')}: leading with ${o.named} loses them`, [{ leader: o.named, acceptDataLoss: true, effect: `${o.named} leads; ${lose}` }], chosen);
    }
    return chosen;
  }
  if (read.length === 0) {
    return { why: '', atStake: 0, orphaned: [], atStakeUnknown: unknownLoss, fail: { action: unknownLoss && !o.acceptDataLoss ? 'refused' : 'blocked', reason: `no replica can be read: ${unknownText}`, alternatives: [] } };
  }
  if (unknownLoss && !o.acceptDataLoss) {
    return refused(
      `a replica cannot be read, so what it holds is unknown: ${unknownText}; bring it back (or restore its data) and run again, or accept the loss`,
      [{ acceptDataLoss: true, effect: `the replica holding the most of those that can be read leads; what ${unreadableOnes.map((e) => e.endpoint).join(', ')} may hold beyond it is lost` }],
      { atStakeUnknown: true },
    );
  }
  const order = byPreference(p.replicas);
  const candidates = read.map((e) => ({ e, ...costOf(p, w, e, read) }));
  // Safe: loses nothing but orphaned tails. A leader that leaves none behind goes first.
  const safe = candidates
    .filter((c) => c.atStake === 0)
    .sort((a, b) => totalOf(a.orphaned) - totalOf(b.orphaned) || offsetOf(b.e) - offsetOf(a.e) || order(a.e, b.e));
  const best = safe[0];
  if (best) {
    const e = best.e;
    const tied = safe.filter((c) => c !== best && c.e.offset === e.offset).map((c) => c.e.endpoint);
    const others = read.filter((x) => x !== e).map((x) => `${x.endpoint} ${offsetText(x)}`);
    const why = [`highest offset ${offsetText(e)} (read by loading every replica)`, others.length ? `others: ${others.join(', ')}` : '', tied.length ? `tied with ${tied.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    const chosen = { leader: e, why, atStake: 0, orphaned: best.orphaned, ...unknown };
    if (best.orphaned.length > 0 && o.refuseOrphaned && !o.acceptDataLoss) {
      const tails = best.orphaned.map(describeOrphaned).join('; ');
      return refused(
        `orphaned tail: ${tails}; OpenMLDB gave it up at that failover and the cluster served term ${best.orphaned[0]?.newerTerm ?? '?'} since, but --refuse-orphaned keeps it: copy it out of that replica's data directory first, then name the leader`,
        [{ leader: e.endpoint, acceptDataLoss: false, effect: `${e.endpoint} (the newer term) leads; the orphaned tail goes to the recycle bin of ${best.orphaned.map((t) => t.endpoint).join(', ')}, as OpenMLDB would move it` }],
        chosen,
      );
    }
    return chosen;
  }
  // A replica short of records (rule 6): every leader loses something, the fewest first.
  const short = read.map((e) => ({ e, by: Math.max(0, ...read.filter((x) => x !== e).map((x) => lacking(e, x))) })).filter((x) => x.by > 0);
  if (short.length > 0) {
    const ranked = [...candidates].sort((a, b) => a.atStake - b.atStake || offsetOf(b.e) - offsetOf(a.e) || order(a.e, b.e));
    const first = ranked[0] as (typeof ranked)[number];
    const reason = `${short.map((x) => `${x.e.endpoint} serves offset ${offsetText(x.e)} but holds ${x.e.records ?? '?'} records, at least ${x.by} entries fewer than another replica`).join('; ')} (a snapshot cut short by a power loss: OpenMLDB fsyncs a snapshot's MANIFEST, not its data file); any leader loses entries`;
    const alternatives = ranked.map((c) => ({ leader: c.e.endpoint, acceptDataLoss: true, effect: `${c.e.endpoint} (offset ${offsetText(c.e)}, ${c.e.records ?? '?'} records) leads; up to ${c.atStake} entries only other replicas hold are lost` }));
    const more = { leader: first.e, atStake: first.atStake, orphaned: first.orphaned };
    if (!o.acceptDataLoss) return refused(reason, alternatives, more);
    return { ...more, why: `fewest entries lost (--accept-data-loss): ${first.e.endpoint} offset ${offsetText(first.e)}, ${first.e.records ?? '?'} records; ${reason}` };
  }
  // Every choice may lose entries that are not an orphaned tail: histories diverged where
  // no OpenMLDB rule chose between them.
  const suspects = read.filter((e) => !inLineage(e));
  const lineage = read.filter((e) => inLineage(e)).sort((a, b) => offsetOf(b) - offsetOf(a) || order(a, b));
  const winner = lineage[0] ?? [...read].sort((a, b) => offsetOf(b) - offsetOf(a) || order(a, b))[0];
  const cost = winner ? costOf(p, w, winner, read) : { atStake: 0, orphaned: [] };
  const otherSide = winner ? Math.max(0, ...suspects.filter((s) => s !== winner).map((s) => lossTo(s, winner))) : 0;
  const reason = `diverged histories: ${suspects.map(suspectText).join('; ')}; ${winner ? `${winner.endpoint} holds ${otherSide} entries of the newer term at those offsets` : ''}. Any leader loses one side`;
  const alternatives: Alternative[] = [];
  const andOrphaned = (c: Cost) => (c.orphaned.length > 0 ? ` (and ${totalOf(c.orphaned)} orphaned at an earlier failover are left behind)` : '');
  if (winner) alternatives.push({ leader: winner.endpoint, acceptDataLoss: true, effect: `${winner.endpoint} (the newer term) leads; the ${cost.atStake} entries of the other side are lost${andOrphaned(cost)}` });
  for (const s of suspects) {
    if (s === winner) continue;
    const c = costOf(p, w, s, read);
    alternatives.push({ leader: s.endpoint, acceptDataLoss: true, effect: `${s.endpoint}'s history leads; the ${c.atStake} entries of the newer term it lacks are lost${andOrphaned(c)}` });
  }
  const more = { ...(winner ? { leader: winner } : {}), atStake: cost.atStake, orphaned: cost.orphaned };
  if (!o.acceptDataLoss || !winner) return refused(reason, alternatives, more);
  const tails = cost.orphaned.length > 0 ? `; orphaned: ${cost.orphaned.map(describeOrphaned).join('; ')}` : '';
  return { ...more, why: `newer term wins (--accept-data-loss): ${winner.endpoint} offset ${offsetText(winner)}; ${suspects.filter((s) => s !== winner).map(suspectText).join('; ')}${tails}` };
}
