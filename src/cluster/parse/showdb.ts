/**
 * `showdb` (ns_client, section 3.3): columns `# name`. The CLI prints an empty table on
 * RPC failure, so zero databases may also mean "could not ask" (section 13 item 12).
 */
import { Cells, readTable } from './typed.js';

export function parseShowDb(text: string): string[] {
  const table = readTable(text, { command: 'showdb', required: ['name'] });
  return table.rows.map((row) => new Cells(table, row).str('name'));
}
