// The simulator's control API (sim-private): what `openmldb-sim ctl`, `check` and `down`
// call. Unlike the brpc methods, nothing here is seen by OpenMLDB clients, and nothing
// here is written to the mutation log.
import type { SimCluster } from './cluster.js';
import { TabletRegisterFailed } from './nodes.js';
import { criticalPath } from './bound.js';
import { checkCluster } from './check.js';
import { RPC_FAULT_KINDS, type RpcFaultKind, methodName } from './faults.js';
import { termAt } from './log.js';
import { partitionKey } from './model.js';
import { type Json, bool, num, str } from './rpc.js';
import { settle } from './scenarios.js';
import { setTimeout as sleep } from 'node:timers/promises';

export class ControlError extends Error {}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new ControlError(`missing ${what}`);
  return value;
}

/** Resolve a tablet given as endpoint, real address, or index. */
function tabletEndpoint(c: SimCluster, body: Json): string {
  const idx = num(body, 'index');
  const tablets = c.tablets();
  if (idx !== undefined) {
    const t = tablets[idx];
    if (!t) throw new ControlError(`no tablet with index ${idx} (there are ${tablets.length})`);
    return t.endpoint;
  }
  const ep = need(str(body, 'endpoint'), 'endpoint');
  const t = tablets.find((x) => x.endpoint === ep || x.address === ep);
  if (!t) throw new ControlError(`no tablet ${ep}; tablets: ${tablets.map((x) => x.endpoint).join(', ')}`);
  return t.endpoint;
}

function nameserverEndpoint(c: SimCluster, body: Json): string {
  const ep = str(body, 'endpoint') ?? 'leader';
  if (ep === 'leader') {
    const leader = c.leaderEndpoint ?? c.nameservers.filter((n) => n.running).sort((a, b) => a.seq - b.seq)[0]?.endpoint;
    return need(leader, 'a running nameserver');
  }
  const n = c.nameservers.find((x) => x.endpoint === ep || x.address === ep);
  if (!n) throw new ControlError(`no nameserver ${ep}`);
  return n.endpoint;
}

function table(c: SimCluster, body: Json) {
  const full = need(str(body, 'table'), 'table (DB.TABLE)');
  const dot = full.indexOf('.');
  const t = dot > 0 ? c.tableByName(full.slice(0, dot), full.slice(dot + 1)) : undefined;
  if (!t) throw new ControlError(`no table ${full}`);
  return t;
}

export function stateJson(c: SimCluster): Json {
  return {
    autoFailover: c.autoFailover,
    autoFailoverStored: c.storedAutoFailover,
    leader: c.leaderEndpoint ?? null,
    dialect: c.options.dialect,
    nameservers: c.nameservers.map((n) => ({ endpoint: n.endpoint, address: n.address, running: n.running, seq: n.seq, ...(n.running ? { started: Date.now() >= (n.initEndsAt ?? 0) } : {}) })),
    tablets: c.tablets().map((t) => ({
      endpoint: t.endpoint,
      address: t.address,
      running: t.running,
      ...(c.sessionRemainingMs(t.endpoint) > 0 ? { sessionExpiresInMs: c.sessionRemainingMs(t.endpoint) } : {}),
      view: c.tabletViews().get(t.endpoint)?.state ?? null,
      loaded: [...t.loaded.values()].map((p) => ({ tid: p.tid, pid: p.pid, mode: p.mode, state: p.state, offset: p.offset, term: p.term, followers: p.followers, ...(p.early ? { earlyWrites: p.early.count } : {}) })),
      disk: [...t.disk.values()].map((d) => ({
        tid: d.tid,
        pid: d.pid,
        storageMode: d.storageMode,
        snapshotOffset: d.snapshotOffset,
        binlogOffset: d.log.end,
        binlogStart: d.binlogStart ?? 1,
        syncedOffset: d.syncedOffset,
        term: termAt(d.log, d.log.end),
        snapshotTerm: d.snapshotTerm,
        log: d.log.segments.map((g) => ({ start: g.start, term: g.term, writer: g.epoch })),
        metaTerm: d.metaTerm,
        metaMode: d.metaMode,
        ...(d.oldData ? { oldData: true } : {}),
      })),
      recycle: t.recycle.map((r) => ({ key: r.key, reason: r.reason, end: r.log.end })),
      pendingLoads: c.tabletService.pendingLoads(t.endpoint),
    })),
    tables: c.tables.map((t) => ({
      tid: t.tid,
      db: t.db,
      name: t.name,
      storageMode: t.storageMode,
      segCnt: t.segCnt,
      partitions: t.partitions.map((p) => ({ pid: p.pid, replicas: p.replicas, termOffset: p.termOffset })),
    })),
    nsTerm: c.nsTerm,
    ops: c.opEngine.ops,
    incident: c.incident ?? null,
    traffic: c.traffic ? { ...c.traffic.stats } : null,
    faults: { rpc: c.faults.rpc, ops: c.faults.ops, firedByKind: c.faults.firedByKind },
    mutations: c.mutations.length,
  };
}

export async function control(c: SimCluster, action: string, body: Json, shutdown: () => void): Promise<Json> {
  switch (action) {
    case 'state':
      return stateJson(c);
    case 'check': {
      const maxLag = num(body, 'maxLag');
      if (maxLag !== undefined && (!Number.isInteger(maxLag) || maxLag < 0)) throw new ControlError('check: maxLag must be a whole number >= 0');
      return checkCluster(c, maxLag !== undefined ? { maxLag } : {}) as unknown as Json;
    }
    case 'bound':
      // As the incident began; without one, for the cluster as it is now.
      return (c.incident?.bound ?? criticalPath(c)) as unknown as Json;
    case 'mutations': {
      const since = num(body, 'since') ?? 0;
      return { mutations: c.mutations.filter((m) => m.seq > since) };
    }
    case 'tablet': {
      const ep = tabletEndpoint(c, body);
      const what = need(str(body, 'action'), 'action (stop|start)');
      if (what === 'stop') c.stopTablet(ep);
      else if (what === 'start') {
        // `wait`: a supervisor restarting it until it registers, i.e. once its old session expired.
        if (bool(body, 'wait') === true) while (c.sessionRemainingMs(ep) > 0) await sleep(Math.min(200, c.sessionRemainingMs(ep)));
        try {
          c.startTablet(ep);
        } catch (err) {
          if (err instanceof TabletRegisterFailed) throw new ControlError(`${err.message}; start it again then, or pass wait (ctl tablet start --wait)`);
          throw err;
        }
      } else throw new ControlError(`unknown tablet action ${what}`);
      return { endpoint: ep };
    }
    case 'nameserver': {
      const ep = nameserverEndpoint(c, body);
      const what = need(str(body, 'action'), 'action (stop|start)');
      if (what === 'stop') c.stopNameserver(ep);
      else if (what === 'start') c.startNameserver(ep);
      else throw new ControlError(`unknown nameserver action ${what}`);
      return { endpoint: ep };
    }
    case 'full-restart':
      c.fullRestart(bool(body, 'powerLoss') === true);
      return {};
    case 'incident':
      return c.beginIncident(bool(body, 'autoFailoverBefore') ?? c.autoFailover) as unknown as Json;
    case 'fail': {
      const kind = (str(body, 'kind') ?? 'refused') as RpcFaultKind;
      if (!RPC_FAULT_KINDS.includes(kind)) throw new ControlError(`unknown fault kind ${kind}; kinds: ${RPC_FAULT_KINDS.join(', ')}`);
      const method = str(body, 'method');
      const count = num(body, 'count');
      const fraction = num(body, 'fraction') ?? (typeof body['fraction'] === 'number' ? body['fraction'] : undefined);
      const endpoint = str(body, 'endpoint');
      const resolved = endpoint !== undefined ? resolveAnyEndpoint(c, endpoint) : undefined;
      const fault = c.faults.addRpc({
        kind,
        ...(method !== undefined ? { method: methodName(method) } : {}),
        ...(resolved !== undefined ? { endpoint: resolved } : {}),
        ...(count !== undefined ? { remaining: count } : fraction === undefined ? { remaining: 1 } : {}),
        ...(fraction !== undefined ? { fraction } : {}),
        delayMs: num(body, 'delayMs') ?? 300,
        ...(num(body, 'code') !== undefined ? { code: num(body, 'code') as number } : {}),
        ...(str(body, 'msg') !== undefined ? { msg: str(body, 'msg') as string } : {}),
      });
      return fault as unknown as Json;
    }
    case 'fail-op': {
      const opType = str(body, 'opType');
      const task = str(body, 'task');
      return c.faults.addOp({
        ...(opType !== undefined ? { opType } : {}),
        ...(task !== undefined ? { task } : {}),
        remaining: num(body, 'count') ?? 1,
        message: str(body, 'message') ?? 'injected failure',
      }) as unknown as Json;
    }
    case 'load': {
      const t = table(c, body);
      const pid = need(num(body, 'pid'), 'pid');
      const ep = tabletEndpoint(c, body);
      const key = `${ep}|${partitionKey(t.tid, pid)}`;
      const fault = { failCount: num(body, 'failCount') ?? 0, extraMs: num(body, 'extraMs') ?? 0 };
      c.loadFaults.set(key, fault);
      return { endpoint: ep, tid: t.tid, pid, ...fault };
    }
    case 'traffic': {
      const rate = num(body, 'rate');
      if (rate === undefined || !Number.isFinite(rate) || rate < 0) throw new ControlError('traffic needs --rate: Puts per second, 0 or more');
      if (!c.traffic) throw new ControlError('this simulator has no clients attached');
      c.traffic.setRate(rate);
      return { ...c.traffic.stats };
    }
    case 'clear-faults':
      c.faults.clear();
      c.loadFaults.clear();
      return {};
    case 'write': {
      const t = table(c, body);
      return { written: c.write(t.db, t.name, need(num(body, 'entries'), 'entries')) };
    }
    case 'autofailover': {
      const value = need(bool(body, 'value'), 'value (true|false)');
      c.autoFailover = value;
      return { autoFailover: value };
    }
    case 'settle':
      await settle(c, num(body, 'timeoutMs') ?? 30000);
      return {};
    case 'shutdown':
      setTimeout(shutdown, 10);
      return {};
    default:
      throw new ControlError(`unknown control action ${action}`);
  }
}

function resolveAnyEndpoint(c: SimCluster, ep: string): string {
  const t = c.tablets().find((x) => x.endpoint === ep || x.address === ep);
  if (t) return t.endpoint;
  const n = c.nameservers.find((x) => x.endpoint === ep || x.address === ep);
  if (n) return n.endpoint;
  throw new ControlError(`no server ${ep}`);
}
