/** `showns` (ns_client, section 3.1): optional `ns leader: X` line, then `endpoint [real_endpoint] role`. */
import { nsLeaderOf } from './lines.js';
import { Cells, compact, readTable } from './typed.js';

export interface NameserverRow {
  readonly endpoint: string;
  readonly realEndpoint?: string;
  readonly role: 'leader' | 'standby';
}

export interface ShowNsResult {
  /** From the `ns leader: <endpoint>` line printed in ZooKeeper mode, when present. */
  readonly leader?: string;
  readonly nameservers: readonly NameserverRow[];
}

const ROLE = { leader: 'leader', standby: 'standby' } as const;

export function parseShowNs(text: string): ShowNsResult {
  const table = readTable(text, { command: 'showns', required: ['endpoint', 'role'] });
  const leaders = table.before.map(nsLeaderOf).filter((l): l is string => l !== undefined);
  const nameservers = table.rows.map((row) => {
    const c = new Cells(table, row);
    return compact({ endpoint: c.str('endpoint'), realEndpoint: c.opt('real_endpoint'), role: c.oneOf('role', ROLE) });
  });
  return compact({ leader: leaders[leaders.length - 1], nameservers });
}
