// The recovery plan: a pure function of a ClusterSnapshot and of what the run remembers
// (engine/run-memory.ts). Per partition it decides whether anything must be done, which replica
// must lead (leader-choice.ts: on what the replicas really hold, never on the metadata's
// offsets), what would be lost, and lists the runbook's steps. The applier re-checks every
// step against the live cluster, so the plan lists the full procedure.
//
// After a restart the metadata's offsets are whatever was persisted the last time the
// table's node was rewritten (hours old, or `-`), and a replica that was loading was
// recorded at 0. So a partition that needs a leader is first PROBED: every replica is
// marked not alive and loaded as a follower (a follower reads its disk and changes
// nothing), and only when each one's offset is known is the leader chosen.
import {
  type ClusterSnapshot,
  isUnfinished,
  type Partition,
  type Replica,
  type StorageMode,
  type Table,
  type Tablet,
} from '../../cluster/types.js';
import { type PartitionEvidence, type ReplicaRecord, partitionKey } from '../../engine/run-memory.js';
import { type Evidence, type LeaderChoice, type PartitionPlan, type PlanDecision, type Proceed, type Step, describeOrphaned } from '../../engine/procedure.js';
import { assessPartition, describeOp, isServing, opsForPartition, servingLeader } from '../../engine/health.js';
import { type Alternative, NO_EVIDENCE, agreeTo, chooseLeader, costOfKeeping, lossTo, partitionEvidence, shortBeside, shortWhy } from '../leader-choice.js';

export interface Plan {
  autoFailover: boolean;
  partitions: PartitionPlan[];
}

export interface PlanOptions {
  /** Allow a leader that may lack entries another replica holds, or one chosen without reading every replica. */
  acceptDataLoss: boolean;
  /** Refuse a partition whose leader would leave an old leader's orphaned tail behind, unless the leader is named (--refuse-orphaned). */
  refuseOrphaned?: boolean;
  /** Plan even partitions that look healthy (recover-table). */
  force?: boolean;
  /** Operator-chosen leaders, keyed by `partitionKey(db, table, pid)`. */
  leaders?: Map<string, string>;
  /** When the plan is made (ms): bounds the wait for a disk load that may still be queued. */
  now?: number;
  /** How long a sent disk load may stay invisible before the partition is reported blocked (ms). */
  loadTimeoutMs?: number;
}

/** The command that takes a refused partition on as `alt` says: recover-table, that partition only. */
function proceedWith(table: Table, pid: number, alt: Alternative): Proceed {
  const args = ['recover-table', `${table.db}.${table.name}`, '--pid', String(pid)];
  if (alt.leader !== undefined) args.push('--leader', `${pid}=${alt.leader}`);
  if (alt.acceptDataLoss) args.push('--accept-data-loss');
  return { args, effect: alt.effect };
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
  // resend); a leader already running keeps the followers its replicator has. Not one
  // below the leader's snapshot: the leader may have deleted the binlog parts it needs
  // (LogReplicator::DeleteBinlog keeps only what its snapshot and its followers of the
  // time need), and it would never catch up ("no log part matched"). OpenMLDB re-adds
  // such a replica with the snapshot sent (name_server_impl.cc RecoverEndpointTable:
  // offset >= the leader's MANIFEST offset, else kReAddReplicaOP); recovertable does that.
  // (A follower already in a running leader's replicator list holds its binlog parts in place.)
  const replicating = (r: Replica) => leadsAlready && (w.followers ?? []).some((f) => f.endpoint === r.endpoint);
  const belowSnapshot = (r: Replica, e: Evidence) => !replicating(r) && (e.offset ?? 0) < (leader.snapshot?.offset ?? 0);
  const attach = p.replicas.filter((r, i) => {
    const e = ev[i] as Evidence;
    const fits = r !== w && !r.isLeader && e.source === 'loaded' && r.loaded?.mode === 'kTableFollower' && lossTo(leader, e) === 0 && agreeTo(leader, e) === (e.offset ?? 0) && !belowSnapshot(r, e) && shortBeside(r, w) === 0;
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
    const short = shortBeside(r, w);
    if (short > 0) {
      left.push({ endpoint: r.endpoint, why: shortWhy(short) });
      continue;
    }
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
function followerSteps(table: Table, p: Partition, leader: Replica, snapshot: ClusterSnapshot, force: boolean, memory: PartitionEvidence): { steps: Step[]; left: Array<{ endpoint: string; why: string }> } {
  const steps: Step[] = [];
  const left: Array<{ endpoint: string; why: string }> = [];
  const verdict = assessPartition(table, p, snapshot);
  // A follower seen not to catch up (catch-up.ts) is rebuilt though one look finds it fine.
  const needs = (r: Replica) => force || stillStuck(r, leader, memory) || verdict.problems.some((x) => x.includes(r.endpoint));
  let recovering = 0;
  for (const r of p.replicas) {
    if (r === leader) continue;
    const short = shortBeside(r, leader);
    if (short > 0) {
      if (r.isAlive) steps.push({ kind: 'set-alive', endpoint: r.endpoint, alive: false });
      left.push({ endpoint: r.endpoint, why: shortWhy(short) });
      continue;
    }
    if (!needs(r)) continue;
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

/** Seen not to catch up with its leader (catch-up.ts), and behind it still in this look. */
function stillStuck(r: Replica, leader: Replica, memory: PartitionEvidence): boolean {
  const lo = leader.loaded?.offset;
  return r !== leader && memory[r.endpoint]?.stuck !== undefined && r.loaded !== undefined && lo !== undefined && r.loaded.offset < lo;
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
  const result = (action: PlanDecision, reason: string, more: Partial<PartitionPlan> = {}): PartitionPlan => ({ ...base, action, reason, atStake: 0, left: [], steps: [], ...more });
  const choice = (e: Evidence, why: string): LeaderChoice => ({ endpoint: e.endpoint, offset: e.offset ?? 0, source: e.source, flaggedLeader: e.flaggedLeader, why });

  // a. Nothing to do (a follower seen not to catch up, and still behind, aside).
  const lead = servingLeader(partition);
  const stuck = lead ? replicas.filter((r) => stillStuck(r, lead, memory)) : [];
  if (!options.force && stuck.length === 0 && assessPartition(table, partition, snapshot).healthy) return result('none', 'healthy');
  // b. Ops already running are waited on, never fired twice.
  const running = opsForPartition(snapshot, table, partition.pid).filter(isUnfinished);
  if (running.length > 0) {
    return result('wait', `${running.map(describeOp).join('; ')}: waiting for it to finish, firing nothing`, { steps: [{ kind: 'wait-ops' }] });
  }
  if (replicas.length === 0) return result('blocked', 'the partition has no replica in the metadata');
  const named = options.leaders?.get(partitionKey(table.db, table.name, partition.pid));

  const where = { tid: table.tid, pid: partition.pid, storageMode: table.storageMode };
  const ways = (alts: Alternative[]): Partial<PartitionPlan> => (alts.length > 0 ? { proceed: alts.map((a) => proceedWith(table, partition.pid, a)) } : {});

  // c. An alive leader serves it: keep it; rebuild the other replicas from it, unless one of
  //    them is known to hold entries it lacks (an old leader's orphaned tail aside).
  const served = servingLeader(partition);
  if (served && (named === undefined || named === served.endpoint)) {
    const le = evidence[replicas.indexOf(served)] as Evidence;
    const keep = costOfKeeping(partition, where, le, evidence);
    const kept = { leader: choice(le, 'serving alive leader'), atStake: keep.atStake, ...(keep.orphaned.length > 0 ? { orphaned: keep.orphaned } : {}) };
    if (keep.atStake > 0 && !options.acceptDataLoss) {
      const top = [...keep.ahead].sort((a, b) => b.holds - a.holds)[0];
      // A replica whose history diverged from the leader's leads only if the leader's side is given up.
      const alts: Alternative[] = [
        ...(top
          ? [
              top.diverged
                ? { leader: top.endpoint, acceptDataLoss: true, effect: `${top.endpoint}'s history leads; what ${served.endpoint} wrote past where they diverged is lost` }
                : { leader: top.endpoint, acceptDataLoss: false, effect: `${top.endpoint} (holding at least ${top.holds}) leads once every replica is read` },
            ]
          : []),
        { acceptDataLoss: true, effect: `${served.endpoint} keeps leading; the ${keep.atStake} or more entries only ${keep.ahead.map((a) => a.endpoint).join(', ')} hold are lost` },
      ];
      return result('refused', `leader ${served.endpoint} serves offset ${le.offset}, but ${keep.ahead.map((a) => `${a.endpoint} holds at least ${a.holds}`).join(', ')}: rebuilding it from the leader would discard entries`, { ...kept, ...ways(alts) });
    }
    if (keep.orphaned.length > 0 && options.refuseOrphaned && !options.acceptDataLoss && named === undefined) {
      return result('refused', `orphaned tail: ${keep.orphaned.map(describeOrphaned).join('; ')}; --refuse-orphaned keeps it: copy it out first, then name the leader`, {
        ...kept,
        ...ways([{ leader: served.endpoint, acceptDataLoss: false, effect: `${served.endpoint} keeps leading; the orphaned tail goes to the recycle bin, as OpenMLDB would move it` }]),
      });
    }
    const { steps, left } = followerSteps(table, partition, served, snapshot, options.force === true, memory);
    if (steps.length === 0 && left.length > 0) return result('blocked', `leader ${served.endpoint} serves; ${left.map((l) => `${l.endpoint}: ${l.why}`).join('; ')}`, { ...kept, left });
    return result('recover', `leader ${served.endpoint} serves: rebuilding the other replicas from it${left.length ? `; partial: ${left.map((l) => l.endpoint).join(', ')} stay behind` : ''}`, { ...kept, steps, left });
  }

  // d. A single replica: load it as the leader (the runbook), unless it is not flagged leader.
  //    Not alive first: clients route to a leader flagged alive, and a memory table whose
  //    load is accepted but not started takes their writes, numbered from 0 in a binlog part
  //    the load then replays alone (tablet.ts put, finishReplay): the binlog after the
  //    snapshot and those writes would be lost. Alive again once it serves (OpenMLDB's own
  //    ReLoadTableOP marks it alive only after its kLoadTable task).
  if (replicas.length === 1) {
    const r = replicas[0] as Replica;
    const e = evidence[0] as Evidence;
    if (!r.isLeader) return result('blocked', `the only replica ${r.endpoint} is not flagged leader in the metadata`);
    if (e.source === 'unreadable') return result(options.acceptDataLoss ? 'blocked' : 'refused', `the only replica ${r.endpoint} cannot be read: ${e.why}`, { atStakeUnknown: true });
    const steps: Step[] = [];
    if (r.isAlive && !isServing(r) && r.tablet !== 'unknown') steps.push({ kind: 'set-alive', endpoint: r.endpoint, alive: false });
    if (!r.loaded) steps.push({ kind: 'load', endpoint: r.endpoint, mode: 'kTableLeader' });
    if (!isServing(r)) steps.push({ kind: 'wait-loaded', endpoint: r.endpoint });
    if (r.loaded && r.loaded.mode !== 'kTableLeader') steps.push({ kind: 'change-role', endpoint: r.endpoint, mode: 'kTableLeader', term: Math.max(0, ...(partition.terms ?? []).map((t) => t.term)), followers: [] });
    if (!r.isAlive || steps.some((x) => x.kind === 'set-alive')) steps.push({ kind: 'set-alive', endpoint: r.endpoint, alive: true });
    return result('recover', `single replica ${r.endpoint}: load it as the leader`, { steps, ...(e.offset !== undefined ? { leader: choice(e, 'the only replica') } : {}) });
  }

  // e. Unreadable replicas are refused before anything changes, unless the loss is accepted.
  const unreadableOnes = evidence.filter((e) => e.source === 'unreadable');
  if (unreadableOnes.length > 0 && !options.acceptDataLoss) {
    if (evidence.some((e) => e.source === 'unread')) {
      // Refused before the others are read (that marks them not alive and loads them).
      const accept: Alternative = {
        ...(named !== undefined ? { leader: named } : {}),
        acceptDataLoss: true,
        effect: `${named ?? 'the replica holding the most of those that can be read'} leads; what ${unreadableOnes.map((e) => e.endpoint).join(', ')} may hold beyond it is lost`,
      };
      return result('refused', `a replica cannot be read, so what it holds is unknown: ${unreadableOnes.map((e) => `${e.endpoint} (${e.why})`).join('; ')}; bring it back (or restore its data) and run again, or accept the loss`, { atStakeUnknown: true, ...ways([accept]) });
    }
    const d = chooseLeader(partition, where, evidence, { ...(named !== undefined ? { named } : {}), acceptDataLoss: false, refuseOrphaned: options.refuseOrphaned === true });
    return result(d.fail?.action ?? 'refused', d.fail?.reason ?? 'a replica cannot be read', { atStakeUnknown: true, ...(d.leader ? { leader: choice(d.leader, d.why) } : {}), ...ways(d.fail?.alternatives ?? []) });
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
  const d = chooseLeader(partition, where, evidence, { ...(named !== undefined ? { named } : {}), acceptDataLoss: options.acceptDataLoss, refuseOrphaned: options.refuseOrphaned === true });
  const more = {
    atStake: d.atStake,
    ...(d.atStakeUnknown ? { atStakeUnknown: true } : {}),
    ...(d.leader ? { leader: choice(d.leader, d.why) } : {}),
    ...(d.orphaned.length > 0 ? { orphaned: d.orphaned } : {}),
  };
  if (d.fail || !d.leader) return result(d.fail?.action ?? 'blocked', d.fail?.reason ?? 'no leader could be chosen', { ...more, ...ways(d.fail?.alternatives ?? []) });
  const { steps, left } = promoteSteps(partition, evidence, d.leader);
  const loss = d.atStake > 0 ? `; ${d.atStake} entries accepted as lost` : d.atStakeUnknown ? '; entries of unreadable replicas accepted as lost' : '';
  const orphaned = d.orphaned.length > 0 ? `; leaves behind what OpenMLDB orphaned at an earlier failover: ${d.orphaned.map(describeOrphaned).join('; ')}` : '';
  const partial = left.length > 0 ? `; partial: ${left.length} replica(s) stay behind (${left.map((l) => l.endpoint).join(', ')})` : '';
  return result('recover', `leader ${d.leader.endpoint}: ${d.why}${loss}${orphaned}${partial}`, { ...more, steps, left });
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
