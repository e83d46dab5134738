// Shared reads: askers at the same moment share one call, and no answer predates the question.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PACE_FACTOR, SharedRead } from '../../src/cluster/watch.js';

/** A fetch whose calls the test ends by hand, numbered in the order they started. */
function manual() {
  const calls: Array<{ n: number; end: () => void }> = [];
  let idle = 0;
  const read = new SharedRead(
    () =>
      new Promise<number>((resolve) => {
        const n = calls.length + 1;
        calls.push({ n, end: () => resolve(n) });
      }),
    () => idle++,
  );
  return { read, calls, idle: () => idle };
}

const tick = () => new Promise((r) => setImmediate(r));
/** A few turns: a call that follows another starts on the turn after it ended. */
const settle = async () => {
  for (let i = 0; i < 3; i++) await tick();
};

describe('SharedRead', () => {
  it('askers of the same moment share a call: it starts on the next turn', async () => {
    const m = manual();
    const both = Promise.all([m.read.read(), m.read.read()]);
    assert.equal(m.calls.length, 0);
    await tick();
    assert.equal(m.calls.length, 1);
    m.calls[0]?.end();
    assert.deepEqual(await both, [1, 1]);
  });

  it('askers while a call runs share the next call, which starts only when that one ended', async () => {
    const m = manual();
    const first = m.read.read();
    // Asked after call 1 was sent: call 1 may predate what these askers just changed.
    await settle();
    const second = m.read.read();
    const third = m.read.read();
    await settle();
    assert.equal(m.calls.length, 1);
    m.calls[0]?.end();
    assert.equal(await first, 1);
    await settle();
    assert.equal(m.calls.length, 2, 'the next call starts once the running one ended');
    const fourth = m.read.read(); // call 2 is running: this one waits for call 3
    await settle();
    m.calls[1]?.end();
    assert.deepEqual(await Promise.all([second, third]), [2, 2]);
    await settle();
    assert.equal(m.calls.length, 3);
    m.calls[2]?.end();
    assert.equal(await fourth, 3);
    await settle();
    assert.equal(m.idle(), 1, 'idle once, after the last call');
  });

  it('a failed call fails its askers only; the next asker gets a fresh call', async () => {
    let n = 0;
    const read = new SharedRead(async () => {
      n++;
      if (n === 1) throw new Error('dropped');
      return n;
    });
    await assert.rejects(read.read(), /dropped/);
    await tick();
    assert.equal(await read.read(), 2);
  });

  it('a paced read whose answer took long is asked again only after PACE_FACTOR times that (a large answer costs a bounded share)', async () => {
    const starts: number[] = [];
    const slowMs = 60;
    const read = new SharedRead(
      async () => {
        starts.push(Date.now());
        await new Promise((r) => setTimeout(r, slowMs));
        return starts.length;
      },
      () => undefined,
      10,
    );
    await read.read();
    await read.read();
    assert.equal(starts.length, 2);
    const gap = (starts[1] ?? 0) - (starts[0] ?? 0);
    assert.ok(gap >= PACE_FACTOR * slowMs, `the second call started ${gap} ms after the first, not before ${PACE_FACTOR * slowMs}`);
  });

  it('askers while the pace holds the next call back share it: it starts after every one of them asked', async () => {
    let n = 0;
    const read = new SharedRead(
      async () => ++n,
      () => undefined,
      30,
    );
    assert.equal(await read.read(), 1);
    const held = read.read(); // the pace holds call 2 back
    await new Promise((r) => setTimeout(r, 5));
    const later = read.read();
    assert.deepEqual(await Promise.all([held, later]), [2, 2]);
    assert.equal(n, 2);
  });

  it('an asker that gives `since` takes the last answer if its call began then or later, else a new one', async () => {
    let n = 0;
    const read = new SharedRead(async () => ++n);
    const before = Date.now();
    assert.equal(await read.read(), 1);
    assert.equal(await read.read(before), 1, 'call 1 began after `before`');
    await tick();
    assert.equal(await read.read(Date.now() + 1), 2, 'nothing began after that');
  });
});
