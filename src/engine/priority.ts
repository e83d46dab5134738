// Service in priority order: after a full restart the business needs some tables before
// the others. Partitions are started (and so their loads queued on each tablet) class by
// class: OpenMLDB's system tables first (the SQL layer and the deployments read them),
// then the tables named with --priority, then the rest. The report says, per class, when
// its first, median and last partition was served.
import { INTERNAL_DBS } from '../openmldb/internal-dbs.js';

export type ServiceClass = 'system' | 'priority' | 'other';
export const SERVICE_CLASSES: readonly ServiceClass[] = ['system', 'priority', 'other'];

/** `DB.TABLE` or `DB.*`. */
export interface PriorityPattern {
  db: string;
  table: string | '*';
}

export function matches(p: PriorityPattern, db: string, table: string): boolean {
  return p.db === db && (p.table === '*' || p.table === table);
}

/** The class a table's partitions are served in. */
export function serviceClass(patterns: readonly PriorityPattern[], db: string, table: string): ServiceClass {
  if ((INTERNAL_DBS as readonly string[]).includes(db)) return 'system';
  return patterns.some((p) => matches(p, db, table)) ? 'priority' : 'other';
}

/** `items` in service order (stable within a class). */
export function inServiceOrder<T>(items: readonly T[], patterns: readonly PriorityPattern[], tableOf: (t: T) => { db: string; table: string }): T[] {
  const rank = (t: T) => {
    const { db, table } = tableOf(t);
    return SERVICE_CLASSES.indexOf(serviceClass(patterns, db, table));
  };
  return items
    .map((t, i) => ({ t, i, r: rank(t) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.t);
}

/** When each class was served: its first, median and last partition (ms after the run began). */
export interface ServiceTimes {
  class: ServiceClass;
  partitions: number;
  firstMs: number;
  medianMs: number;
  lastMs: number;
}

export function serviceTimes(served: ReadonlyArray<{ class: ServiceClass; ms: number }>): ServiceTimes[] {
  return SERVICE_CLASSES.flatMap((c) => {
    const ms = served.filter((s) => s.class === c).map((s) => s.ms).sort((a, b) => a - b);
    if (ms.length === 0) return [];
    return [{ class: c, partitions: ms.length, firstMs: ms[0] as number, medianMs: ms[Math.floor((ms.length - 1) / 2)] as number, lastMs: ms[ms.length - 1] as number }];
  });
}
