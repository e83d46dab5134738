// STOP-GAP: end-to-end tests of the stand-in `openmldb` binary against a small in-test
// fake of the simulator's registry and brpc HTTP+JSON servers (reference section 7,
// docs/architecture.md), written while the real simulator servers were being built.
// Replace with tests against `openmldb-sim` once it runs; what is checked here is the
// client side: the requests each command sends and how each reply is printed.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { formatTable } from '../../../src/openmldb/tprinter.js';
import { runCli, trimLines } from './run-cli.js';

type Json = Record<string, unknown>;
type Reply = Json | { $status: number; $headers?: Record<string, string>; $text?: string } | { $destroy: true } | { $hang: true };

interface Call {
  method: string;
  path: string;
  body: Json;
  auth: string | undefined;
  contentType: string | undefined;
}

const servers: FakeServer[] = [];
after(() => Promise.all(servers.map((s) => s.stop())));

class FakeServer {
  readonly calls: Call[] = [];
  private server: http.Server;
  private sockets = new Set<Socket>();
  port = 0;

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

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.address;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A brpc HTTP+JSON server: POST /<Service>/<Method>. */
async function rpcServer(service: 'NameServer' | 'TabletServer', handlers: Record<string, (body: Json) => Reply>): Promise<FakeServer> {
  const srv: FakeServer = new FakeServer((req, raw, res) => {
    const m = new RegExp(`^/${service}/(\\w+)$`).exec(req.url ?? '');
    const body = raw === '' ? {} : (JSON.parse(raw) as Json);
    const method = m?.[1] ?? '';
    srv.calls.push({ method, path: req.url ?? '', body, auth: req.headers['authorization'], contentType: req.headers['content-type'] });
    const h = handlers[method];
    if (req.method !== 'POST' || !m || !h) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('Fail to find method');
      return;
    }
    const reply = h(body);
    if ('$destroy' in reply) {
      req.socket.destroy();
      return;
    }
    if ('$hang' in reply) return;
    if ('$status' in reply && typeof reply.$status === 'number') {
      const r = reply as { $status: number; $headers?: Record<string, string>; $text?: string };
      res.writeHead(r.$status, { 'Content-Type': 'text/plain', ...r.$headers });
      res.end(r.$text ?? '');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(reply));
  });
  await srv.start();
  return srv;
}

/** The registry (ZooKeeper stand-in): GET /zk/children and /zk/get. */
async function registry(nodes: Record<string, string>): Promise<FakeServer> {
  const srv = new FakeServer((req, _raw, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.searchParams.get('path') ?? '';
    const send = (status: number, body: Json) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/zk/get') {
      if (path in nodes) send(200, { value: nodes[path] });
      else send(404, { error: 'no node' });
      return;
    }
    if (url.pathname === '/zk/children') {
      const prefix = path === '/' ? '/' : path + '/';
      const children = new Set<string>();
      for (const k of Object.keys(nodes)) {
        if (k.startsWith(prefix)) children.add(k.slice(prefix.length).split('/')[0] as string);
      }
      if (children.size === 0 && !(path in nodes)) send(404, { error: 'no node' });
      else send(200, { children: [...children].reverse() });
      return;
    }
    send(404, { error: 'no node' });
  });
  await srv.start();
  return srv;
}

const ok = { code: 0, msg: 'ok' };
const ns = (args: string[]) => ['--role=ns_client', '--interactive=false', ...args];
const MODERN = {};
const OLD = { OPENMLDB_SIM_DIALECT: '2018' };
const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number) => Date.UTC(y, mo - 1, d, h, mi, s) / 1000;

const TABLES = [
  {
    name: 't1',
    tid: 3,
    seg_cnt: 8,
    db: 'db1',
    compress_type: 'kNoCompress',
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

describe('ns_client against a fake nameserver', { concurrency: true }, () => {
  test('ZK mode: `ns leader:` first, showtablet with human-readable ages', async () => {
    const nsSrv = await rpcServer('NameServer', {
      ShowTablet: () => ({
        tablets: [
          { endpoint: '172.27.2.52:9520', state: 'kHealthy', age: 3 * 3600000 + 59 * 60000 },
          { endpoint: '172.27.2.53:9520', state: 'kOffline', age: 7 * 60000 + 1 },
          { endpoint: '172.27.2.54:9520', state: 'kHealthy', age: 15000 },
        ],
        ...ok,
      }),
    });
    const reg = await registry({
      '/openmldb/leader/ns_0000000004': '127.0.0.1:1',
      '/openmldb/leader/ns_0000000003': nsSrv.address,
    });
    const r = await runCli(ns([`--zk_cluster=${reg.address}`, '--zk_root_path=/openmldb', '--cmd=showtablet']));
    assert.equal(
      r.stdout,
      `ns leader: ${nsSrv.address}\n` +
        '  endpoint          real_endpoint  state     age\n' +
        '--------------------------------------------------\n' +
        '  172.27.2.52:9520  -              kHealthy  3h \n' +
        '  172.27.2.53:9520  -              kOffline  7m \n' +
        '  172.27.2.54:9520  -              kHealthy  15s\n',
    );
    const call = nsSrv.calls[0] as Call;
    assert.equal(call.path, '/NameServer/ShowTablet');
    assert.deepEqual(call.body, {});
    assert.equal(call.auth, 'sdefault');
    assert.equal(call.contentType, 'application/json');

    const old = await runCli(ns([`--zk_cluster=${reg.address}`, '--cmd=showtablet']), { env: OLD });
    assert.equal(
      trimLines(old.stdout),
      `ns leader: ${nsSrv.address}\n` +
        '  endpoint          state           age\n' +
        '-----------------------------------------\n' +
        '  172.27.2.52:9520  kTabletHealthy  3h\n' +
        '  172.27.2.53:9520  kTabletOffline  7m\n' +
        '  172.27.2.54:9520  kTabletHealthy  15s\n',
    );
  });

  test('showns: registry only; leader then standby; endpoint mode refuses', async () => {
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
    const old = await runCli(ns([`--zk_cluster=${reg.address}`, '--cmd=showns']), { env: OLD });
    assert.equal(
      trimLines(old.stdout),
      'ns leader: 172.27.2.52:7527\n  endpoint          role\n-----------------------------\n  172.27.2.52:7527  leader\n  172.27.2.53:7527  standby\n',
    );
    const ep = await runCli(ns(['--endpoint=172.27.2.52:7527', '--cmd=showns']));
    assert.equal(ep.stdout, 'Show nameserver failed. zk_cluster is empty\n');
    const noLeader = await runCli(ns([`--zk_cluster=${reg.address}`, '--zk_root_path=/wrong', '--cmd=showns']));
    assert.equal(noLeader.stdout, 'get children failed\n');
  });

  test('server names: the client connects to the real endpoint of the leader', async () => {
    const nsSrv = await rpcServer('NameServer', { ShowTablet: () => ({ tablets: [{ endpoint: 'tablet-a', real_endpoint: '10.0.0.1:9520', state: 'kHealthy', age: 850 }], ...ok }) });
    const reg = await registry({
      '/openmldb/leader/ns_0000000001': 'ns-a',
      '/openmldb/map/names/ns-a': nsSrv.address,
      '/openmldb/map/names/tablet-a': '10.0.0.1:9520',
    });
    const r = await runCli(ns([`--zk_cluster=${reg.address}`, '--cmd=showtablet']));
    assert.equal(
      trimLines(r.stdout),
      'ns leader: ns-a\n  endpoint  real_endpoint  state     age\n' + '-'.repeat(44) + '\n' + '  tablet-a  10.0.0.1:9520  kHealthy  850ms\n',
    );
    const s = await runCli(ns([`--zk_cluster=${reg.address}`, '--cmd=showns']));
    assert.equal(trimLines(s.stdout), `ns leader: ns-a\n  endpoint  real_endpoint    role\n-------------------------------------\n  ns-a      ${nsSrv.address}  leader\n`);
  });

  test('showtable with --database: UseDatabase first, then ShowTable{name, db, show_all}', async () => {
    const nsSrv = await rpcServer('NameServer', {
      UseDatabase: (b) => (b['db'] === 'db1' ? ok : { code: 802, msg: 'database not found' }),
      ShowTable: () => ({ table_info: TABLES, ...ok }),
    });
    const r = await runCli(ns([`--endpoint=${nsSrv.address}`, '--database=db1', '--cmd=showtable t1']));
    assert.equal(
      r.stdout,
      '  name  tid  pid  endpoint          role      is_alive  offset  record_cnt  memused   diskused\n' +
        '------------------------------------------------------------------------------------------------\n' +
        '  t1    3    0    172.27.2.52:9520  leader    no        1024    512         83.500 K  12.345 K\n' +
        '  t1    3    0    172.27.2.53:9520  follower  yes       1020    -           -         0.000   \n' +
        '  t1    3    1    -                 -         -         -       -           -         -       \n' +
        '  t2    4    -    -                 -         -         -       -           -         -       \n',
    );
    assert.deepEqual(
      nsSrv.calls.map((c) => [c.method, c.body]),
      [
        ['UseDatabase', { db: 'db1' }],
        ['ShowTable', { name: 't1', db: 'db1', show_all: false }],
      ],
    );
    // a failing UseDatabase is silently ignored: the default database "" stays
    const nsSrv2 = await rpcServer('NameServer', { UseDatabase: () => ({ code: 802, msg: 'database not found' }), ShowTable: () => ({ ...ok }) });
    const r2 = await runCli(ns([`--endpoint=${nsSrv2.address}`, '--database=nodb', '--cmd=showtable']));
    assert.equal(r2.stdout, formatTable(['name', 'tid', 'pid', 'endpoint', 'role', 'is_alive', 'offset', 'record_cnt', 'memused', 'diskused'], []));
    assert.deepEqual(nsSrv2.calls[1]?.body, { db: '', show_all: false });
  });

  test('showtable, 2018 layout', async () => {
    const nsSrv = await rpcServer('NameServer', { ShowTable: () => ({ table_info: TABLES, ...ok }) });
    const r = await runCli(ns([`--endpoint=${nsSrv.address}`, '--cmd=showtable']), { env: OLD });
    assert.equal(
      trimLines(r.stdout),
      '  name  tid  pid  endpoint          role      ttl   is_alive  compress_type  offset  record_cnt  memused\n' +
        '-----------------------------------------------------------------------------------------------------------\n' +
        '  t1    3    0    172.27.2.52:9520  leader    0min  no        kNoCompress    1024    512         83.500 K\n' +
        '  t1    3    0    172.27.2.53:9520  follower  0min  yes       kNoCompress    1020    -           -\n',
    );
  });

  test('showtable failure: NS message; RPC failure: empty message', async () => {
    const nsSrv = await rpcServer('NameServer', { ShowTable: () => ({ code: 300, msg: 'nameserver is not leader' }) });
    const r = await runCli(ns([`--endpoint=${nsSrv.address}`, '--cmd=showtable']));
    assert.equal(r.stdout, 'failed to showtable. error msg: nameserver is not leader\n');
    const gone = await rpcServer('NameServer', { ShowTable: () => ({ $destroy: true }) });
    const g = await runCli(ns([`--endpoint=${gone.address}`, '--cmd=showtable']));
    assert.equal(g.stdout, 'failed to showtable. error msg: \n');
  });

  test('showdb, confget, confset', async () => {
    let auto = 'false';
    const nsSrv = await rpcServer('NameServer', {
      ShowDatabase: () => ({ ...ok, db: ['db1', 'demo_db'] }),
      ConfGet: () => ({ ...ok, conf: [{ key: 'auto_failover', value: auto }] }),
      ConfSet: (b) => {
        const conf = b['conf'] as Json;
        if (conf['key'] !== 'auto_failover' || !['true', 'false'].includes(String(conf['value']))) return { code: 307, msg: 'invalid parameter' };
        auto = String(conf['value']);
        return ok;
      },
    });
    const run = (cmd: string) => runCli(ns([`--endpoint=${nsSrv.address}`, `--cmd=${cmd}`])).then((r) => r.stdout);
    assert.equal(await run('showdb'), '  #  name   \n--------------\n  1  db1    \n  2  demo_db\n');
    assert.equal(await run('confget'), '  key            value\n------------------------\n  auto_failover  false\n');
    assert.equal(await run('confset auto_failover true'), 'set auto_failover ok\n');
    assert.equal(await run('confget auto_failover'), '  key            value\n------------------------\n  auto_failover  true \n');
    assert.equal(await run('confget foo'), 'failed to set foo. error msg: cannot found key foo\n');
    assert.equal(await run('confset auto_failover FAlsee'), 'failed to set auto_failover. error msg: invalid parameter\n');
    assert.deepEqual(nsSrv.calls.find((c) => c.method === 'ConfSet')?.body, { conf: { key: 'auto_failover', value: 'true' } });
  });

  test('updatetablealive, recovertable, changeleader: requests and texts', async () => {
    const nsSrv = await rpcServer('NameServer', {
      UseDatabase: () => ok,
      UpdateTableAliveStatus: (b) => (b['name'] === 'tt1' ? { code: 100, msg: 'table does not exist' } : ok),
      RecoverTable: (b) => (b['pid'] === 9 ? { code: 308, msg: 'pid does not exist' } : ok),
      ChangeLeader: (b) => (b['candidate_leader'] === undefined ? { code: 309, msg: 'leader is alive' } : ok),
    });
    const run = (cmd: string, env: Record<string, string> = MODERN) =>
      runCli(ns([`--endpoint=${nsSrv.address}`, '--database=db1', `--cmd=${cmd}`]), { env }).then((r) => r.stdout);
    assert.equal(await run('updatetablealive t1 * 172.27.2.52:9520 no'), 'update ok\n');
    assert.equal(await run('updatetablealive t1 1 172.27.2.52:9520 yes'), 'update ok\n');
    assert.equal(await run('updatetablealive tt1 * 172.27.2.52:9520 no'), 'Fail to update table alive. error msg: table does not exist\n');
    assert.equal(await run('recovertable t1 1 172.27.2.53:9520'), 'recover table ok\n');
    assert.equal(await run('recovertable t1 9 172.27.2.53:9520'), 'Fail to recover table. error msg:pid does not exist\n');
    assert.equal(await run('changeleader t1 0'), 'failed to change leader. error msg: leader is alive\n');
    assert.equal(
      await run('changeleader t1 0 auto'),
      'change leader ok. If there are writing operations while changing a leader, it may cause data loss.\n',
    );
    assert.equal(await run('changeleader t1 0 172.27.2.53:9520', OLD), 'change leader ok\n');
    const bodies = nsSrv.calls.filter((c) => c.method !== 'UseDatabase').map((c) => [c.method, c.body]);
    assert.deepEqual(bodies, [
      ['UpdateTableAliveStatus', { name: 't1', endpoint: '172.27.2.52:9520', is_alive: false, db: 'db1' }],
      ['UpdateTableAliveStatus', { name: 't1', endpoint: '172.27.2.52:9520', pid: 1, is_alive: true, db: 'db1' }],
      ['UpdateTableAliveStatus', { name: 'tt1', endpoint: '172.27.2.52:9520', is_alive: false, db: 'db1' }],
      ['RecoverTable', { name: 't1', pid: 1, endpoint: '172.27.2.53:9520', db: 'db1' }],
      ['RecoverTable', { name: 't1', pid: 9, endpoint: '172.27.2.53:9520', db: 'db1' }],
      ['ChangeLeader', { name: 't1', pid: 0, db: 'db1' }],
      ['ChangeLeader', { name: 't1', pid: 0, candidate_leader: 'auto', db: 'db1' }],
      ['ChangeLeader', { name: 't1', pid: 0, candidate_leader: '172.27.2.53:9520', db: 'db1' }],
    ]);
  });

  test('offlineendpoint, recoverendpoint, cancelop, deleteop', async () => {
    const nsSrv = await rpcServer('NameServer', {
      OfflineEndpoint: (b) => (b['endpoint'] === '127.0.0.1:80' ? { code: 302, msg: 'endpoint does not exist' } : ok),
      RecoverEndpoint: () => ok,
      CancelOP: (b) => (b['op_id'] === 7 ? { code: 312, msg: 'op status is not kDoing or kInited' } : ok),
      DeleteOP: () => ok,
    });
    const run = (cmd: string, env: Record<string, string> = MODERN) =>
      runCli(ns([`--endpoint=${nsSrv.address}`, `--cmd=${cmd}`]), { env }).then((r) => r.stdout);
    assert.equal(await run('offlineendpoint 172.27.2.52:9520'), 'offline endpoint ok\n');
    assert.equal(await run('offlineendpoint 172.27.2.52:9520 4'), 'offline endpoint ok\n');
    assert.equal(await run('offlineendpoint 127.0.0.1:80'), 'failed to offline endpoint. error msg: endpoint does not exist\n');
    assert.equal(await run('recoverendpoint 172.27.2.52:9520'), 'recover endpoint ok\n');
    assert.equal(await run('recoverendpoint 172.27.2.52:9520 true 3'), 'recover endpoint ok\n');
    assert.equal(await run('recoverendpoint 172.27.2.52:9520 false 0'), 'recover endpoint ok\n');
    assert.equal(await run('cancelop 5'), 'Cancel op ok\n');
    assert.equal(await run('cancelop 7'), 'Cancel op failed, error msg: ReturnCode[312]op status is not kDoing or kInited\n');
    assert.equal(await run('cancelop 5', OLD), 'Cancel op ok!\n');
    assert.equal(await run('cancelop 7', OLD), 'Cancel op failed! op status is not kDoing or kInited\n');
    assert.equal(await run('deleteop 12'), 'Delete op ok\n');
    assert.equal(await run('deleteop FAILED'), 'Delete op ok\n');
    assert.deepEqual(
      nsSrv.calls.map((c) => [c.method, c.body]),
      [
        ['OfflineEndpoint', { endpoint: '172.27.2.52:9520' }],
        ['OfflineEndpoint', { endpoint: '172.27.2.52:9520', concurrency: 4 }],
        ['OfflineEndpoint', { endpoint: '127.0.0.1:80' }],
        ['RecoverEndpoint', { endpoint: '172.27.2.52:9520', need_restore: false }],
        ['RecoverEndpoint', { endpoint: '172.27.2.52:9520', concurrency: 3, need_restore: true }],
        ['RecoverEndpoint', { endpoint: '172.27.2.52:9520', need_restore: false }],
        ['CancelOP', { op_id: 5 }],
        ['CancelOP', { op_id: 7 }],
        ['CancelOP', { op_id: 5 }],
        ['CancelOP', { op_id: 7 }],
        ['DeleteOP', { op_id: 12 }],
        ['DeleteOP', { status: 'kFailed' }],
      ],
    );
  });

  test('showopstatus: filters sent, times in local time, `-` rules, both dialects', async () => {
    const start = utc(2024, 5, 8, 10, 15, 1);
    const nsSrv = await rpcServer('NameServer', {
      UseDatabase: () => ok,
      ShowOPStatus: () => ({
        ...ok,
        op_status: [
          { op_id: 51, op_type: 'kRecoverTableOP', name: 't1', pid: 0, status: 'kDone', start_time: start, end_time: start + 1, task_type: '-', for_replica_cluster: 0, db: 'db1' },
          { op_id: 52, op_type: 'kReAddReplicaNoSendOP', name: 't1', pid: 0, status: 'kDoing', start_time: Math.trunc(Date.now() / 1000) - 4, end_time: 0, task_type: 'kLoadTable', db: 'db1' },
          { op_id: 53, op_type: 'kRecoverTableOP', name: 't1', pid: 1, status: 'kInited', start_time: 0, end_time: 0, task_type: '-', db: 'db1' },
          { op_id: 54, op_type: 'kRecoverTableOP', name: 't2', status: 'kFailed', start_time: start + 2, end_time: start + 2, task_type: 'kDelReplica', for_replica_cluster: 1 },
        ],
      }),
    });
    const r = await runCli(ns([`--endpoint=${nsSrv.address}`, '--database=db1', '--cmd=showopstatus t1 0']));
    const lines = trimLines(r.stdout).split('\n');
    assert.equal(lines[0], '  op_id  op_type                name  pid  status   start_time      execute_time  end_time        cur_task     for_replica_cluster');
    assert.equal(lines[2], '  51     kRecoverTableOP        t1    0    kDone    20240508101501  1s            20240508101502  -            no');
    assert.match(lines[3] as string, /^ {2}52 {5}kReAddReplicaNoSendOP {2}t1 {4}0 {4}kDoing {3}\d{14} {2}[4-9]s {12}- {15}kLoadTable {3}no$/);
    assert.equal(lines[4], '  53     kRecoverTableOP        t1    1    kInited  -               -             -               -            no');
    assert.equal(lines[5], '  54     kRecoverTableOP        t2    -    kFailed  20240508101503  0s            20240508101503  kDelReplica  yes');
    assert.deepEqual(nsSrv.calls[1]?.body, { name: 't1', pid: 0, db: 'db1' });

    const old = await runCli(ns([`--endpoint=${nsSrv.address}`, '--cmd=showopstatus']), { env: OLD });
    const o = trimLines(old.stdout).split('\n');
    assert.equal(o[0], '  op_id  op_type                name  pid  status   start_time      execute_time  end_time        cur_task');
    assert.equal(o[5], '  54     kRecoverTableOP        -     -    kFailed  20240508101503  0s            20240508101503  kDelReplica');
    assert.deepEqual(nsSrv.calls[2]?.body, {});
  });

  test('addreplica, delreplica, migrate', async () => {
    const nsSrv = await rpcServer('NameServer', { AddReplicaNS: () => ok, DelReplicaNS: () => ({ code: 100, msg: 'table does not exist' }), Migrate: () => ok });
    const run = (cmd: string) => runCli(ns([`--endpoint=${nsSrv.address}`, `--cmd=${cmd}`])).then((r) => r.stdout);
    assert.equal(await run('addreplica t1 2-4 172.27.2.54:9520'), 'AddReplica ok\n');
    assert.equal(await run('delreplica t1 0 172.27.2.54:9520'), 'Fail to delreplica. error msg:table does not exist\n');
    assert.equal(await run('migrate 172.27.2.52:9520 t1 1,3 172.27.2.54:9520'), 'partition migrate ok\n');
    assert.deepEqual(
      nsSrv.calls.map((c) => c.body),
      [
        { name: 't1', pid: 2, endpoint: '172.27.2.54:9520', pid_group: [2, 3, 4], db: '' },
        { name: 't1', pid: 0, endpoint: '172.27.2.54:9520', db: '' },
        { src_endpoint: '172.27.2.52:9520', name: 't1', pid: [1, 3], des_endpoint: '172.27.2.54:9520', db: '' },
      ],
    );
  });

  test('RPC failures: refused, injected timeout, own timeout; Status vs bool commands', async () => {
    const nsSrv = await rpcServer('NameServer', {
      UpdateTableAliveStatus: () => ({ $status: 504, $headers: { 'x-openmldb-sim-fault': 'timeout' } }),
      ShowTablet: () => ({ $status: 504, $headers: { 'x-openmldb-sim-fault': 'timeout' } }),
      RecoverTable: () => ({ $destroy: true }),
      ChangeLeader: () => ({ $hang: true }),
    });
    const a = nsSrv.address;
    const run = (cmd: string, extra: string[] = []) => runCli(ns([`--endpoint=${a}`, ...extra, `--cmd=${cmd}`]));
    const t = await run('updatetablealive t1 0 172.27.2.52:9520 no');
    assert.equal(t.stdout, `Fail to update table alive. error msg: [E1008]Reached timeout=20000ms @${a}\n`);
    assert.equal((await run('showtablet')).stdout, 'Fail to show tablets. error msg: \n');
    const refused = await run('recovertable t1 0 172.27.2.52:9520');
    assert.match(
      refused.stdout,
      new RegExp(
        `^Fail to recover table\\. error msg:\\[E111\\]Fail to connect Socket\\{id=0 addr=${a}\\} \\(0x0x[0-9a-f]+\\): Connection refused \\[R1\\]\\[E112\\]Not connected to ${a} yet, server_id=0\\n$`,
      ),
    );
    const t0 = Date.now();
    const own = await run('changeleader t1 0', ['--request_timeout_ms=300']);
    assert.equal(own.stdout, `failed to change leader. error msg: [E1008]Reached timeout=300ms @${a}\n`);
    assert.ok(Date.now() - t0 >= 300);
    assert.ok(own.stderr.includes('request error.'));
  });

  test('--interactive (default true) with --cmd repeats the command forever (v0.6.0+)', async () => {
    const nsSrv = await rpcServer('NameServer', { ShowDatabase: () => ({ ...ok, db: ['db1'] }) });
    const header = '  #  name\n';
    const r = await runCli(['--role=ns_client', `--endpoint=${nsSrv.address}`, '--cmd=showdb'], {
      until: (out) => out.split(header).length > 4,
    });
    assert.equal(r.code, null, 'still running when killed');
    assert.ok(!r.stdout.startsWith('Welcome'), 'no banner with --cmd');
    assert.ok(nsSrv.calls.length >= 3);
  });

  test('2018 dialect: --cmd ignored when interactive; banner; commands read from stdin', async () => {
    const nsSrv = await rpcServer('NameServer', { ShowDatabase: () => ({ ...ok, db: ['db1'] }) });
    const r = await runCli(['--role=ns_client', `--endpoint=${nsSrv.address}`, '--cmd=confget'], { env: OLD, stdin: 'showdb\n' });
    assert.equal(r.stdout, 'Welcome to openmldb with version 0.2.2-sim\n  #  name\n-----------\n  1  db1 \n');
    assert.deepEqual(
      nsSrv.calls.map((c) => c.method),
      ['ShowDatabase'],
    );
  });

  test('interactive session: `use` switches the database of later commands', async () => {
    const nsSrv = await rpcServer('NameServer', {
      UseDatabase: (b) => (b['db'] === 'db1' ? ok : { code: 802, msg: 'database not found' }),
      ShowTable: () => ({ ...ok }),
    });
    const r = await runCli(['--role=ns_client', `--endpoint=${nsSrv.address}`], { stdin: 'use nodb\nuse db1\nshowtable\nuse\nexit\n' });
    assert.equal(
      trimLines(r.stdout).split('\n').slice(0, 4).join('\n'),
      'Welcome to openmldb with version 0.9.3-sim\nUse database failed. error msg: database not found\nUse database: db1\n  name  tid  pid  endpoint  role  is_alive  offset  record_cnt  memused  diskused',
    );
    assert.ok(r.stdout.endsWith('Use default database\nbye\n'));
    assert.deepEqual(nsSrv.calls[2]?.body, { db: 'db1', show_all: false });
  });
});

describe('tablet client against a fake tablet', { concurrency: true }, () => {
  const tc = (endpoint: string, cmd: string) => ['--role=client', `--endpoint=${endpoint}`, '--interactive=false', `--cmd=${cmd}`];

  test('loadtable: what is sent (no ttl, no storage_mode) and both outcomes', async () => {
    const loaded = new Set<string>();
    const tab = await rpcServer('TabletServer', {
      LoadTable: (b) => {
        const m = b['table_meta'] as Json;
        const key = `${String(m['tid'])}_${String(m['pid'])}`;
        if (loaded.has(key)) return { code: 101, msg: 'table already exists' };
        loaded.add(key);
        return ok;
      },
    });
    const run = (cmd: string, env: Record<string, string> = MODERN) => runCli(tc(tab.address, cmd), { env }).then((r) => r.stdout);
    assert.equal(await run('loadtable t1 3 0 144000 8'), 'LoadTable ok\n');
    assert.equal(await run('loadtable t1 3 0 144000 8'), 'Fail to LoadTable: ReturnCode[101]table already exists\n');
    assert.equal(await run('loadtable t1 3 0 144000 8', OLD), 'Fail to LoadTable\n');
    assert.equal(await run('loadtable t1 3 1 0 16 false extra'), 'LoadTable ok\n');
    assert.deepEqual(tab.calls[0]?.body, { table_meta: { name: 't1', tid: 3, pid: 0, seg_cnt: 8, mode: 'kTableLeader' } });
    assert.deepEqual(tab.calls[3]?.body, { table_meta: { name: 't1', tid: 3, pid: 1, seg_cnt: 16, mode: 'kTableFollower' } });
    assert.equal(tab.calls[0]?.path, '/TabletServer/LoadTable');
  });

  test('gettablestatus: all, one, the bogus row of an unloaded partition, 2018 texts', async () => {
    const statuses = [
      { tid: 3, pid: 0, offset: 1024, mode: 'kTableLeader', state: 'kTableNormal', is_expire: false, record_cnt: 512, record_byte_size: 80000, record_idx_byte_size: 5504, compress_type: 'kNoCompress', skiplist_height: 1, storage_mode: 'kMemory' },
      { tid: 3, pid: 1, offset: 998, mode: 'kTableFollower', state: 'kTableLoading', skiplist_height: 1 },
    ];
    const tab = await rpcServer('TabletServer', {
      GetTableStatus: (b) => {
        const list = statuses.filter((s) => (b['tid'] === undefined || s.tid === b['tid']) && (b['pid'] === undefined || s.pid === b['pid']));
        return list.length > 0 ? { all_table_status: list, code: 0 } : { code: 0 };
      },
    });
    const run = (cmd: string, env: Record<string, string> = MODERN) => runCli(tc(tab.address, cmd), { env }).then((r) => r.stdout);
    assert.equal(
      trimLines(await run('gettablestatus')),
      '  tid  pid  offset  mode            state          enable_expire  ttl   ttl_offset  memused   compress_type  skiplist_height\n' +
        '------------------------------------------------------------------------------------------------------------------------------\n' +
        '  3    0    1024    kTableLeader    kTableNormal   false          0min  0s          83.500 K  kNoCompress    1\n' +
        '  3    1    998     kTableFollower  kTableLoading  false          0min  0s          0.000     kNoCompress    1\n',
    );
    assert.equal(
      trimLines(await run('gettablestatus 9 9')),
      '  tid  pid  offset  mode          state            enable_expire  ttl   ttl_offset  memused  compress_type  skiplist_height\n' +
        '-----------------------------------------------------------------------------------------------------------------------------\n' +
        '  0    0    0       kTableLeader  kTableUndefined  false          0min  0s          0.000    kNoCompress    0\n',
    );
    assert.equal(
      trimLines(await run('gettablestatus 9 9', OLD)),
      'gettablestatus failed\n  tid  pid  offset  mode  state  enable_expire  ttl  ttl_offset  memused  compress_type\n' + '-'.repeat(89) + '\n',
    );
    assert.equal(
      trimLines(await run('gettablestatus 3 1', OLD)),
      '  tid  pid  offset  mode            state          enable_expire  ttl   ttl_offset  memused  compress_type\n' +
        '-'.repeat(108) +
        '\n' +
        '  3    1    998     kTableFollower  kTableLoading  false          0min  0s          0.000    kNoCompress\n',
    );
    assert.deepEqual(tab.calls[1]?.body, { tid: 9, pid: 9, need_schema: false });
    assert.deepEqual(tab.calls[0]?.body, {});
  });

  test('gettablestatus when the tablet is down; getfollower', async () => {
    const tab = await rpcServer('TabletServer', {
      GetTableStatus: () => ({ $destroy: true }),
      GetTableFollower: (b) =>
        b['pid'] === 0
          ? { code: 0, msg: 'ok', offset: 1024, follower_info: [{ endpoint: '172.27.2.54:9520', offset: 1000 }, { endpoint: '172.27.2.53:9520', offset: 1024 }] }
          : { code: 134, msg: 'has no follower' },
    });
    const a = tab.address;
    const down = await runCli(tc(a, 'gettablestatus 3 0'));
    const lines = down.stdout.split('\n');
    assert.match(lines[0] as string, /^gettablestatus failed, error msg: \[E111\]Fail to connect Socket\{id=0 addr=127\.0\.0\.1:\d+\} \(0x0x[0-9a-f]+\): Connection refused \[R1\]\[E112\]Not connected to 127\.0\.0\.1:\d+ yet, server_id=0$/);
    assert.equal(lines.length, 4, 'then the empty table');
    const old = await runCli(tc(a, 'gettablestatus'), { env: OLD });
    assert.equal(old.stdout, 'gettablestatus failed\n');
    assert.equal(
      (await runCli(tc(a, 'getfollower 3 0'))).stdout,
      '  #  tid  pid  leader_offset  follower          offset\n' +
        '--------------------------------------------------------\n' +
        '  0  3    0    1024           172.27.2.53:9520  1024  \n' +
        '  1  3    0    1024           172.27.2.54:9520  1000  \n',
    );
    assert.equal((await runCli(tc(a, 'getfollower 3 1'))).stdout, 'get failed, error msg: has no follower\n');
  });

  test('interactive tablet client: banner, commands from stdin, returns at end of input', async () => {
    const tab = await rpcServer('TabletServer', { GetTableStatus: () => ({ code: 0 }) });
    const r = await runCli(['--role=client', `--endpoint=${tab.address}`, '--cmd=loadtable t 1 0 0 8'], { stdin: 'gettablestatus\n' });
    assert.equal(r.code, 0);
    assert.equal(
      trimLines(r.stdout),
      'Welcome to openmldb with version 0.9.3-sim\n  tid  pid  offset  mode  state  enable_expire  ttl  ttl_offset  memused  compress_type  skiplist_height\n' +
        '-'.repeat(106) +
        '\n',
    );
    assert.deepEqual(
      tab.calls.map((c) => c.method),
      ['GetTableStatus'],
    );
  });
});

describe('sql_client against fakes', { concurrency: true }, () => {
  test('start-up table check, show table status with Warnings, use', async () => {
    const tabA = await rpcServer('TabletServer', {
      GetTableStatus: () => ({
        code: 0,
        all_table_status: [
          { tid: 3, pid: 0, mode: 'kTableLeader', state: 'kTableNormal' },
          { tid: 1, pid: 0, mode: 'kTableLeader', state: 'kTableNormal' },
        ],
      }),
      GetTableFollower: (b) =>
        b['tid'] === 3 ? { code: 0, msg: 'ok', offset: 10, follower_info: [] } : { code: 134, msg: 'has no follower' },
    });
    const tabB = await rpcServer('TabletServer', {
      GetTableStatus: () => ({ code: 0, all_table_status: [{ tid: 3, pid: 0, mode: 'kTableFollower', state: 'kTableLoading' }] }),
      GetTableFollower: () => ({ code: 100, msg: 'table does not exist' }),
    });
    const A = tabA.address;
    const B = tabB.address;
    const tables = [
      {
        name: 'USER',
        tid: 1,
        db: '__INTERNAL_DB',
        partition_num: 1,
        replica_num: 1,
        table_partition: [{ pid: 0, partition_meta: [{ endpoint: A, is_leader: true }], record_cnt: 1, record_byte_size: 100 }],
      },
      {
        name: 't1',
        tid: 3,
        db: 'db1',
        partition_num: 1,
        replica_num: 2,
        storage_mode: 'kSSD',
        table_partition: [
          {
            pid: 0,
            partition_meta: [
              { endpoint: A, is_leader: true, is_alive: true },
              { endpoint: B, is_leader: false, is_alive: false },
            ],
            record_cnt: 2,
            record_byte_size: 479,
            diskused: 100,
          },
        ],
      },
      { name: 't2', tid: 4, db: 'db1', partition_num: 1, replica_num: 1, table_partition: [{ pid: 0, partition_meta: [{ endpoint: B, is_leader: true }] }] },
    ];
    const nsSrv = await rpcServer('NameServer', {
      ShowTable: () => ({ table_info: tables, ...ok }),
      UseDatabase: (b) => (b['db'] === 'db1' ? ok : { code: 802, msg: 'database not found' }),
    });
    const reg = await registry({
      '/openmldb/leader/ns_0000000001': nsSrv.address,
      [`/openmldb/nodes/${A}`]: 'x',
      [`/openmldb/nodes/${B}`]: 'x',
    });
    const sql = (cmd: string, db = 'db1') =>
      runCli(['--role=sql_client', `--zk_cluster=${reg.address}`, '--zk_root_path=/openmldb', `--database=${db}`, '--interactive=false', `--cmd=${cmd}`]);
    const r = await sql('show table status;');
    const t1w = `[pid=0][follower][${B}]: not connected to leader`;
    const t2w = `[pid=0]: real replica number 0 does not match the configured replicanum 1\n[pid=0]: fail to get from tablet: table does not exist`;
    const preamble =
      `ERROR: table db1.t2 is broken, \`show table status\` to check detail, warning preview: ${t2w.slice(0, 100)}\n` +
      `ERROR: table db1.t1 is broken, \`show table status\` to check detail, unalive partition: 1, warning preview: ${t1w.slice(0, 100)}\n` +
      'HINT: Use `openmldb_tool inspect` to get full report.\n';
    assert.ok(r.stdout.startsWith(preamble), r.stdout);
    const table = r.stdout.slice(preamble.length);
    const lines = table.split('\n');
    assert.equal(
      lines[1]?.trimEnd(),
      '  Table_id   Table_name   Database_name   Storage_type   Rows   Memory_data_size   Disk_data_size   Partition   Partition_unalive   Replica   Offline_path   Offline_format   Offline_symbolic_paths   Warnings',
    );
    assert.match(lines[3] as string, /^ {2}4 {10}t2 {11}db1 {13}memory {9}0 {6}0 {18}0 {16}1 {11}0 {19}1 {9}NULL {11}NULL {13}NULL {21}\[pid=0\]: real replica number 0/);
    assert.match(lines[4] as string, /^ {2}\s+\[pid=0\]: fail to get from tablet: table does not exist\s*$/);
    assert.match(lines[5] as string, /^ {2}3 {10}t1 {11}db1 {13}ssd {12}2 {6}479 {16}100 {14}1 {11}1 {19}2 /);
    assert.ok(table.endsWith(' \n\n2 rows in set\n'));
    assert.equal(lines[0], lines[2]);
    assert.equal(lines[0], lines[6]);
    assert.deepEqual(nsSrv.calls.find((c) => c.method === 'ShowTable')?.body, { db: '', show_all: true });

    const u = await sql('use db1;', '');
    assert.ok(u.stdout.endsWith('HINT: Use `openmldb_tool inspect` to get full report.\nSUCCEED: Database changed\n'));
    const bad = await sql('use nodb;', '');
    assert.ok(bad.stdout.endsWith('\nError: [2000] Use database failed for database not found\n'));
    const other = await sql('select 1;');
    assert.match(other.stdout, /\nError: \[2000\] .*select 1;\n$/);
  });
});
