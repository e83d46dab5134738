/** `confget [key]` (ns_client, section 3.6): a `key value` table. */
import { ParseError } from './errors.js';
import { Cells, readTable } from './typed.js';

export interface ConfGetResult {
  /** Every key/value pair printed. */
  readonly values: Readonly<Record<string, string>>;
  /** The `auto_failover` row (the only key the nameserver has). */
  readonly autoFailover: boolean;
}

export function parseConfGet(text: string): ConfGetResult {
  const table = readTable(text, { command: 'confget', required: ['key', 'value'] });
  const values: Record<string, string> = {};
  for (const row of table.rows) {
    const c = new Cells(table, row);
    values[c.str('key')] = c.str('value');
  }
  const raw = values['auto_failover'];
  if (raw === undefined) throw new ParseError('confget', text, 'no auto_failover row');
  // The NS accepts true/false case-insensitively on confset and prints what it stored.
  const lower = raw.toLowerCase();
  if (lower !== 'true' && lower !== 'false') {
    throw new ParseError('confget', text, `auto_failover is "${raw}", expected true or false`);
  }
  return { values, autoFailover: lower === 'true' };
}
