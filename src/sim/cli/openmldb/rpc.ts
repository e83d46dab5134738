// The brpc client side of the stand-in binary, over the simulator's HTTP+JSON transport
// (reference section 7): POST /<Service>/<Method>, JSON body, `Authorization: s<token>`.
//
// What the real client does (OpenMLDB src/rpc/rpc_client.h RpcClient, brpc 1.6.0):
// - a Channel per endpoint; `Init` fails for an unparsable address (`str2endpoint` /
//   `hostname2endpoint`);
// - every call has `timeout_ms = --request_timeout_ms` (whole call, retries included)
//   and `max_retry = 1`; brpc retries connection errors (ECONNREFUSED ...), not timeouts;
// - error texts are brpc's `Controller::ErrorText()`:
//     `[E111]Fail to connect Socket{id=0 addr=127.0.0.1:7527} (0x0x...): Connection refused`
//   then, for the retry on the now-failed socket,
//     ` [R1][E112]Not connected to 127.0.0.1:7527 yet, server_id=0`
//   and for a timeout `[E1008]Reached timeout=20000ms @127.0.0.1:7527`
//   (brpc src/brpc/socket.cpp, controller.cpp SetFailed / HandleTimeout / IssueRPC);
// - a failed socket stays failed (health-checked every 3 s), so later calls in the same
//   process fail with E112 at once until it reconnects;
// - the credential is `s` + the service token `default` (src/auth/brpc_authenticator.cc).
import http from 'node:http';
import { isIPv4 } from 'node:net';
import { lookup } from 'node:dns/promises';
import { host as binaryHost } from './host.js';
import { type Json, glog } from './util.js';

export const AUTH_HEADER = 'sdefault';
const HEALTH_CHECK_INTERVAL_MS = 3000;

export type RpcResult = { ok: true; body: Json } | { ok: false; text: string };

/** Header the simulator sets on a 504 that stands for an RPC timeout. */
const FAULT_HEADER = 'x-openmldb-sim-fault';
const CLIENT_HEADER = 'x-openmldb-sim-client';

interface Attempt {
  kind: 'ok' | 'refused' | 'timeout' | 'other';
  body?: Json;
  text?: string;
}

/** Fake `this` pointer for Socket::description(), stable within a process. */
function fakePointer(id: number): string {
  const base = 0x55d0c0a3e000 + (binaryHost().pid % 4096) * 0x10000 + id * 0x6c0;
  return '0x' + base.toString(16);
}

export class BrpcChannel {
  private host = '';
  private port = 0;
  /** `endpoint2str(remote_side)`. */
  private remote = '';
  private socketId = -1;
  private failedAt: number | undefined;

  /** @param address the endpoint string given to `Channel::Init` */
  constructor(
    readonly address: string,
    private readonly timeoutMs: number,
    private readonly serviceLogName = 'rpc_client.h:150',
  ) {}

  /** `RpcClient::Init`: 0 on success, -1 when the address is not `host:port`. */
  async init(): Promise<number> {
    const m = /^(.+):(\d+)$/.exec(this.address);
    if (!m) return -1;
    const port = Number(m[2]);
    if (port > 65535) return -1;
    let host = m[1] as string;
    if (!isIPv4(host)) {
      if (host.startsWith('[') || host.includes(':')) return -1;
      try {
        const r = await lookup(host, { family: 4 });
        host = r.address;
      } catch {
        return -1;
      }
    }
    this.host = host;
    this.port = port;
    this.remote = `${host}:${port}`;
    this.socketId = binaryHost().state.nextSocketId++;
    return 0;
  }

  get initialized(): boolean {
    return this.socketId >= 0;
  }

  /** One RPC: `SendRequest`/`SendRequestSt` with max_retry 1. */
  async call(service: 'NameServer' | 'TabletServer', method: string, request: Json): Promise<RpcResult> {
    if (!this.initialized) return { ok: false, text: 'stub is null' };
    const deadline = Date.now() + Math.max(0, this.timeoutMs);
    let errorText = '';
    const append = (nretry: number, code: number, msg: string) => {
      if (errorText !== '') errorText += ' ';
      if (nretry !== 0) errorText += `[R${nretry}]`;
      errorText += `[E${code}]${msg}`;
    };
    for (let nretry = 0; ; nretry++) {
      const a = await this.attempt(service, method, request, deadline);
      if (a.kind === 'ok') return { ok: true, body: a.body ?? {} };
      let code: number;
      let retriable = false;
      if (a.kind === 'timeout') {
        code = 1008;
        append(nretry, code, `Reached timeout=${this.timeoutMs}ms @${this.remote}`);
      } else if (a.kind === 'refused') {
        code = 111;
        retriable = true;
        append(
          nretry,
          code,
          `Fail to connect Socket{id=${this.socketId} addr=${this.remote}} (0x${fakePointer(this.socketId)}): Connection refused`,
        );
      } else if (a.text === 'not-connected') {
        code = 112;
        retriable = true;
        append(nretry, code, `Not connected to ${this.remote} yet, server_id=${this.socketId}`);
      } else {
        const t = a.text ?? '';
        const m = /^\[E(\d+)\](.*)$/s.exec(t);
        code = m ? Number(m[1]) : 2001;
        append(nretry, code, m ? (m[2] as string) : t);
      }
      if (!retriable || nretry >= 1 || Date.now() >= deadline) {
        glog('W', this.serviceLogName, `request error. ${errorText}`);
        return { ok: false, text: errorText };
      }
    }
  }

  private attempt(service: string, method: string, request: Json, deadline: number): Promise<Attempt> {
    if (this.failedAt !== undefined) {
      if (Date.now() - this.failedAt < HEALTH_CHECK_INTERVAL_MS) {
        return Promise.resolve({ kind: 'other', text: 'not-connected' });
      }
      // the health check would have tried to reconnect by now
      this.failedAt = undefined;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.resolve({ kind: 'timeout' });
    const payload = JSON.stringify(request);
    const path = `/${service}/${method}`;
    const headers = {
      'Content-Type': 'application/json',
      Authorization: AUTH_HEADER,
      Connection: 'close',
      // Tells the simulator's mutation log that the binary sent it (a real brpc client sends no such header).
      [CLIENT_HEADER]: 'openmldb',
      'Content-Length': String(Buffer.byteLength(payload)),
    };
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const finish = (a: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (a.kind === 'refused') this.failedAt = Date.now();
        resolve(a);
      };
      let cancel: () => void = () => undefined;
      const timer = setTimeout(() => {
        finish({ kind: 'timeout' });
        cancel();
      }, remaining);
      const post = binaryHost().post;
      if (post) {
        // A run inside another program (host.ts): the call goes where that program sends it.
        post(this.remote, path, headers, payload).then(
          (r) => finish('failed' in r ? { kind: 'refused' } : this.read(r.status, r.headers[FAULT_HEADER], r.text)),
          () => finish({ kind: 'refused' }),
        );
        return;
      }
      const req = http.request({ host: this.host, port: this.port, method: 'POST', path, agent: false, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => finish({ kind: 'refused' }));
        res.on('end', () => finish(this.read(res.statusCode ?? 0, res.headers[FAULT_HEADER], Buffer.concat(chunks).toString('utf8'))));
      });
      cancel = () => req.destroy();
      req.on('error', () => finish({ kind: 'refused' }));
      req.end(payload);
    });
  }

  /** What a reply means to the client: a JSON body, a timeout (the simulator's 504), or an error text. */
  private read(status: number, fault: string | string[] | undefined, text: string): Attempt {
    if (status === 504 && String(fault ?? '').toLowerCase() === 'timeout') return { kind: 'timeout' };
    if (status !== 200) {
      const t = text.trim();
      return { kind: 'other', text: t.startsWith('[E') ? t : `[E2001]HTTP ${status} ${t}`.trim() };
    }
    try {
      const body = JSON.parse(text === '' ? '{}' : text) as unknown;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) return { kind: 'other', text: `[E1005]Fail to parse response from ${this.remote}` };
      return { kind: 'ok', body: body as Json };
    } catch {
      return { kind: 'other', text: `[E1005]Fail to parse response from ${this.remote}` };
    }
  }
}

/** `response.code()` with proto default 0. */
export function codeOf(body: Json): number {
  const v = body['code'];
  return typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : 0;
}

/** `response.msg()` with proto default "". */
export function msgOf(body: Json): string {
  const v = body['msg'];
  return typeof v === 'string' ? v : '';
}

/** openmldb::base::Status */
export interface Status {
  code: number;
  msg: string;
}

export const K_RPC_ERROR = 1004;
export const statusOk = (s: Status): boolean => s.code === 0;
/** `Status::ToString()`: `ReturnCode[<code>]<msg>`. */
export const statusToString = (s: Status): string => `ReturnCode[${s.code}]${s.msg}`;

/** `SendRequestSt` + `{response.code(), response.msg()}`. */
export async function callSt(ch: BrpcChannel, service: 'NameServer' | 'TabletServer', method: string, req: Json): Promise<{ st: Status; body: Json }> {
  const r = await ch.call(service, method, req);
  if (!r.ok) {
    return { st: { code: ch.initialized ? K_RPC_ERROR : 1003, msg: r.text }, body: {} };
  }
  return { st: { code: codeOf(r.body), msg: msgOf(r.body) }, body: r.body };
}

/** `SendRequest` (bool) + `msg = response.msg()`: an RPC failure leaves msg empty. */
export async function callBool(ch: BrpcChannel, service: 'NameServer' | 'TabletServer', method: string, req: Json): Promise<{ ok: boolean; msg: string; body: Json }> {
  const r = await ch.call(service, method, req);
  if (!r.ok) return { ok: false, msg: '', body: {} };
  return { ok: codeOf(r.body) === 0, msg: msgOf(r.body), body: r.body };
}
