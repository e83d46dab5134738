// The ZooKeeper reads of the real binary (OpenMLDB src/zk/zk_client.cc), done against the
// simulator's registry (docs/architecture.md "Registry protocol"):
//   GET /zk/children?path=P -> 200 {"children":[...]} | 404 {"error":"no node"}
//   GET /zk/get?path=P      -> 200 {"value":"..."}    | 404 {"error":"no node"}
//
// `init` plays `ZkClient::Init`: zookeeper_init + wait up to the session timeout for the
// connection; the hosts of --zk_cluster are tried in order, over and over, until one
// answers or the time is up (then the caller prints `zk client init failed`).
import http from 'node:http';
import { sleep } from './util.js';

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

export class RegistryClient {
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
