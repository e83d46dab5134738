// Secrets never reach a run record, the report or --verbose output: the password, the HTTP
// Authorization value derived from it (`u<user>:1<sha256(password)>`) and that hash.
// Options and argv are redacted by name; every other string is scrubbed of the secret
// values themselves, wherever a command's output might have echoed them.
import { createHash } from 'node:crypto';
import { credential } from '../cluster/command-line.js';

export const REDACTED = '[redacted]';

/** Option names whose values are secrets (their `-file` variants hold a path, not a secret). */
const SECRET_OPTION = /^(?:password|passwd|secret|token)$/i;

/**
 * Shorter passwords are redacted by name only: scrubbing every occurrence of a three-letter
 * string would garble the record while protecting nothing the names do not already cover.
 */
const MIN_SCRUBBED = 4;

export class Redactor {
  private readonly secrets: string[];

  constructor(user: string, password: string) {
    const values = password === '' ? [] : [credential(user, password), createHash('sha256').update(password, 'utf8').digest('hex')];
    if (password.length >= MIN_SCRUBBED) values.push(password);
    // As JSON writes them too (a quote or backslash in the password is escaped there).
    const escaped = values.map((v) => JSON.stringify(v).slice(1, -1)).filter((e) => !values.includes(e));
    // Longest first, so the credential goes before the hash and password inside it.
    this.secrets = [...values, ...escaped].sort((a, b) => b.length - a.length);
  }

  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** A deep copy with every string scrubbed and every secret-named key's value replaced. */
  value<T>(v: T): T {
    return this.walk(v) as T;
  }

  private walk(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.walk(x));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = SECRET_OPTION.test(k) && x !== undefined ? REDACTED : this.walk(x);
      return out;
    }
    return v;
  }

  /** A command line with the values of `--password=X` and `--password X` replaced. */
  argv(args: readonly string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i] as string;
      const eq = /^(--?([\w-]+))=(.*)$/s.exec(a);
      if (eq && SECRET_OPTION.test(eq[2] as string)) {
        out.push(`${eq[1]}=${REDACTED}`);
        continue;
      }
      const flag = /^--?([\w-]+)$/.exec(a);
      out.push(this.text(a));
      if (flag && SECRET_OPTION.test(flag[1] as string) && i + 1 < args.length) {
        out.push(REDACTED);
        i++;
      }
    }
    return out;
  }
}
