// Service order: system tables, then the tables --priority names, then the rest; the
// report's per-class times.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inServiceOrder, serviceClass, serviceTimes } from '../../src/engine/priority.js';

describe('service priority', () => {
  it('classes: system tables always first, then the named ones', () => {
    const p = [
      { db: 'demo_db', table: 't1' },
      { db: 'feature_db', table: '*' },
    ];
    assert.equal(serviceClass(p, '__INTERNAL_DB', 'JOB_INFO'), 'system');
    assert.equal(serviceClass(p, 'INFORMATION_SCHEMA', 'GLOBAL_VARIABLES'), 'system');
    assert.equal(serviceClass(p, 'demo_db', 't1'), 'priority');
    assert.equal(serviceClass(p, 'feature_db', 'anything'), 'priority');
    assert.equal(serviceClass(p, 'demo_db', 't2'), 'other');
  });

  it('orders by class, keeping the order within one', () => {
    const items = [
      { db: 'demo_db', table: 't0' },
      { db: 'demo_db', table: 't1' },
      { db: '__INTERNAL_DB', table: 'USER' },
      { db: 'demo_db', table: 't2' },
      { db: 'demo_db', table: 't1' },
    ];
    const ordered = inServiceOrder(items, [{ db: 'demo_db', table: 't1' }], (x) => x);
    assert.deepEqual(ordered.map((x) => `${x.db}.${x.table}`), ['__INTERNAL_DB.USER', 'demo_db.t1', 'demo_db.t1', 'demo_db.t0', 'demo_db.t2']);
  });

  it('per class: first, median and last served', () => {
    const times = serviceTimes([
      { class: 'other', ms: 500 },
      { class: 'priority', ms: 100 },
      { class: 'other', ms: 300 },
      { class: 'priority', ms: 200 },
      { class: 'other', ms: 900 },
    ]);
    assert.deepEqual(times, [
      { class: 'priority', partitions: 2, firstMs: 100, medianMs: 100, lastMs: 200 },
      { class: 'other', partitions: 3, firstMs: 300, medianMs: 500, lastMs: 900 },
    ]);
  });
});
