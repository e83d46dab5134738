// Reading a command's --json output: parse it (or say what was printed instead) and check
// it against its schema in docs/: the report of a mutating command (and the error report
// every command prints when it stops on an error), or the document of status, failover, ops.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import type { FailoverResult } from '../../src/workflow/failover.js';
import type { OpsReport } from '../../src/workflow/ops.js';
import type { Report } from '../../src/engine/report.js';
import type { StatusReport } from '../../src/workflow/status.js';
import { REPO, type Sim, recoverCli } from './sim.js';

/** What a command printed and how it ended (a finished child's code may be null when signalled). */
export interface Output {
  stdout: string;
  stderr: string;
  code: number | null;
}

const ajv = new Ajv({ allErrors: true, validateFormats: false });
const schema = (file: string): ValidateFunction => ajv.compile(JSON.parse(readFileSync(join(REPO, 'docs', file), 'utf8')) as object);
const SCHEMAS = {
  report: schema('report.schema.json'),
  status: schema('status.schema.json'),
  failover: schema('failover.schema.json'),
  ops: schema('ops.schema.json'),
  record: schema('run-record.schema.json'),
  plan: schema('plan.schema.json'),
};
export type DocKind = keyof typeof SCHEMAS;

export function parseJson<T>(r: Output): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`no JSON on stdout (exit ${r.code}):\n${r.stderr}\n${r.stdout}`);
  }
}

/** Each line of a run record (JSON Lines as stored) checked against docs/run-record.schema.json. */
export function validRecord(text: string): Array<Record<string, unknown>> {
  return text
    .trim()
    .split('\n')
    .map((raw, i) => {
      const line = JSON.parse(raw) as Record<string, unknown>;
      assert.ok(SCHEMAS.record(line), `run record line ${i + 1} (${String(line['type'])}): ${JSON.stringify(SCHEMAS.record.errors?.slice(0, 3), null, 2)}`);
      return line;
    });
}

/** stdout parsed and checked against docs/KIND.schema.json. */
export function validDoc<T>(kind: DocKind, r: Output): T {
  const doc = parseJson<T>(r);
  const validate = SCHEMAS[kind];
  assert.ok(validate(doc), `${kind} schema (exit ${r.code}): ${JSON.stringify(validate.errors, null, 2)}`);
  return doc;
}

/** The report of a mutating command, or the error report of any command, checked against its schema. */
export const report = (r: Output): Report => validDoc<Report>('report', r);
export const statusDoc = (r: Output): StatusReport => validDoc<StatusReport>('status', r);
export const failoverDoc = (r: Output): FailoverResult => validDoc<FailoverResult>('failover', r);
export const opsDoc = (r: Output): OpsReport => validDoc<OpsReport>('ops', r);

/** The operator-facing error lines (exactly one for a refusal or usage error). */
export const errorLines = (stderr: string): string[] => stderr.trim().split('\n').filter((l) => l.startsWith('openmldb-recover:'));

/** `openmldb-recover recover --json ...` and its schema-checked report. */
export async function recoverJson(sim: Sim, args: string[] = []): Promise<{ code: number; report: Report; stderr: string }> {
  const r = await recoverCli(sim, ['recover', '--json', ...args]);
  return { code: r.code, report: report(r), stderr: r.stderr };
}
