// Reads in a run record: counted, timed, sized and digested per method, never kept whole.
// A look at a database returns every table in it, and looks grow with the partitions, so
// bodies kept whole made a 166-partition recovery's record 9 MB and a 1000-table one over
// 512 MB. What an audit needs of a read is that it happened, where, how long it took, how
// much came back and a digest to match it against; what the run decided from the reads is
// in the report (each partition's evidence). A read that failed is kept on its own line.
import { createHash, type Hash } from 'node:crypto';
import type { CommandLogEntry } from '../cluster/transport.js';

/** Reads of one method (`NameServer/ShowTable`, `showtable`) since the last tally line. */
export interface ReadGroup {
  command: string;
  calls: number;
  /** Calls per address (the nameserver, or each tablet); absent from a condensed record's totals. */
  targets?: Record<string, number>;
  /** Summed and longest duration. */
  ms: number;
  maxMs: number;
  /** Bytes of output, summed. */
  bytes: number;
  /** sha256 (hex) of the outputs in the order they came, each followed by a NUL byte; absent from a condensed record's totals. */
  sha256?: string;
}

/** A read that failed: where, how, and the start of what it printed (its output and stderr, EXCERPT characters). */
export type FailedRead = Pick<CommandLogEntry, 'seq' | 'kind' | 'role' | 'target' | 'command' | 'request' | 'startedAt' | 'durationMs' | 'error' | 'httpStatus' | 'exitCode'> & { excerpt: string };

export const EXCERPT = 500;

/** Methods are named as the run sent them: the service path over HTTP, the command word for the binary. */
export function methodOf(e: Pick<CommandLogEntry, 'kind' | 'command'>): string {
  return e.kind === 'http' ? e.command : (e.command.split(' ')[0] ?? e.command);
}

export function readFailed(e: CommandLogEntry): boolean {
  return e.error !== undefined || (e.kind === 'http' ? e.httpStatus !== 200 : e.exitCode !== 0);
}

export function failedRead(e: CommandLogEntry): FailedRead {
  const text = `${e.output}${e.stderr ? `\n${e.stderr}` : ''}`;
  return {
    seq: e.seq,
    kind: e.kind,
    role: e.role,
    target: e.target,
    command: e.command,
    request: e.request,
    startedAt: e.startedAt,
    durationMs: e.durationMs,
    ...(e.error !== undefined ? { error: e.error } : {}),
    ...(e.httpStatus !== undefined ? { httpStatus: e.httpStatus } : {}),
    ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
    excerpt: text.length > EXCERPT ? `${text.slice(0, EXCERPT)}...` : text,
  };
}

interface Open {
  group: Omit<ReadGroup, 'sha256' | 'targets'> & { targets: Record<string, number> };
  hash: Hash;
}

/** Successful reads since the last `take()`, grouped by method. */
export class ReadTally {
  private open = new Map<string, Open>();
  private firstAt: string | undefined;
  /** Every read counted, over the whole run. */
  total = 0;
  /** Per method over the whole run, without addresses or digests (a condensed record's totals). */
  readonly totals = new Map<string, { calls: number; ms: number; maxMs: number; bytes: number }>();

  add(e: CommandLogEntry): void {
    const command = methodOf(e);
    let o = this.open.get(command);
    if (o === undefined) {
      o = { group: { command, calls: 0, targets: {}, ms: 0, maxMs: 0, bytes: 0 }, hash: createHash('sha256') };
      this.open.set(command, o);
    }
    this.firstAt ??= e.startedAt;
    const g = o.group;
    g.calls++;
    g.targets[e.target] = (g.targets[e.target] ?? 0) + 1;
    const bytes = Buffer.byteLength(e.output);
    g.ms += e.durationMs;
    g.maxMs = Math.max(g.maxMs, e.durationMs);
    g.bytes += bytes;
    o.hash.update(e.output).update('\0');
    this.total++;
    const t = this.totals.get(command) ?? { calls: 0, ms: 0, maxMs: 0, bytes: 0 };
    t.calls++;
    t.ms += e.durationMs;
    t.maxMs = Math.max(t.maxMs, e.durationMs);
    t.bytes += bytes;
    this.totals.set(command, t);
  }

  get pending(): boolean {
    return this.open.size > 0;
  }

  /** The groups since the last take (and when the first of them started); the tally starts over. */
  take(): { since: string; reads: ReadGroup[] } | undefined {
    if (this.open.size === 0 || this.firstAt === undefined) return undefined;
    const reads = [...this.open.values()].map((o) => ({ ...o.group, sha256: o.hash.digest('hex') }));
    const since = this.firstAt;
    this.open = new Map();
    this.firstAt = undefined;
    return { since, reads };
  }
}
