// The ZooKeeper reads of the real binary (OpenMLDB src/zk/zk_client.cc). On a simulator
// that runs on a real ZooKeeper (its bin/openmldb sets OPENMLDB_SIM_REGISTRY=zookeeper)
// they go to ZooKeeper through a real client session (ZooKeeperRegistry). Otherwise they
// go to the embedded simulator's registry (docs/architecture.md "Registry protocol"):
//   GET /zk/children?path=P -> 200 {"children":[...]} | 404 {"error":"no node"}
//   GET /zk/get?path=P      -> 200 {"value":"..."}    | 404 {"error":"no node"}
//
// `init` plays `ZkClient::Init`: zookeeper_init + wait up to the session timeout for the
// connection; the hosts of --zk_cluster are tried in order, over and over, until one
// answers or the time is up (then the caller prints `zk client init failed`).
import http from 'node:http';
import type { ZkSession } from '../../../zk/session.js';
import { type Registry, host } from './host.js';
import { setTimeout as sleep } from 'node:timers/promises';

const opened: ZooKeeperRegistry[] = [];

/** The registry --zk_cluster names: real ZooKeeper, or the embedded simulator's. */
export function openRegistry(zkCluster: string, sessionTimeoutMs: number): Registry {
  const h = host();
  if (h.registry) return h.registry(zkCluster);
  if (h.env['OPENMLDB_SIM_REGISTRY'] === 'zookeeper') {
    const r = new ZooKeeperRegistry(zkCluster, sessionTimeoutMs);
    opened.push(r);
    return r;
  }
  return new RegistryClient(zkCluster, sessionTimeoutMs);
}

/** Close every ZooKeeper session before the process exits (the server then drops it at once). */
export async function closeRegistries(): Promise<void> {
  await Promise.all(opened.splice(0).map((r) => r.close()));
}

/** ZkClient over a real ZooKeeper session. */
export class ZooKeeperRegistry implements Registry {
  private session: ZkSession | undefined;

  constructor(
    private readonly zkCluster: string,
    private readonly sessionTimeoutMs: number,
  ) {}

  /** `ZkClient::Init`: connected within the session timeout, or false. */
  async init(): Promise<boolean> {
    const started = Date.now();
    // Loaded only here: the embedded registry's calls stay as quick to start as before.
    const { ZkSession } = await import('../../../zk/session.js');
    try {
      this.session = await ZkSession.connect(this.zkCluster, { sessionTimeoutMs: Math.max(this.sessionTimeoutMs, 1), connectTimeoutMs: Math.max(this.sessionTimeoutMs, 1) });
      return true;
    } catch {
      // zookeeper_init with no reachable server: Init still waits the whole timeout
      const left = this.sessionTimeoutMs - (Date.now() - started);
      if (left > 0) await sleep(left);
      return false;
    }
  }

  async getChildren(path: string): Promise<string[] | undefined> {
    try {
      const c = await this.session?.children(path);
      return c?.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } catch {
      return undefined;
    }
  }

  async getValue(path: string): Promise<string | undefined> {
    try {
      return await this.session?.get(path);
    } catch {
      return undefined;
    }
  }

  async exists(path: string): Promise<0 | 1 | -1> {
    if (!this.session) return -1;
    try {
      return (await this.session.exists(path)) ? 0 : 1;
    } catch {
      return -1;
    }
  }

  async close(): Promise<void> {
    await this.session?.close();
  }
}

interface HostPort {
  host: string;
  port: number;
}

type GetResult = { status: number; body: Record<string, unknown> } | undefined;

function parseHosts(zkCluster: string): HostPort[] {
  const hosts: HostPort[] = [];
  for (const part of zkCluster.split(',')) {
    const m = /^\s*([^:\s]+):(\d+)\s*$/.exec(part);
    if (m) hosts.push({ host: m[1] as string, port: Number(m[2]) });
  }
  return hosts;
}

function httpGet(hp: HostPort, path: string, timeoutMs: number): Promise<GetResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: GetResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = http.request(
      { host: hp.host, port: hp.port, method: 'GET', path, agent: false, headers: { Connection: 'close' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => finish(undefined));
        res.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
            if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
          } catch {
            // not JSON: treated as no data
          }
          finish({ status: res.statusCode ?? 0, body });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(undefined);
    }, Math.max(1, timeoutMs));
    req.on('error', () => finish(undefined));
    req.end();
  });
}

export class RegistryClient implements Registry {
  private readonly hosts: HostPort[];
  private current: HostPort | undefined;

  constructor(
    zkCluster: string,
    private readonly sessionTimeoutMs: number,
  ) {
    this.hosts = parseHosts(zkCluster);
  }

  /** `ZkClient::Init`: true once a registry answers; false after the session timeout. */
  async init(): Promise<boolean> {
    const deadline = Date.now() + Math.max(0, this.sessionTimeoutMs);
    const list = this.hosts;
    // zookeeper_init with an unusable host string fails, but Init still waits the full timeout
    while (list.length > 0 && Date.now() < deadline) {
      for (const hp of list) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const r = await httpGet(hp, '/zk/children?path=' + encodeURIComponent('/'), Math.min(left, 1000));
        if (r !== undefined) {
          this.current = hp;
          return true;
        }
      }
      const left = deadline - Date.now();
      if (left > 0) await sleep(Math.min(50, left));
    }
    const left = deadline - Date.now();
    if (left > 0) await sleep(left);
    return false;
  }

  private async request(path: string): Promise<GetResult> {
    const order = this.current ? [this.current, ...this.hosts.filter((h) => h !== this.current)] : this.hosts;
    for (const hp of order) {
      const r = await httpGet(hp, path, this.sessionTimeoutMs);
      if (r !== undefined) {
        this.current = hp;
        return r;
      }
    }
    return undefined;
  }

  /** `GetChildren`: sorted names, or undefined on error (including "no node"). */
  async getChildren(path: string): Promise<string[] | undefined> {
    const r = await this.request('/zk/children?path=' + encodeURIComponent(path));
    if (!r || r.status !== 200) return undefined;
    const c = r.body['children'];
    if (!Array.isArray(c)) return undefined;
    return c.map((x) => String(x)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** `GetNodeValue`: the value, or undefined on error. */
  async getValue(path: string): Promise<string | undefined> {
    const r = await this.request('/zk/get?path=' + encodeURIComponent(path));
    if (!r || r.status !== 200) return undefined;
    const v = r.body['value'];
    return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
  }

  /** `IsExistNode`: 0 exists, 1 no node, -1 error. */
  async exists(path: string): Promise<0 | 1 | -1> {
    const r = await this.request('/zk/get?path=' + encodeURIComponent(path));
    if (!r) return -1;
    if (r.status === 200) return 0;
    if (r.status === 404) return 1;
    return -1;
  }
}
