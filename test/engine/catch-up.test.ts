// Watching followers behind their leader (src/engine/catch-up.ts): in step once they hold
// what the leader held; stuck when they gain nothing for the window; watched on while they
// gain; never called stuck by a run that was stopped, nor when their tablet cannot be read.
// The tablets' answers are scripted: what matters here is the watch's own logic (the
// simulator's end-to-end case is test/cli/binlog-retention.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TabletTableStatus } from '../../src/cluster/client.js';
import { type Behind, servingFollowers, stuckFollowers } from '../../src/engine/catch-up.js';
import { A, B, C, asFollower, asLeader, oneTable, rep, snap } from '../workflow/snapshots.js';

const behind = (follower: string, offset: number, target: number): Behind => ({ db: 'demo_db', table: 't1', tid: 1, pid: 0, key: 'demo_db.t1:0', follower, offset, leader: A, target });

/** A tablet whose follower of tid 1 pid 0 shows the next offset of `offsets` at each read (the last one for ever). */
function tablets(script: Record<string, number[] | 'down'>) {
  const reads = new Map<string, number>();
  return {
    reads,
    statuses: async (endpoint: string): Promise<TabletTableStatus[]> => {
      const s = script[endpoint];
      if (s === undefined || s === 'down') throw new Error(`${endpoint} does not answer`);
      const n = reads.get(endpoint) ?? 0;
      reads.set(endpoint, n + 1);
      return [{ tid: 1, pid: 0, offset: s[Math.min(n, s.length - 1)] ?? 0 } as TabletTableStatus];
    },
  };
}

describe('servingFollowers', () => {
  it('alive followers serving under an alive serving leader, with the leader\'s offset as their target', () => {
    const s = snap([oneTable([rep(A, { isLeader: true, loaded: asLeader(100) }), rep(B, { loaded: asFollower(90) }), rep(C, { isAlive: false, loaded: asFollower(10) })])]);
    assert.deepEqual(servingFollowers(s).map((f) => [f.follower, f.offset, f.target]), [[B, 90, 100]]);
    assert.deepEqual(servingFollowers(snap([oneTable([rep(A, { isLeader: true, loaded: asFollower(100) }), rep(B, { loaded: asFollower(90) })])])), [], 'no serving leader: nothing to follow');
  });
});

describe('stuckFollowers', () => {
  it('a follower that reaches the target is in step; one that gains nothing for the window is stuck, at the offset it shows', async () => {
    const t = tablets({ [B]: [95, 100], [C]: [40] });
    const stuck = await stuckFollowers(t, [behind(B, 90, 100), behind(C, 40, 100)], { timeoutMs: 200, pollMs: 10 });
    assert.deepEqual(stuck.map((b) => [b.follower, b.offset]), [[C, 40]]);
  });

  it('one that keeps gaining is not stuck, though slower than the window: watched on, then left to the verdict', async () => {
    const t = tablets({ [B]: Array.from({ length: 400 }, (_, i) => 10 + i) });
    const stuck = await stuckFollowers(t, [behind(B, 9, 100000)], { timeoutMs: 100, pollMs: 5 });
    assert.deepEqual(stuck, []);
    assert.ok((t.reads.get(B) ?? 0) > 3, 'watched past the first window');
  });

  it('a follower whose tablet cannot be read is left to the verdict; a stopped run calls none stuck', async () => {
    assert.deepEqual(await stuckFollowers(tablets({ [B]: 'down' }), [behind(B, 1, 100)], { timeoutMs: 50, pollMs: 5 }), []);
    const stop = new AbortController();
    const watching = stuckFollowers(tablets({ [B]: [1] }), [behind(B, 1, 100)], { timeoutMs: 60000, pollMs: 5, signal: stop.signal });
    stop.abort();
    assert.deepEqual(await watching, []);
  });

  it('followers already in step are not read at all', async () => {
    const t = tablets({ [B]: [100] });
    assert.deepEqual(await stuckFollowers(t, [behind(B, 100, 100)]), []);
    assert.equal(t.reads.size, 0);
  });
});
