// The transport on its own, with tiny stand-in programs and a local HTTP server: argv
// passing, timeouts, a missing binary, HTTP error mapping, the credential, the log.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OpenMLDBClient } from '../../src/cluster/client.js';
import { BinaryMissing, ClusterUnreachable, CommandError } from '../../src/cluster/errors.js';
import { CLI_PROCESSES, CommandLog, Transport } from '../../src/cluster/transport.js';
import { credential } from '../../src/cluster/command-line.js';

let dir: string;

/** An address nobody listens on (fetch refuses "bad ports" such as 1 by itself). */
async function closedPort(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}
const script = (name: string, body: string, mode = 0o755): string => {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
};
const transport = (bin: string, extra: Partial<ConstructorParameters<typeof Transport>[0]> = {}) =>
  new Transport({ bin, zkCluster: '127.0.0.1:2181', zkRootPath: '/openmldb', ...extra });

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'openmldb-transport-test-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Transport: the binary', () => {
  it('passes every argument as one argv element, uninterpreted by a shell', async () => {
    const bin = script('echo-args', `for a in "$@"; do printf '%s\\n' "$a"; done`);
    const marker = join(dir, 'pwned');
    const cmd = `showtable $(touch ${marker}) ; 'x' "y" \`z\` *`;
    const out = await transport(bin).ns(cmd, 'my db');
    assert.deepEqual(out.stdout.split('\n').filter((l) => l !== ''), [
      '--zk_cluster=127.0.0.1:2181',
      '--zk_root_path=/openmldb',
      '--role=ns_client',
      '--interactive=false',
      `--cmd=${cmd}`,
      '--database=my db',
    ]);
    assert.equal(existsSync(marker), false);
    const tab = await transport(bin).tablet('127.0.0.1:9527', 'gettablestatus 1 0');
    assert.deepEqual(tab.stdout.trim().split('\n'), ['--endpoint=127.0.0.1:9527', '--role=client', '--interactive=false', '--cmd=gettablestatus 1 0']);
  });

  it(`runs at most ${CLI_PROCESSES} binaries at once; the rest wait their turn`, async () => {
    const runs = mkdtempSync(join(dir, 'runs-'));
    const release = join(runs, 'release');
    // Each run notes how many runs were under way when it started, then blocks until released.
    const bin = script(
      'counts-peers',
      `touch ${runs}/s.$$; s=$(ls ${runs} | grep -c '^s\\.'); d=$(ls ${runs} | grep -c '^d\\.'); echo $((s - d)) > ${runs}/n.$$; while [ ! -e ${release} ]; do sleep 0.05; done; touch ${runs}/d.$$; echo ok`,
    );
    const t = transport(bin);
    const calls = Array.from({ length: 3 * CLI_PROCESSES }, (_, i) => t.tablet('127.0.0.1:9527', `gettablestatus ${i} 0`));
    const started = () => readdirSync(runs).filter((f) => f.startsWith('s.')).length;
    while (started() < CLI_PROCESSES) await new Promise((r) => setTimeout(r, 20));
    writeFileSync(release, '');
    const outs = await Promise.all(calls);
    assert.ok(outs.every((o) => o.stdout.trim() === 'ok'));
    const peers = readdirSync(runs).filter((f) => f.startsWith('n.')).map((f) => Number(readFileSync(join(runs, f), 'utf8')));
    assert.equal(peers.length, 3 * CLI_PROCESSES);
    assert.ok(Math.max(...peers) <= CLI_PROCESSES, `at most ${CLI_PROCESSES} at once: ${peers.join(' ')}`);
  });

  it('stdin is closed: a binary stuck reading it gets EOF instead of the terminal', async () => {
    const bin = script('reads-stdin', 'cat; echo done');
    assert.equal((await transport(bin, { timeoutMs: 5000 }).ns('showns')).stdout, 'done\n');
  });

  it('kills a command that outlives its timeout and raises a transient error', async () => {
    const pidFile = join(dir, 'sleeper.pid');
    const bin = script('sleeper', `echo $$ > ${pidFile}; exec sleep 30`);
    const t0 = Date.now();
    await assert.rejects(transport(bin, { timeoutMs: 700 }).tablet('127.0.0.1:1', 'gettablestatus'), (e: unknown) => {
      assert.ok(e instanceof CommandError, String(e));
      assert.equal(e.transient, true);
      assert.equal(e.kind, 'rpc');
      assert.equal(e.endpoint, '127.0.0.1:1');
      assert.match(e.message, /killed/);
      return true;
    });
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.throws(() => process.kill(pid, 0), 'the process is gone');
  });

  it('a missing or non-executable binary is BinaryMissing, before anything runs', async () => {
    const log = new CommandLog();
    await assert.rejects(transport(join(dir, 'nope'), { log }).ns('showns'), (e: unknown) => e instanceof BinaryMissing && /does not exist/.test(e.message) && !e.transient);
    const plain = script('not-executable', 'echo hi', 0o644);
    await assert.rejects(transport(plain, { log }).ns('showns'), (e: unknown) => e instanceof BinaryMissing && /not executable/.test(e.message));
    await assert.rejects(transport(dir, { log }).ns('showns'), (e: unknown) => e instanceof BinaryMissing && /not a file/.test(e.message));
    assert.equal(log.entries.length, 0);
    // Through the client as well.
    await assert.rejects(new OpenMLDBClient({ bin: join(dir, 'nope'), zkCluster: 'x:1', zkRootPath: '/x' }).showNs(), BinaryMissing);
  });

  it('gflags rejection (exit 1) is a permanent bad_format error', async () => {
    const bin = script('gflags', `echo "ERROR: unknown command line flag 'interactive'" >&2; exit 1`);
    await assert.rejects(transport(bin).ns('showns'), (e: unknown) => e instanceof CommandError && e.kind === 'bad_format' && !e.transient && /unknown command line flag/.test(e.message));
  });

  it('ns_client start-up failures become ClusterUnreachable', async () => {
    const zk = script('zk-down', 'echo "zk client init failed"');
    await assert.rejects(new OpenMLDBClient({ bin: zk, zkCluster: '10.0.0.1:2181', zkRootPath: '/openmldb' }).showTablet(), (e: unknown) => e instanceof ClusterUnreachable && e.reason === 'zookeeper' && /10\.0\.0\.1:2181/.test(e.message));
    const root = script('no-leader', 'echo "get children failed"');
    await assert.rejects(new OpenMLDBClient({ bin: root, zkCluster: 'h:1', zkRootPath: '/wrong' }).confGet(), (e: unknown) => e instanceof ClusterUnreachable && e.reason === 'no-nameserver');
  });

  it('logs every run with argv and output, and tells listeners', async () => {
    const bin = script('hello', 'echo "ns leader: 1.2.3.4:7527"; echo hello; echo noise >&2');
    const log = new CommandLog();
    const heard: number[] = [];
    log.onEntry((e) => heard.push(e.seq));
    await transport(bin, { log }).ns('showtablet');
    const [e] = log.entries;
    assert.ok(e);
    assert.deepEqual(heard, [1]);
    assert.equal(e.kind, 'cli');
    assert.equal(e.command, 'showtablet');
    assert.match(e.request, /--role=ns_client/);
    assert.equal(e.output, 'ns leader: 1.2.3.4:7527\nhello\n');
    assert.equal(e.stderr, 'noise\n');
    assert.equal(e.exitCode, 0);
  });
});

describe('Transport: HTTP', () => {
  let server: http.Server;
  let address: string;
  const seen: Array<{ url: string; auth: string | undefined; body: string }> = [];
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', auth: req.headers['authorization'], body });
        const method = (req.url ?? '').split('/')[2];
        if (method === 'Slow') return void setTimeout(() => res.end('{}'), 3000);
        if (method === 'Busy') return void res.writeHead(503).end('[E1008]Reached timeout');
        if (method === 'Missing') return void res.writeHead(404).end("[E1002]Fail to find method on `/x'");
        if (method === 'Garbage') return void res.end('not json');
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ code: 0, msg: 'ok', echo: JSON.parse(body || '{}') }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('POSTs JSON to /<Service>/<Method> with the Authorization credential', async () => {
    const reply = await transport('/bin/true').http('tablet', address, 'GetTermPair', { tid: 3, pid: 0, storage_mode: 'kSSD' });
    assert.deepEqual(reply['echo'], { tid: 3, pid: 0, storage_mode: 'kSSD' });
    const last = seen[seen.length - 1];
    assert.equal(last?.url, '/TabletServer/GetTermPair');
    assert.equal(last?.auth, 'uroot:1e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    await transport('/bin/true', { user: 'ops', password: 'secret' }).http('ns', address, 'ShowTable', {});
    assert.equal(seen[seen.length - 1]?.url, '/NameServer/ShowTable');
    assert.equal(seen[seen.length - 1]?.auth, credential('ops', 'secret'));
    assert.match(credential('ops', 'secret'), /^uops:1[0-9a-f]{64}$/);
  });

  it('maps failures: refused, timeout and 5xx are transient; 4xx is permanent; non-JSON is a ParseError', async () => {
    const t = transport('/bin/true', { timeoutMs: 500 });
    const closed = await closedPort();
    await assert.rejects(t.http('tablet', closed, 'GetTermPair', {}), (e: unknown) => e instanceof CommandError && e.transient && e.kind === 'rpc' && /refused/.test(e.message));
    await assert.rejects(t.http('tablet', address, 'Slow', {}), (e: unknown) => e instanceof CommandError && e.transient && /no reply within/.test(e.message));
    await assert.rejects(t.http('tablet', address, 'Busy', {}), (e: unknown) => e instanceof CommandError && e.transient && /HTTP 503/.test(e.message));
    await assert.rejects(t.http('tablet', address, 'Missing', {}), (e: unknown) => e instanceof CommandError && !e.transient && /HTTP 404/.test(e.message));
    await assert.rejects(t.http('tablet', address, 'Garbage', {}), (e: unknown) => (e as Error).name === 'ParseError');
    // No port is off limits (fetch refused the WHATWG "bad ports" such as 10080 without trying).
    await assert.rejects(t.http('tablet', '127.0.0.1:10080', 'GetTermPair', {}), (e: unknown) => e instanceof CommandError && e.transient && !/bad port/.test(e.message));
    await assert.rejects(t.http('tablet', closed, 'LoadTable', {}), (e: unknown) => e instanceof CommandError && e.mayHaveApplied);
  });
});
