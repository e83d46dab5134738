// The counter line a person watches: counts per kind of work, elapsed time, and an estimate
// of what is left from the rates seen, never a guess from too little.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Step } from '../../src/engine/procedure.js';
import { StepTally, formatDuration } from '../../src/engine/step-tally.js';

const probe = (eps: string[]): Step[] => [
  ...eps.map((endpoint): Step => ({ kind: 'load', endpoint, mode: 'kTableFollower' })),
  ...eps.map((endpoint): Step => ({ kind: 'wait-loaded', endpoint })),
];

describe('step tally', () => {
  it('formats durations as a person reads them', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(44_600), '45s');
    assert.equal(formatDuration(185_000), '3m05s');
    assert.equal(formatDuration(3_725_000), '1h02m');
  });

  it('counts loads, leaders chosen and followers rebuilt, and estimates from the load rate', () => {
    let now = 1_000_000;
    const tally = new StepTally(now - 2_000, () => now);
    // 10 partitions of 3 replicas to probe: 30 loads.
    for (let i = 0; i < 10; i++) tally.planned(`t pid ${i}`, probe(['a', 'b', 'c']));
    // A partition planned again (a later round) counts its loads once.
    tally.planned('t pid 0', probe(['a', 'b', 'c']));
    const p = { done: 0, total: 10, failed: 0, interrupted: 0 };
    assert.equal(tally.line(1, p), 'round 1: partitions 0/10 done; loads 0/30 done, 0 in flight; 2s elapsed');
    for (let i = 0; i < 8; i++) tally.ended(`t pid ${i}`, { kind: 'load', endpoint: 'a', mode: 'kTableFollower' }, false);
    // One replica was loaded already: found, not sent.
    tally.ended('t pid 0', { kind: 'load', endpoint: 'b', mode: 'kTableFollower' }, true);
    now += 1_000;
    tally.loadEnded();
    tally.loadEnded();
    assert.equal(tally.remainingMs(p), undefined, 'two loads in one second say too little');
    now += 5_000;
    let redrawn = 0;
    tally.onChange = () => redrawn++;
    for (let i = 0; i < 4; i++) tally.loadEnded();
    assert.equal(redrawn, 4, 'each load that ends redraws the counter');
    // 6 loads ended in 6 s since the first was sent: 23 left (30, less 6 ended and 1 found) take about 23 s.
    assert.equal(tally.remainingMs(p), 23_000);
    tally.ended('t pid 0', { kind: 'change-role', endpoint: 'a', mode: 'kTableLeader', term: 3, followers: ['b', 'c'] }, false);
    tally.ended('t pid 0', { kind: 'change-role', endpoint: 'b', mode: 'kTableFollower', term: 0, followers: [] }, false);
    tally.ended('t pid 0', { kind: 'recover-replica', endpoint: 'c' }, false);
    tally.ended('t pid 0', { kind: 'recover-replica', endpoint: 'b' }, true);
    assert.equal(tally.line(1, { ...p, done: 1, failed: 1 }), 'round 1: partitions 1/10 done, 1 failed; loads 7/30 done, 2 in flight; 1 leader chosen; 1 follower rebuilt; 8s elapsed, about 23s left');
  });

  it('once no load is left, estimates from the partitions finished', () => {
    let now = 0;
    const tally = new StepTally(0, () => now);
    tally.planned('t pid 0', [{ kind: 'change-leader', endpoint: 'auto' }, { kind: 'wait-ops' }]);
    now = 10_000;
    const p = { done: 4, total: 12, failed: 0, interrupted: 0 };
    // 4 partitions in 10 s: 8 more take about 20 s.
    assert.equal(tally.remainingMs(p), 20_000);
    assert.equal(tally.remainingMs({ ...p, done: 2 }), undefined, 'two partitions say too little');
    assert.equal(tally.remainingMs({ ...p, done: 12 }), 0);
    assert.match(tally.line(2, { ...p, done: 12 }), /^round 2: partitions 12\/12 done; 10s elapsed$/);
  });
});
