/**
 * Loader for the real `openmldb` transcripts in test/fixtures/openmldb-transcripts (a
 * copy kept in the repository, so a clone tests alone). Each file: `# key: value` header
 * lines, a `---` line, then the output verbatim (line endings preserved).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Fixture {
  /** File name, e.g. `001-showtable-rtidb-ops-flowtrans.txt`. */
  readonly file: string;
  /** `# command:` value, e.g. `showtable`, `show table status`. */
  readonly command: string;
  /** `# kind:` value: `success` or `error`. */
  readonly kind: string;
  readonly expect: string;
  /** `# whitespace:` value when present (`mangled ...`, `CRLF ...`). */
  readonly whitespace?: string;
  /** Every header field; repeated keys (`note`) keep all values. */
  readonly header: Readonly<Record<string, readonly string[]>>;
  /** The output after the `---` line, exactly as stored. */
  readonly body: string;
}

const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export function fixturesDir(): string {
  return path.join(repoRoot, 'test/fixtures/openmldb-transcripts');
}

export function parseFixture(file: string, raw: string): Fixture {
  const sep = /^---\r?\n/m.exec(raw);
  if (sep === null) throw new Error(`${file}: no '---' line`);
  const header: Record<string, string[]> = {};
  for (const line of raw.slice(0, sep.index).split(/\r?\n/)) {
    const m = /^# ([\w-]+):\s?(.*)$/.exec(line);
    if (m === null) continue;
    const key = m[1] as string;
    (header[key] ??= []).push((m[2] ?? '').trim());
  }
  const one = (key: string): string | undefined => header[key]?.[0];
  const command = one('command');
  if (command === undefined) throw new Error(`${file}: no '# command:' line`);
  const whitespace = one('whitespace');
  return {
    file,
    command,
    kind: one('kind') ?? '',
    expect: one('expect') ?? '',
    ...(whitespace === undefined ? {} : { whitespace }),
    header,
    body: raw.slice(sep.index + sep[0].length),
  };
}

/** Every fixture file (names starting with a digit), sorted by name. */
export function loadFixtures(dir = fixturesDir()): Fixture[] {
  return readdirSync(dir)
    .filter((f) => /^\d+-.*\.txt$/.test(f))
    .sort()
    .map((f) => parseFixture(f, readFileSync(path.join(dir, f), 'utf8')));
}

export function loadFixture(file: string, dir = fixturesDir()): Fixture {
  return parseFixture(file, readFileSync(path.join(dir, file), 'utf8'));
}
