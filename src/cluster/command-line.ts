// The `openmldb` binary's command lines, written once: the transport runs them, and a dry
// run prints them for an operator to paste. What the CLI cannot send (a disk table's
// LoadTable, ChangeRole with its followers) is the brpc HTTP call, printed as curl.
import { createHash } from 'node:crypto';

/** How to reach a cluster from a shell: the binary and the nameservers' ZooKeeper. */
export interface BinaryAccess {
  bin: string;
  zkCluster: string;
  zkRootPath: string;
  /** The HTTP calls' user (root unless --user); its password is never printed. */
  user: string;
  /** Where a pasted curl finds the password, as a shell expression (`"$OPENMLDB_PASSWORD"`); none: no password. */
  passwordFrom?: string;
}

/** `u<user>:1<sha256hex(password)>` (protocol reference section 1.7). */
export function credential(user: string, password: string): string {
  return `u${user}:1${createHash('sha256').update(password, 'utf8').digest('hex')}`;
}

/** ns_client through ZooKeeper; `db` adds `--database` (always pass it for table commands). */
export function nsArgv(zkCluster: string, zkRootPath: string, cmd: string, db?: string): string[] {
  const argv = [`--zk_cluster=${zkCluster}`, `--zk_root_path=${zkRootPath}`, '--role=ns_client', '--interactive=false', `--cmd=${cmd}`];
  if (db !== undefined) argv.push(`--database=${db}`);
  return argv;
}

/** The tablet client against one tablet's address. */
export function tabletArgv(address: string, cmd: string): string[] {
  return [`--endpoint=${address}`, '--role=client', '--interactive=false', `--cmd=${cmd}`];
}

/** One word for a POSIX shell: left bare when nothing in it is special, else single-quoted (a `--flag=` before the quotes, as people write it). */
export function shellWord(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  const flag = /^--[A-Za-z0-9_-]+=/.exec(s)?.[0] ?? '';
  return `${flag}'${s.slice(flag.length).replace(/'/g, `'\\''`)}'`;
}

export const shellLine = (words: readonly string[]): string => words.map(shellWord).join(' ');

/** A nameserver command as a shell line. */
export function nsCommandLine(a: BinaryAccess, cmd: string, db?: string): string {
  return shellLine([a.bin, ...nsArgv(a.zkCluster, a.zkRootPath, cmd, db)]);
}

/** A tablet command as a shell line. */
export function tabletCommandLine(a: BinaryAccess, address: string, cmd: string): string {
  return shellLine([a.bin, ...tabletArgv(address, cmd)]);
}

/**
 * A brpc HTTP+JSON call as curl. The Authorization value is `u<user>:1<sha256(password)>`
 * (protocol reference 1.7): without a password it is printed as is; otherwise the shell
 * computes it from where the password is kept, so no secret (nor its hash) is printed.
 */
export function httpCommandLine(a: BinaryAccess, address: string, service: 'TabletServer' | 'NameServer', method: string, body: Record<string, unknown>): string {
  const auth = a.passwordFrom !== undefined
    ? `"Authorization: u${a.user.replace(/[\\$`"]/g, (c) => `\\${c}`)}:1$(printf %s ${a.passwordFrom} | sha256sum | cut -d' ' -f1)"`
    : shellWord(`Authorization: ${credential(a.user, '')}`);
  return `curl -sS -X POST -H 'Content-Type: application/json' -H ${auth} ${shellWord(`http://${address}/${service}/${method}`)} -d ${shellWord(JSON.stringify(body))}`;
}

/** TTL argument of the CLI `loadtable`: parsed but never sent (protocol reference 3.14). */
export const LOADTABLE_TTL = 144000;

/** What a load sends: the partition, its table's shape, and the role it loads as. */
export interface LoadArgs {
  name: string;
  tid: number;
  pid: number;
  segCnt: number;
  storageMode: 'kMemory' | 'kSSD' | 'kHDD';
  mode: 'kTableLeader' | 'kTableFollower';
}

/** The tablet client's `loadtable` (memory tables only: it sends no storage mode). */
export function loadTableCmd(s: LoadArgs): string {
  return `loadtable ${s.name} ${s.tid} ${s.pid} ${LOADTABLE_TTL} ${s.segCnt} ${s.mode === 'kTableLeader' ? 'true' : 'false'}`;
}

/** `TabletServer/LoadTable`'s body (every storage mode). */
export function loadTableBody(s: LoadArgs): Record<string, unknown> {
  return { table_meta: { name: s.name, tid: s.tid, pid: s.pid, seg_cnt: s.segCnt, storage_mode: s.storageMode, mode: s.mode } };
}

/** `TabletServer/ChangeRole`'s body: a leader gets its term and the followers it replicates to. */
export function changeRoleBody(c: { tid: number; pid: number; mode: 'kTableLeader' | 'kTableFollower'; term: number; replicas: readonly string[] }): Record<string, unknown> {
  return { tid: c.tid, pid: c.pid, mode: c.mode, ...(c.mode === 'kTableLeader' ? { term: c.term, replicas: c.replicas } : {}) };
}
