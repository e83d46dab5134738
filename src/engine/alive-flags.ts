// Alive flags set the way OpenMLDB allows in one call: `updatetablealive TABLE * ENDPOINT
// yes|no` changes every partition of the table on that endpoint with one metadata write.
// Each write takes the nameserver's global mutex and rewrites the table's whole ZooKeeper
// node (name_server_impl.cc UpdateTableAliveStatus -> UpdateZkTableNode), so a recovery
// that sets flags partition by partition makes the nameserver, and every client of it,
// wait through one write per replica.
//
// A partition's set-alive step asks here. Asks for the same table, endpoint and value are
// gathered for a moment; then, on a fresh read of the table, one `*` call is made when it
// changes exactly what was asked (every partition of the table on that endpoint whose flag
// differs was asked for), else one call per partition asked for whose flag still differs.
// A partition not asked for is never changed. Calls for one table and endpoint run one at a
// time, so a batch never acts on a read older than another batch's change.
import type { EngineCluster, SharedReads } from './cluster.js';

export interface AliveAsk {
  db: string;
  table: string;
  pid: number;
  endpoint: string;
  alive: boolean;
}

/** How the flag came to be as asked: already so, in a call for the whole table on that endpoint, or its own call. */
export type AliveOutcome = 'already' | 'table' | 'partition';

/** A partition asked for a flag on an endpoint that holds no replica of it (as showtable lists it now). */
export class NotAReplica extends Error {
  override readonly name = 'NotAReplica';
  constructor(db: string, table: string, pid: number, endpoint: string) {
    super(`replica ${endpoint} of ${db}.${table} pid ${pid} is not in showtable`);
  }
}

interface Waiter {
  pid: number;
  resolve: (o: AliveOutcome) => void;
  reject: (err: unknown) => void;
}

interface Batch {
  db: string;
  table: string;
  endpoint: string;
  alive: boolean;
  waiters: Waiter[];
  timer: NodeJS.Timeout;
}

export interface AliveFlagsOptions {
  /** How long an ask waits for asks about the table's other partitions (ms). */
  gatherMs: number;
}

/**
 * A table's partitions reach the same step within about a second of each other (their loads
 * queue table by table); a batch goes as soon as every partition there has asked.
 */
export const DEFAULT_GATHER_MS = 1000;

export class AliveFlags {
  private readonly batches = new Map<string, Batch>();
  /** Per table and endpoint: the calls made so far, one after another. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Per table: its partitions on each endpoint (from the last read), to send a full batch at once. */
  private readonly layout = new Map<string, Map<string, Set<number>>>();
  private readonly learning = new Set<string>();
  /** Calls made: for the whole table on an endpoint, and for one partition. */
  readonly calls = { table: 0, partition: 0 };

  constructor(
    private readonly cluster: Pick<EngineCluster, 'updateTableAlive'>,
    private readonly reads: Pick<SharedReads, 'tableRows'>,
    private readonly o: AliveFlagsOptions = { gatherMs: DEFAULT_GATHER_MS },
  ) {}

  set(ask: AliveAsk): Promise<AliveOutcome> {
    const key = `${ask.db}\0${ask.table}\0${ask.endpoint}\0${ask.alive}`;
    return new Promise<AliveOutcome>((resolve, reject) => {
      let b = this.batches.get(key);
      if (!b) {
        b = { db: ask.db, table: ask.table, endpoint: ask.endpoint, alive: ask.alive, waiters: [], timer: setTimeout(() => this.send(key), this.o.gatherMs) };
        this.batches.set(key, b);
      }
      b.waiters.push({ pid: ask.pid, resolve, reject });
      this.sendIfFull(key, b);
    });
  }

  /** Every partition of the table on that endpoint asked: no reason to wait longer. */
  private sendIfFull(key: string, b: Batch): void {
    const tableKey = `${b.db}\0${b.table}`;
    const layout = this.layout.get(tableKey);
    if (!layout) {
      // Learn where the table's partitions are (a shared read), then look again. A failed
      // read is not retried here (the batch goes on its timer, and its own read learns it):
      // retrying at once would spin without end while the cluster cannot be read.
      if (!this.learning.has(tableKey)) {
        this.learning.add(tableKey);
        this.reads
          .tableRows(b.db, b.table)
          .then((rows) => {
            this.learn(b.db, b.table, rows);
            for (const [k, other] of this.batches) if (other.db === b.db && other.table === b.table) this.sendIfFull(k, other);
          })
          .catch(() => undefined)
          .finally(() => this.learning.delete(tableKey));
      }
      return;
    }
    const on = layout.get(b.endpoint);
    if (on && [...on].every((pid) => b.waiters.some((w) => w.pid === pid))) this.send(key);
  }

  /** Where the partitions of a look's tables are, so that a batch knows when it is full without reading the table first. */
  know(tables: ReadonlyArray<{ db: string; name: string; partitions: ReadonlyArray<{ pid: number; replicas: ReadonlyArray<{ endpoint: string }> }> }>): void {
    for (const t of tables) this.learn(t.db, t.name, t.partitions.flatMap((p) => p.replicas.map((r) => ({ endpoint: r.endpoint, pid: p.pid }))));
  }

  private learn(db: string, table: string, rows: ReadonlyArray<{ endpoint: string; pid: number }>): void {
    const byEndpoint = new Map<string, Set<number>>();
    for (const r of rows) {
      let s = byEndpoint.get(r.endpoint);
      if (!s) byEndpoint.set(r.endpoint, (s = new Set()));
      s.add(r.pid);
    }
    this.layout.set(`${db}\0${table}`, byEndpoint);
  }

  private send(key: string): void {
    const b = this.batches.get(key);
    if (!b) return;
    this.batches.delete(key);
    clearTimeout(b.timer);
    const chainKey = `${b.db}\0${b.table}\0${b.endpoint}`;
    const run = this.chains.get(chainKey) ?? Promise.resolve();
    const next = run.then(() => this.apply(b)).catch(() => undefined);
    this.chains.set(chainKey, next);
    void next.then(() => {
      if (this.chains.get(chainKey) === next) this.chains.delete(chainKey);
    });
  }

  private async apply(b: Batch): Promise<void> {
    try {
      const rows = await this.reads.tableRows(b.db, b.table);
      this.learn(b.db, b.table, rows);
      const onEndpoint = rows.filter((r) => r.endpoint === b.endpoint);
      const asked = new Set(b.waiters.map((w) => w.pid));
      const missing = [...asked].filter((pid) => !onEndpoint.some((r) => r.pid === pid));
      if (missing.length > 0) {
        // Not a replica there (any more): that partition's step cannot be done as planned.
        for (const w of b.waiters.filter((x) => missing.includes(x.pid))) w.reject(new NotAReplica(b.db, b.table, w.pid, b.endpoint));
        b.waiters = b.waiters.filter((x) => !missing.includes(x.pid));
      }
      const differ = onEndpoint.filter((r) => r.isAlive !== b.alive);
      const outcome = new Map<number, AliveOutcome>();
      if (differ.length > 1 && differ.every((r) => asked.has(r.pid))) {
        await this.cluster.updateTableAlive(b.db, b.table, '*', b.endpoint, b.alive);
        this.calls.table++;
        for (const r of differ) outcome.set(r.pid, 'table');
      } else {
        for (const r of differ.filter((x) => asked.has(x.pid))) {
          await this.cluster.updateTableAlive(b.db, b.table, r.pid, b.endpoint, b.alive);
          this.calls.partition++;
          outcome.set(r.pid, 'partition');
        }
      }
      for (const w of b.waiters) w.resolve(outcome.get(w.pid) ?? 'already');
    } catch (err) {
      for (const w of b.waiters) w.reject(err);
    }
  }
}
