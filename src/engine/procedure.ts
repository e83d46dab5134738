// What a procedure hands the engine, and what the engine runs: per partition a plan (its
// action, the leader chosen and on what evidence, the runbook's steps), and the Procedure
// interface every mutating command implements (workflow/procedures/). The engine knows
// nothing of how a plan was made; the planners know nothing of how steps are run.
import type { ClusterSnapshot, Partition, StorageMode, Table, TableMode } from '../cluster/types.js';
import type { RunMemory } from './run-memory.js';
import type { HealthOptions, Verdict } from './health.js';

export type Step =
  | { kind: 'set-alive'; endpoint: string; alive: boolean }
  | { kind: 'load'; endpoint: string; mode: TableMode }
  | { kind: 'wait-loaded'; endpoint: string }
  /**
   * Tablet ChangeRole: a loaded follower becomes the leader, with a term and the followers
   * it replicates to (or, `mode: 'kTableFollower'`, a leader steps down).
   */
  | { kind: 'change-role'; endpoint: string; mode: TableMode; term: number; followers: string[] }
  /**
   * `changeleader TABLE PID ENDPOINT`, or with `endpoint: 'auto'` `changeleader TABLE PID auto`
   * (the nameserver picks the follower with the most data); `from` is the replica the
   * leadership must leave, so a rerun can tell that the change already happened.
   */
  | { kind: 'change-leader'; endpoint: string; from?: string }
  | { kind: 'recover-replica'; endpoint: string }
  | { kind: 'wait-ops' };

/** Runbook commands that act on every partition with a replica on one endpoint. */
export type ClusterStep =
  | { kind: 'offline-endpoint'; endpoint: string; concurrency?: number }
  | { kind: 'recover-endpoint'; endpoint: string; needRestore: boolean; concurrency?: number };

/** Where a replica's offset came from: its tablet serves it (exact), or it is not known yet / cannot be known. */
export type EvidenceSource = 'loaded' | 'unread' | 'unreadable';

/** What the run knows of one replica; shown in the report, per replica. */
export interface Evidence {
  endpoint: string;
  /** Entries it holds: exact when its tablet serves it (source `loaded`). */
  offset?: number;
  source: EvidenceSource;
  /** Why the offset is not known (unread: what will read it; unreadable: why it never can). */
  why?: string;
  /** Up to here its entries are certainly the leader lineage's (see workflow/procedures/recover-plan.ts, its module comment). */
  certainTo?: number;
  /** It was alive in the metadata before any run changed it: in step with the lineage. */
  trusted: boolean;
  /**
   * Where its certainty ends: a term newer than the one its snapshot proves it followed
   * began at `offset`, and beyond `offset - 1` (its `certainTo`) its entries may be another
   * lineage's (an old leader's tail). Set when that matters: it was not alive before the
   * incident, or its snapshot itself already holds an entry where this term had begun
   * (OpenMLDB's MatchTermOffset fails for it).
   */
  uncertainFrom?: { term: number; offset: number };
  /** Its snapshot holds an entry at or beyond `uncertainFrom.offset`, of an older term: it diverged from the lineage there. */
  snapshotDiverged?: boolean;
  /** Snapshot term and offset, read before the tool loaded it. */
  snapshot?: { term: number; offset: number };
  /** The nameserver's metadata offset as first found: shown for comparison, never used to choose. */
  metaOffset?: number;
  /**
   * Records it holds, as its tablet reports them (GetTableStatus record_cnt, over HTTP).
   * Replicas holding the same entries hold as many records; fewer means entries are
   * missing below its offset (a short snapshot).
   */
  records?: number;
  tablet: 'healthy' | 'offline' | 'unknown';
  flaggedLeader: boolean;
  alive: boolean;
}

/**
 * Entries of a replica not alive before the incident, beyond the offset where a newer term
 * began at an earlier failover: its old leader's tail (or, at most, entries that term also
 * holds). OpenMLDB gave them up at that failover (its new leader numbered on from the
 * alive replicas' highest offset; the returning replica is rebuilt and its data moved to
 * the recycle bin), so leading with that term leaves them behind by OpenMLDB's own rules.
 */
export interface OrphanedTail {
  endpoint: string;
  entries: number;
  fromOffset: number;
  toOffset: number;
  /** The replica was not read (it was rebuilt from its snapshot's knowledge): it holds at least these. */
  atLeast?: boolean;
  /** The term its snapshot proves it followed (else the partition's first): the tail was written in it, unless the replica followed a newer term after the snapshot. */
  term: number;
  /** The newer term that took over at `newerTermOffset`, before the incident. */
  newerTerm: number;
  newerTermOffset: number;
  /** Where OpenMLDB keeps them once the replica is rebuilt. */
  recycleBin: string;
}

/** An orphaned tail, in words. */
export function describeOrphaned(t: OrphanedTail): string {
  const n = `${t.atLeast ? 'at least ' : ''}${t.entries}`;
  return `${t.endpoint} (not alive before the incident; its snapshot of term ${t.term}) holds ${n} entries at offsets ${t.fromOffset}-${t.toOffset}, where term ${t.newerTerm} took over from offset ${t.newerTermOffset} at an earlier failover`;
}

/** A command that proceeds where the plan refused: `openmldb-recover` and these arguments (the command layer adds how it reached the cluster). */
export interface Proceed {
  args: string[];
  /** What running it does, e.g. `127.0.0.1:9521 leads; the 15 entries only 127.0.0.1:9520 holds are lost`. */
  effect: string;
}

/** What the plan decided for a partition (probe: load the replicas to read their offsets, then plan again). */
export type PlanDecision = 'none' | 'probe' | 'recover' | 'wait' | 'refused' | 'blocked';

export interface LeaderChoice {
  endpoint: string;
  offset: number;
  source: EvidenceSource;
  flaggedLeader: boolean;
  /** e.g. `highest offset 2153 (loaded); flagged leader 127.0.0.1:9520 has 2100`. */
  why: string;
}

export interface PartitionPlan {
  db: string;
  table: string;
  tid: number;
  pid: number;
  storageMode: StorageMode;
  segCnt: number;
  action: PlanDecision;
  reason: string;
  /** The replica that leads after recovery (or would, for 'refused'). */
  leader?: LeaderChoice;
  /** One per replica, in metadata order. */
  evidence: Evidence[];
  /** Entries some replica holds that the chosen leader may lack (0 = no loss). */
  atStake: number;
  /** The loss cannot be bounded: a replica could not be read. */
  atStakeUnknown?: boolean;
  /** Old leaders' tails the chosen leader leaves behind (or would, if refused): never counted in atStake. */
  orphaned?: OrphanedTail[];
  /** Refused: the commands that proceed, each with what it does. */
  proceed?: Proceed[];
  /** Replicas this run cannot bring back, and why. */
  left: Array<{ endpoint: string; why: string }>;
  steps: Step[];
  /** Cluster-wide runbook commands (offlineendpoint, recoverendpoint) that act on this partition. */
  via?: string[];
}

/** Where the run stands when a round is planned. */
export interface Round {
  /** 1 for the first plan (the one the report keeps). */
  round: number;
  /** Partitions (by key) whose planned procedure ran to its end in an earlier round. */
  done: ReadonlySet<string>;
  /** Cluster-wide steps already run. */
  ran: ReadonlySet<ClusterStep['kind']>;
}

export interface RoundPlan {
  partitions: PartitionPlan[];
  /** Run before the partitions' steps, in order. */
  cluster?: ClusterStep[];
}

/**
 * A command's procedure, made from the first (whole) observation: it checks the command's
 * arguments against it (throwing UsageError or Refused before anything changes) and
 * resolves names, so that what it returns plans from constants, not from state a check left.
 */
export type PrepareProcedure = (first: ClusterSnapshot) => Procedure;

/** One command, as the engine runs it. */
export interface Procedure {
  /** What the command is about: the tables and partitions reported and verified. */
  scope?(snapshot: ClusterSnapshot): ClusterSnapshot;
  plan(snapshot: ClusterSnapshot, round: Round, memory?: RunMemory): RoundPlan;
  /** Is the partition where the command wants it? Default: the health verdict of `status`. */
  verdict?(table: Table, partition: Partition, snapshot: ClusterSnapshot, opts: HealthOptions): Verdict;
  /** Rounds at most (default 3). */
  rounds?: number;
  /**
   * A partition whose probe (or wait) ended is planned again at once from a fresh look at it
   * alone, instead of waiting for the round's next look at the cluster.
   */
  pipeline?: boolean;
}

/** The runbook command a step stands for. */
export function describeStep(step: Step, p: PartitionPlan): string {
  switch (step.kind) {
    case 'set-alive':
      return `updatetablealive ${p.table} ${p.pid} ${step.endpoint} ${step.alive ? 'yes' : 'no'}`;
    case 'load':
      // The CLI's loadtable sends no storage_mode (memory only); disk tables need HTTP.
      if (p.storageMode === 'kMemory') {
        const follower = step.mode === 'kTableFollower' ? ' false' : '';
        return `loadtable ${p.table} ${p.tid} ${p.pid} 144000 ${p.segCnt}${follower} (on ${step.endpoint})`;
      }
      return `LoadTable over HTTP (${p.storageMode}, ${step.mode}) on ${step.endpoint}`;
    case 'wait-loaded':
      return `gettablestatus ${p.tid} ${p.pid} on ${step.endpoint} until it serves (kTableNormal)`;
    case 'change-role':
      return step.mode === 'kTableLeader'
        ? `ChangeRole over HTTP on ${step.endpoint}: leader, term ${step.term}${step.followers.length ? `, followers ${step.followers.join(', ')}` : ''}`
        : `ChangeRole over HTTP on ${step.endpoint}: follower`;
    case 'change-leader':
      return `changeleader ${p.table} ${p.pid} ${step.endpoint}${step.endpoint === 'auto' && step.from !== undefined ? ` (away from ${step.from})` : ''}`;
    case 'recover-replica':
      return `recovertable ${p.table} ${p.pid} ${step.endpoint}`;
    case 'wait-ops':
      return `showopstatus ${p.table} ${p.pid} until no op is kInited or kDoing`;
  }
}
