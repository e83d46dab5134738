// Which run records stay: over a limit, runs that changed nothing and ended OK go first,
// then runs that changed nothing, then runs that changed something; the newest run that
// changed something never goes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toRemove } from '../../src/history/retention.js';

const MB = 1024 * 1024;
const DAY = 24 * 3600 * 1000;
const NOW = Date.UTC(2026, 11, 7);
/** weight 0: changed nothing, ended OK; 1: changed nothing, did not end OK; 2: changed something. */
const rec = (name: string, weight: 0 | 1 | 2, size = 1000, ageDays = 0) => ({ name, weight, size, startedMs: NOW - ageDays * DAY });

describe('run record retention', () => {
  it('under every limit nothing goes', () => {
    assert.deepEqual(toRemove([rec('a', 0), rec('b', 2)], { keep: 3, maxBytes: MB, maxAgeMs: 0 }, 0, NOW), []);
  });

  it('over the count: no-op runs go first, oldest first, then failed no-ops, then changes', () => {
    const records = [rec('a-change', 2), rec('b-noop', 0), rec('c-failed', 1), rec('d-noop', 0), rec('e-change', 2)];
    assert.deepEqual(toRemove(records, { keep: 4, maxBytes: 0, maxAgeMs: 0 }, 0, NOW), ['b-noop', 'd-noop']);
    assert.deepEqual(toRemove(records, { keep: 3, maxBytes: 0, maxAgeMs: 0 }, 0, NOW), ['b-noop', 'd-noop', 'c-failed']);
    assert.deepEqual(toRemove(records, { keep: 2, maxBytes: 0, maxAgeMs: 0 }, 0, NOW), ['b-noop', 'd-noop', 'c-failed', 'a-change']);
  });

  it('the newest run that changed something stays whatever the limits say', () => {
    const records = [rec('a-noop', 0), rec('b-change', 2, 400 * MB, 30), rec('c-noop', 0), rec('d-noop', 0)];
    // keep 1 leaves room for the new record only: every other goes, but the incident stays.
    assert.deepEqual(toRemove(records, { keep: 1, maxBytes: 100 * MB, maxAgeMs: 7 * DAY }, 0, NOW).sort(), ['a-noop', 'c-noop', 'd-noop']);
  });

  it('over the size: the smallest set of removals in that order that fits', () => {
    const records = [rec('a-change', 2, 300 * MB), rec('b-noop', 0, 1 * MB), rec('c-change', 2, 300 * MB), rec('d-change', 2, 10 * MB)];
    assert.deepEqual(toRemove(records, { keep: 100, maxBytes: 400 * MB, maxAgeMs: 0 }, 0, NOW), ['b-noop', 'a-change']);
  });

  it('past the age limit a record goes even under the count', () => {
    const records = [rec('a-change', 2, 1000, 40), rec('b-noop', 0, 1000, 31), rec('c-noop', 0, 1000, 1), rec('d-change', 2, 1000, 2)];
    assert.deepEqual(toRemove(records, { keep: 100, maxBytes: 0, maxAgeMs: 30 * DAY }, 0, NOW), ['a-change', 'b-noop']);
  });
});
