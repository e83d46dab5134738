// The simulator's logs: entries known by writer and offset. OpenMLDB's replication keeps a
// follower's entries at or below its offset (AppendEntries skips them), so two logs can end
// alike and differ before: they are compared entry by entry, never by their last entries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Log, append, appendFrom, commonPrefix, overtaken } from '../../src/sim/log.js';

function log(...runs: Array<[to: number, term: number, epoch: number]>): Log {
  const l: Log = { segments: [], end: 0 };
  for (const [to, term, epoch] of runs) append(l, to, term, epoch);
  return l;
}

describe('sim logs', () => {
  it('a follower that was ahead of a lagging new leader keeps its own entries below its offset: they differ there though both end alike', () => {
    const oldLeader = log([120, 1, 1]);
    const newLeader = log([110, 1, 1], [200, 3, 2]); // lagged at 110, then led term 3 from 111
    const follower = log([120, 1, 1]); // had received up to 120 from the old leader
    appendFrom(follower, newLeader, follower.end); // AppendEntries: only what lies beyond 120
    assert.equal(follower.end, 200);
    assert.equal(commonPrefix(follower, newLeader), 110, '111-120 are the old leader\'s on the follower');
    assert.equal(commonPrefix(follower, oldLeader), 120);
    assert.equal(commonPrefix(newLeader, newLeader), 200);
    assert.equal(commonPrefix(log([50, 1, 1]), log([80, 1, 1])), 50, 'a prefix');
    assert.equal(commonPrefix(log([50, 1, 1]), log([50, 1, 2])), 0);
  });

  it('overtaken: the entries of a log past where a newer term began than theirs', () => {
    const l = log([100, 1, 1], [120, 1, 1]);
    assert.deepEqual(overtaken(l, [{ term: 1, offset: 0 }, { term: 3, offset: 111 }]), [{ epoch: 1, term: 1, from: 111, to: 120 }]);
    assert.deepEqual(overtaken(l, [{ term: 1, offset: 0 }]), []);
  });
});
