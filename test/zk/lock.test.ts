// The ZooKeeper lock and journal against a real ZooKeeper server: one holder at a time,
// the holder named (sanitised), the lock gone with its holder's session, the journal kept.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { LockHeld } from '../../src/safety/lock.js';
import { newJournal } from '../../src/engine/journal-content.js';
import { ZK_EVIDENCE_MARKER, ZkRunLock, defaultZkLockPath, readZkEvidence, sanitize, zkEvidencePath, zkJournalPath } from '../../src/safety/zk-lock.js';
import { probeZooKeeper } from '../../src/zk/probe.js';
import { freePort } from '../../src/zk/server.js';
import { ZkSession } from '../../src/zk/session.js';
import { sharedZooKeeper, zooKeeperTierSkip } from '../helpers/zookeeper.js';

const skip = zooKeeperTierSkip();
const zk = sharedZooKeeper(skip);

describe('ZooKeeper lock and journal', { skip, timeout: 60000 }, () => {
  const acquire = (path: string, runId: string, onLost?: (why: string) => void) =>
    ZkRunLock.acquire({ zkCluster: zk.server().address, lockPath: path, sessionTimeoutMs: 2000, command: 'openmldb-recover recover', runId, ...(onLost ? { onLost } : {}) });

  it('the handshake probe tells ZooKeeper from an HTTP server and from a closed port, quickly', async () => {
    const web = http.createServer((_q, r) => r.end('no'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    try {
      const started = Date.now();
      // A 20 s timeout each: a probe that waited for it would show, whatever the machine's load.
      assert.equal(await probeZooKeeper(zk.server().address, 20000), 'zookeeper');
      assert.equal(await probeZooKeeper(`127.0.0.1:${(web.address() as AddressInfo).port}`, 20000), 'not-zookeeper');
      assert.equal(await probeZooKeeper(`127.0.0.1:${await freePort()}`, 20000), 'unreachable');
      assert.ok(Date.now() - started < 15000, 'no probe waited for a timeout');
    } finally {
      web.close();
    }
  });

  it('one holder at a time; the second is told who holds it; release frees it', async () => {
    const path = defaultZkLockPath(zk.root('lock'));
    const first = await acquire(path, 'run-1');
    try {
      await assert.rejects(acquire(path, 'run-2'), (err: unknown) => {
        assert.ok(err instanceof LockHeld, 'exit 4 material');
        assert.match((err as Error).message, /pid \d+ on \S+, started \S+, running `openmldb-recover recover` \(run run-1\)/);
        return true;
      });
    } finally {
      await first.release();
    }
    const again = await acquire(path, 'run-3');
    await again.release();
  });

  it("a holder record with control characters is named without them", async () => {
    const root = zk.root('hostile');
    const path = defaultZkLockPath(root);
    const s = await ZkSession.connect(zk.server().address, { sessionTimeoutMs: 2000 });
    try {
      await s.mkdirp(`${root}/openmldb-recover`);
      await s.create(path, JSON.stringify({ pid: 1, host: 'evil\u001b[2J\nhost', startedAt: 'x', command: 'c\rd', runId: 'r' }), 'ephemeral');
      await assert.rejects(acquire(path, 'me'), (err: unknown) => {
        const msg = (err as Error).message;
        assert.doesNotMatch(msg, /[\u0000-\u001f]/);
        assert.match(msg, /evil\?\[2J\?host/);
        return true;
      });
      assert.equal(sanitize('a\u0007b'), 'a?b');
    } finally {
      await s.close();
    }
  });

  it("a holder whose session dies loses the lock at once; the journal beside it stays for the next holder", async () => {
    const path = defaultZkLockPath(zk.root('crash'));
    const first = await acquire(path, 'run-1');
    const journal = newJournal('recover', { zkCluster: zk.server().address, zkRootPath: '/x' }, true, 'run-1');
    await first.writeJournal(journal);
    // What kill -9 does to a session: the connection drops and is never closed politely.
    // Here we close the session, which the server treats the same way at once.
    await (first as unknown as { session: ZkSession }).session.close();
    const second = await acquire(path, 'run-2');
    try {
      assert.equal(second.journalFound?.runId, 'run-1', "the dead run's journal is read under the new lock");
      assert.equal(second.journalFound?.autoFailoverOriginal, true);
      assert.equal(second.journalPath, zkJournalPath(path));
      await second.clearJournal();
    } finally {
      await second.release();
    }
    const third = await acquire(path, 'run-3');
    assert.equal(third.journalFound, undefined, 'cleared');
    await third.release();
  });

  it('cut off from ZooKeeper, a holder holds its changes: back within the session timeout it goes on; past it, only the restore of auto_failover goes out', async () => {
    // The holder reaches the server through a proxy that can cut every connection and refuse
    // new ones: a network cut, with the server (and the session on it) still alive.
    const cut = await cuttableProxy(zk.server().port);
    const waitFor = async (what: string, cond: () => boolean) => {
      const deadline = Date.now() + 30000;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      const lost: string[] = [];
      const path = defaultZkLockPath(zk.root('cut'));
      const patient = await ZkRunLock.acquire({ zkCluster: cut.address, lockPath: path, sessionTimeoutMs: 20000, command: 'openmldb-recover recover', runId: 'patient', onLost: (w) => lost.push(w) });
      await patient.usable();
      cut.down();
      await waitFor('the holder to see the connection drop', () => patient.suspended);
      let passed = false;
      const held = patient.usable().then(() => (passed = true));
      // Its reconnect attempts are refused meanwhile: a gate that let changes through on any
      // of them would have passed by now.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(passed, false, 'no change while cut off');
      // A run stopped meanwhile (SIGINT) does not wait for ZooKeeper: its waiting change stops.
      const stop = new AbortController();
      const stopped = assert.rejects(patient.usable(false, stop.signal), /the run was stopped while ZooKeeper was out of reach/);
      stop.abort();
      await stopped;
      cut.up();
      await held;
      assert.equal(patient.suspended, false);
      assert.equal(lost.length, 0, 'the session outlived the cut: the lock is still ours');
      await patient.release();
      await assert.rejects(patient.usable(), /the lock was released/, 'nothing changes under a released lock');

      // A session shorter than the cut: the lock is lost, changes are refused, the restore is not.
      const brief = await ZkRunLock.acquire({ zkCluster: cut.address, lockPath: path, sessionTimeoutMs: 1000, command: 'openmldb-recover recover', runId: 'brief', onLost: (w) => lost.push(w) });
      cut.down();
      await waitFor('the holder to see the connection drop', () => brief.suspended);
      await assert.rejects(brief.usable(), /no more changes to the cluster: lost contact with ZooKeeper/);
      assert.equal(lost.length, 1, 'onLost told once');
      await brief.usable(true);
      await brief.release();
    } finally {
      cut.close();
    }
  });

  it('the evidence record: a node per table under the evidence node, gone when all are removed; an older whole record in its value is read, then replaced by a value older builds refuse', async () => {
    const root = zk.root('evidence');
    const path = defaultZkLockPath(root);
    const where = zkEvidencePath(path);
    const s = await ZkSession.connect(zk.server().address, { sessionTimeoutMs: 2000 });
    try {
      await s.mkdirp(where);
      await s.set(where, '{"version":1,"partitions":{"db.old:0":{"since":1,"replicas":{}}}}');
      const held = await acquire(path, 'run-e');
      try {
        assert.match(held.evidenceFound.legacy ?? '', /db\.old:0/);
        assert.deepEqual(held.evidenceFound.tables, []);
        await held.writeEvidence([{ node: 'db.a.json', text: '{"a":1}' }, { node: 'db.b.json', text: '{"b":1}' }]);
        assert.deepEqual(await readZkEvidence(s, where), { legacy: undefined, tables: [{ node: 'db.a.json', text: '{"a":1}' }, { node: 'db.b.json', text: '{"b":1}' }] });
        // The whole record's old place now holds what an older build refuses (version 1 only), not "nothing".
        assert.equal(await s.get(where), ZK_EVIDENCE_MARKER);
        assert.notEqual((JSON.parse(ZK_EVIDENCE_MARKER) as { version: number }).version, 1);
        await held.writeEvidence([{ node: 'db.a.json', text: undefined }]);
        assert.deepEqual((await readZkEvidence(s, where)).tables.map((t) => t.node), ['db.b.json']);
        await held.writeEvidence([{ node: 'db.b.json', text: undefined }]);
        assert.equal(await s.exists(where), false, 'nothing left: no evidence node');
      } finally {
        await held.release();
      }
    } finally {
      await s.close();
    }
  });
});

describe('ZooKeeper session', { skip, timeout: 60000 }, () => {
  it('a request unanswered for requestTimeoutMs gives the session up (the library would keep it queued through reconnects)', async () => {
    const cut = await cuttableProxy(zk.server().port);
    const s = await ZkSession.connect(cut.address, { sessionTimeoutMs: 20000, connectTimeoutMs: 5000, requestTimeoutMs: 1000 });
    try {
      const ended = new Promise<void>((r) => s.once('expired', () => r()));
      const disconnected = new Promise<void>((r) => s.once('disconnected', () => r()));
      cut.down();
      // Asked while the client reconnects: the library queues the request.
      await disconnected;
      const started = Date.now();
      await assert.rejects(s.get('/'), (err: unknown) => err instanceof Error && /unanswered for 1000 ms/.test(err.message));
      await ended;
      assert.ok(s.isClosed, 'the session is given up');
      assert.ok(Date.now() - started < 15000, 'long before the 20 s session timeout');
    } finally {
      cut.close();
      await s.close();
    }
  });
});

/** A TCP proxy to 127.0.0.1:port; down() cuts every connection and refuses new ones until up(). */
async function cuttableProxy(port: number) {
  const open = new Set<net.Socket>();
  let isDown = false;
  const server = net.createServer((inbound) => {
    if (isDown) return inbound.destroy();
    const outbound = net.connect(port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    down() {
      isDown = true;
      for (const s of open) s.destroy();
    },
    up() {
      isDown = false;
    },
    close() {
      isDown = true;
      for (const s of open) s.destroy();
      server.close();
    },
  };
}
