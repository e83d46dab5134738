// `--role=ns_client` of the stand-in binary: OpenMLDB src/cmd/openmldb.cc StartNsClient and
// the HandleNS* functions, src/client/ns_client.cc for what each command sends; the tables
// it prints are ns-display.ts's.
import { formatTable, humanReadableTime } from '../../../openmldb/tprinter.js';
import { type CliEnv, maxColWidth } from './cli-env.js';
import { INVALID_PID, showOpStatusText, showTableText } from './ns-display.js';
import { BrpcChannel, callBool, callSt, statusOk, statusToString } from './rpc.js';
import {
  type Json,
  arrField,
  cleanLine,
  fromCharsU32,
  fromCharsU64,
  jsonNum,
  lexicalCastInt32,
  numField,
  out,
  println,
  simpleAtoiU64,
  splitString,
  strField,
  yieldNow,
} from './util.js';
import { openRegistry } from './zk.js';
import type { Registry } from './host.js';
import { setTimeout as sleep } from 'node:timers/promises';

const UINT32_MAX = 4294967295;

/** openmldb::client::NsClient: the RPC channel plus the current database. */
export class NsClient {
  db = '';
  constructor(readonly channel: BrpcChannel) {}

  call(method: string, req: Json) {
    return callBool(this.channel, 'NameServer', method, req);
  }

  callSt(method: string, req: Json) {
    return callSt(this.channel, 'NameServer', method, req);
  }

  /** `NsClient::Use`. */
  async use(db: string): Promise<{ ok: boolean; msg: string }> {
    const r = await this.call('UseDatabase', { db });
    if (r.ok) this.db = db;
    return { ok: r.ok, msg: r.msg };
  }
}

interface NsSession {
  env: CliEnv;
  client: NsClient;
  zk: Registry | undefined;
  realEpMap: Map<string, string>;
}

// ---------------------------------------------------------------------------------------
// pid groups (SplitPidGroup)

function isNumber(s: string): boolean {
  return /^\d+$/.test(s);
}

/** `SplitPidGroup`: -1 on a format error (some errors also print a line). */
function splitPidGroup(group: string, pids: Set<number>): number {
  if (isNumber(group)) {
    const pid = fromCharsU32(group);
    if (pid === undefined) {
      println('Invalid args. pid should be uint32_t');
      return -1;
    }
    pids.add(pid);
  } else if (group.includes('-')) {
    const vec = group.split('-');
    if (vec.length !== 2 || !isNumber(vec[0] as string) || !isNumber(vec[1] as string)) return -1;
    const start = fromCharsU32(vec[0] as string);
    const end = fromCharsU32(vec[1] as string);
    if (start === undefined || end === undefined) {
      println('Invalid args. pid should be uint32_t');
      return -1;
    }
    for (let p = start; p <= end; p++) pids.add(p);
  } else if (group.includes(',')) {
    for (const s of group.split(',')) {
      if (!isNumber(s)) return -1;
      const pid = fromCharsU32(s);
      if (pid === undefined) {
        println('Invalid args. pid should be uint32_t');
        return -1;
      }
      pids.add(pid);
    }
  } else {
    return -1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// the commands with a handler of their own: they print tables, read ZooKeeper or keep the
// session's database

async function showTablet(s: NsSession): Promise<void> {
  const r = await s.client.call('ShowTablet', {});
  if (!r.ok) {
    println(`Fail to show tablets. error msg: ${r.msg}`);
    return;
  }
  const old = s.env.dialect === '2018';
  const header = old ? ['endpoint', 'state', 'age'] : ['endpoint', 'real_endpoint', 'state', 'age'];
  const rows = arrField(r.body, 'tablets').map((t) => {
    let state = strField(t, 'state') ?? '';
    if (old && state === 'kHealthy') state = 'kTabletHealthy';
    if (old && state === 'kOffline') state = 'kTabletOffline';
    const age = humanReadableTime(numField(t, 'age') ?? 0);
    return old ? [strField(t, 'endpoint') ?? '', state, age] : [strField(t, 'endpoint') ?? '', strField(t, 'real_endpoint') ?? '', state, age];
  });
  out(formatTable(header, rows, { maxColWidth: maxColWidth(s.env) }));
}

async function showNameServer(s: NsSession): Promise<void> {
  const root = s.env.flags.str('zk_root_path');
  if (s.env.flags.str('zk_cluster') === '' || !s.zk) {
    println('Show nameserver failed. zk_cluster is empty');
    return;
  }
  const nodePath = root + '/leader';
  const children = await s.zk.getChildren(nodePath);
  if (!children || children.length === 0) {
    println('get children failed');
    return;
  }
  const endpoints: string[] = [];
  for (const c of children) {
    const realPath = nodePath + '/' + c;
    const ep = await s.zk.getValue(realPath);
    if (ep === undefined) {
      println(`get endpoint failed. path ${realPath}`);
      return;
    }
    if (!endpoints.includes(ep)) endpoints.push(ep);
  }
  const old = s.env.dialect === '2018';
  const header = old ? ['endpoint', 'role'] : ['endpoint', 'real_endpoint', 'role'];
  const rows = endpoints.map((ep, i) => {
    const role = i === 0 ? 'leader' : 'standby';
    if (old) return [ep, role];
    const real = s.realEpMap.get(ep) ?? '';
    return [ep, real === '' ? '-' : real, role];
  });
  out(formatTable(header, rows, { maxColWidth: maxColWidth(s.env) }));
}

async function showTable(s: NsSession, parts: string[]): Promise<void> {
  const name = parts.length >= 2 ? (parts[1] as string) : '';
  const req: Json = {};
  if (name !== '') req['name'] = name;
  req['db'] = s.client.db;
  req['show_all'] = false;
  const r = await s.client.call('ShowTable', req);
  if (!r.ok) {
    println(`failed to showtable. error msg: ${r.msg}`);
    return;
  }
  out(showTableText(arrField(r.body, 'table_info'), s.env));
}

async function showDb(s: NsSession): Promise<void> {
  // HandleNSShowDB ignores the result: an RPC failure prints an empty table
  const r = await s.client.channel.call('NameServer', 'ShowDatabase', {});
  const dbs = r.ok ? (Array.isArray(r.body['db']) ? (r.body['db'] as unknown[]).map((d) => String(d)) : []) : [];
  const rows = dbs.map((d, i) => [String(i + 1), d]);
  out(formatTable(['#', 'name'], rows, { maxColWidth: maxColWidth(s.env) }));
}


async function confGet(s: NsSession, parts: string[]): Promise<void> {
  const key = parts.length > 1 ? (parts[1] as string) : '';
  const r = await s.client.call('ConfGet', {});
  const conf = new Map<string, string>();
  let ok = r.ok;
  let msg = r.msg;
  if (ok) {
    for (const c of arrField(r.body, 'conf')) {
      const k = strField(c, 'key') ?? '';
      const v = strField(c, 'value') ?? '';
      if (key === '') {
        if (!conf.has(k)) conf.set(k, v);
      } else if (k === key) {
        conf.set(key, v);
        break;
      }
    }
    if (key !== '' && conf.size === 0) {
      msg = `cannot found key ${key}`;
      ok = false;
    }
  }
  if (!ok) {
    // the real client reads parts[1] here even when it does not exist (undefined behaviour)
    println(`failed to set ${key}. error msg: ${msg}`);
    return;
  }
  const rows = [...conf.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k, v]) => [k, v]);
  out(formatTable(['key', 'value'], rows, { maxColWidth: maxColWidth(s.env) }));
}


async function showOpStatus(s: NsSession, parts: string[]): Promise<void> {
  const name = parts.length > 1 ? (parts[1] as string) : '';
  let pid = INVALID_PID;
  if (parts.length > 2) {
    const v = fromCharsU32(parts[2] as string);
    if (v === undefined) {
      println(s.env.dialect === '2018' ? 'Invalid args pid should be uint32_t' : 'Invalid args. pid should be uint32_t');
      return;
    }
    pid = v;
  }
  const req: Json = {};
  if (name !== '') req['name'] = name;
  if (pid !== INVALID_PID) req['pid'] = pid;
  if (s.client.db !== '') req['db'] = s.client.db;
  const r = await s.client.call('ShowOPStatus', req);
  if (!r.ok) {
    println(`Fail to show tablets. error msg: ${r.msg}`);
    return;
  }
  out(showOpStatusText(arrField(r.body, 'op_status'), s.env, Math.trunc(Date.now() / 1000)));
}

async function useDb(s: NsSession, parts: string[]): Promise<void> {
  if (parts.length === 1) {
    s.client.db = '';
    println('Use default database');
    return;
  }
  const r = await s.client.use(parts[1] as string);
  println(r.ok ? `Use database: ${parts[1] as string}` : `Use database failed. error msg: ${r.msg}`);
}

const HELP = [
  'supported commands (simulated openmldb ns_client):',
  '  showns | showtablet | showdb | showtable [name] | showopstatus [name [pid]]',
  '  confget [key] | confset auto_failover true|false',
  '  updatetablealive name pid|* endpoint yes|no | recovertable name pid endpoint',
  '  changeleader name pid [endpoint|auto] | offlineendpoint endpoint [concurrency]',
  '  recoverendpoint endpoint [need_restore] [concurrency] | cancelop op_id | deleteop op_id|done|failed|canceled',
  '  addreplica name pid_group endpoint | delreplica name pid_group endpoint | migrate src name pid_group des',
  '  use [db] | exit | quit',
];

async function bye(): Promise<boolean> {
  println('bye');
  return true;
}

async function help(): Promise<void> {
  for (const l of HELP) println(l);
}

// ---------------------------------------------------------------------------------------
// the command table: most commands check their words, send one request and print one line
// for the answer (HandleNSConfSet, HandleNSClientChangeLeader, ...); the others, which
// print tables or read ZooKeeper, have their own handler. One dispatcher runs them all.

/** A word OpenMLDB refuses before sending anything: the line it prints instead. */
class Refused extends Error {
  constructor(readonly line: string) {
    super(line);
  }
}

/** A pid (`absl::from_chars` into uint32_t). */
function pidArg(word: string): number {
  const pid = fromCharsU32(word);
  if (pid === undefined) throw new Refused('Invalid args. pid should be uint32_t');
  return pid;
}

/** A concurrency given as `boost::lexical_cast<int32_t>`: positive, or refused. */
function positiveConcurrencyArg(word: string): number {
  const v = lexicalCastInt32(word);
  if (v === undefined) throw new Refused('Invalid args. concurrency should be uint32_t');
  if (v <= 0) throw new Refused('Invalid args. concurrency should be greater than 0');
  return v;
}

/** A pid group (`1`, `1-3`, `1,3`), sorted, with at least one pid. */
function pidGroupArg(word: string): number[] {
  const pids = new Set<number>();
  if (splitPidGroup(word, pids) < 0) throw new Refused(`pid group[${word}] format error`);
  if (pids.size === 0) throw new Refused('has not valid pid');
  return [...pids].sort((a, b) => a - b);
}

/** A line as is, or made from the session and the command's words. */
type Line = string | ((s: NsSession, parts: string[]) => string);

const lineOf = (l: Line, s: NsSession, parts: string[]): string => (typeof l === 'string' ? l : l(s, parts));

/** A command that sends one request and prints one line for the answer. */
interface RequestCommand {
  /** Words it needs, its name included; with fewer it prints `usage` (default `Bad format`) and sends nothing. */
  words: number;
  usage?: string;
  /** The request, from the words checked in OpenMLDB's order; a word it refuses throws the line printed instead. */
  request(parts: string[], s: NsSession): Json;
  method: string;
  /**
   * How the answer is read: `bool` as SendRequest's bool and `response.msg()` (empty when the
   * RPC itself failed), `status` as the call's Status (its text when the RPC failed).
   */
  reads: 'bool' | 'status' | ((s: NsSession) => 'bool' | 'status');
  /** The line printed on failure, before the error: its msg, or with `withCode` Status::ToString (`ReturnCode[code]msg`). */
  failed: Line;
  withCode?: boolean;
  /** The line printed on success. */
  ok: Line;
}

/** A command with its own handler; true: the client exits. */
type Handler = (s: NsSession, parts: string[]) => Promise<boolean | void>;

/** ns_client's commands by name (StartNsClient's if-chain). */
const COMMANDS: Record<string, RequestCommand | Handler> = {
  showtablet: showTablet,
  showns: showNameServer,
  showopstatus: showOpStatus,
  showtable: showTable,
  confset: {
    words: 3,
    request: (p) => ({ conf: { key: p[1] as string, value: p[2] as string } }),
    method: 'ConfSet',
    reads: 'bool',
    failed: (_, p) => `failed to set ${p[1] as string}. error msg: `,
    ok: (_, p) => `set ${p[1] as string} ok`,
  },
  confget: confGet,
  changeleader: {
    words: 3,
    request: (p, s) => {
      const req: Json = { name: p[1] as string, pid: pidArg(p[2] as string) };
      if (p.length > 3) req['candidate_leader'] = p[3] as string;
      req['db'] = s.client.db;
      return req;
    },
    method: 'ChangeLeader',
    reads: 'status',
    failed: 'failed to change leader. error msg: ',
    ok: (s) => (s.env.dialect === '2018' ? 'change leader ok' : 'change leader ok. If there are writing operations while changing a leader, it may cause data loss.'),
  },
  offlineendpoint: {
    words: 2,
    request: (p) => {
      const concurrency = p.length > 2 ? positiveConcurrencyArg(p[2] as string) : 0;
      const req: Json = { endpoint: p[1] as string };
      if (concurrency > 0) req['concurrency'] = concurrency;
      return req;
    },
    method: 'OfflineEndpoint',
    reads: 'bool',
    failed: 'failed to offline endpoint. error msg: ',
    ok: 'offline endpoint ok',
  },
  migrate: {
    words: 5,
    usage: 'Bad format. eg, migrate 127.0.0.1:9991 table1 1-10 127.0.0.1:9992',
    request: (p, s) => {
      if (p[1] === p[4]) throw new Refused('migrate error. src_endpoint is same as des_endpoint');
      const pids = pidGroupArg(p[3] as string);
      return { src_endpoint: p[1] as string, name: p[2] as string, pid: pids, des_endpoint: p[4] as string, db: s.client.db };
    },
    method: 'Migrate',
    reads: 'status',
    failed: 'failed to migrate partition. error msg: ',
    ok: 'partition migrate ok',
  },
  recoverendpoint: {
    words: 2,
    request: (p, s) => {
      let needRestore = false;
      if (p.length > 2) {
        const v = (p[2] as string).toLowerCase();
        if (v === 'true') needRestore = true;
        else if (v !== 'false') throw new Refused('Invalid args. need_restore should be true or false');
      }
      let concurrency = 0;
      if (p.length > 3) {
        if (s.env.dialect === '2018') {
          concurrency = positiveConcurrencyArg(p[3] as string);
        } else {
          const v = fromCharsU32(p[3] as string);
          if (v === undefined) throw new Refused('Invalid args. concurrency should be uint32');
          concurrency = v;
        }
      }
      const req: Json = { endpoint: p[1] as string };
      if (concurrency > 0) req['concurrency'] = concurrency;
      req['need_restore'] = needRestore;
      return req;
    },
    method: 'RecoverEndpoint',
    reads: 'bool',
    failed: 'failed to recover endpoint. error msg: ',
    ok: 'recover endpoint ok',
  },
  recovertable: {
    words: 4,
    request: (p, s) => ({ name: p[1] as string, pid: pidArg(p[2] as string), endpoint: p[3] as string, db: s.client.db }),
    method: 'RecoverTable',
    reads: 'status',
    failed: 'Fail to recover table. error msg:',
    ok: 'recover table ok',
  },
  updatetablealive: {
    words: 5,
    request: (p, s) => {
      // is_alive is checked before the pid
      if (p[4] !== 'yes' && p[4] !== 'no') throw new Refused('is_alive should be yes or no');
      const pid = p[2] === '*' ? UINT32_MAX : pidArg(p[2] as string);
      const req: Json = { name: p[1] as string, endpoint: p[3] as string };
      if (pid < UINT32_MAX) req['pid'] = pid;
      req['is_alive'] = p[4] === 'yes';
      req['db'] = s.client.db;
      return req;
    },
    method: 'UpdateTableAliveStatus',
    reads: 'status',
    failed: 'Fail to update table alive. error msg: ',
    ok: 'update ok',
  },
  cancelop: {
    words: 2,
    usage: 'bad cancelop format, eg cancelop 1002',
    request: (p) => {
      const opId = fromCharsU64(p[1] as string);
      if (opId === undefined) throw new Refused('Invalid args. op_id should be uint64_t');
      return { op_id: jsonNum(opId) };
    },
    method: 'CancelOP',
    // the 2018 client read the bool and printed the msg alone
    reads: (s) => (s.env.dialect === '2018' ? 'bool' : 'status'),
    failed: (s) => (s.env.dialect === '2018' ? 'Cancel op failed! ' : 'Cancel op failed, error msg: '),
    withCode: true,
    ok: (s) => (s.env.dialect === '2018' ? 'Cancel op ok!' : 'Cancel op ok'),
  },
  deleteop: {
    words: 2,
    usage: 'bad deleteop format, eg: deleteop 1002, deleteop doing',
    request: (p, s) => {
      const req: Json = {};
      if (s.client.db !== '') req['db'] = s.client.db;
      const id = simpleAtoiU64(p[1] as string);
      if (id !== undefined) {
        req['op_id'] = jsonNum(id);
      } else {
        const w = (p[1] as string).toLowerCase();
        const status = w === 'done' ? 'kDone' : w === 'failed' ? 'kFailed' : w === 'canceled' ? 'kCanceled' : undefined;
        if (!status) throw new Refused('invalid args');
        req['status'] = status;
      }
      return req;
    },
    method: 'DeleteOP',
    reads: 'status',
    failed: 'Delete op failed, error msg: ',
    withCode: true,
    ok: 'Delete op ok',
  },
  addreplica: replicaCommand('AddReplicaNS', 'Fail to addreplica', 'AddReplica ok'),
  delreplica: replicaCommand('DelReplicaNS', 'Fail to delreplica', 'DelReplica ok'),
  showdb: showDb,
  use: useDb,
  exit: bye,
  quit: bye,
  help: help,
  man: help,
};

/** addreplica and delreplica: the same words, another method (HandleNSAddReplica, HandleNSDelReplica). */
function replicaCommand(method: string, failed: string, ok: string): RequestCommand {
  return {
    words: 4,
    request: (p, s) => {
      const pids = pidGroupArg(p[2] as string);
      const req: Json = { name: p[1] as string, pid: pids[0] as number, endpoint: p[3] as string };
      if (pids.length > 1) req['pid_group'] = pids;
      req['db'] = s.client.db;
      return req;
    },
    method,
    reads: 'status',
    failed: `${failed}. error msg:`,
    ok,
  };
}

/** Check the words, send the request, print the answer's line. */
async function sendRequest(c: RequestCommand, s: NsSession, parts: string[]): Promise<void> {
  if (parts.length < c.words) {
    println(c.usage ?? 'Bad format');
    return;
  }
  let req: Json;
  try {
    req = c.request(parts, s);
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    println(err.line);
    return;
  }
  const reads = typeof c.reads === 'function' ? c.reads(s) : c.reads;
  let ok: boolean;
  let error: string;
  if (reads === 'bool') {
    const r = await s.client.call(c.method, req);
    ok = r.ok;
    error = r.msg;
  } else {
    const { st } = await s.client.callSt(c.method, req);
    ok = statusOk(st);
    error = c.withCode ? statusToString(st) : st.msg;
  }
  println(ok ? lineOf(c.ok, s, parts) : lineOf(c.failed, s, parts) + error);
}

/** One command; returns true when the client should exit (`exit`/`quit`). */
async function dispatch(s: NsSession, parts: string[]): Promise<boolean> {
  const c = Object.hasOwn(COMMANDS, parts[0] as string) ? COMMANDS[parts[0] as string] : undefined;
  if (c === undefined) {
    println('unsupported cmd');
    return false;
  }
  if (typeof c !== 'function') {
    await sendRequest(c, s, parts);
    return false;
  }
  return (await c(s, parts)) === true;
}

/** `StartNsClient`. */
export async function startNsClient(env: CliEnv): Promise<void> {
  const { flags } = env;
  const cmd = flags.str('cmd');
  const interactive = flags.bool('interactive');
  const modern = env.dialect !== '2018';
  // v0.6.0+: banner only without --cmd; before: whenever interactive
  if (modern ? cmd === '' : interactive) println(`Welcome to openmldb with version ${env.version}`);

  let endpoint = '';
  let realEndpoint = '';
  let zk: Registry | undefined;
  const realEpMap = new Map<string, string>();
  const zkCluster = flags.str('zk_cluster');
  const root = flags.str('zk_root_path');
  if (zkCluster !== '') {
    // the pre-v0.6 client had a hard-coded 1000 ms session timeout
    zk = openRegistry(zkCluster, modern ? flags.num('zk_session_timeout') : 1000);
    if (!(await zk.init())) {
      println('zk client init failed');
      return;
    }
    const nodePath = root + '/leader';
    const children = await zk.getChildren(nodePath);
    if (!children || children.length === 0) {
      println('get children failed');
      return;
    }
    const leader = await zk.getValue(nodePath + '/' + (children[0] as string));
    if (leader === undefined) {
      println('get leader failed');
      return;
    }
    endpoint = leader;
    println(`ns leader: ${endpoint}`);
    const namePath = root + '/map/names/' + endpoint;
    if ((await zk.exists(namePath)) === 0) {
      const real = await zk.getValue(namePath);
      if (real === undefined) {
        println('get real_endpoint failed');
        return;
      }
      realEndpoint = real;
      const nameRoot = root + '/map/names';
      const nodes = await zk.getChildren(nameRoot);
      if (!nodes || nodes.length === 0) {
        println('get server name nodes failed');
        return;
      }
      for (const node of nodes) {
        const v = await zk.getValue(nameRoot + '/' + node);
        if (v === undefined) {
          println('get zk server name failed');
          return;
        }
        if (!realEpMap.has(node)) realEpMap.set(node, v);
      }
    }
  } else if (flags.str('endpoint') !== '') {
    endpoint = flags.str('endpoint');
  } else {
    println('Start failed! not set endpoint or zk_cluster');
    return;
  }

  const channel = new BrpcChannel(realEndpoint === '' ? endpoint : realEndpoint, flags.num('request_timeout_ms'));
  if ((await channel.init()) < 0) {
    println('client init failed');
    return;
  }
  const session: NsSession = { env, client: new NsClient(channel), zk, realEpMap };
  const database = flags.str('database');

  // modern: a non-empty --cmd always runs (and is repeated forever when interactive);
  // pre-v0.6: --cmd is used only with --interactive=false, else the prompt reads stdin
  const useCmd = modern ? cmd !== '' : !interactive;
  for (;;) {
    let buffer: string;
    if (useCmd) {
      buffer = cmd;
      if (database !== '') await session.client.use(database);
    } else {
      const line = await env.stdin.readLine(`${endpoint} ${session.client.db}> `);
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
    if (await dispatch(session, parts)) return;
    if (!interactive) return;
    await yieldNow();
  }
}
