// Does every follower behind its leader really catch up? One look cannot tell a follower
// that is a moment behind (clients write, replication is asynchronous) from one that never
// will: a follower whose next entry is in a binlog part its leader deleted gets "no log part
// matched" on every try (replica/replicate_node.cc), and OpenMLDB's own check
// (kCheckBinlogSyncProgress) lets a lag of up to 100000 entries pass. So a follower behind
// is watched: it is in step once it holds everything its leader held when it was first
// seen behind; one that gains nothing for a while is stuck, and is rebuilt (recovertable
// sends it the leader's snapshot).
import type { ClusterSnapshot } from '../cluster/types.js';
import type { SharedReads } from './cluster.js';
import { isServing, servingLeader } from './health.js';
import { pollDelay, sleep } from './poll.js';
import { partitionKey } from './run-memory.js';

/** How long a follower behind its leader may take to get where the leader was (ms). */
export const CATCH_UP_MS = 10_000;

/** A serving follower and its leader in one look. */
export interface Behind {
  db: string;
  table: string;
  tid: number;
  pid: number;
  /** `db.table:pid`, as the run memory keys it. */
  key: string;
  follower: string;
  offset: number;
  leader: string;
  /** The leader's offset in that look: what the follower must reach. */
  target: number;
}

/** Every alive follower serving under an alive serving leader in `snapshot`; behind it when `offset < target`. */
export function servingFollowers(snapshot: ClusterSnapshot): Behind[] {
  const out: Behind[] = [];
  for (const t of snapshot.tables) {
    for (const p of t.partitions) {
      const leader = servingLeader(p);
      if (!leader?.loaded) continue;
      for (const r of p.replicas) {
        if (r === leader || !r.isAlive || r.isLeader || r.tablet !== 'healthy' || r.loaded?.mode !== 'kTableFollower' || !isServing(r)) continue;
        out.push({ db: t.db, table: t.name, tid: t.tid, pid: p.pid, key: partitionKey(t.db, t.name, p.pid), follower: r.endpoint, offset: r.loaded.offset, leader: leader.endpoint, target: leader.loaded.offset });
      }
    }
  }
  return out;
}

/**
 * Watch the followers behind (of `followers`) until each holds what its leader held when
 * it was seen behind. A follower is stuck when it gained nothing for `timeoutMs`; one that
 * keeps gaining is watched on, up to CATCH_UP_ROUNDS times that, and then left to the
 * verdict (slow, not stuck). Returns the stuck ones with the offset they last showed; a
 * follower that cannot be read is left to the verdict too. A stopped run calls none stuck.
 */
export async function stuckFollowers(reads: Pick<SharedReads, 'statuses'>, followers: Behind[], opts: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {}): Promise<Behind[]> {
  const window = opts.timeoutMs ?? CATCH_UP_MS;
  const began = Date.now();
  let waiting = followers.filter((b) => b.offset < b.target).map((b) => ({ ...b, gainedAt: began }));
  const stuck: Behind[] = [];
  for (let poll = 0; waiting.length > 0; poll++) {
    if (poll > 0) await sleep(pollDelay(poll - 1, opts.pollMs), opts.signal);
    if (opts.signal?.aborted) return [];
    // One gettablestatus per tablet holding followers behind, however many they are.
    const tablets = [...new Set(waiting.map((b) => b.follower))];
    const runs = new Map(
      await Promise.all(
        tablets.map(async (t) => {
          try {
            return [t, new Map((await reads.statuses(t)).map((s) => [`${s.tid}/${s.pid}`, s.offset]))] as const;
          } catch {
            return [t, undefined] as const;
          }
        }),
      ),
    );
    const now = Date.now();
    const next: typeof waiting = [];
    for (const b of waiting) {
      const offset = runs.get(b.follower)?.get(`${b.tid}/${b.pid}`);
      if (offset === undefined || offset >= b.target) continue;
      const w = offset > b.offset ? { ...b, offset, gainedAt: now } : b;
      if (now - w.gainedAt >= window) stuck.push(strip(w));
      else if (now - began < window * CATCH_UP_ROUNDS) next.push(w);
    }
    waiting = next;
  }
  return stuck;
}

/** How many windows a follower that keeps gaining is watched at most. */
const CATCH_UP_ROUNDS = 6;

const strip = ({ gainedAt: _, ...b }: Behind & { gainedAt: number }): Behind => b;

/** The report's line for a stuck follower. */
export function describeStuck(b: Behind, waitedMs: number): string {
  return `follower ${b.follower} gained nothing for ${Math.round(waitedMs / 1000)} s: it stays at offset ${b.offset}, short of the ${b.target} its leader ${b.leader} held (the leader's binlog may no longer reach back to it); recovertable rebuilds it from the leader's snapshot`;
}
