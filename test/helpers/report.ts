// Reading a command's --json output: parse it (or say what was printed instead) and check
// a report against docs/report.schema.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { Report } from '../../src/workflow/report.js';
import { REPO, type RunResult, type Sim, recoverCli } from './sim.js';

const validate = new Ajv({ allErrors: true, validateFormats: false }).compile(JSON.parse(readFileSync(join(REPO, 'docs/report.schema.json'), 'utf8')) as object);

export function parseJson<T>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`no JSON on stdout (exit ${r.code}):\n${r.stderr}\n${r.stdout}`);
  }
}

/** The report of a mutating command, checked against its schema. */
export function report(r: RunResult): Report {
  const rep = parseJson<Report>(r);
  assert.ok(validate(rep), JSON.stringify(validate.errors, null, 2));
  return rep;
}

/** The operator-facing error lines (exactly one for a refusal or usage error). */
export const errorLines = (stderr: string): string[] => stderr.trim().split('\n').filter((l) => l.startsWith('openmldb-recover:'));

/** `openmldb-recover recover --json ...` and its schema-checked report. */
export async function recoverJson(sim: Sim, args: string[] = []): Promise<{ code: number; report: Report; stderr: string }> {
  const r = await recoverCli(sim, ['recover', '--json', ...args]);
  return { code: r.code, report: report(r), stderr: r.stderr };
}
