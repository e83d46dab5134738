// ZkSession against a scripted ZooKeeper server (no Java needed): a connection cut in the
// middle of a reply, or a reply the client cannot read, must cost a reconnect, never the
// process. node-zookeeper-client alone kept the half reply across the reconnect and threw
// from its socket handler, an exception nobody can catch.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ZkError, ZkSession } from '../../src/zk/session.js';

const PING = 11;
const CLOSE_SESSION = -11;
const NO_NODE = -101;

function framed(body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** ConnectResponse: int protocolVersion, int timeOut, long sessionId, buffer passwd. */
function connectResponse(timeoutMs: number): Buffer {
  const body = Buffer.alloc(4 + 4 + 8 + 4 + 16);
  body.writeInt32BE(0, 0);
  body.writeInt32BE(timeoutMs, 4);
  body.writeBigInt64BE(0x1234n, 8);
  body.writeInt32BE(16, 16);
  return framed(body);
}

/** ReplyHeader only: int xid, long zxid, int err. */
function reply(xid: number, err: number): Buffer {
  const body = Buffer.alloc(16);
  body.writeInt32BE(xid, 0);
  body.writeBigInt64BE(1n, 4);
  body.writeInt32BE(err, 12);
  return framed(body);
}

/**
 * A server that grants every session and answers pings; every other request gets NO_NODE,
 * except the first request on the connections listed in `spoil`, which gets what `spoil`
 * says instead. Counts connections.
 */
async function scriptedServer(spoil: Map<number, (socket: net.Socket, xid: number) => void>) {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const n = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let got = Buffer.alloc(0);
    let handshaken = false;
    let spoilt = false;
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      while (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) {
        const body = got.subarray(4, 4 + got.readInt32BE(0));
        got = got.subarray(4 + body.length);
        if (!handshaken) {
          handshaken = true;
          socket.write(connectResponse(6000));
          continue;
        }
        const xid = body.readInt32BE(0);
        const type = body.readInt32BE(4);
        if (type === PING) socket.write(reply(xid, 0));
        else if (type === CLOSE_SESSION) socket.end(reply(xid, 0));
        else if (!spoilt && spoil.has(n)) {
          spoilt = true;
          spoil.get(n)?.(socket, xid);
        } else socket.write(reply(xid, NO_NODE));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function firstRequestFailsThenSessionGoesOn(spoil: (socket: net.Socket, xid: number) => void): Promise<void> {
  const server = await scriptedServer(new Map([[1, spoil]]));
  const s = await ZkSession.connect(server.address, { sessionTimeoutMs: 6000, connectTimeoutMs: 5000, requestTimeoutMs: 10000 });
  try {
    await assert.rejects(s.get('/a'), (err: unknown) => err instanceof ZkError && err.code === 'CONNECTION_LOSS');
    // Asked again at once: queued through the reconnect, answered on the new connection.
    assert.equal(await s.get('/a'), undefined, 'NO_NODE, read in step');
    assert.equal(server.connections(), 2);
    assert.ok(!s.isClosed, 'the same session goes on');
  } finally {
    await s.close();
    server.close();
  }
}

describe('ZkSession over a connection that breaks mid-reply', { timeout: 60000 }, () => {
  it('a reply cut after its first bytes: the next connection is read from its own first byte', async () => {
    // Three bytes of a length, then the connection drops: the library kept them and read
    // the next connection's handshake behind them.
    await firstRequestFailsThenSessionGoesOn((socket) => {
      socket.write(Buffer.from([0, 0, 0]), () => socket.destroy());
    });
  });

  it('a reply with an error code ZooKeeper does not have drops the connection instead of the process, and says so', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      await firstRequestFailsThenSessionGoesOn((socket, xid) => socket.write(reply(xid, 215547904)));
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    assert.ok(warnings.some((w) => /ZooKeeper connection dropped: .*Unknown code: 215547904/.test(w)), JSON.stringify(warnings));
  });
});
