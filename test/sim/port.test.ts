// A simulated node's port (src/sim/server.ts Port) follows the last start or stop asked,
// however quickly they follow each other: a node stopped and started within a millisecond
// serves, one started and stopped refuses connections.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Port } from '../../src/sim/server.js';

async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

describe('Port', () => {
  it('ends in the state last asked for, when open and close follow each other at once', async () => {
    const port = new Port((_req, res) => res.end('ok'));
    const p = await port.open();
    try {
      assert.equal(await answers(p), true);
      // Stop and start again without waiting: it serves.
      void port.close();
      await port.open();
      assert.equal(await answers(p), true);
      // Stop, start, stop without waiting: it refuses.
      void port.close();
      void port.open();
      await port.close();
      assert.equal(port.listening, false);
      assert.equal(await answers(p), false);
      // And a burst ending in start serves on the same port.
      for (let i = 0; i < 5; i++) {
        void port.open();
        void port.close();
      }
      assert.equal(await port.open(), p);
      assert.equal(await answers(p), true);
    } finally {
      await port.close();
    }
  });
});
