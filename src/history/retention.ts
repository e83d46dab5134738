// Which run records stay. Limits: how many (--keep-runs), how many megabytes in all
// (--keep-runs-mb) and how old (--keep-runs-days). Over a limit, records go oldest first in
// this order: runs that changed nothing and ended OK (the cron run on a healthy cluster),
// then runs that changed nothing but did not end OK (a refusal repeated every 10 minutes),
// then runs that changed something. The newest run that changed something is never
// removed, whatever the limits say: after an incident it is the record an operator wants,
// and the cron runs after it must not push it out.
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { recordEnds } from './record-file.js';

export interface Retention {
  /** Records kept, the new one included. */
  keep: number;
  /** Total size of the records kept, in bytes (0: no limit). */
  maxBytes: number;
  /** Age past which a record goes, in ms (0: no limit). */
  maxAgeMs: number;
}

export const DEFAULT_RETENTION: Retention = { keep: 100, maxBytes: 512 * 1024 * 1024, maxAgeMs: 0 };

/** 0: changed nothing, ended OK; 1: changed nothing, did not end OK; 2: changed something (or unknown: an older record, a run killed). */
type Weight = 0 | 1 | 2;

interface Kept {
  name: string;
  size: number;
  startedMs: number;
  weight: Weight;
}

/** `20250508-101501-123-...` -> its start time (UTC), from the name alone. */
function startedOf(name: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-(\d{3})/.exec(name);
  if (!m) return 0;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s, ms);
}

function describe(dir: string, name: string): Kept | undefined {
  try {
    const { end, size } = recordEnds(join(dir, name));
    const weight: Weight = end?.changes === undefined ? 2 : end.changes > 0 ? 2 : end.exitCode === 0 ? 0 : 1;
    return { name, size, startedMs: startedOf(name), weight };
  } catch {
    return undefined; // removed meanwhile by another run's pruning
  }
}

/** Which of the records (oldest first; the current one not among them) to remove. */
export function toRemove(records: readonly Kept[], r: Retention, currentSize: number, nowMs: number): string[] {
  const newestChange = [...records].reverse().find((k) => k.weight === 2)?.name;
  const out = new Set<string>();
  for (const k of records) if (r.maxAgeMs > 0 && nowMs - k.startedMs > r.maxAgeMs && k.name !== newestChange) out.add(k.name);
  let count = records.length + 1 - out.size;
  let bytes = currentSize + records.filter((k) => !out.has(k.name)).reduce((n, k) => n + k.size, 0);
  const over = () => count > r.keep || (r.maxBytes > 0 && bytes > r.maxBytes);
  for (const weight of [0, 1, 2] as const) {
    for (const k of records) {
      if (!over()) return [...out];
      if (k.weight !== weight || out.has(k.name) || k.name === newestChange) continue;
      out.add(k.name);
      count--;
      bytes -= k.size;
    }
  }
  return [...out];
}

/** Remove the records `toRemove` names; never the current one. */
export function prune(dir: string, current: string, r: Retention, nowMs = Date.now()): void {
  const records = readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl') && n !== current)
    .sort()
    .map((n) => describe(dir, n))
    .filter((k): k is Kept => k !== undefined);
  for (const name of toRemove(records, r, 0, nowMs)) {
    try {
      unlinkSync(join(dir, name));
    } catch {
      // another run pruned it first
    }
  }
}
