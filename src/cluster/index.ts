/** The tool's one interface to a cluster: transport, typed client, observation, errors. */
export { OpenMLDBClient, INTERNAL_DBS, type ShowNsResult, type TableInfo, type PartitionInfo, type ReplicaInfo, type TermPair, type LoadSpec, type LoadResult } from './client.js';
export { observe, type ObserveFilter, type ObserveOptions } from './observe.js';
export { Transport, CommandLog, credential, DEFAULT_TIMEOUT_MS, type TransportOptions, type CommandLogEntry, type CliOutput } from './transport.js';
export { ClusterError, BinaryMissing, ClusterUnreachable, CommandError, UnknownTable, ParseError, CommandFailedError, type CommandTarget, type UnreachableReason } from './errors.js';
export type * from './types.js';
