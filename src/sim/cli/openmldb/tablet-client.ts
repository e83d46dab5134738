// `--role=client` (tablet client) of the stand-in binary: OpenMLDB src/cmd/openmldb.cc
// StartClient, HandleClientLoadTable, HandleClientGetTableStatus, HandleClientGetFollower,
// src/cmd/display.h PrintTableStatus, src/client/tablet_client.cc.
import { formatTable, humanReadableString } from '../../../openmldb/tprinter.js';
import { type CliEnv, maxColWidth } from './cli-env.js';
import { BrpcChannel, callSt, statusOk, statusToString } from './rpc.js';
import {
  COMPRESS_TYPE,
  type Json,
  TABLE_MODE,
  TABLE_STATE,
  arrField,
  boolField,
  cleanLine,
  enumField,
  fromCharsU32,
  fromCharsU64,
  lexicalCastUnsigned,
  numField,
  out,
  println,
  splitString,
  strField,
  yieldNow,
} from './util.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** `PrintTableStatus`; the 2018 dialect prints the docs' layout without skiplist_height. */
export function tableStatusText(statuses: Json[], env: CliEnv): string {
  const old = env.dialect === '2018';
  const header = ['tid', 'pid', 'offset', 'mode', 'state', 'enable_expire', 'ttl', 'ttl_offset', 'memused', 'compress_type'];
  if (!old) header.push('skiplist_height');
  const rows = statuses.map((s) => {
    let ttl = '0min';
    if (old) {
      const v = numField(s, 'ttl') ?? 0;
      ttl = strField(s, 'ttl_type') === 'kLatestTime' ? String(v) : `${v}min`;
    }
    const mem = (numField(s, 'record_byte_size') ?? 0) + (numField(s, 'record_idx_byte_size') ?? 0);
    const row = [
      String(numField(s, 'tid') ?? 0),
      String(numField(s, 'pid') ?? 0),
      String(numField(s, 'offset') ?? 0),
      // proto2 enum defaults: the first value (kTableLeader), kTableUndefined, kNoCompress
      enumField(s, 'mode', TABLE_MODE) ?? 'kTableLeader',
      enumField(s, 'state', TABLE_STATE) ?? 'kTableUndefined',
      boolField(s, 'is_expire') === true ? 'true' : 'false',
      ttl,
      `${numField(s, 'time_offset') ?? 0}s`,
      humanReadableString(mem),
      enumField(s, 'compress_type', COMPRESS_TYPE) ?? 'kNoCompress',
    ];
    if (!old) row.push(String(numField(s, 'skiplist_height') ?? 0));
    return row;
  });
  return formatTable(header, rows, { maxColWidth: maxColWidth(env) });
}

const LOADTABLE_USAGE = 'Bad LoadTable format eg loadtable <name> <tid> <pid> <ttl> <seg_cnt> [<is_leader>]';

async function loadTable(env: CliEnv, ch: BrpcChannel, parts: string[]): Promise<void> {
  if (parts.length < 6) {
    println(LOADTABLE_USAGE);
    return;
  }
  // boost::lexical_cast, evaluated in this order; any failure -> "Bad LoadTable format"
  const ttl = lexicalCastUnsigned(parts[4] as string, 64);
  if (ttl === undefined) {
    println('Bad LoadTable format');
    return;
  }
  const segCnt = lexicalCastUnsigned(parts[5] as string, 32);
  if (segCnt === undefined) {
    println('Bad LoadTable format');
    return;
  }
  let isLeader = true;
  if (parts.length > 6) {
    if (parts[6] === 'false') isLeader = false;
    else if (parts[6] === 'true') isLeader = true;
    else {
      println(LOADTABLE_USAGE);
      return;
    }
  }
  const tid = lexicalCastUnsigned(parts[2] as string, 32);
  const pid = lexicalCastUnsigned(parts[3] as string, 32);
  if (tid === undefined || pid === undefined) {
    println('Bad LoadTable format');
    return;
  }
  // TableMeta.tid / pid are int32: a uint32 above 2^31-1 arrives negative; ttl is not sent,
  // nor is storage_mode (the tablet then loads a memory table)
  const tableMeta: Json = {
    name: parts[1] as string,
    tid: Number(BigInt.asIntN(32, tid)),
    pid: Number(BigInt.asIntN(32, pid)),
    seg_cnt: Number(segCnt),
    mode: isLeader ? 'kTableLeader' : 'kTableFollower',
  };
  const { st } = await callSt(ch, 'TabletServer', 'LoadTable', { table_meta: tableMeta });
  if (statusOk(st)) {
    println('LoadTable ok');
  } else if (env.dialect === '2018') {
    println('Fail to LoadTable');
  } else {
    println(`Fail to LoadTable: ${statusToString(st)}`);
  }
}

async function getTableStatus(env: CliEnv, ch: BrpcChannel, parts: string[]): Promise<void> {
  const old = env.dialect === '2018';
  const statuses: Json[] = [];
  if (parts.length === 3) {
    const tid = fromCharsU32(parts[1] as string);
    if (tid === undefined) {
      println(old ? 'Bad gettablestatus format' : 'Invalid args, tid should be uint32_t');
      return;
    }
    const pid = fromCharsU32(parts[2] as string);
    if (pid === undefined) {
      println(old ? 'Bad gettablestatus format' : 'Invalid args, pid should be uint32_t');
      return;
    }
    const { st, body } = await callSt(ch, 'TabletServer', 'GetTableStatus', { tid, pid, need_schema: false });
    const list = arrField(body, 'all_table_status');
    if (statusOk(st) && !old) {
      // v0.8.4+: an unloaded partition gives an empty list and a default TableStatus row
      statuses.push(list[0] ?? {});
    } else if (statusOk(st) && list.length > 0) {
      statuses.push(list[0] as Json);
    } else {
      println(old ? 'gettablestatus failed' : `gettablestatus failed, error msg: ${st.msg}`);
    }
  } else if (parts.length === 1) {
    const { st, body } = await callSt(ch, 'TabletServer', 'GetTableStatus', {});
    if (!statusOk(st)) {
      println(old ? 'gettablestatus failed' : `gettablestatus failed, error msg: ${st.msg}`);
      return;
    }
    statuses.push(...arrField(body, 'all_table_status'));
  } else {
    println('Bad gettablestatus format');
    return;
  }
  out(tableStatusText(statuses, env));
}

/** `tid pid` as HandleClientGetFollower and HandleClientChangeRole read them (std::from_chars), or the error they print. */
function tidPid(parts: string[], minParts: number, badFormat: string): { tid: number; pid: number } | undefined {
  if (parts.length < minParts) {
    println(badFormat);
    return undefined;
  }
  const tid = fromCharsU32(parts[1] as string);
  if (tid === undefined) {
    println('Invalid args, tid should be uint32_t');
    return undefined;
  }
  const pid = fromCharsU32(parts[2] as string);
  if (pid === undefined) {
    println('Invalid args, pid should be uint32_t');
    return undefined;
  }
  return { tid, pid };
}

async function getFollower(env: CliEnv, ch: BrpcChannel, parts: string[]): Promise<void> {
  const args = tidPid(parts, 3, 'Bad get follower format');
  if (!args) return;
  const { tid, pid } = args;
  const { st, body } = await callSt(ch, 'TabletServer', 'GetTableFollower', { tid, pid });
  if (!statusOk(st)) {
    println(`get failed, error msg: ${st.msg}`);
    return;
  }
  const offset = numField(body, 'offset') ?? 0;
  const info = new Map<string, number>();
  for (const f of arrField(body, 'follower_info')) {
    const ep = strField(f, 'endpoint') ?? '';
    if (!info.has(ep)) info.set(ep, numField(f, 'offset') ?? 0);
  }
  const rows = [...info.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([ep, off], idx) => [String(idx), String(tid), String(pid), String(offset), ep, String(off)]);
  out(formatTable(['#', 'tid', 'pid', 'leader_offset', 'follower', 'offset'], rows, { maxColWidth: maxColWidth(env) }));
}

/**
 * `HandleClientChangeRole`: `changerole tid pid leader|follower [termid]`. The client's
 * ChangeRole sends no replicas and reports only ok or not (the reason stays in the
 * tablet's log): `ChangeRole ok`, `Fail to change leader`, `Fail to change follower`.
 */
async function changeRole(_env: CliEnv, ch: BrpcChannel, parts: string[]): Promise<void> {
  const args = tidPid(parts, 4, 'Bad changerole format');
  if (!args) return;
  const { tid, pid } = args;
  let term = 0n;
  if (parts.length > 4) {
    const t = fromCharsU64(parts[4] as string);
    if (t === undefined) {
      println('Invalid args, termid should be uint64_t');
      return;
    }
    term = t;
  }
  const role = parts[3];
  if (role !== 'leader' && role !== 'follower') {
    println('role must be leader or follower');
    return;
  }
  const leader = role === 'leader';
  // TabletClient::ChangeRole sets the term only for the leader mode.
  const body: Json = leader ? { tid, pid, mode: 'kTableLeader', term: Number(term) } : { tid, pid, mode: 'kTableFollower' };
  const { st } = await callSt(ch, 'TabletServer', 'ChangeRole', body);
  if (statusOk(st)) println('ChangeRole ok');
  else println(leader ? 'Fail to change leader' : 'Fail to change follower');
}

/** `HandleClientMakeSnapshot`: asks for a snapshot (end offset 0: as far as the partition is). */
async function makeSnapshot(ch: BrpcChannel, parts: string[]): Promise<void> {
  const args = tidPid(parts, 3, 'Bad MakeSnapshot format');
  if (!args) return;
  const { st } = await callSt(ch, 'TabletServer', 'MakeSnapshot', { tid: args.tid, pid: args.pid, offset: 0 });
  println(statusOk(st) ? 'MakeSnapshot ok' : 'Fail to MakeSnapshot');
}

/** `addreplica tid pid endpoint` (HandleClientAddReplica): the leader replicates to it as it is. */
async function addReplica(ch: BrpcChannel, parts: string[]): Promise<void> {
  if (parts.length < 4) {
    println('Bad addreplica format');
    return;
  }
  const args = tidPid(parts, 3, 'Bad addreplica format');
  if (!args) return;
  const { st } = await callSt(ch, 'TabletServer', 'AddReplica', { tid: args.tid, pid: args.pid, endpoint: parts[3] });
  println(statusOk(st) ? 'AddReplica ok' : 'Fail to Add Replica');
}

/** `StartClient`. */
export async function startTabletClient(env: CliEnv): Promise<void> {
  const { flags } = env;
  const endpoint = flags.str('endpoint');
  if (endpoint === '') {
    println('Start failed! not set endpoint');
    return;
  }
  const interactive = flags.bool('interactive');
  if (interactive) println(`Welcome to openmldb with version ${env.version}`);
  // the real client ignores the result of Init(): later calls report "stub is null"
  const ch = new BrpcChannel(endpoint, flags.num('request_timeout_ms'));
  await ch.init();
  for (;;) {
    let buffer: string;
    if (!interactive) {
      buffer = flags.str('cmd');
    } else {
      const line = await env.stdin.readLine(`${endpoint}> `);
      if (line === null) return;
      buffer = cleanLine(line);
      if (buffer === '') continue;
    }
    const parts = splitString(buffer);
    if (parts.length === 0) {
      // an empty --cmd with --interactive=false spins forever in the real client
      await sleep(1000);
      continue;
    }
    switch (parts[0]) {
      case 'loadtable':
        await loadTable(env, ch, parts);
        break;
      case 'gettablestatus':
        await getTableStatus(env, ch, parts);
        break;
      case 'getfollower':
        await getFollower(env, ch, parts);
        break;
      case 'changerole':
        await changeRole(env, ch, parts);
        break;
      case 'makesnapshot':
        await makeSnapshot(ch, parts);
        break;
      case 'addreplica':
        await addReplica(ch, parts);
        break;
      case 'exit':
      case 'quit':
        println('bye');
        return;
      default:
        println('unsupported cmd');
    }
    if (!interactive) return;
    await yieldNow();
  }
}
