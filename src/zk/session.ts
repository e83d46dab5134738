// One ZooKeeper session, with promises instead of callbacks: what the simulator, the
// stand-in binary and the tool's cluster lock share. Built on node-zookeeper-client (pure
// JavaScript: no native build, nothing fetched at install time). The library never says
// "unreachable" by itself (it retries the host list forever), so `connect` bounds the
// wait, as OpenMLDB's ZkClient::Init waits at most the session timeout.
import { EventEmitter } from 'node:events';
import zookeeper from 'node-zookeeper-client';
import { errorMessage } from '../exit-codes.js';

/** How a node lives: persistent, or gone with the session that created it. */
export type NodeMode = 'persistent' | 'ephemeral' | 'ephemeral-sequential';

const MODES: Record<NodeMode, number> = {
  persistent: zookeeper.CreateMode.PERSISTENT,
  ephemeral: zookeeper.CreateMode.EPHEMERAL,
  'ephemeral-sequential': zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
};

/** ZooKeeper's error codes that callers act on. */
export type ZkErrorCode = 'NO_NODE' | 'NODE_EXISTS' | 'NOT_EMPTY' | 'BAD_VERSION' | 'NO_AUTH' | 'CONNECTION_LOSS' | 'SESSION_EXPIRED' | 'OTHER';

const CODES: Record<number, ZkErrorCode> = { [-101]: 'NO_NODE', [-110]: 'NODE_EXISTS', [-111]: 'NOT_EMPTY', [-103]: 'BAD_VERSION', [-102]: 'NO_AUTH', [-4]: 'CONNECTION_LOSS', [-112]: 'SESSION_EXPIRED' };

export class ZkError extends Error {
  override readonly name = 'ZkError';
  constructor(
    readonly code: ZkErrorCode,
    readonly op: string,
    readonly path: string,
    detail: string,
  ) {
    super(`ZooKeeper ${op} ${path} failed: ${detail}`);
  }
}

/** No ZooKeeper server answered within the bound. */
export class ZkUnreachable extends Error {
  override readonly name = 'ZkUnreachable';
  constructor(
    readonly hosts: string,
    readonly waitedMs: number,
  ) {
    super(`no ZooKeeper server at ${hosts} answered within ${Math.round(waitedMs)} ms`);
  }
}

function toZkError(err: unknown, op: string, path: string): ZkError {
  const e = err as { getCode?: () => number; message?: string };
  const numeric = typeof e.getCode === 'function' ? e.getCode() : undefined;
  const code = numeric !== undefined ? (CODES[numeric] ?? 'OTHER') : 'OTHER';
  return new ZkError(code, op, path, e.message ?? String(err));
}

export interface SessionOptions {
  /** Requested session timeout; the server bounds it (2..20 ticks by default). */
  sessionTimeoutMs: number;
  /** How long `connect` waits for a server; default: the session timeout. */
  connectTimeoutMs?: number;
  /**
   * A request unanswered this long gives the whole session up, as an expiry does (the
   * library keeps a request queued through reconnects with no end). Default: no limit.
   */
  requestTimeoutMs?: number;
}

/**
 * Events: `disconnected` (the connection dropped; the session may still live),
 * `connected` (again), `expired` (the session is gone, with its ephemeral nodes; this
 * object is dead: open a new one).
 */
export class ZkSession extends EventEmitter {
  private closed = false;
  /** Requests awaiting an answer: failed at once when the session ends (the library would leave them hanging). */
  private readonly pending = new Set<(err: ZkError) => void>();

  private constructor(
    private readonly client: zookeeper.Client,
    readonly hosts: string,
    private readonly requestTimeoutMs?: number,
  ) {
    super();
    client.on('disconnected', () => this.emit('disconnected'));
    client.on('connected', () => this.emit('connected'));
    client.on('expired', () => {
      this.closed = true;
      client.close();
      this.failPending('the session expired');
      this.emit('expired');
    });
  }

  private failPending(why: string): void {
    for (const fail of [...this.pending]) fail(new ZkError('SESSION_EXPIRED', 'request', this.hosts, why));
    this.pending.clear();
  }

  /** Open a session; rejects with ZkUnreachable when no server answers in time. */
  static connect(hosts: string, options: SessionOptions): Promise<ZkSession> {
    const waitMs = options.connectTimeoutMs ?? options.sessionTimeoutMs;
    // spinDelay: pause between two hosts of the list; retries: of one request after a loss.
    const client = zookeeper.createClient(hosts, { sessionTimeout: options.sessionTimeoutMs, spinDelay: 100, retries: 0 });
    keepInStep(client);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // Rejected first: nothing the client does on close may leave the caller waiting.
        reject(new ZkUnreachable(hosts, waitMs));
        client.removeAllListeners();
        client.close();
      }, waitMs);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve(new ZkSession(client, hosts, options.requestTimeoutMs));
      });
      client.connect();
    });
  }

  get sessionId(): string {
    return this.client.getSessionId().toString('hex');
  }

  /** The timeout the server granted. */
  get timeoutMs(): number {
    return this.client.getSessionTimeout();
  }

  get connected(): boolean {
    return !this.closed && this.client.getState() === zookeeper.State.SYNC_CONNECTED;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private call<T>(op: string, path: string, start: (done: (err: unknown, value?: T) => void) => void): Promise<T> {
    if (this.closed) return Promise.reject(new ZkError('SESSION_EXPIRED', op, path, 'the session is closed'));
    return new Promise((resolve, reject) => {
      const fail = (err: ZkError) => reject(new ZkError(err.code, op, path, err.message));
      this.pending.add(fail);
      const stuck =
        this.requestTimeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              if (!this.pending.has(fail) || this.closed) return;
              // Given up like an expired session: every request fails, the owner opens another.
              this.closed = true;
              this.client.close();
              // A silent server never closes the connection the library asked it to close.
              setTimeout(() => connectionOf(this.client)?.socket?.destroy(), 1000).unref();
              this.failPending(`a request went unanswered for ${this.requestTimeoutMs} ms`);
              this.emit('expired');
            }, this.requestTimeoutMs);
      start((err, value) => {
        if (stuck) clearTimeout(stuck);
        if (!this.pending.delete(fail)) return; // already failed by the session's end
        if (err) reject(toZkError(err, op, path));
        else resolve(value as T);
      });
    });
  }

  /** Children's names, unsorted (as ZooKeeper returns them). */
  children(path: string, watch?: () => void): Promise<string[]> {
    return this.call('getChildren', path, (done) => {
      if (watch) this.client.getChildren(path, () => watch(), (e, c) => done(e, c));
      else this.client.getChildren(path, (e, c) => done(e, c));
    });
  }

  /** A node's value as UTF-8, or undefined when there is no such node. */
  async get(path: string, watch?: () => void): Promise<string | undefined> {
    try {
      const data = await this.call<Buffer | undefined>('getData', path, (done) => {
        if (watch) this.client.getData(path, () => watch(), (e, d) => done(e, d));
        else this.client.getData(path, (e, d) => done(e, d));
      });
      return data ? data.toString('utf8') : '';
    } catch (err) {
      if (err instanceof ZkError && err.code === 'NO_NODE') return undefined;
      throw err;
    }
  }

  async exists(path: string): Promise<boolean> {
    const stat = await this.call<zookeeper.Stat | null>('exists', path, (done) => this.client.exists(path, (e, s) => done(e, s)));
    return stat !== null && stat !== undefined;
  }

  /** Create a node; resolves to its path (with the sequence number, for sequential ones). */
  create(path: string, value: string, mode: NodeMode = 'persistent'): Promise<string> {
    return this.call('create', path, (done) => this.client.create(path, Buffer.from(value, 'utf8'), MODES[mode], (e, p) => done(e, p)));
  }

  /** Set a node's value; `version` makes it a compare-and-set. */
  async set(path: string, value: string, version = -1): Promise<void> {
    await this.call('setData', path, (done) => this.client.setData(path, Buffer.from(value, 'utf8'), version, (e) => done(e)));
  }

  /** Set a node's value, creating it (and its parents) when missing. */
  async put(path: string, value: string): Promise<void> {
    try {
      await this.set(path, value);
    } catch (err) {
      if (!(err instanceof ZkError) || err.code !== 'NO_NODE') throw err;
      await this.mkdirp(parentOf(path));
      try {
        await this.create(path, value);
      } catch (e) {
        if (!(e instanceof ZkError) || e.code !== 'NODE_EXISTS') throw e;
        await this.set(path, value);
      }
    }
  }

  /** Remove a node; true if it was there. */
  async remove(path: string, version = -1): Promise<boolean> {
    try {
      await this.call('delete', path, (done) => this.client.remove(path, version, (e) => done(e)));
      return true;
    } catch (err) {
      if (err instanceof ZkError && err.code === 'NO_NODE') return false;
      throw err;
    }
  }

  /** Create a persistent path and any missing parents (empty values). */
  async mkdirp(path: string): Promise<void> {
    if (path === '/' || path === '') return;
    await this.call('mkdirp', path, (done) => this.client.mkdirp(path, (e) => done(e)));
  }

  /** Close the session: its ephemeral nodes go at once. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.failPending('the session was closed');
    return new Promise((resolve) => {
      // The library asks the server to close the session and waits for it to close the
      // connection: a server gone silent never does, and the open socket would keep the
      // process alive for ever after its work is done. So, after a second, it is cut.
      const timer = setTimeout(() => {
        connectionOf(this.client)?.socket?.destroy();
        resolve();
      }, 1000);
      this.client.once('disconnected', () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.close();
    });
  }
}

function connectionOf(client: zookeeper.Client): ConnectionInternals | undefined {
  return (client as unknown as { connectionManager?: ConnectionInternals }).connectionManager;
}

/** What `keepInStep` touches inside node-zookeeper-client 1.1.3 (not in its typings). */
interface ConnectionInternals {
  pendingBuffer: Buffer | null;
  /** Requests sent and awaiting their reply, oldest first. */
  pendingQueue: unknown[];
  socket?: { destroy(): void };
  connect(): void;
  onSocketData(buffer: Buffer): void;
}

/**
 * node-zookeeper-client keeps a half-read reply across a reconnect, so the new
 * connection's first bytes are read as its tail. Out of step, it once read an error code
 * out of the middle of a packet and threw "Unknown code: 215547904" from its socket
 * handler, which no caller can catch: the process died (a simulator, during a ZooKeeper
 * outage). Each connection here starts with nothing pending, and bytes that cannot be
 * read drop the connection (the library's own answer to a reply out of order): its
 * requests fail with a connection loss, the one being read included, and the session
 * reconnects.
 */
function keepInStep(client: zookeeper.Client): void {
  const manager = connectionOf(client);
  if (!manager || typeof manager.connect !== 'function' || typeof manager.onSocketData !== 'function' || !Array.isArray(manager.pendingQueue)) return;
  const connect = manager.connect;
  const onSocketData = manager.onSocketData;
  // Own properties: the library binds its socket handlers to these when it connects.
  manager.connect = function (this: ConnectionInternals) {
    this.pendingBuffer = null;
    connect.call(this);
  };
  manager.onSocketData = function (this: ConnectionInternals, buffer: Buffer) {
    const awaited = this.pendingQueue[0];
    try {
      onSocketData.call(this, buffer);
    } catch (err) {
      // The request whose reply could not be read was taken off the queue unanswered: put
      // back, it fails with the connection loss like every other request in flight.
      if (awaited !== undefined && this.pendingQueue[0] !== awaited) this.pendingQueue.unshift(awaited);
      this.pendingBuffer = null;
      this.socket?.destroy();
      // Said, not swallowed: a listener the library called from here may have thrown too.
      process.emitWarning(`ZooKeeper connection dropped: a reply could not be handled (${errorMessage(err)}); reconnecting`, 'ZooKeeperWarning');
    }
  };
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** `a/b` joined under a root path, without doubled slashes. */
export function zkJoin(root: string, ...parts: string[]): string {
  return [root.replace(/\/+$/, ''), ...parts].join('/');
}
