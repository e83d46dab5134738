// A replica's replication log as the simulator keeps it: which entries it holds, and who
// wrote each one. OpenMLDB numbers entries by offset (1, 2, ...) and stamps each with the
// term of the leader that wrote it (tablet_impl.cc Put: `entry.set_term(replicator->
// GetLeaderTerm())`). Terms alone cannot identify an entry in the simulator: the runbook
// loads a leader with the term stored in table_meta.txt, so two leaders can write with the
// same term. Each time a replica starts leading, the simulator gives it a fresh `epoch`; an
// entry's identity is (epoch, offset). Two logs hold the same entry at an offset iff they
// have the same epoch there, and then (one writer per epoch, entries only appended) they
// agree on every entry before it too.

/** Entries from `start` up to the next segment's start (or the log's end) were written in `term` by leadership `epoch`. */
export interface Segment {
  start: number;
  term: number;
  epoch: number;
}

/** A log: its segments, oldest first, and its last offset (0 = empty). */
export interface Log {
  segments: Segment[];
  end: number;
}

/**
 * A run of offsets the log does not hold although entries after them are there: records
 * missing from a snapshot data file cut short by a power loss (its MANIFEST, fsynced,
 * still counts them). No writer: it matches no other log's entries.
 */
export const HOLE_EPOCH = -1;

/** The segment holding `offset`, if the log has that entry. */
export function segmentAt(log: Log, offset: number): Segment | undefined {
  if (offset < 1 || offset > log.end) return undefined;
  let found: Segment | undefined;
  for (const s of log.segments) {
    if (s.start > offset) break;
    found = s;
  }
  return found;
}

/** Term stamped on the entry at `offset` (0 when there is none: OpenMLDB's "no term"). */
export function termAt(log: Log, offset: number): number {
  return segmentAt(log, offset)?.term ?? 0;
}

/** Append entries up to `end` written by (term, epoch). */
export function append(log: Log, end: number, term: number, epoch: number): void {
  if (end <= log.end) return;
  const last = log.segments[log.segments.length - 1];
  if (!last || last.epoch !== epoch || last.term !== term) log.segments.push({ start: log.end + 1, term, epoch });
  log.end = end;
}

/** The entries at `from`..`to` are gone, those after them stay (a short snapshot file). */
export function punch(log: Log, from: number, to: number): void {
  const a = Math.max(1, from);
  const b = Math.min(to, log.end);
  if (b < a) return;
  const after = b < log.end ? segmentAt(log, b + 1) : undefined;
  const kept = log.segments.filter((s) => s.start < a);
  const hole: Segment = { start: a, term: 0, epoch: HOLE_EPOCH };
  const rest = log.segments.filter((s) => s.start > b + 1);
  const resume = after ? [{ start: b + 1, term: after.term, epoch: after.epoch }] : [];
  log.segments = [...kept, hole, ...resume, ...rest];
}

/** How many entries the log holds (its offset, less its holes): a tablet's record count. */
export function held(log: Log): number {
  return runs(log).reduce((n, r) => n + (r.to - r.from + 1), 0);
}

/** Keep only entries up to `end` (a binlog cut back to the snapshot, a power loss). */
export function truncate(log: Log, end: number): void {
  const keep = Math.max(0, Math.min(end, log.end));
  log.segments = log.segments.filter((s) => s.start <= keep);
  log.end = keep;
}

export function cloneLog(log: Log): Log {
  return { segments: log.segments.map((s) => ({ ...s })), end: log.end };
}

/**
 * Highest offset up to which both logs hold the same entries, compared entry by entry (by
 * writer, run by run). OpenMLDB's logs do not match as Raft's do: a follower keeps whatever
 * it holds at or below its offset and takes its leader's entries after it (tablet_impl.cc
 * AppendEntries, replica/replicate_node.cc), so equal entries at the end prove nothing
 * about the entries before.
 */
export function commonPrefix(a: Log, b: Log): number {
  const end = Math.min(a.end, b.end);
  const starts = [...new Set([...a.segments, ...b.segments].map((s) => s.start))].filter((x) => x <= end).sort((x, y) => x - y);
  for (const at of starts) {
    if (segmentAt(a, at)?.epoch !== segmentAt(b, at)?.epoch) return at - 1;
  }
  return end;
}

/** Copy `from`'s entries after `after` into `to` (a follower receiving what its leader has; AppendEntries). */
export function appendFrom(to: Log, from: Log, after: number): void {
  for (const s of from.segments) {
    const segEnd = nextStart(from, s) - 1;
    if (segEnd <= after) continue;
    if (segEnd > to.end) append(to, segEnd, s.term, s.epoch);
  }
}

function nextStart(log: Log, s: Segment): number {
  const i = log.segments.indexOf(s);
  return log.segments[i + 1]?.start ?? log.end + 1;
}

/** Entries as intervals of one writer: [from, to] written by `epoch` (term kept for display). */
export interface Run {
  epoch: number;
  term: number;
  from: number;
  to: number;
}

/** What the log holds, run by run (holes left out). */
export function runs(log: Log): Run[] {
  return log.segments
    .map((s) => ({ epoch: s.epoch, term: s.term, from: s.start, to: Math.min(nextStart(log, s) - 1, log.end) }))
    .filter((r) => r.to >= r.from && r.epoch !== HOLE_EPOCH);
}

/** The set of distinct entries several logs hold between them, as non-overlapping runs. */
export function union(logs: Log[]): Run[] {
  return distinct(logs.flatMap(runs));
}

/** The same entries as `set`, each once. */
export function distinct(set: Run[]): Run[] {
  const out: Run[] = [];
  for (const r of set) addRun(out, r);
  return out;
}

function addRun(set: Run[], r: Run): void {
  // Entries are unique per (epoch, offset): subtract what the set already holds for this epoch.
  let pieces: Array<[number, number]> = [[r.from, r.to]];
  for (const x of set) {
    if (x.epoch !== r.epoch) continue;
    pieces = pieces.flatMap(([a, b]) => subtract(a, b, x.from, x.to));
  }
  for (const [from, to] of pieces) set.push({ epoch: r.epoch, term: r.term, from, to });
}

function subtract(a: number, b: number, x: number, y: number): Array<[number, number]> {
  if (y < a || x > b) return [[a, b]];
  const out: Array<[number, number]> = [];
  if (x > a) out.push([a, x - 1]);
  if (y < b) out.push([y + 1, b]);
  return out;
}

export function count(set: Run[]): number {
  return set.reduce((n, r) => n + (r.to - r.from + 1), 0);
}

/** Entries of `set` that none of `logs` holds. */
export function missing(set: Run[], logs: Log[]): Run[] {
  return minus(set, union(logs));
}

/** Entries of `set` that are not in `other`. */
export function minus(set: Run[], other: Run[]): Run[] {
  const out: Run[] = [];
  for (const r of set) {
    let pieces: Array<[number, number]> = [[r.from, r.to]];
    for (const h of other) {
      if (h.epoch !== r.epoch) continue;
      pieces = pieces.flatMap(([a, b]) => subtract(a, b, h.from, h.to));
    }
    for (const [from, to] of pieces) out.push({ ...r, from, to });
  }
  return out;
}

/**
 * Entries of `log` at offsets where a newer term than theirs had begun (`termStarts`: each
 * term and its first offset, OpenMLDB's term_offset): that term's lineage holds other
 * entries there (its leader numbers on from max_offset + 1), so these are not in it.
 */
export function overtaken(log: Log, termStarts: ReadonlyArray<{ term: number; offset: number }>): Run[] {
  const out: Run[] = [];
  for (const r of runs(log)) {
    const starts = termStarts.filter((t) => t.term > r.term).map((t) => Math.max(1, t.offset));
    if (starts.length === 0) continue;
    const from = Math.max(r.from, Math.min(...starts));
    if (from <= r.to) out.push({ ...r, from });
  }
  return out;
}
