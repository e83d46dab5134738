// Clients writing as OpenMLDB's SDK does, so that a recovery is rehearsed under the traffic
// every real restart has: ingestion jobs and online clients call Put as soon as they find a
// leader. Each write picks a user table's partition, finds its leader the SDK's way (the
// replica flagged leader and alive in the table's ZooKeeper node), and sends Put to that
// tablet through its RPC handler (faults, a stopped tablet, the tablet's acceptance rules:
// tablet.ts put). A write refused or unanswered is tried again after a fresh look at the
// metadata, a few times, then given up; only a write the client saw answered ok counts as
// acknowledged (write-ledger.ts).
import type { Rng } from './rng.js';
import type { TableMeta } from './model.js';
import type { WriteLedger } from './write-ledger.js';
import { INTERNAL_DBS } from './model.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the clients need of the cluster. */
export interface TrafficHost {
  /** The table nodes as ZooKeeper holds them now (what the SDK reads and watches). */
  tableNodes(): Iterable<TableMeta>;
  /** Put to a tablet; the code it answered, or undefined when no answer came. */
  put(endpoint: string, body: Record<string, unknown>): Promise<number | undefined>;
  writes: WriteLedger;
  rng: Rng;
}

export interface TrafficStats {
  rate: number;
  /** Puts sent, counting every attempt. */
  sent: number;
  acknowledged: number;
  /** Attempts refused (no leader in the metadata, or the tablet said no) or unanswered. */
  refused: number;
  /** Writes given up after their attempts. */
  gaveUp: number;
}

const TICK_MS = 50;
/** The SDK's attempts at one write, each after a fresh look at the metadata. */
const ATTEMPTS = 4;
const RETRY_MS = 100;
/** Writes in flight at most: a cluster refusing everything is not flooded. */
const IN_FLIGHT = 64;

export class Traffic {
  private timer: NodeJS.Timeout | undefined;
  private carry = 0;
  private seq = 0;
  private inFlight = 0;
  readonly stats: TrafficStats = { rate: 0, sent: 0, acknowledged: 0, refused: 0, gaveUp: 0 };

  constructor(private readonly host: TrafficHost) {}

  /** Writes per second over all user tables; 0 stops. */
  setRate(rate: number): void {
    this.stats.rate = Math.max(0, rate);
    if (this.stats.rate === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    this.setRate(0);
  }

  private tick(): void {
    this.carry += (this.stats.rate * TICK_MS) / 1000;
    while (this.carry >= 1 && this.inFlight < IN_FLIGHT) {
      this.carry -= 1;
      this.inFlight += 1;
      void this.write().finally(() => (this.inFlight -= 1));
    }
    if (this.carry > 1) this.carry = 1; // writes that found no room are not made up later
  }

  private async write(): Promise<void> {
    const users = [...this.host.tableNodes()].filter((t) => !(INTERNAL_DBS as readonly string[]).includes(t.db) && t.partitions.length > 0);
    if (users.length === 0) return;
    const table = this.host.rng.pick(users);
    const pid = this.host.rng.pick(table.partitions).pid;
    const id = `traffic-${++this.seq}`;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      // A fresh look each time: the SDK refreshes its table info when a Put fails.
      const part = [...this.host.tableNodes()].find((t) => t.tid === table.tid)?.partitions.find((p) => p.pid === pid);
      const leader = part?.replicas.find((r) => r.isLeader && r.isAlive);
      if (leader) {
        this.stats.sent += 1;
        const code = await this.host.put(leader.endpoint, { tid: table.tid, pid, pk: id, time: Date.now(), value: id });
        if (code === 0) {
          this.host.writes.acknowledge(id);
          this.stats.acknowledged += 1;
          return;
        }
        // Applied but unanswered counts as not acknowledged: the client cannot know.
        this.host.writes.forget(id);
      }
      this.stats.refused += 1;
      if (attempt < ATTEMPTS) await sleep(RETRY_MS);
    }
    this.stats.gaveUp += 1;
  }
}
