// Reading a run record file without holding it whole: its first line, its last lines, or
// every line as a stream. Records of any size are read this way (a record from before reads
// were tallied could pass the 512 MB a string may hold).
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { EndLine, RecordLine, StartLine } from './record-lines.js';

/** Bytes read from a record's end to find its end line. */
const TAIL_BYTES = 64 * 1024;

function parse(raw: string): RecordLine | undefined {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as RecordLine;
  } catch {
    return undefined; // a torn write (a run killed mid-line)
  }
}

/** Every line of a record as stored, in order. */
export function rawRecordLines(path: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
}

/** Every line of a record, in order; a torn line is skipped. */
export async function* recordLines(path: string): AsyncGenerator<RecordLine> {
  for await (const raw of rawRecordLines(path)) {
    const line = parse(raw);
    if (line !== undefined) yield line;
  }
}

/** A line as stored, parsed when it is of one of these types (the type is the first key written). */
export function lineOf<T extends RecordLine['type']>(raw: string, types: readonly T[]): Extract<RecordLine, { type: T }> | undefined {
  if (!types.some((t) => raw.startsWith(`{"type":"${t}"`))) return undefined;
  return parse(raw) as Extract<RecordLine, { type: T }> | undefined;
}

/** The first and the last line of a record (the start, and the end when the run ended), read from its two ends. */
export function recordEnds(path: string): { start?: StartLine; end?: EndLine; size: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, TAIL_BYTES));
    readSync(fd, head, 0, head.length, 0);
    const first = parse(head.toString('utf8').split('\n')[0] ?? '');
    const tail = Buffer.alloc(Math.min(size, TAIL_BYTES));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    const lines = tail.toString('utf8').split('\n');
    let end: EndLine | undefined;
    for (let i = lines.length - 1; i >= 0 && end === undefined; i--) {
      const raw = lines[i] ?? '';
      if (!raw.startsWith('{"type":"end"')) continue;
      const l = parse(raw);
      if (l?.type === 'end') end = l;
    }
    return { ...(first?.type === 'start' ? { start: first } : {}), ...(end ? { end } : {}), size };
  } finally {
    closeSync(fd);
  }
}
