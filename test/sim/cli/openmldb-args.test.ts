// The stand-in `openmldb` binary without any server: flags, roles, argument validation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseFlags } from '../../../src/sim/cli/openmldb/flags.js';
import { fromCharsU32, lexicalCastInt32, lexicalCastUnsigned, splitString } from '../../../src/sim/cli/openmldb/util.js';
import { runCli } from './run-cli.js';

const NOWHERE = '127.0.0.1:1';
const BANNER = 'Welcome to openmldb with version 0.9.3-sim';

describe('gflags-style parsing', () => {
  test('forms of flags', () => {
    const p = parseFlags(['--role=ns_client', '-endpoint=1.2.3.4:5', '--cmd', 'showtable t1', '--nointeractive', 'pos', '--database', 'db1']);
    assert.equal(p.errors, '');
    assert.equal(p.values.get('role'), 'ns_client');
    assert.equal(p.values.get('endpoint'), '1.2.3.4:5');
    assert.equal(p.values.get('cmd'), 'showtable t1');
    assert.equal(p.values.get('interactive'), false);
    assert.equal(p.values.get('database'), 'db1');
    assert.deepEqual(p.positional, ['pos']);
    assert.ok(p.explicit.has('cmd') && !p.explicit.has('user'));
  });
  test('defaults', () => {
    const p = parseFlags([]);
    assert.equal(p.values.get('interactive'), true);
    assert.equal(p.values.get('zk_root_path'), '/openmldb');
    assert.equal(p.values.get('zk_session_timeout'), 2000);
    assert.equal(p.values.get('request_timeout_ms'), 20000);
    assert.equal(p.values.get('request_timeout'), 600000);
    assert.equal(p.values.get('max_col_display_length'), 256);
    assert.equal(p.values.get('user'), 'root');
  });
  test('a boolean does not take the next argument', () => {
    const p = parseFlags(['--interactive', 'false']);
    assert.equal(p.values.get('interactive'), true);
    assert.deepEqual(p.positional, ['false']);
  });
  test('errors are sorted by flag name', () => {
    const p = parseFlags(['--zzz=1', '--aaa', '--interactive=maybe', '--request_timeout_ms=x', '--noendpoint']);
    assert.equal(
      p.errors,
      "ERROR: unknown command line flag 'aaa'\n" +
        "ERROR: illegal value 'maybe' specified for bool flag 'interactive'\n" +
        'ERROR: boolean value (noendpoint) specified for string command line flag\n' +
        "ERROR: illegal value 'x' specified for int32 flag 'request_timeout_ms'\n" +
        "ERROR: unknown command line flag 'zzz'\n",
    );
  });
  test('--undefok and --', () => {
    assert.equal(parseFlags(['--undefok=foo', '--foo=1']).errors, '');
    assert.deepEqual(parseFlags(['--', '--foo']).positional, ['--foo']);
  });
  test('missing argument', () => {
    assert.equal(parseFlags(['--endpoint']).errors, "ERROR: flag '--endpoint' is missing its argument\n");
  });
});

describe('C++ number parsing', () => {
  test('SplitString on single spaces', () => {
    assert.deepEqual(splitString('  showtable   t1 '), ['showtable', 't1']);
    assert.deepEqual(splitString('a\tb'), ['a\tb']);
  });
  test('std::from_chars reads the leading digits', () => {
    assert.equal(fromCharsU32('12x'), 12);
    assert.equal(fromCharsU32('-1'), undefined);
    assert.equal(fromCharsU32('+1'), undefined);
    assert.equal(fromCharsU32('4294967295'), 4294967295);
    assert.equal(fromCharsU32('4294967296'), undefined);
  });
  test('boost::lexical_cast', () => {
    assert.equal(lexicalCastInt32('-3'), -3);
    assert.equal(lexicalCastInt32('3x'), undefined);
    assert.equal(lexicalCastInt32('3000000000'), undefined);
    assert.equal(lexicalCastUnsigned('-1', 32), 4294967295n);
    assert.equal(lexicalCastUnsigned('8', 32), 8n);
  });
});

describe('the binary without servers', { concurrency: true }, () => {
  test('unknown flag: stderr and exit 1', async () => {
    const r = await runCli(['--role=ns_client', '--bogus=1']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, "ERROR: unknown command line flag 'bogus'\n");
  });
  test('--version', async () => {
    const r = await runCli(['--version', '--bogus']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'openmldb version 0.9.3-sim\n');
    const old = await runCli(['--version'], { env: { OPENMLDB_SIM_DIALECT: '2018' } });
    assert.equal(old.stdout, 'openmldb version 0.2.2-sim\n');
  });
  test('roles', async () => {
    assert.equal((await runCli(['--role=foo'])).stdout, 'Invalid role: foo\n');
    assert.equal((await runCli([])).stdout, 'client start in stand-alone mode\nERROR: Host or port is missing\n');
    const ns = await runCli(['--role=ns_client', '--interactive=false', '--cmd=showtable']);
    assert.equal(ns.stdout, 'Start failed! not set endpoint or zk_cluster\n');
    assert.equal(ns.code, 0);
    const tc = await runCli(['--role=client', '--interactive=false', '--cmd=gettablestatus']);
    assert.equal(tc.stdout, 'Start failed! not set endpoint\n');
  });
  test('zk client init failed when no registry answers within --zk_session_timeout', async () => {
    const t0 = Date.now();
    const r = await runCli(['--role=ns_client', `--zk_cluster=${NOWHERE}`, '--zk_session_timeout=400', '--interactive=false', '--cmd=showtablet']);
    assert.equal(r.stdout, 'zk client init failed\n');
    assert.ok(Date.now() - t0 >= 400);
    const sql = await runCli(['--role=sql_client', `--zk_cluster=${NOWHERE}`, '--zk_session_timeout=200', '--cmd=show table status;']);
    assert.equal(sql.stdout, 'ERROR: Failed to connect to db\n');
  });
  test('sql_client --user without --password prompts and fails on a non-terminal stdin', async () => {
    const r = await runCli(['--role=sql_client', `--zk_cluster=${NOWHERE}`, '--user=root', '--cmd=show table status;']);
    assert.equal(r.stdout, 'Please enter password:\ntcgetattr execute failed!\n');
  });
  test('ns_client argument validation (interactive session fed on stdin)', async () => {
    const lines = [
      'updatetablealive t1 0 ep',
      'updatetablealive t1 0 ep maybe',
      'updatetablealive t1 x ep no',
      '/a comment line',
      '',
      'recovertable t1 0',
      'recovertable t1 -1 ep',
      'changeleader t1',
      'changeleader t1 abc',
      'offlineendpoint',
      'offlineendpoint ep 0',
      'offlineendpoint ep -3',
      'offlineendpoint ep abc',
      'recoverendpoint',
      'recoverendpoint ep maybe',
      'recoverendpoint ep TRUE x',
      'confset auto_failover',
      'showopstatus t1 x',
      'cancelop',
      'cancelop x',
      'deleteop',
      'deleteop doing',
      'addreplica t1 0',
      'addreplica t1 a-b ep',
      'migrate ep t1 0 ep',
      'foo bar',
      'showns',
      'quit',
      'showtable',
    ];
    const r = await runCli(['--role=ns_client', `--endpoint=${NOWHERE}`], { stdin: lines.join('\n') + '\n' });
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      [
        BANNER,
        'Bad format',
        'is_alive should be yes or no',
        'Invalid args. pid should be uint32_t',
        'Bad format',
        'Invalid args. pid should be uint32_t',
        'Bad format',
        'Invalid args. pid should be uint32_t',
        'Bad format',
        'Invalid args. concurrency should be greater than 0',
        'Invalid args. concurrency should be greater than 0',
        'Invalid args. concurrency should be uint32_t',
        'Bad format',
        'Invalid args. need_restore should be true or false',
        'Invalid args. concurrency should be uint32',
        'Bad format',
        'Invalid args. pid should be uint32_t',
        'bad cancelop format, eg cancelop 1002',
        'Invalid args. op_id should be uint64_t',
        'bad deleteop format, eg: deleteop 1002, deleteop doing',
        'invalid args',
        'Bad format',
        'pid group[a-b] format error',
        'migrate error. src_endpoint is same as des_endpoint',
        'unsupported cmd',
        'Show nameserver failed. zk_cluster is empty',
        'bye',
        '',
      ].join('\n'),
    );
  });
  test('ns_client validation, 2018 dialect differences', async () => {
    const r = await runCli(['--role=ns_client', `--endpoint=${NOWHERE}`, '--interactive=false', '--cmd=showopstatus t1 x'], {
      env: { OPENMLDB_SIM_DIALECT: '2018' },
    });
    assert.equal(r.stdout, 'Invalid args pid should be uint32_t\n');
    const c = await runCli(['--role=ns_client', `--endpoint=${NOWHERE}`, '--interactive=false', '--cmd=recoverendpoint ep true 0'], {
      env: { OPENMLDB_SIM_DIALECT: '2018' },
    });
    assert.equal(c.stdout, 'Invalid args. concurrency should be greater than 0\n');
  });
  test('tablet client argument validation', async () => {
    const lines = [
      'loadtable t 1 0 144000',
      'loadtable t 1 0 144000 8 maybe',
      'loadtable t x 0 144000 8',
      'loadtable t 1 0 abc 8',
      'gettablestatus 1',
      'gettablestatus x 0',
      'gettablestatus 1 y',
      'getfollower 1',
      'getfollower 1 x',
      'makesnapshot 1',
      'makesnapshot 1 x',
      'makesnapshot 1 0',
      'pausesnapshot 1 0',
      'exit',
    ];
    const r = await runCli(['--role=client', `--endpoint=${NOWHERE}`], { stdin: lines.join('\n') });
    assert.equal(
      r.stdout,
      [
        BANNER,
        'Bad LoadTable format eg loadtable <name> <tid> <pid> <ttl> <seg_cnt> [<is_leader>]',
        'Bad LoadTable format eg loadtable <name> <tid> <pid> <ttl> <seg_cnt> [<is_leader>]',
        'Bad LoadTable format',
        'Bad LoadTable format',
        'Bad gettablestatus format',
        'Invalid args, tid should be uint32_t',
        'Invalid args, pid should be uint32_t',
        'Bad get follower format',
        'Invalid args, pid should be uint32_t',
        'Bad MakeSnapshot format',
        'Invalid args, pid should be uint32_t',
        'Fail to MakeSnapshot',
        'unsupported cmd',
        'bye',
        '',
      ].join('\n'),
    );
    const old = await runCli(['--role=client', `--endpoint=${NOWHERE}`, '--interactive=false', '--cmd=gettablestatus x 0'], {
      env: { OPENMLDB_SIM_DIALECT: '2018' },
    });
    assert.equal(old.stdout, 'Bad gettablestatus format\n');
  });
  test('--interactive false: a boolean flag ignores the separate value, so the prompt reads stdin', async () => {
    const r = await runCli(['--role=client', `--endpoint=${NOWHERE}`, '--interactive', 'false', '--cmd=foo'], { stdin: 'bar\n' });
    assert.equal(r.stdout, `${BANNER}\nunsupported cmd\n`);
    const n = await runCli(['--role=client', `--endpoint=${NOWHERE}`, '--nointeractive', '--cmd=foo']);
    assert.equal(n.stdout, 'unsupported cmd\n');
  });
  test('a refused RPC prints the brpc error text (Status commands) or nothing (bool commands)', async () => {
    const st = await runCli(['--role=client', `--endpoint=${NOWHERE}`, '--interactive=false', '--cmd=gettablestatus']);
    assert.match(
      st.stdout,
      /^gettablestatus failed, error msg: \[E111\]Fail to connect Socket\{id=0 addr=127\.0\.0\.1:1\} \(0x0x[0-9a-f]+\): Connection refused \[R1\]\[E112\]Not connected to 127\.0\.0\.1:1 yet, server_id=0\n$/,
    );
    assert.match(st.stderr, /request error\. \[E111\]/);
    const b = await runCli(['--role=ns_client', `--endpoint=${NOWHERE}`, '--interactive=false', '--cmd=offlineendpoint 1.2.3.4:5']);
    assert.equal(b.stdout, 'failed to offline endpoint. error msg: \n');
    const db = await runCli(['--role=ns_client', `--endpoint=${NOWHERE}`, '--interactive=false', '--database=db1', '--cmd=recovertable t1 0 1.2.3.4:5']);
    // UseDatabase failed first, so the socket is already marked failed
    assert.equal(
      db.stdout,
      'Fail to recover table. error msg:[E112]Not connected to 127.0.0.1:1 yet, server_id=0 [R1][E112]Not connected to 127.0.0.1:1 yet, server_id=0\n',
    );
    const bad = await runCli(['--role=ns_client', '--endpoint=no-port', '--interactive=false', '--cmd=showtablet']);
    assert.equal(bad.stdout, 'client init failed\n');
  });
});
