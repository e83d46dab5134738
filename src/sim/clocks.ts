// The clocks that drive the cluster between calls: the nameserver's heartbeat check and
// status poll, the tablets' replication, binlog fsync and binlog deletion.
import type { SimLedger } from './ledger.js';
import type { SimTiming } from './model.js';
import type { SimNodes } from './nodes.js';
import type { Replication } from './replication.js';

export class SimClocks {
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly timing: SimTiming,
    private readonly nodes: SimNodes,
    private readonly replication: Replication,
    private readonly ledger: SimLedger,
  ) {}

  start(): void {
    // The first status poll at once (the nameserver's UpdateTableStatus runs from its start):
    // a reader right after the start sees polled offsets, whichever of its read and the first
    // queued poll takes the metadata lock first.
    this.replication.poll();
    this.timers.push(setInterval(() => this.nodes.heartbeatTick(), 100));
    this.timers.push(setInterval(() => this.replication.pollLocked(), this.timing.statusPollMs));
    this.timers.push(setInterval(() => this.replication.replicate(), 50));
    this.timers.push(setInterval(() => this.replication.syncBinlogs(), this.timing.binlogSyncMs));
    this.timers.push(setInterval(() => this.replication.deleteBinlogs(), this.timing.binlogDeleteMs));
  }

  /** Everything timed stops: the clients writing, the clocks, and the nodes' pending sessions and election. */
  stop(): void {
    this.ledger.traffic?.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.nodes.stopTimers();
  }
}
