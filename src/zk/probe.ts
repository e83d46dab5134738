// Is a ZooKeeper server at this address? Answered in milliseconds where a client would
// wait its whole timeout: the client library retries any host that closes or answers
// garbage, so an HTTP server (the simulator's embedded registry) or a closed port looks
// the same to it as a slow server. We send ZooKeeper's own handshake (a ConnectRequest),
// accept a well-formed ConnectResponse as "yes", and close the session we opened at once.
import net from 'node:net';

export type ProbeResult = 'zookeeper' | 'not-zookeeper' | 'unreachable';

function connectRequest(timeoutMs: number): Buffer {
  // int protocolVersion, long lastZxidSeen, int timeOut, long sessionId, buffer passwd(16), bool readOnly
  const body = Buffer.alloc(4 + 8 + 4 + 8 + 4 + 16 + 1);
  let o = 0;
  o = body.writeInt32BE(0, o);
  o = body.writeBigInt64BE(0n, o);
  o = body.writeInt32BE(timeoutMs, o);
  o = body.writeBigInt64BE(0n, o);
  o = body.writeInt32BE(16, o);
  o += 16;
  body.writeUInt8(0, o);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** closeSession: xid 1, type -11 (OpCode.closeSession). */
const CLOSE_SESSION = Buffer.from([0, 0, 0, 8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xf5]);

function probeHost(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let got = Buffer.alloc(0);
    const socket = net.connect({ host, port });
    const finish = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (r === 'zookeeper') socket.end(CLOSE_SESSION);
      else socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish('unreachable'), timeoutMs);
    socket.on('connect', () => socket.write(connectRequest(4000)));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 4) return;
      const len = got.readInt32BE(0);
      // A ConnectResponse: int protocolVersion, int timeOut, long sessionId, buffer passwd (+ bool readOnly).
      if (len < 36 || len > 64) return finish('not-zookeeper');
      if (got.length < 4 + len) return;
      const passwdLen = got.readInt32BE(4 + 16);
      finish(got.readInt32BE(4) === 0 && passwdLen === 16 ? 'zookeeper' : 'not-zookeeper');
    });
    socket.on('error', () => finish('unreachable'));
    // Closed without an answer: a server that is not ZooKeeper, or one refusing us (too many connections).
    socket.on('close', () => finish(got.length > 0 ? 'not-zookeeper' : 'unreachable'));
  });
}

/** The first host that answers as ZooKeeper wins; else 'not-zookeeper' if any host answered at all. */
export async function probeZooKeeper(hosts: string, timeoutMs = 3000): Promise<ProbeResult> {
  let answered = false;
  for (const part of hosts.split(',')) {
    const m = /^\s*\[?([^\]\s]+?)\]?:(\d+)\s*$/.exec(part);
    if (!m) continue;
    const r = await probeHost(m[1] as string, Number(m[2]), timeoutMs);
    if (r === 'zookeeper') return r;
    if (r === 'not-zookeeper') answered = true;
  }
  return answered ? 'not-zookeeper' : 'unreachable';
}
