// Shapes shared by the nameserver and tablet services: a reply is the brpc JSON message.
export type Json = Record<string, unknown>;

/** A reply with `code` and `msg`, as most OpenMLDB responses carry. */
export interface Status {
  code: number;
  msg: string;
}

export const ok = (): Status => ({ code: 0, msg: 'ok' });
export const fail = (code: number, msg: string): Status => ({ code, msg });

/** Thrown inside a service when the tablet or nameserver it needs cannot be reached. */
export class Unreachable extends Error {
  constructor(readonly endpoint: string) {
    super(`[E111]Fail to connect ${endpoint}: Connection refused`);
  }
}

export function str(body: Json, key: string): string | undefined {
  const v = body[key];
  return typeof v === 'string' ? v : undefined;
}

export function num(body: Json, key: string): number | undefined {
  const v = body[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

export function bool(body: Json, key: string): boolean | undefined {
  const v = body[key];
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

export function obj(body: Json, key: string): Json | undefined {
  const v = body[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
