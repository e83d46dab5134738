// The stand-in `openmldb` binary against the real simulator (`openmldb-sim up`, run from
// source so that no build is needed): registry look-ups, the brpc HTTP+JSON methods,
// and injected faults as the binary prints them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO, runCli, trimLines } from './run-cli.js';

const exec = promisify(execFile);
const SIM_CLI = resolve(REPO, 'src/sim/cli/openmldb-sim.ts');

interface SimInfo {
  zkCluster: string;
  zkRootPath: string;
  bin: string;
  nameservers: Array<{ endpoint: string; address: string }>;
  tablets: Array<{ endpoint: string; address: string }>;
}

let dir = '';
let info: SimInfo;

async function sim(args: string[]): Promise<string> {
  const r = await exec(process.execPath, ['--import', 'tsx', SIM_CLI, ...args, '--dir', dir], { cwd: REPO, timeout: 60000 });
  return r.stdout;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openmldb-cli-'));
  await sim(['up', '--scenario', 'healthy']);
  info = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as SimInfo;
});

after(async () => {
  await sim(['down']).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const ns = (cmd: string, extra: string[] = []) =>
  runCli(['--role=ns_client', `--zk_cluster=${info.zkCluster}`, `--zk_root_path=${info.zkRootPath}`, '--interactive=false', ...extra, `--cmd=${cmd}`]);

describe('against openmldb-sim', () => {
  test('ZK look-ups: ns leader, showns, showtablet', async () => {
    const r = await ns('showns');
    const lines = trimLines(r.stdout).split('\n');
    const leader = /^ns leader: (\S+)$/.exec(lines[0] as string)?.[1];
    assert.ok(leader !== undefined && info.nameservers.some((n) => n.endpoint === leader));
    assert.equal(lines[1], '  endpoint         real_endpoint  role');
    assert.match(lines[3] as string, new RegExp(`^  ${leader.replace(/\./g, '\\.')}  -              leader$`));
    assert.match(lines[4] as string, /^ {2}\S+ {2}- {14}standby$/);

    const t = trimLines((await ns('showtablet')).stdout).split('\n');
    assert.equal(t[1], '  endpoint         real_endpoint  state     age');
    const rows = t.slice(3).filter((l) => l !== '');
    assert.equal(rows.length, info.tablets.length);
    for (const row of rows) assert.match(row, /^ {2}127\.0\.0\.1:\d+ {2}- {14}kHealthy {2}\d+(ms|s|m)$/);
  });

  test('showdb, confget, showtable with --database', async () => {
    assert.match((await ns('showdb')).stdout, /\n {2}1 {2}demo_db/);
    assert.match((await ns('confget auto_failover')).stdout, /\n {2}auto_failover {2}true \n$/);
    const st = trimLines((await ns('showtable t0', ['--database=demo_db'])).stdout).split('\n');
    assert.equal(st[1], '  name  tid  pid  endpoint         role      is_alive  offset  record_cnt  memused    diskused');
    const rows = st.slice(3).filter((l) => l !== '');
    assert.ok(rows.length > 0);
    for (const row of rows) assert.match(row, /^ {2}t0 {4}\d+ +\d+ +127\.0\.0\.1:\d+ {2}(leader {4}|follower {2})yes {7}\d+/);
    // the wrong database is silently ignored: only default-db tables (none) are listed
    const none = trimLines((await ns('showtable t0', ['--database=nodb'])).stdout).split('\n');
    assert.equal(none.length, 4);
  });

  test('tablet client: gettablestatus and the bogus row', async () => {
    const tablet = info.tablets[0]?.address as string;
    const r = await runCli(['--role=client', `--endpoint=${tablet}`, '--interactive=false', '--cmd=gettablestatus']);
    const lines = trimLines(r.stdout).split('\n');
    assert.equal(lines[0], '  tid  pid  offset  mode            state         enable_expire  ttl   ttl_offset  memused    compress_type  skiplist_height');
    assert.ok(lines.slice(2).some((l) => / kTableNormal /.test(l)));
    const bogus = await runCli(['--role=client', `--endpoint=${tablet}`, '--interactive=false', '--cmd=gettablestatus 999 0']);
    assert.match(trimLines(bogus.stdout), /\n {2}0 {4}0 {4}0 {7}kTableLeader {2}kTableUndefined {2}false {10}0min {2}0s {10}0\.000 {4}kNoCompress {4}0\n$/);
  });

  test('sql_client show table status', async () => {
    const r = await runCli([
      '--role=sql_client',
      `--zk_cluster=${info.zkCluster}`,
      `--zk_root_path=${info.zkRootPath}`,
      '--database=demo_db',
      '--cmd=show table status;',
    ]);
    assert.match(r.stdout, /^ -{10} /);
    assert.match(r.stdout, /\n\n3 rows in set\n$/);
  });

  test('faults and refusals as the binary prints them', async () => {
    await sim(['ctl', 'fail', '--method', 'ShowTablet', '--kind', 'timeout', '--count', '1']);
    assert.match((await ns('showtablet')).stdout, /\nFail to show tablets\. error msg: \n$/);
    await sim(['ctl', 'fail', '--method', 'RecoverTable', '--kind', 'refused', '--count', '1']);
    const refused = await ns('recovertable t0 0 127.0.0.1:1', ['--database=demo_db']);
    assert.match(refused.stdout, /\nFail to recover table\. error msg:\[E111\]Fail to connect Socket\{id=0 addr=127\.0\.0\.1:\d+\} \(0x0x[0-9a-f]+\): Connection refused \[R1\]\[E112\]Not connected to 127\.0\.0\.1:\d+ yet, server_id=0\n$/);
    await sim(['ctl', 'fail', '--method', 'UpdateTableAliveStatus', '--kind', 'timeout', '--count', '1']);
    const timeout = await ns('updatetablealive t0 0 127.0.0.1:1 no', ['--database=demo_db']);
    assert.match(timeout.stdout, /\nFail to update table alive\. error msg: \[E1008\]Reached timeout=20000ms @127\.0\.0\.1:\d+\n$/);
    const refusal = await ns('updatetablealive t0 0 127.0.0.1:1 no', ['--database=demo_db']);
    assert.match(refusal.stdout, /\nFail to update table alive\. error msg: auto_failover is enabled\n$/);
  });

  test('the DIR/bin/openmldb wrapper runs this binary', async () => {
    const r = await exec(info.bin, ['--version']);
    assert.match(r.stdout, /^openmldb version \S+\n$/);
  });
});
