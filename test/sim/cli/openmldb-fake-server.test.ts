// The few cases of the stand-in `openmldb` binary that the simulator CANNOT produce, run
// against a small in-test fake of the registry and the brpc HTTP+JSON servers. Everything
// else is tested against `openmldb-sim` (openmldb-commands*.test.ts); do not add cases
// here that the simulator can serve. Why each one is here:
// - showns with one endpoint registered twice under <root>/leader (a stale ephemeral node
//   of a restarted nameserver, as real ZooKeeper keeps it until its session expires): the
//   simulator's registry lists each running nameserver exactly once.
// - showtable rows for a table without partitions, a partition without replicas and
//   replica fields never polled (`-`): every simulated table has partitions, every
//   partition replicas, every replica an offset, record_cnt and record_byte_size.
// - showopstatus rows for an op without pid or name and for_replica_cluster=1 (ops of
//   replica clusters): every simulated op has a name and pid and for_replica_cluster=0.
// - addreplica, delreplica, migrate: the simulator does not implement AddReplicaNS,
//   DelReplicaNS or Migrate (the recovery tool never calls them), so what they send and
//   print can only be seen against a fake.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { REPO, trimLines } from './run-cli.js';

/** The built stand-in binary (as the simulator's DIR/bin/openmldb runs it), in UTC. */
function runCli(args: string[], opts: { env?: Record<string, string> } = {}): Promise<{ stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'dist/sim/cli/openmldb.js'), ...args], { env: { ...process.env, TZ: 'UTC', ...opts.env }, timeout: 30000 }, (_err, stdout) =>
      resolve({ stdout: String(stdout) }),
    );
  });
}

type Json = Record<string, unknown>;

const servers: FakeServer[] = [];
after(() => Promise.all(servers.map((s) => s.stop())));

class FakeServer {
  readonly calls: Array<{ method: string; body: Json }> = [];
  private server: http.Server;
  private sockets = new Set<Socket>();
  private port = 0;

  constructor(handler: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    servers.push(this);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A NameServer speaking brpc HTTP+JSON: POST /NameServer/<Method>. */
function nameserver(handlers: Record<string, (body: Json) => Json>): Promise<FakeServer> {
  const srv: FakeServer = new FakeServer((req, raw, res) => {
    const method = /^\/NameServer\/(\w+)$/.exec(req.url ?? '')?.[1] ?? '';
    const body = raw === '' ? {} : (JSON.parse(raw) as Json);
    srv.calls.push({ method, body });
    const h = handlers[method];
    if (!h) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('Fail to find method');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(h(body)));
  });
  return srv.start();
}

/** The registry (ZooKeeper stand-in): GET /zk/children and /zk/get over a fixed node map. */
function registry(nodes: Record<string, string>): Promise<FakeServer> {
  return new FakeServer((req, _raw, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.searchParams.get('path') ?? '';
    const send = (status: number, body: Json) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/zk/get') {
      send(path in nodes ? 200 : 404, path in nodes ? { value: nodes[path] } : { error: 'no node' });
      return;
    }
    const prefix = path === '/' ? '/' : path + '/';
    const children = [...new Set(Object.keys(nodes).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split('/')[0] as string))];
    send(children.length > 0 || path === '/' ? 200 : 404, children.length > 0 || path === '/' ? { children } : { error: 'no node' });
  }).start();
}

const ok = { code: 0, msg: 'ok' };
const OLD = { OPENMLDB_SIM_DIALECT: '2018' };
const ns = (args: string[]) => ['--role=ns_client', '--interactive=false', ...args];
const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number) => Date.UTC(y, mo - 1, d, h, mi, s) / 1000;

describe('what the simulator cannot produce', { concurrency: true }, () => {
  test('showns: an endpoint registered twice (stale ephemeral node) is listed once', async () => {
    const reg = await registry({
      '/openmldb/leader/ns_0000000003': '172.27.2.52:7527',
      '/openmldb/leader/ns_0000000004': '172.27.2.53:7527',
      '/openmldb/leader/ns_0000000005': '172.27.2.53:7527',
    });
    const r = await runCli(ns([`--zk_cluster=${reg.address}`, '--cmd=showns']));
    assert.equal(
      r.stdout,
      'ns leader: 172.27.2.52:7527\n' +
        '  endpoint          real_endpoint  role   \n' +
        '--------------------------------------------\n' +
        '  172.27.2.52:7527  -              leader \n' +
        '  172.27.2.53:7527  -              standby\n',
    );
  });

  test('showtable: no partitions, no replicas, fields never polled; both dialects', async () => {
    const tables = [
      {
        name: 't1',
        tid: 3,
        db: 'db1',
        table_partition: [
          {
            pid: 0,
            partition_meta: [
              { endpoint: '172.27.2.52:9520', is_leader: true, is_alive: false, offset: 1024, record_cnt: 512, record_byte_size: 85504, diskused: 12641 },
              { endpoint: '172.27.2.53:9520', is_leader: false, offset: 1020 },
            ],
          },
          { pid: 1, partition_meta: [] },
        ],
      },
      { name: 't2', tid: 4, db: 'db1' },
    ];
    const srv = await nameserver({ UseDatabase: () => ok, ShowTable: () => ({ table_info: tables, ...ok }) });
    const r = await runCli(ns([`--endpoint=${srv.address}`, '--database=db1', '--cmd=showtable']));
    assert.equal(
      r.stdout,
      '  name  tid  pid  endpoint          role      is_alive  offset  record_cnt  memused   diskused\n' +
        '------------------------------------------------------------------------------------------------\n' +
        '  t1    3    0    172.27.2.52:9520  leader    no        1024    512         83.500 K  12.345 K\n' +
        '  t1    3    0    172.27.2.53:9520  follower  yes       1020    -           -         0.000   \n' +
        '  t1    3    1    -                 -         -         -       -           -         -       \n' +
        '  t2    4    -    -                 -         -         -       -           -         -       \n',
    );
    const old = await runCli(ns([`--endpoint=${srv.address}`, '--cmd=showtable']), { env: OLD });
    assert.equal(
      trimLines(old.stdout),
      '  name  tid  pid  endpoint          role      ttl   is_alive  compress_type  offset  record_cnt  memused\n' +
        '-----------------------------------------------------------------------------------------------------------\n' +
        '  t1    3    0    172.27.2.52:9520  leader    0min  no        kNoCompress    1024    512         83.500 K\n' +
        '  t1    3    0    172.27.2.53:9520  follower  0min  yes       kNoCompress    1020    -           -\n',
    );
  });

  test('showopstatus: an op without pid (or name), for_replica_cluster=1; both dialects', async () => {
    const start = utc(2024, 5, 8, 10, 15, 1);
    const srv = await nameserver({
      ShowOPStatus: () => ({
        ...ok,
        op_status: [{ op_id: 54, op_type: 'kRecoverTableOP', name: 't2', status: 'kFailed', start_time: start + 2, end_time: start + 2, task_type: 'kDelReplica', for_replica_cluster: 1 }],
      }),
    });
    const r = await runCli(ns([`--endpoint=${srv.address}`, '--cmd=showopstatus']));
    assert.equal(
      trimLines(r.stdout).split('\n')[2],
      '  54     kRecoverTableOP  t2    -    kFailed  20240508101503  0s            20240508101503  kDelReplica  yes',
    );
    const old = await runCli(ns([`--endpoint=${srv.address}`, '--cmd=showopstatus']), { env: OLD });
    assert.equal(trimLines(old.stdout).split('\n')[2], '  54     kRecoverTableOP  -     -    kFailed  20240508101503  0s            20240508101503  kDelReplica');
  });

  test('addreplica, delreplica, migrate: what is sent, both outcomes', async () => {
    const srv = await nameserver({ AddReplicaNS: () => ok, DelReplicaNS: () => ({ code: 100, msg: 'table does not exist' }), Migrate: () => ok });
    const run = (cmd: string) => runCli(ns([`--endpoint=${srv.address}`, `--cmd=${cmd}`])).then((r) => r.stdout);
    assert.equal(await run('addreplica t1 2-4 172.27.2.54:9520'), 'AddReplica ok\n');
    assert.equal(await run('delreplica t1 0 172.27.2.54:9520'), 'Fail to delreplica. error msg:table does not exist\n');
    assert.equal(await run('migrate 172.27.2.52:9520 t1 1,3 172.27.2.54:9520'), 'partition migrate ok\n');
    assert.deepEqual(
      srv.calls.map((c) => [c.method, c.body]),
      [
        ['AddReplicaNS', { name: 't1', pid: 2, endpoint: '172.27.2.54:9520', pid_group: [2, 3, 4], db: '' }],
        ['DelReplicaNS', { name: 't1', pid: 0, endpoint: '172.27.2.54:9520', db: '' }],
        ['Migrate', { src_endpoint: '172.27.2.52:9520', name: 't1', pid: [1, 3], des_endpoint: '172.27.2.54:9520', db: '' }],
      ],
    );
  });
});
