// Hand-built ClusterSnapshot values for the pure planning tests.
import type { ClusterSnapshot, LoadedReplica, Op, Partition, Replica, Table } from '../../src/cluster/types.js';

export const A = '127.0.0.1:9520';
export const B = '127.0.0.1:9521';
export const C = '127.0.0.1:9522';

/** A replica: alive follower on a healthy tablet, nothing loaded, unless overridden. */
export function rep(endpoint: string, o: Partial<Replica> = {}): Replica {
  return { endpoint, isLeader: false, isAlive: true, tablet: 'healthy', ...o };
}

export const asLeader = (offset: number, state = 'kTableNormal'): LoadedReplica => ({ mode: 'kTableLeader', state, offset });
export const asFollower = (offset: number, state = 'kTableNormal'): LoadedReplica => ({ mode: 'kTableFollower', state, offset });

/** A served partition: A leads, B and C follow, all at `offset`. */
export function servedPartition(pid: number, offset = 100): Partition {
  return {
    pid,
    replicas: [
      rep(A, { isLeader: true, metaOffset: offset, loaded: asLeader(offset) }),
      rep(B, { metaOffset: offset, loaded: asFollower(offset) }),
      rep(C, { metaOffset: offset, loaded: asFollower(offset) }),
    ],
  };
}

export function table(name: string, partitions: Partition[], o: Partial<Table> = {}): Table {
  return { db: 'demo_db', name, tid: 3, storageMode: 'kMemory', segCnt: 8, partitions, ...o };
}

/** One table with one partition `pid` holding `replicas`. */
export function oneTable(replicas: Replica[], pid = 0, o: Partial<Table> = {}): Table {
  return table('t1', [{ pid, replicas }], o);
}

export function op(opId: number, status: Op['status'], o: Partial<Op> = {}): Op {
  return { opId, opType: 'kRecoverTableOP', db: 'demo_db', table: 't1', pid: 0, status, ...o };
}

/** A snapshot whose tablet list agrees with the replicas' `tablet` fields. */
export function snap(tables: Table[], ops: Op[] = [], o: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  const tablets = new Map<string, 'healthy' | 'offline'>();
  for (const t of tables) {
    for (const p of t.partitions) {
      for (const r of p.replicas) if (r.tablet !== 'unknown') tablets.set(r.endpoint, r.tablet);
    }
  }
  return {
    takenAt: '2024-01-01T00:00:00.000Z',
    nameservers: [{ endpoint: '127.0.0.1:9600', role: 'leader' }],
    leader: '127.0.0.1:9600',
    tablets: [...tablets].map(([endpoint, state]) => ({ endpoint, address: endpoint, state })),
    autoFailover: false,
    tables,
    ops,
    ...o,
  };
}
