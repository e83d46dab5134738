// The simulator's network face: one HTTP server per nameserver and tablet (brpc's
// HTTP+JSON protocol, reference section 7), the registry (ZooKeeper stand-in) and the
// control API. A stopped node closes its port, so clients see connection refused.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SimCluster } from './cluster.js';
import { MUTATING_METHODS } from './ledger.js';
import type { Json } from './rpc.js';
import { Unreachable } from './rpc.js';
import { claimPort, releasePort } from './port-claims.js';
import { Rng } from './rng.js';
import { Traffic } from './traffic.js';
import { setTimeout as sleep } from 'node:timers/promises';

type Handler = (body: Json) => Json | { code: number; msg: string } | Promise<Json | { code: number; msg: string }>;

/** A brpc HTTP request as a node sees it. */
export interface RpcRequest {
  method: string;
  url: string;
  authorization: string | string[] | undefined;
  /** The CLIENT_HEADER: who sent it. */
  client: string | string[] | undefined;
  body: () => Promise<string>;
}

/** A node's answer: a JSON or text reply, or the connection cut. */
export type RpcReply = { status: number; json?: Json; text?: string; headers?: Record<string, string> } | { drop: true };

export const FAULT_HEADER = 'x-openmldb-sim-fault';
/** Set by the stand-in binary, so the mutation log tells its calls from direct HTTP ones. */
export const CLIENT_HEADER = 'x-openmldb-sim-client';

/** Where simulated nodes listen: below Linux's default ephemeral range (32768-60999). */
const FIXED_PORTS = { min: 20000, max: 32000 };

/**
 * An HTTP server that can be closed and reopened on the same port. Opening and closing are
 * asynchronous and a node can be stopped and started again within a millisecond (a chaos
 * crash, a full restart), so each one waits for the one before it: the port always ends in
 * the state of the last request, never in that of a slower earlier one.
 */
export class Port {
  private server: http.Server;
  private sockets = new Set<Socket>();
  private last: Promise<unknown> = Promise.resolve();
  port = 0;
  listening = false;
  private disposed = false;

  /** @param range where a first start picks its port (FIXED_PORTS; tests narrow it) */
  constructor(
    handler: http.RequestListener,
    private readonly range = FIXED_PORTS,
  ) {
    this.server = http.createServer(handler);
    // brpc keeps an idle connection open (idle_timeout_second -1, never closed); the sim
    // closes one after 5 s, harsher, and a client that reuses connections must expect it.
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  open(port = this.port): Promise<number> {
    return this.after(() => this.listen(port));
  }

  close(): Promise<void> {
    return this.after(() => this.shut());
  }

  /** Close for good: the port's claim goes too (port-claims.ts); it opens no more. */
  dispose(): Promise<void> {
    return this.after(async () => {
      this.disposed = true;
      await this.shut();
      if (this.port !== 0) releasePort(this.port);
    });
  }

  private after<T>(action: () => Promise<T>): Promise<T> {
    const next = this.last.then(action, action);
    this.last = next.catch(() => undefined);
    return next;
  }

  private async listen(port: number): Promise<number> {
    if (this.disposed) throw new Error(`port ${this.port} is closed for good`);
    if (this.listening) return this.port;
    if (port === 0) {
      // A first start picks a port below the kernel's ephemeral range: a port the OS hands
      // out (to a listen(0) or an outgoing connection of any process) could be taken while
      // this node is stopped, and a restarted node must come back where it was (a real
      // tablet or nameserver listens on the fixed --endpoint of its conf/*.flags). The port
      // is claimed first, so no other simulator picks it while this node is stopped.
      for (let attempt = 0; attempt < 200; attempt++) {
        const candidate = this.range.min + Math.floor(Math.random() * (this.range.max - this.range.min));
        if (!claimPort(candidate)) continue;
        if (await this.tryListen(candidate).then(() => true, () => false)) return this.bound();
        releasePort(candidate);
      }
      throw new Error(`no free port between ${this.range.min} and ${this.range.max - 1}`);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await this.tryListen(port);
        break;
      } catch (err) {
        // A port we held a moment ago can linger; retry briefly before giving up.
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return this.bound();
  }

  private tryListen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  private bound(): number {
    this.port = (this.server.address() as AddressInfo).port;
    this.listening = true;
    return this.port;
  }

  private async shut(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendText(res: http.ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** brpc accepts the short service name or the full one. */
const NS_SERVICES = ['NameServer', 'openmldb.nameserver.NameServer'];
const TABLET_SERVICES = ['TabletServer', 'openmldb.api.TabletServer'];

export class SimServers {
  readonly nsPorts = new Map<string, Port>();
  readonly tabletPorts = new Map<string, Port>();
  registry: Port;

  constructor(private readonly cluster: SimCluster) {
    this.registry = new Port((req, res) => void this.handleRegistry(req, res));
    cluster.on('node', (e: { kind: string; endpoint: string; running: boolean }) => {
      const port = e.kind === 'tablet' ? this.tabletPorts.get(e.endpoint) : this.nsPorts.get(e.endpoint);
      if (!port) return;
      // A port that cannot be reopened leaves the node refusing; say why in the daemon's log.
      (e.running ? port.open() : port.close()).catch((err: unknown) => console.error(`openmldb-sim: port ${port.port} of ${e.endpoint}: ${err instanceof Error ? err.message : String(err)}`));
    });
  }

  /** Bind every node's port (a free one below the ephemeral range the first time) and create the nodes. */
  async bind(nameservers: number, tablets: number, ports?: { nameservers: number[]; tablets: number[] }): Promise<void> {
    for (let i = 0; i < tablets; i++) {
      let endpoint = '';
      const port = new Port((req, res) => void this.handleRpc('tablet', endpoint, req, res));
      const p = await port.open(ports?.tablets[i] ?? 0);
      endpoint = this.cluster.addTablet(p, i).endpoint;
      this.tabletPorts.set(endpoint, port);
    }
    for (let i = 0; i < nameservers; i++) {
      let endpoint = '';
      const port = new Port((req, res) => void this.handleRpc('ns', endpoint, req, res));
      const p = await port.open(ports?.nameservers[i] ?? 0);
      endpoint = this.cluster.addNameserver(p, i).endpoint;
      this.nsPorts.set(endpoint, port);
    }
    await this.registry.open();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.nsPorts.values(), ...this.tabletPorts.values(), this.registry].map((p) => p.dispose()));
  }

  private nsHandlers(): Record<string, Handler> {
    const ns = this.cluster.ns;
    return {
      ShowTable: (b) => ns.showTable(b),
      ShowTablet: () => ns.showTablet(),
      ShowDatabase: () => ns.showDatabase(),
      UseDatabase: (b) => ns.useDatabase(b),
      ConfGet: () => ns.confGet(),
      ConfSet: (b) => ns.confSet(b),
      UpdateTableAliveStatus: (b) => ns.updateTableAliveStatus(b),
      RecoverTable: (b) => ns.recoverTable(b),
      ChangeLeader: (b) => ns.changeLeader(b),
      OfflineEndpoint: (b) => ns.offlineEndpoint(b),
      RecoverEndpoint: (b) => ns.recoverEndpoint(b),
      ShowOPStatus: (b) => ns.showOpStatus(b),
      CancelOP: (b) => ns.cancelOp(b),
      DeleteOP: (b) => ns.deleteOp(b),
    };
  }

  private tabletHandlers(endpoint: string): Record<string, Handler> {
    const ts = this.cluster.tabletService;
    return {
      LoadTable: (b) => ts.loadTable(endpoint, b),
      GetTableStatus: (b) => ts.getTableStatus(endpoint, b),
      GetTermPair: (b) => ts.getTermPair(endpoint, b),
      GetTableFollower: (b) => ts.getTableFollower(endpoint, b),
      ChangeRole: (b) => ts.changeRoleRpc(endpoint, b),
      MakeSnapshot: (b) => ts.makeSnapshot(endpoint, b),
      // tablet_impl.cc AddReplica: the leader's replicator takes a follower, as it is.
      AddReplica: (b) => ts.addReplica(endpoint, Number(b['tid'] ?? 0), Number(b['pid'] ?? 0), String(b['endpoint'] ?? '')),
      Put: (b) => {
        const { status, written } = ts.put(endpoint, b);
        // The ledger learns which entry the write became; the client acknowledges it only if
        // the reply reaches it (traffic.ts). Its request id travels as the row's key.
        if (written) this.cluster.writes.applied(String(b['pk'] ?? ''), { tid: Number(b['tid'] ?? 0), pid: Number(b['pid'] ?? 0), ...written });
        return status;
      },
    };
  }

  private async handleRpc(kind: 'ns' | 'tablet', endpoint: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const reply = await this.serveRpc(kind, endpoint, {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      authorization: req.headers['authorization'],
      client: req.headers[CLIENT_HEADER],
      body: () => readBody(req),
    });
    if ('drop' in reply) req.socket.destroy();
    else if (reply.json !== undefined) sendJson(res, reply.status, reply.json);
    else sendText(res, reply.status, reply.text ?? '', reply.headers);
  }

  /**
   * One brpc HTTP call to a running node, without the socket: what the node answers, or
   * `drop` (the connection is cut). The servers above use it; so does the engine tier of
   * the tests (test/helpers/in-process.ts), which calls nodes without ports.
   */
  async serveRpc(kind: 'ns' | 'tablet', endpoint: string, req: RpcRequest): Promise<RpcReply> {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'GET' && url.pathname === '/version') return { status: 200, text: this.cluster.options.version };
    const [, service, method] = url.pathname.split('/');
    const services = kind === 'ns' ? NS_SERVICES : TABLET_SERVICES;
    const handlers = kind === 'ns' ? this.nsHandlers() : this.tabletHandlers(endpoint);
    const handler = method !== undefined ? handlers[method] : undefined;
    if (!service || !services.includes(service) || !handler || method === undefined) return { status: 404, text: `[E1002]Fail to find method on \`${url.pathname}'` };
    const auth = req.authorization;
    if (typeof auth !== 'string' || auth === '') return { status: 403, text: '[E1004]Fail to authenticate' };
    let body: Json;
    try {
      const raw = await req.body();
      body = raw.trim() === '' ? {} : (JSON.parse(raw) as Json);
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return { status: 400, text: '[E1003]Fail to parse json body' };
    }
    const mutating = MUTATING_METHODS.has(method);
    const fault = this.cluster.matchFault(endpoint, method);
    const log = (code?: number, msg?: string) => {
      if (mutating) this.cluster.recordMutation({ server: endpoint, method, body, via: req.client === 'openmldb' ? 'binary' : 'http', ...(code !== undefined ? { code } : {}), ...(msg !== undefined ? { msg } : {}), ...(fault ? { fault: fault.kind } : {}) });
    };
    const timeout: RpcReply = { status: 504, text: `[E1008]Reached timeout`, headers: { [FAULT_HEADER]: 'timeout' } };
    if (fault?.kind === 'refused') {
      log();
      return { drop: true };
    }
    if (fault?.kind === 'timeout') {
      log();
      await sleep(fault.delayMs);
      return timeout;
    }
    // A busy server: the call waits, then is served as it finds the state by then.
    if (fault?.kind === 'slow') await sleep(fault.delayMs);
    if (fault?.kind === 'error') {
      const code = fault.code ?? 307;
      const msg = fault.msg ?? 'invalid parameter';
      log(code, msg);
      return { status: 200, json: { code, msg } };
    }
    if ((fault?.kind === 'not-leader' && kind === 'ns') || (kind === 'ns' && !this.cluster.isLeader(endpoint))) {
      log(300, 'nameserver is not leader');
      return { status: 200, json: { code: 300, msg: 'nameserver is not leader' } };
    }
    let reply: Json;
    try {
      reply = (await handler(body)) as Json;
    } catch (err) {
      if (err instanceof Unreachable) return { drop: true };
      return { status: 500, text: `[E2001]${err instanceof Error ? err.message : String(err)}` };
    }
    log(typeof reply['code'] === 'number' ? reply['code'] : undefined, typeof reply['msg'] === 'string' ? reply['msg'] : undefined);
    if (fault?.kind === 'timeout-after-apply') {
      await sleep(fault.delayMs);
      return timeout;
    }
    return { status: 200, json: reply };
  }

  /**
   * Clients writing to this cluster as the SDK does (traffic.ts): each Put through the
   * tablet's RPC handler, as if over its port. Attached to the cluster as `traffic`.
   */
  attachTraffic(): Traffic {
    const traffic = new Traffic({
      tableNodes: () => this.cluster.zkTables.values(),
      put: async (endpoint, body) => {
        const reply = await this.serveRpc('tablet', endpoint, { method: 'POST', url: '/TabletServer/Put', authorization: 'sdk', client: undefined, body: async () => JSON.stringify(body) });
        const code = 'json' in reply ? reply.json?.['code'] : undefined;
        return typeof code === 'number' ? code : undefined;
      },
      writes: this.cluster.writes,
      rng: new Rng(this.cluster.options.seed ^ 0x7aff1c),
    });
    this.cluster.traffic?.stop();
    this.cluster.traffic = traffic;
    return traffic;
  }

  private async handleRegistry(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.searchParams.get('path') ?? '';
    if (url.pathname === '/zk/children') {
      const children = this.cluster.zkChildren(path);
      if (children === undefined) sendJson(res, 404, { error: 'no node' });
      else sendJson(res, 200, { children });
      return;
    }
    if (url.pathname === '/zk/get') {
      const value = this.cluster.zkGet(path);
      if (value === undefined) sendJson(res, 404, { error: 'no node' });
      else sendJson(res, 200, { value });
      return;
    }
    sendJson(res, 404, { error: 'unknown request' });
  }
}

export { readBody, sendJson, sendText };
