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

const AGE_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The longest time an `age` cell can stand for. `HumanReadableTime` divides and truncates
 * (`15s` is 15.0-15.999 s); older printers used decimals (`3.000h`). Undefined when the cell
 * is not a time.
 */
export function ageUpperBoundMs(age: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)$/.exec(age.trim());
  if (!m) return undefined;
  const unit = AGE_UNITS[m[2] as string] as number;
  const value = Number(m[1]);
  return m[1]?.includes('.') ? Math.ceil((value + 0.001) * unit) : (Math.floor(value) + 1) * unit;
}
