// The manual full-restart recovery of the runbook, done the way an operator's script
// would, over nothing but the brpc HTTP methods: a client that knows nothing of the
// simulator. It proves the simulator behaves like OpenMLDB for such a client (see
// test/sim/recovery-by-hand.test.ts), and the demo runs it as a rehearsal:
//   npx tsx scripts/runbook-by-hand.ts DIR [highest-offset|last-flagged-leader] [cli|http]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the recovery needs of a cluster: brpc calls, and a way to wait on a condition. */
export interface HttpCluster {
  rpc(method: string, body?: Record<string, unknown>): Promise<Record<string, unknown>>;
  tabletRpc(address: string, method: string, body?: Record<string, unknown>): Promise<Record<string, unknown>>;
  waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
}
type Sim = HttpCluster;

interface Replica { endpoint: string; is_leader: boolean; is_alive: boolean; offset?: number }
interface TableInfo { name: string; tid: number; db: string; storage_mode?: string; seg_cnt: number; table_partition: Array<{ pid: number; partition_meta: Replica[] }> }
interface OpRow { op_id: number; status: string; name: string; pid: number }

export type LeaderChoice = 'highest-offset' | 'last-flagged-leader';

const INTERNAL = ['__INTERNAL_DB', 'INFORMATION_SCHEMA', '__PRE_AGG_DB'];

export async function recoverByHand(sim: Sim, choice: LeaderChoice): Promise<void> {
  const ok = (r: Record<string, unknown>, what: string) => {
    if (r['code'] !== 0) throw new Error(`${what}: ${JSON.stringify(r)}`);
  };
  const conf = await sim.rpc('ConfGet');
  const before = (conf['conf'] as Array<{ value: string }>)[0]?.value === 'true';
  if (before) ok(await sim.rpc('ConfSet', { conf: { key: 'auto_failover', value: 'false' } }), 'confset false');
  const tablets = (await sim.rpc('ShowTablet'))['tablets'] as Array<{ endpoint: string; real_endpoint?: string }>;
  const address = (ep: string) => tablets.find((t) => t.endpoint === ep)?.real_endpoint ?? ep;
  const dbs = [...INTERNAL, ...((await sim.rpc('ShowDatabase'))['db'] as string[])];
  for (const db of dbs) {
    const tables = ((await sim.rpc('ShowTable', { db }))['table_info'] as TableInfo[] | undefined) ?? [];
    for (const t of tables) {
      const mode = t.storage_mode ?? 'kMemory';
      for (const p of t.table_partition) {
        // Pick the leader: by highest offset (metadata, or the snapshot offset), or as
        // openmldb_ops.py does, the last replica flagged leader.
        const offsets = new Map<string, number>();
        for (const r of p.partition_meta) {
          const pair = await sim.tabletRpc(address(r.endpoint), 'GetTermPair', { tid: t.tid, pid: p.pid, storage_mode: mode });
          offsets.set(r.endpoint, Math.max(r.offset ?? 0, Number(pair['offset'] ?? 0)));
        }
        const flagged = p.partition_meta.filter((r) => r.is_leader);
        const leader =
          choice === 'last-flagged-leader'
            ? (flagged[flagged.length - 1] as Replica)
            : [...p.partition_meta].sort((a, b) => (offsets.get(b.endpoint) ?? 0) - (offsets.get(a.endpoint) ?? 0) || Number(b.is_leader) - Number(a.is_leader))[0] as Replica;
        for (const r of p.partition_meta) {
          if (r.is_alive) ok(await sim.rpc('UpdateTableAliveStatus', { db, name: t.name, pid: p.pid, endpoint: r.endpoint, is_alive: false }), 'updatetablealive no');
        }
        const loadMode = leader.is_leader ? 'kTableLeader' : 'kTableFollower';
        ok(await sim.tabletRpc(address(leader.endpoint), 'LoadTable', { table_meta: { name: t.name, tid: t.tid, pid: p.pid, seg_cnt: t.seg_cnt, storage_mode: mode, mode: loadMode } }), 'loadtable');
        await sim.waitFor(`load of ${db}.${t.name}:${p.pid}`, async () => {
          const s = await sim.tabletRpc(address(leader.endpoint), 'GetTableStatus', { tid: t.tid, pid: p.pid });
          return (s['all_table_status'] as Array<{ state: string }> | undefined)?.[0]?.state === 'kTableNormal';
        });
        ok(await sim.rpc('UpdateTableAliveStatus', { db, name: t.name, pid: p.pid, endpoint: leader.endpoint, is_alive: true }), 'updatetablealive yes');
        if (!leader.is_leader) {
          // The most data sits on a replica the metadata calls follower: switch the metadata.
          ok(await sim.rpc('ChangeLeader', { db, name: t.name, pid: p.pid, candidate_leader: leader.endpoint }), 'changeleader');
          await waitOps(sim, db, t.name, p.pid);
        }
        for (const r of p.partition_meta) {
          if (r.endpoint === leader.endpoint) continue;
          ok(await sim.rpc('RecoverTable', { db, name: t.name, pid: p.pid, endpoint: r.endpoint }), 'recovertable');
        }
        await waitOps(sim, db, t.name, p.pid);
      }
    }
  }
  if (before) ok(await sim.rpc('ConfSet', { conf: { key: 'auto_failover', value: 'true' } }), 'confset true');
}

async function waitOps(sim: Sim, db: string, name: string, pid: number): Promise<void> {
  await sim.waitFor(`ops of ${db}.${name}:${pid}`, async () => {
    const rows = ((await sim.rpc('ShowOPStatus', { db, name, pid }))['op_status'] as OpRow[] | undefined) ?? [];
    return rows.every((r) => r.status !== 'kInited' && r.status !== 'kDoing');
  }, 60000);
}

/** A cluster reached through its registry: the leader is looked up for every call. */
class RegistryCluster implements HttpCluster {
  constructor(
    private readonly zk: string,
    private readonly root: string,
  ) {}

  private async leader(): Promise<string> {
    const children = (await (await fetch(`http://${this.zk}/zk/children?path=${this.root}/leader`)).json()) as { children: string[] };
    const first = [...children.children].sort()[0];
    const value = (await (await fetch(`http://${this.zk}/zk/get?path=${this.root}/leader/${first}`)).json()) as { value: string };
    return value.value;
  }

  async call(address: string, service: string, method: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await fetch(`http://${address}/${service}/${method}`, { method: 'POST', headers: { Authorization: 'foo' }, body: JSON.stringify(body) });
    return (await res.json()) as Record<string, unknown>;
  }

  async rpc(method: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.call(await this.leader(), 'NameServer', method, body);
  }

  tabletRpc(address: string, method: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.call(address, 'TabletServer', method, body);
  }

  async waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

if (process.argv[1]?.endsWith('runbook-by-hand.ts')) {
  const dir = process.argv[2] ?? '.sim';
  const choice = (process.argv[3] ?? 'highest-offset') as LeaderChoice;
  const via = process.argv[4] ?? 'cli';
  const info = JSON.parse(readFileSync(join(dir, 'sim.json'), 'utf8')) as { zkCluster: string; zkRootPath: string; bin: string };
  const started = Date.now();
  const http = new RegistryCluster(info.zkCluster, info.zkRootPath);
  if (via === 'http') await recoverByHand(http, choice);
  else await recoverByHandCli(info.bin, info.zkCluster, info.zkRootPath, choice, http);
  console.log(`runbook recovery (${choice}, via ${via}) finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * The same procedure typed the way an operator types it: every command through the
 * `openmldb` binary (ns_client and tablet client), reading its tables the way
 * OpenMLDB's own tools/tool.py does (whitespace-split, first columns only). Only what
 * the CLI cannot do goes over HTTP: the table's storage mode, and loading a disk table.
 */
export async function recoverByHandCli(bin: string, zkCluster: string, zkRoot: string, choice: LeaderChoice, http: HttpCluster): Promise<void> {
  const { execFile } = await import('node:child_process');
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile(bin, args, { timeout: 30000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
  const ns = (cmd: string, db?: string) =>
    run([`--zk_cluster=${zkCluster}`, `--zk_root_path=${zkRoot}`, '--role=ns_client', '--interactive=false', `--cmd=${cmd}`, ...(db ? [`--database=${db}`] : [])]);
  const tablet = (endpoint: string, cmd: string) => run([`--endpoint=${endpoint}`, '--role=client', '--interactive=false', `--cmd=${cmd}`]);
  const rows = (out: string) => {
    const lines = out.split('\n');
    const dash = lines.findIndex((l) => l.trim().startsWith('---'));
    return lines.slice(dash + 1).filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/));
  };
  const must = async (what: string, out: Promise<string>, ok: string) => {
    const text = await out;
    if (!text.includes(ok)) throw new Error(`${what}: ${text}`);
  };
  const waitOps = (db: string, name: string, pid: number) =>
    http.waitFor(`ops of ${db}.${name}:${pid}`, async () => rows(await ns(`showopstatus ${name} ${pid}`, db)).every((r) => r[4] !== 'kInited' && r[4] !== 'kDoing'), 60000);

  const autoFailover = rows(await ns('confget auto_failover'))[0]?.[1] === 'true';
  if (autoFailover) await must('confset', ns('confset auto_failover false'), 'set auto_failover ok');
  const tablets = rows(await ns('showtablet'));
  const address = (ep: string) => {
    const real = tablets.find((r) => r[0] === ep)?.[1];
    return real && real !== '-' ? real : ep;
  };
  const dbs = [...INTERNAL, ...rows(await ns('showdb')).map((r) => r[1] as string)];
  for (const db of dbs) {
    const modes = new Map(
      (((await http.rpc('ShowTable', { db }))['table_info'] as TableInfo[] | undefined) ?? []).map((t) => [t.name, { mode: t.storage_mode ?? 'kMemory', seg: t.seg_cnt }]),
    );
    // showtable columns: name tid pid endpoint role is_alive offset ...
    const replicas = rows(await ns('showtable', db)).map((r) => ({
      name: r[0] as string,
      tid: Number(r[1]),
      pid: Number(r[2]),
      endpoint: r[3] as string,
      leader: r[4] === 'leader',
      alive: r[5] === 'yes',
      offset: r[6] === '-' ? 0 : Number(r[6]),
    }));
    const partitions = new Map<string, typeof replicas>();
    for (const r of replicas) partitions.set(`${r.name}:${r.pid}`, [...(partitions.get(`${r.name}:${r.pid}`) ?? []), r]);
    for (const reps of partitions.values()) {
      const { name, tid, pid } = reps[0] as (typeof replicas)[number];
      const flagged = reps.filter((r) => r.leader);
      const leader = (choice === 'last-flagged-leader'
        ? flagged[flagged.length - 1]
        : [...reps].sort((a, b) => b.offset - a.offset || Number(b.leader) - Number(a.leader))[0]) as (typeof replicas)[number];
      for (const r of reps) if (r.alive) await must('updatetablealive no', ns(`updatetablealive ${name} ${pid} ${r.endpoint} no`, db), 'update ok');
      const { mode, seg } = modes.get(name) ?? { mode: 'kMemory', seg: 8 };
      if (mode === 'kMemory') {
        await must('loadtable', tablet(address(leader.endpoint), `loadtable ${name} ${tid} ${pid} 144000 ${seg} ${leader.leader ? 'true' : 'false'}`), 'LoadTable ok');
      } else {
        const r = await http.tabletRpc(address(leader.endpoint), 'LoadTable', { table_meta: { name, tid, pid, seg_cnt: seg, storage_mode: mode, mode: leader.leader ? 'kTableLeader' : 'kTableFollower' } });
        if (r['code'] !== 0) throw new Error(`LoadTable: ${JSON.stringify(r)}`);
      }
      await http.waitFor(`load of ${db}.${name}:${pid}`, async () => {
        const row = rows(await tablet(address(leader.endpoint), `gettablestatus ${tid} ${pid}`))[0];
        return row !== undefined && Number(row[0]) === tid && Number(row[1]) === pid && row[4] === 'kTableNormal';
      });
      await must('updatetablealive yes', ns(`updatetablealive ${name} ${pid} ${leader.endpoint} yes`, db), 'update ok');
      if (!leader.leader) {
        await must('changeleader', ns(`changeleader ${name} ${pid} ${leader.endpoint}`, db), 'change leader ok');
        await waitOps(db, name, pid);
      }
      for (const r of reps) {
        if (r.endpoint !== leader.endpoint) await must('recovertable', ns(`recovertable ${name} ${pid} ${r.endpoint}`, db), 'recover table ok');
      }
      await waitOps(db, name, pid);
    }
  }
  if (autoFailover) await must('confset', ns('confset auto_failover true'), 'set auto_failover ok');
}
