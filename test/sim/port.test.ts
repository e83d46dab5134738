// A simulated node's port (src/sim/server.ts Port) follows the last start or stop asked,
// however quickly they follow each other: a node stopped and started within a millisecond
// serves, one started and stopped refuses connections. And it stays the node's while it is
// stopped: no other simulator picks it (src/sim/port-claims.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { claimPort, claimsDir, releasePort } from '../../src/sim/port-claims.js';
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

describe('port claims', () => {
  // In the directory every simulator shares: other test files' simulators honour these claims.
  it("a stopped node's port is not picked by another node, of this process or another; a dead process's claim is taken over", async () => {
    const a = new Port((_req, res) => res.end('a'));
    const p = await a.open();
    const file = join(claimsDir(), String(p));
    try {
      assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid), 'claimed');
      await a.close();
      // Another node whose only choice is that port: it is claimed, though nobody listens.
      const b = new Port((_req, res) => res.end('b'), { min: p, max: p + 1 });
      await assert.rejects(b.open(), /no free port/);
      assert.equal(await a.open(), p, 'the stopped node comes back where it was');
      await a.dispose();
      assert.equal(existsSync(file), false, 'disposed, the claim is gone');
      await assert.rejects(a.open(), /closed for good/);
      assert.equal(await b.open(), p, 'and the port free for another');
      await b.dispose();
      // A claim left by a process that died is taken over; one of a live process is not.
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
      writeFileSync(file, `${dead.stdout.toString()}\n`);
      assert.equal(claimPort(p), true, 'a dead holder');
      assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
      releasePort(p);
      const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
      try {
        writeFileSync(file, `${sleeper.pid}\n`, { flag: 'wx' });
        assert.equal(claimPort(p), false, 'a live holder');
      } finally {
        sleeper.kill();
        rmSync(file, { force: true });
      }
    } finally {
      await a.dispose();
    }
  });
});
