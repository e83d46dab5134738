// `status`: the same observation and health verdict as `recover`, read-only.
import type { OpenMLDBClient } from '../cluster/client.js';
import type { ObserveFilter } from '../cluster/observe.js';
import { observe } from '../engine/observe.js';
import { openmldbCluster } from '../engine/openmldb.js';
import { assessCluster } from '../engine/health.js';
import { columns } from '../engine/report.js';

export interface StatusReport {
  healthy: boolean;
  /** A plan waiting for apply or --abandon (the command layer reads it from the journal). */
  pendingPlan?: { id: string; since: string; holdUntil: string; file: string };
  takenAt: string;
  leader: string;
  autoFailover: boolean;
  tablets: Array<{ endpoint: string; state: string }>;
  unfinishedOps: number;
  tables: Array<{
    db: string;
    name: string;
    tid: number;
    storageMode: string;
    healthy: boolean;
    problems: string[];
    warnings: string[];
    partitions: Array<{
      pid: number;
      healthy: boolean;
      problems: string[];
      warnings: string[];
      replicas: Array<{ endpoint: string; role: 'leader' | 'follower'; alive: boolean; tablet: string; loaded?: { mode: string; state: string; offset: number; recordCnt?: number }; metaOffset?: number }>;
    }>;
  }>;
}

export async function runStatus(client: OpenMLDBClient, filter?: ObserveFilter, wait: { budgetMs?: number; connectionWaitMs?: number } = {}): Promise<StatusReport> {
  const snap = await observe(openmldbCluster(client), filter, wait);
  const health = assessCluster(snap);
  return {
    healthy: health.healthy,
    takenAt: snap.takenAt,
    leader: snap.leader,
    autoFailover: snap.autoFailover,
    tablets: snap.tablets.map((t) => ({ endpoint: t.endpoint, state: t.state })),
    unfinishedOps: snap.ops.filter((o) => o.status === 'kInited' || o.status === 'kDoing').length,
    tables: snap.tables.map((t) => {
      const th = health.tables.find((x) => x.db === t.db && x.name === t.name);
      return {
        db: t.db,
        name: t.name,
        tid: t.tid,
        storageMode: t.storageMode,
        healthy: th?.healthy ?? false,
        problems: th?.problems ?? [],
        warnings: th?.warnings ?? [],
        partitions: t.partitions.map((p) => {
          const ph = th?.partitions.find((x) => x.pid === p.pid);
          return {
            pid: p.pid,
            healthy: ph?.healthy ?? false,
            problems: ph?.problems ?? [],
            warnings: ph?.warnings ?? [],
            replicas: p.replicas.map((r) => ({
              endpoint: r.endpoint,
              role: r.isLeader ? ('leader' as const) : ('follower' as const),
              alive: r.isAlive,
              tablet: r.tablet,
              ...(r.loaded ? { loaded: { ...r.loaded } } : {}),
              ...(r.metaOffset !== undefined ? { metaOffset: r.metaOffset } : {}),
            })),
          };
        }),
      };
    }),
  };
}

export function renderStatus(s: StatusReport): string {
  // One table asked for (status --table): every problem, a row each; otherwise the first, and where the rest are.
  const one = s.tables.length === 1;
  const rows = s.tables.flatMap((t) => {
    const row = (problem: string, first: boolean) => (first ? [`${t.db}.${t.name}`, t.storageMode, String(t.partitions.length), t.healthy ? 'healthy' : 'UNHEALTHY', problem] : ['', '', '', '', problem]);
    if (t.problems.length === 0) return [row(t.warnings[0] ?? '', true)];
    if (one) return t.problems.map((p, i) => row(p, i === 0));
    return [row(`${t.problems[0]}${t.problems.length > 1 ? ` (+${t.problems.length - 1} more: status --table ${t.db}.${t.name} lists each)` : ''}`, true)];
  });
  const unhealthy = s.tables.filter((t) => !t.healthy).length;
  return [
    `cluster ${s.healthy ? 'HEALTHY' : 'UNHEALTHY'}: ${s.tables.length - unhealthy}/${s.tables.length} tables served; nameserver leader ${s.leader}; auto_failover ${s.autoFailover}`,
    `tablets: ${s.tablets.map((t) => `${t.endpoint} ${t.state}`).join(', ')}${s.unfinishedOps ? `; ${s.unfinishedOps} ops in flight` : ''}`,
    '',
    columns(['table', 'storage', 'partitions', 'verdict', 'problem'], rows),
  ].join('\n');
}
