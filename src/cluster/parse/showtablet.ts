/** `showtablet` (ns_client, section 3.2): `endpoint [real_endpoint] state age`. */
import { Cells, compact, readTable } from './typed.js';

export interface ShowTabletRow {
  /** The registered endpoint, or the server name when the cluster uses names. */
  readonly endpoint: string;
  /** ip:port behind a server name; undefined when printed `-`. */
  readonly realEndpoint?: string;
  readonly state: 'healthy' | 'offline';
  /** As printed: `kHealthy`, `kTabletHealthy`, `kOffline`, `kTabletOffline`. */
  readonly rawState: string;
  /** Time since the last state change, as printed (`3h`, `7m`, `3.000h`). */
  readonly age: string;
}

// kTablet* up to v0.2.2 and in all RTIDB/FEDB versions; k* from v0.2.3.
const STATE = {
  kHealthy: 'healthy',
  kTabletHealthy: 'healthy',
  kOffline: 'offline',
  kTabletOffline: 'offline',
} as const;

export function parseShowTablet(text: string): ShowTabletRow[] {
  const table = readTable(text, { command: 'showtablet', required: ['endpoint', 'state', 'age'] });
  return table.rows.map((row) => {
    const c = new Cells(table, row);
    return compact({
      endpoint: c.str('endpoint'),
      realEndpoint: c.opt('real_endpoint'),
      state: c.oneOf('state', STATE),
      rawState: c.str('state'),
      age: c.str('age'),
    });
  });
}
