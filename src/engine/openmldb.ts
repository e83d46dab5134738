// The engine's cluster interface (cluster.ts) on the OpenMLDB client: the one module of the
// engine that knows the client.
import type { OpenMLDBClient } from '../cluster/client.js';
import { observeOnce, observePartitions } from '../cluster/observe.js';
import { ClusterWatch } from '../cluster/watch.js';
import type { EngineCluster } from './cluster.js';

export function openmldbCluster(client: OpenMLDBClient): EngineCluster {
  return {
    observe: (filter) => observeOnce(client, filter),
    reads: () => {
      const watch = new ClusterWatch(client);
      return {
        tableRows: (db, name) => watch.tableRows(db, name),
        tableOps: (db, name, since) => watch.tableOps(db, name, since),
        loaded: (endpoint, tid, pid) => watch.loaded(endpoint, tid, pid),
        tablets: () => watch.tablets(),
        partitions: (base, db, name, pids) => observePartitions(watch, base, db, name, pids),
        aliveLeaders: () => watch.aliveLeaders(),
        statuses: (endpoint) => watch.statuses(endpoint),
        answers: (endpoint) => watch.answers(endpoint),
      };
    },
    showOpStatus: () => client.showOpStatus(),
    confSet: (value) => client.confSet(value),
    updateTableAlive: (db, table, pid, endpoint, alive) => client.updateTableAlive(db, table, pid, endpoint, alive),
    loadTable: (endpoint, spec) => client.loadTable(endpoint, spec),
    getTermPair: (endpoint, tid, pid, storageMode) => client.getTermPair(endpoint, tid, pid, storageMode),
    changeRole: (endpoint, change) => client.changeRole(endpoint, change),
    changeLeader: (db, table, pid, candidate) => client.changeLeader(db, table, pid, candidate),
    recoverTable: (db, table, pid, endpoint) => client.recoverTable(db, table, pid, endpoint),
    offlineEndpoint: (endpoint, concurrency) => client.offlineEndpoint(endpoint, concurrency),
    recoverEndpoint: (endpoint, needRestore, concurrency) => client.recoverEndpoint(endpoint, needRestore, concurrency),
  };
}
