// The manual full-restart recovery of the runbook, done the way an operator's script would,
// over nothing but OpenMLDB's own interfaces: a client that knows nothing of the simulator.
// It proves the simulator judges such a client the way OpenMLDB would: choosing the leader
// on what the replicas really hold leaves `check` passing with nothing lost; choosing it
// the runbook's literal way (the highest `showtable` offset) or openmldb_ops.py's way (the
// last replica flagged leader) loses entries, and `check` says so.

/** What the recovery needs of a cluster: brpc calls, and a way to wait on a condition. */
export interface HttpCluster {
  rpc(method: string, body?: Record<string, unknown>): Promise<Record<string, unknown>>;
  tabletRpc(address: string, method: string, body?: Record<string, unknown>): Promise<Record<string, unknown>>;
  waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
}

interface Replica { endpoint: string; is_leader: boolean; is_alive: boolean; offset?: number }
interface TableInfo { name: string; tid: number; db: string; storage_mode?: string; seg_cnt: number; table_partition: Array<{ pid: number; partition_meta: Replica[]; term_offset?: Array<{ term: number; offset: number }> }> }
interface OpRow { op_id: number; status: string; name: string; pid: number }

/**
 * - `metadata-offset`: the runbook as written: the highest offset `showtable` shows (after a
 *   restart: whatever was last persisted), ties to the flagged leader.
 * - `last-flagged-leader`: openmldb_ops.py recoverdata.
 * - `read-offsets`: load every replica as a follower, read the offsets, lead with the highest.
 */
export type LeaderChoice = 'metadata-offset' | 'last-flagged-leader' | 'read-offsets';

const INTERNAL = ['__INTERNAL_DB', 'INFORMATION_SCHEMA', '__PRE_AGG_DB'];

export async function recoverByHand(sim: HttpCluster, choice: LeaderChoice): Promise<void> {
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
        const load = async (ep: string, role: 'kTableLeader' | 'kTableFollower') => {
          ok(await sim.tabletRpc(address(ep), 'LoadTable', { table_meta: { name: t.name, tid: t.tid, pid: p.pid, seg_cnt: t.seg_cnt, storage_mode: mode, mode: role } }), 'loadtable');
        };
        const serving = (ep: string) =>
          sim.waitFor(`load of ${db}.${t.name}:${p.pid} on ${ep}`, async () => {
            const s = await sim.tabletRpc(address(ep), 'GetTableStatus', { tid: t.tid, pid: p.pid });
            const row = (s['all_table_status'] as Array<{ state: string; offset: number }> | undefined)?.[0];
            return row?.state === 'kTableNormal' ? row.offset : undefined;
          });
        for (const r of p.partition_meta) {
          if (r.is_alive) ok(await sim.rpc('UpdateTableAliveStatus', { db, name: t.name, pid: p.pid, endpoint: r.endpoint, is_alive: false }), 'updatetablealive no');
        }
        const flagged = p.partition_meta.filter((r) => r.is_leader);
        let leader: Replica;
        let loadedAsFollower = false;
        if (choice === 'read-offsets') {
          for (const r of p.partition_meta) await load(r.endpoint, 'kTableFollower');
          const offsets = new Map<string, number>();
          for (const r of p.partition_meta) offsets.set(r.endpoint, await serving(r.endpoint));
          leader = [...p.partition_meta].sort((a, b) => (offsets.get(b.endpoint) ?? 0) - (offsets.get(a.endpoint) ?? 0) || Number(b.is_leader) - Number(a.is_leader))[0] as Replica;
          loadedAsFollower = true;
        } else {
          leader = (choice === 'last-flagged-leader'
            ? flagged[flagged.length - 1]
            : [...p.partition_meta].sort((a, b) => (b.offset ?? 0) - (a.offset ?? 0) || Number(b.is_leader) - Number(a.is_leader))[0]) as Replica;
          await load(leader.endpoint, leader.is_leader ? 'kTableLeader' : 'kTableFollower');
          await serving(leader.endpoint);
        }
        if (leader.is_leader && loadedAsFollower) {
          // A replica flagged leader cannot be changeleader's candidate: its tablet makes it
          // the leader, continuing the partition's last term.
          const term = Math.max(0, ...(p.term_offset ?? []).map((x) => x.term));
          ok(await sim.tabletRpc(address(leader.endpoint), 'ChangeRole', { tid: t.tid, pid: p.pid, mode: 'kTableLeader', term }), 'changerole');
        }
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

async function waitOps(sim: HttpCluster, db: string, name: string, pid: number): Promise<void> {
  await sim.waitFor(`ops of ${db}.${name}:${pid}`, async () => {
    const rows = ((await sim.rpc('ShowOPStatus', { db, name, pid }))['op_status'] as OpRow[] | undefined) ?? [];
    return rows.every((r) => r.status !== 'kInited' && r.status !== 'kDoing');
  }, 60000);
}

/**
 * The same procedure typed the way an operator types it: every command through the
 * `openmldb` binary (ns_client and tablet client), reading its tables the way OpenMLDB's
 * own tools/tool.py does (whitespace-split, first columns only), choosing the leader on
 * offsets read by loading every replica. Only what the CLI cannot do goes over HTTP: the
 * table's storage mode and term history, and loading a disk table.
 */
export async function recoverByHandCli(bin: string, zkCluster: string, zkRoot: string, http: HttpCluster): Promise<void> {
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
    const infos = ((await http.rpc('ShowTable', { db }))['table_info'] as TableInfo[] | undefined) ?? [];
    const meta = new Map(infos.map((t) => [t.name, t]));
    // showtable columns: name tid pid endpoint role is_alive offset ...
    const replicas = rows(await ns('showtable', db)).map((r) => ({
      name: r[0] as string,
      tid: Number(r[1]),
      pid: Number(r[2]),
      endpoint: r[3] as string,
      leader: r[4] === 'leader',
      alive: r[5] === 'yes',
    }));
    const partitions = new Map<string, typeof replicas>();
    for (const r of replicas) partitions.set(`${r.name}:${r.pid}`, [...(partitions.get(`${r.name}:${r.pid}`) ?? []), r]);
    for (const reps of partitions.values()) {
      const { name, tid, pid } = reps[0] as (typeof replicas)[number];
      const info = meta.get(name);
      const mode = info?.storage_mode ?? 'kMemory';
      const seg = info?.seg_cnt ?? 8;
      for (const r of reps) if (r.alive) await must('updatetablealive no', ns(`updatetablealive ${name} ${pid} ${r.endpoint} no`, db), 'update ok');
      for (const r of reps) {
        if (mode === 'kMemory') {
          await must('loadtable', tablet(address(r.endpoint), `loadtable ${name} ${tid} ${pid} 144000 ${seg} false`), 'LoadTable ok');
        } else {
          const res = await http.tabletRpc(address(r.endpoint), 'LoadTable', { table_meta: { name, tid, pid, seg_cnt: seg, storage_mode: mode, mode: 'kTableFollower' } });
          if (res['code'] !== 0) throw new Error(`LoadTable: ${JSON.stringify(res)}`);
        }
      }
      const offsets = new Map<string, number>();
      for (const r of reps) {
        offsets.set(
          r.endpoint,
          await http.waitFor(`load of ${db}.${name}:${pid} on ${r.endpoint}`, async () => {
            const row = rows(await tablet(address(r.endpoint), `gettablestatus ${tid} ${pid}`))[0];
            return row !== undefined && Number(row[0]) === tid && Number(row[1]) === pid && row[4] === 'kTableNormal' ? Number(row[2]) : undefined;
          }),
        );
      }
      const leader = [...reps].sort((a, b) => (offsets.get(b.endpoint) ?? 0) - (offsets.get(a.endpoint) ?? 0) || Number(b.leader) - Number(a.leader))[0] as (typeof replicas)[number];
      if (leader.leader) {
        const term = Math.max(0, ...(info?.table_partition.find((x) => x.pid === pid)?.term_offset ?? []).map((x) => x.term));
        await must('changerole', tablet(address(leader.endpoint), `changerole ${tid} ${pid} leader ${term}`), 'ChangeRole ok');
      }
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
