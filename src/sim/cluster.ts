// The simulated cluster: nameservers, tablets, the ZooKeeper stand-in, and the clocks
// that drive heartbeats, status polling and replication. Each concern lives in its own
// module; this class composes them and is the one surface the servers, the scenarios and
// the tests use:
//   nodes.ts        the processes, their sessions, the election (SimNodes)
//   ns-metadata.ts  the leader's metadata, in memory and in ZooKeeper (NameserverMetadata)
//   replication.ts  client writes, followers catching up, the status poll (Replication)
//   clocks.ts       the timers driving them (SimClocks)
//   ledger.ts       the incident's baseline, mutations, client writes (SimLedger)
//   registry.ts     the embedded ZooKeeper stand-in's reads (EmbeddedRegistry)
// RPC semantics live in nameserver.ts, tablet.ts and ops.ts, each reaching the cluster
// through its own host interface, which this class implements.
import { EventEmitter } from 'node:events';
import { criticalPath } from './bound.js';
import { SimClocks } from './clocks.js';
import { Faults, type RpcFault } from './faults.js';
import { type MutationRecord, SimLedger } from './ledger.js';
import type { MetadataLock } from './metadata-lock.js';
import type {
  Dialect,
  ElectionHost,
  Incident,
  NameserverNode,
  Op,
  SimTiming,
  TableMeta,
  TabletNode,
  TabletView,
  TaskSpec,
} from './model.js';
import { DEFAULT_TIMING, partitionKey } from './model.js';
import { NameserverService } from './nameserver.js';
import { SimNodes } from './nodes.js';
import { NameserverMetadata } from './ns-metadata.js';
import { DEFAULT_CONCURRENCY, OpEngine } from './ops.js';
import { EmbeddedRegistry } from './registry.js';
import { Replication } from './replication.js';
import { Rng } from './rng.js';
import { type LoadFault, TabletService } from './tablet.js';
import type { Traffic } from './traffic.js';
import type { WriteLedger } from './write-ledger.js';

export interface SimOptions {
  rootPath: string;
  dialect: Dialect;
  useName: boolean;
  seed: number;
  nameservers: number;
  tablets: number;
  timing: SimTiming;
  /** Server version string, as `GET /version` returns it. */
  version: string;
  /** The nameservers' FLAGS_auto_failover (true in the shipped template), applied at the end of NameServerImpl::Init. */
  autoFailoverFlag: boolean;
}

export const DEFAULT_OPTIONS: SimOptions = {
  rootPath: '/openmldb',
  dialect: 'modern',
  useName: false,
  seed: 1,
  nameservers: 2,
  tablets: 3,
  timing: DEFAULT_TIMING,
  version: '0.9.3-sim',
  autoFailoverFlag: true,
};

export class SimCluster extends EventEmitter {
  readonly options: SimOptions;
  readonly timing: SimTiming;
  readonly rng: Rng;
  readonly faults: Faults;
  readonly tabletService: TabletService;
  readonly opEngine: OpEngine;
  readonly ns: NameserverService;
  private readonly meta: NameserverMetadata;
  private readonly nodes: SimNodes;
  private readonly replication: Replication;
  private readonly ledger: SimLedger;
  private readonly clocks: SimClocks;
  private readonly registry: EmbeddedRegistry;
  loadFaults = new Map<string, LoadFault>();
  /** The last leadership instance handed out (nextEpoch; log.ts). */
  private epochs = 0;

  constructor(options: Partial<SimOptions> = {}) {
    super();
    this.options = { ...DEFAULT_OPTIONS, ...options, timing: { ...DEFAULT_TIMING, ...(options.timing ?? {}) } };
    this.timing = this.options.timing;
    this.rng = new Rng(this.options.seed);
    this.faults = new Faults(new Rng(this.options.seed ^ 0x5bd1e995));
    this.meta = new NameserverMetadata(this);
    this.nodes = new SimNodes(this.options, this.meta, {
      emit: (event, ...args) => this.emit(event, ...args),
      leaderChanged: () => this.opEngine.onLeaderChange(),
      tabletStopped: (endpoint) => this.tabletService.onStop(endpoint),
      offline: (endpoint) => {
        this.ns.updateEndpointTableAlive(endpoint, false);
        this.ns.offlineEndpointInternal(endpoint, DEFAULT_CONCURRENCY);
      },
      recover: (endpoint) => this.ns.recoverEndpointInternal(endpoint, false, DEFAULT_CONCURRENCY),
    });
    this.tabletService = new TabletService(this);
    this.opEngine = new OpEngine(this);
    this.ns = new NameserverService(this);
    this.replication = new Replication(this.nodes, this.meta, this.tabletService);
    this.ledger = new SimLedger(this.meta, this.nodes);
    this.clocks = new SimClocks(this.timing, this.nodes, this.replication, this.ledger);
    this.registry = new EmbeddedRegistry(this.options, this.nodes, this.meta);
  }

  get dialect(): Dialect {
    return this.options.dialect;
  }

  // ---- the nameserver's metadata (ns-metadata.ts) ---------------------------------------

  /** The leader's auto_failover in memory (ConfGet); set as ConfSet does, announced when it changes. */
  get autoFailover(): boolean {
    return this.meta.autoFailover;
  }

  set autoFailover(value: boolean) {
    this.meta.autoFailover = value;
  }

  get storedAutoFailover(): boolean {
    return this.meta.storedAutoFailover;
  }

  get tables(): TableMeta[] {
    return this.meta.tables;
  }

  get zkTables(): Map<number, TableMeta> {
    return this.meta.zkTables;
  }

  get nsTerm(): number {
    return this.meta.nsTerm;
  }

  get databases(): Set<string> {
    return this.meta.databases;
  }

  get nextTid(): number {
    return this.meta.nextTid;
  }

  set nextTid(tid: number) {
    this.meta.nextTid = tid;
  }

  /** The nameserver's metadata mutex (mu_, metadata-lock.ts). */
  get metadata(): MetadataLock {
    return this.meta.lock;
  }

  writeAutoFailover(value: boolean): Promise<boolean> {
    return this.meta.writeAutoFailover(value);
  }

  writeTableNode(table: TableMeta): Promise<boolean> {
    return this.meta.writeTableNode(table);
  }

  withMetadata<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.meta.withMetadata(fn);
  }

  writeOpNode(): Promise<void> {
    return this.meta.writeOpNode();
  }

  tableByName(db: string, name: string): TableMeta | undefined {
    return this.meta.tableByName(db, name);
  }

  persistTable(table: TableMeta): void {
    this.meta.persistTable(table);
  }

  takeTerms(): number {
    return this.meta.takeTerms();
  }

  persist(): void {
    this.emit('persist');
  }

  // ---- nodes, sessions and the election (nodes.ts) --------------------------------------

  get election(): ElectionHost | undefined {
    return this.nodes.election;
  }

  set election(election: ElectionHost | undefined) {
    this.nodes.election = election;
  }

  get nameservers(): NameserverNode[] {
    return this.nodes.nameservers;
  }

  get leaderEndpoint(): string | undefined {
    return this.nodes.leaderEndpoint;
  }

  addTablet(port: number, index: number): TabletNode {
    return this.nodes.addTablet(port, index);
  }

  addNameserver(port: number, index: number): NameserverNode {
    return this.nodes.addNameserver(port, index);
  }

  tablet(endpoint: string): TabletNode | undefined {
    return this.nodes.tablet(endpoint);
  }

  tablets(): TabletNode[] {
    return this.nodes.tablets();
  }

  realEndpoint(endpoint: string): string | undefined {
    return this.nodes.realEndpoint(endpoint);
  }

  isLeader(nsEndpoint: string): boolean {
    return this.nodes.isLeader(nsEndpoint);
  }

  leaderEpoch(): number | undefined {
    return this.nodes.leaderEpoch();
  }

  takeLeadership(endpoint: string, zkTables: TableMeta[], storedAutoFailover?: boolean): void {
    this.nodes.takeLeadership(endpoint, zkTables, storedAutoFailover);
  }

  settleStarts(): void {
    this.nodes.settleStarts();
  }

  loseLeadership(endpoint: string): void {
    this.nodes.loseLeadership(endpoint);
  }

  tabletViews(): Map<string, TabletView> {
    return this.nodes.tabletViews();
  }

  tabletHealthy(endpoint: string): boolean {
    return this.nodes.tabletHealthy(endpoint);
  }

  startNameserver(endpoint: string): void {
    this.nodes.startNameserver(endpoint);
  }

  stopNameserver(endpoint: string): void {
    this.nodes.stopNameserver(endpoint);
  }

  sessionRemainingMs(endpoint: string): number {
    return this.nodes.sessionRemainingMs(endpoint);
  }

  startTablet(endpoint: string): void {
    this.nodes.startTablet(endpoint);
  }

  stopTablet(endpoint: string): void {
    this.nodes.stopTablet(endpoint);
  }

  fullRestart(powerLoss = false): void {
    this.nodes.fullRestart(powerLoss);
  }

  stopAll(powerLoss = false): void {
    this.nodes.stopAll(powerLoss);
  }

  startAll(): void {
    this.nodes.startAll();
  }

  // ---- replication and the clocks (replication.ts, clocks.ts) ---------------------------

  startClocks(): void {
    this.clocks.start();
  }

  stopClocks(): void {
    this.clocks.stop();
  }

  /** One status poll, now (UpdateTableStatus). */
  pollTick(): void {
    this.replication.poll();
  }

  write(db: string, name: string, entries: number, pids?: number[]): number {
    return this.replication.write(db, name, entries, pids);
  }

  // ---- the ledger (ledger.ts) -----------------------------------------------------------

  get incident(): Incident | undefined {
    return this.ledger.incident;
  }

  get mutations(): MutationRecord[] {
    return this.ledger.mutations;
  }

  get writes(): WriteLedger {
    return this.ledger.writes;
  }

  get traffic(): Traffic | undefined {
    return this.ledger.traffic;
  }

  set traffic(traffic: Traffic | undefined) {
    this.ledger.traffic = traffic;
  }

  /** Mark the start of an incident: the ledger's baseline and auto_failover's value. */
  beginIncident(autoFailoverBefore = this.autoFailover): Incident {
    return this.ledger.beginIncident(autoFailoverBefore, this.opEngine.nextOpId - 1, () => criticalPath(this));
  }

  recordMutation(rec: Omit<MutationRecord, 'seq' | 'at'>): void {
    this.ledger.recordMutation(rec);
  }

  // ---- the ZooKeeper stand-in (registry.ts) ---------------------------------------------

  zkChildren(path: string): string[] | undefined {
    return this.registry.children(path);
  }

  zkGet(path: string): string | undefined {
    return this.registry.get(path);
  }

  // ---- injected faults and the hosts' callbacks -----------------------------------------

  loadFault(endpoint: string, tid: number, pid: number): LoadFault | undefined {
    return this.loadFaults.get(`${endpoint}|${partitionKey(tid, pid)}`);
  }

  /**
   * A leader's AppendEntries to this follower fails (`ctl fail --method AppendEntries
   * --endpoint FOLLOWER`): the network between them, or a busy follower. Only faults naming
   * the method hit it: replication is not one of the calls the tool makes.
   */
  appendBlocked(follower: string): boolean {
    return this.faults.matchRpc(follower, 'AppendEntries', true) !== undefined;
  }

  takeOpFault(op: Op, task: TaskSpec): string | undefined {
    return this.faults.matchOp(op, task);
  }

  matchFault(endpoint: string, method: string): RpcFault | undefined {
    return this.faults.matchRpc(endpoint, method);
  }

  nextEpoch(): number {
    return ++this.epochs;
  }

  changed(): void {
    this.emit('changed');
  }
}
