// Small helpers of the stand-in `openmldb` binary: output, argument parsing with the
// exact C++ semantics, stdin line reading, glog-style stderr noise.

import { host } from './host.js';

export type Json = Record<string, unknown>;
export type Dialect = 'modern' | '2018';

/** stdout of the binary (std::cout / printf). Writes to pipes and files are synchronous on Linux. */
export function out(text: string): void {
  host().stdout(text);
}

export function println(line: string): void {
  host().stdout(line + '\n');
}

/** A glog line on stderr, as PDLOG/LOG(WARNING) print it before InitGoogleLogging(). */
export function glog(level: 'I' | 'W' | 'E', file: string, message: string): void {
  const now = new Date();
  const p2 = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${p2(now.getMonth() + 1)}${p2(now.getDate())} ${p2(now.getHours())}:${p2(now.getMinutes())}:` +
    `${p2(now.getSeconds())}.${String(now.getMilliseconds() * 1000).padStart(6, '0')}`;
  const h = host();
  let text = '';
  if (!h.state.glogNoticePrinted) {
    h.state.glogNoticePrinted = true;
    text += 'WARNING: Logging before InitGoogleLogging() is written to STDERR\n';
  }
  text += `${level}${stamp} ${h.pid} ${file}] ${message}\n`;
  h.stderr(text);
}

/** `openmldb::base::SplitString(s, " ")`: split on single spaces, drop empty pieces. */
export function splitString(s: string): string[] {
  return s.split(' ').filter((p) => p !== '');
}

const U32_MAX = 4294967295n;
const U64_MAX = 18446744073709551615n;

/**
 * `std::from_chars` into an unsigned integer: leading decimal digits are parsed (the rest
 * of the string is ignored); no sign, no whitespace; overflow is an error.
 */
export function fromCharsU32(s: string): number | undefined {
  const m = /^\d+/.exec(s);
  if (!m) return undefined;
  const v = BigInt(m[0]);
  return v > U32_MAX ? undefined : Number(v);
}

export function fromCharsU64(s: string): bigint | undefined {
  const m = /^\d+/.exec(s);
  if (!m) return undefined;
  const v = BigInt(m[0]);
  return v > U64_MAX ? undefined : v;
}

/** `boost::lexical_cast<int32_t>`: the whole string, optional sign, in range; else throws (undefined). */
export function lexicalCastInt32(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const v = BigInt(s);
  if (v < -(2n ** 31n) || v > 2n ** 31n - 1n) return undefined;
  return Number(v);
}

/**
 * `boost::lexical_cast<uintN_t>`: the whole string, optional sign; a leading '-' is
 * accepted and the value wraps modulo 2^N (boost's documented quirk); overflow throws.
 */
export function lexicalCastUnsigned(s: string, bits: 32 | 64): bigint | undefined {
  const m = /^([+-]?)(\d+)$/.exec(s);
  if (!m) return undefined;
  const mag = BigInt(m[2] as string);
  const max = bits === 32 ? U32_MAX : U64_MAX;
  if (mag > max) return undefined;
  return m[1] === '-' ? BigInt.asUintN(bits, -mag) : mag;
}

/** `absl::SimpleAtoi` into uint64: optional surrounding whitespace and '+'. */
export function simpleAtoiU64(s: string): bigint | undefined {
  const m = /^\s*\+?(\d+)\s*$/.exec(s);
  if (!m) return undefined;
  const v = BigInt(m[1] as string);
  return v > U64_MAX ? undefined : v;
}

/** A number for a JSON body (uint64 values beyond 2^53 lose precision, as JSON numbers do). */
export function jsonNum(v: bigint | number): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

/** Reads stdin line by line, like linenoise: a prompt only when stdin is a terminal. */
export class LineReader {
  private buffer = '';
  private ended = false;
  private waiting: (() => void) | undefined;
  private started = false;
  /** The run's stdin, the host's; looked up only when read (touching process.stdin opens it). */
  private input: NodeJS.ReadStream | undefined;

  private start(): void {
    if (this.started) return;
    this.started = true;
    const input = (this.input = host().stdin);
    if (!input) {
      this.ended = true;
      return;
    }
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    input.on('end', () => {
      this.ended = true;
      this.wake();
    });
    input.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  /** Next line without its "\n"; null at end of input (a last line without "\n" is returned). */
  async readLine(prompt: string): Promise<string | null> {
    this.start();
    if (this.input?.isTTY) out(prompt);
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        return line;
      }
      if (this.ended) {
        if (this.buffer === '') return null;
        const line = this.buffer;
        this.buffer = '';
        return line;
      }
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  close(): void {
    if (this.started) this.input?.destroy();
  }
}

/** linenoise loop body: lines starting with '/' and blank lines are skipped (returns ''). */
export function cleanLine(line: string): string {
  if (line === '' || line.startsWith('/')) return '';
  return line.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
}

export const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Reads a JSON member as a number (JSON numbers, or numeric strings as brpc may print int64). */
export function numField(o: Json | undefined, key: string): number | undefined {
  if (!o) return undefined;
  const v = o[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

export function strField(o: Json | undefined, key: string): string | undefined {
  if (!o) return undefined;
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

export function boolField(o: Json | undefined, key: string): boolean | undefined {
  if (!o) return undefined;
  const v = o[key];
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

export function arrField(o: Json | undefined, key: string): Json[] {
  if (!o) return [];
  const v = o[key];
  return Array.isArray(v) ? v.filter((x): x is Json => x !== null && typeof x === 'object' && !Array.isArray(x)) : [];
}

export function objField(o: Json | undefined, key: string): Json | undefined {
  if (!o) return undefined;
  const v = o[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

/** Enum members may arrive as names or numbers (brpc json2pb prints names). */
export function enumField(o: Json | undefined, key: string, names: Record<number, string>): string | undefined {
  if (!o) return undefined;
  const v = o[key];
  if (typeof v === 'string') return /^\d+$/.test(v) ? names[Number(v)] ?? v : v;
  if (typeof v === 'number') return names[v] ?? String(v);
  return undefined;
}

export const TABLE_MODE: Record<number, string> = { 1: 'kTableLeader', 2: 'kTableFollower' };
export const TABLE_STATE: Record<number, string> = {
  0: 'kTableUndefined',
  1: 'kTableNormal',
  2: 'kTableLoading',
  3: 'kMakingSnapshot',
  4: 'kSnapshotPaused',
};
export const COMPRESS_TYPE: Record<number, string> = { 0: 'kNoCompress', 1: 'kSnappy' };
export const STORAGE_MODE: Record<number, string> = { 0: 'kUnknown', 1: 'kMemory', 2: 'kSSD', 3: 'kHDD' };
