/**
 * Typed errors of the cluster interface. The CLI maps them to exit codes
 * (BinaryMissing / ClusterUnreachable: 3, UnknownTable: 2); `transient` tells the
 * caller's retry loop whether asking again can help. Messages are one line: what
 * failed, where, and what the operator can do.
 */
import type { FailureKind } from './parse/index.js';

export { ParseError, CommandFailedError } from './parse/index.js';

/** Base class: every error here says whether a retry may help. */
export abstract class ClusterError extends Error {
  abstract readonly transient: boolean;
}

/** The `openmldb` binary is missing or not executable. */
export class BinaryMissing extends ClusterError {
  override readonly name = 'BinaryMissing';
  readonly transient = false;
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`openmldb binary ${path} ${reason}: pass the path of an executable openmldb binary (--openmldb-bin or OPENMLDB_BIN)`);
  }
}

export type UnreachableReason = 'zookeeper' | 'no-nameserver' | 'nameserver' | 'no-leader' | 'tablet' | 'credential' | 'foreign';

/**
 * The cluster could not be reached or used: ZooKeeper down or wrong address, wrong root
 * path (no leader registered under it), the leader's address not answering (CLI or
 * HTTP), no nameserver answering as leader, a tablet the nameserver lists as healthy not
 * answering, the credential refused, an address that does not answer as OpenMLDB.
 * Not transient: these do not fix themselves within a retry loop, and retrying
 * only delays the operator.
 */
export class ClusterUnreachable extends ClusterError {
  override readonly name = 'ClusterUnreachable';
  readonly transient = false;
  constructor(
    readonly reason: UnreachableReason,
    /** Where we looked: the ZooKeeper address and root path, or the nameserver address. */
    readonly where: string,
    /** What the binary or the transport printed. */
    readonly detail: string,
  ) {
    super(`${describeUnreachable(reason, where)} (${oneLine(detail)}): ${adviceUnreachable(reason)}`);
  }
}

function describeUnreachable(reason: UnreachableReason, where: string): string {
  switch (reason) {
    case 'zookeeper':
      return `cannot connect to ZooKeeper at ${where}`;
    case 'no-nameserver':
      return `no nameserver is registered at ${where}`;
    case 'nameserver':
      return `the nameserver at ${where} does not answer`;
    case 'no-leader':
      return `no nameserver answers as leader (asked ${where})`;
    case 'tablet':
      return `the tablet at ${where} does not answer`;
    case 'credential':
      return `${where} refused the credential`;
    case 'foreign':
      return `${where} does not answer as an OpenMLDB server`;
  }
}

function adviceUnreachable(reason: UnreachableReason): string {
  switch (reason) {
    case 'zookeeper':
      return 'check --zk-cluster and that ZooKeeper is running';
    case 'no-nameserver':
      return 'check --zk-root-path and that at least one nameserver is running';
    case 'nameserver':
      return 'check that the nameserver processes are running and their port is reachable from this host';
    case 'no-leader':
      return 'a leader election may be under way or stuck; check the nameservers and ZooKeeper';
    case 'tablet':
      return 'check that the tablet process is running and its port is reachable from this host (a stopped tablet is reported once the nameserver marks it offline)';
    case 'credential':
      return 'check --user and the password (OPENMLDB_PASSWORD or --password-file)';
    case 'foreign':
      return 'check the address and that the server runs a supported OpenMLDB version';
  }
}

/** Failure kinds that mean the cluster was not reached or not usable, rather than a refusal. */
const UNREACHABLE_KINDS: ReadonlySet<FailureKind> = new Set<FailureKind>(['rpc', 'zk', 'not_leader', 'auth', 'http']);

/**
 * A command error that, once retries are spent, means the cluster could not be reached
 * (the server did not answer, refused the credential, is no OpenMLDB server, or no
 * nameserver answers as leader), restated as ClusterUnreachable; else undefined.
 */
export function unreachableFrom(err: CommandError): ClusterUnreachable | undefined {
  if (!UNREACHABLE_KINDS.has(err.kind)) return undefined;
  const detail = `\`${err.command}\`: ${err.detail === '' ? 'no reply' : err.detail}`;
  const server = err.target.role === 'ns' ? 'nameserver' : 'tablet';
  switch (err.kind) {
    case 'zk':
      return new ClusterUnreachable('zookeeper', err.target.endpoint, detail);
    case 'not_leader':
      return new ClusterUnreachable('no-leader', err.target.endpoint, detail);
    case 'auth':
      return new ClusterUnreachable('credential', `the ${server} at ${err.target.endpoint}`, detail);
    case 'http':
      return new ClusterUnreachable('foreign', `the ${server} address ${err.target.endpoint}`, detail);
    default:
      return new ClusterUnreachable(server, err.target.endpoint, detail);
  }
}

/** Where a command ran. */
export interface CommandTarget {
  role: 'ns' | 'tablet';
  /** Nameserver: the leader endpoint when known (else the ZooKeeper address); tablet: its address. */
  endpoint: string;
}

/** A command or RPC answered with a failure (or did not answer at all). */
export class CommandError extends ClusterError {
  override readonly name = 'CommandError';
  readonly transient: boolean;
  /**
   * The command mutates and failed in a way that does not say whether it took effect
   * (timeout, lost connection): the caller must re-observe before repeating it blindly.
   */
  readonly mayHaveApplied: boolean;

  constructor(
    /** The command as run, e.g. `recovertable t1 0 127.0.0.1:9527` or `HTTP TabletServer/LoadTable`. */
    readonly command: string,
    readonly kind: FailureKind,
    /** The failure reason as the server or binary reported it. */
    readonly detail: string,
    readonly target: CommandTarget,
    options: { transient: boolean; mutating?: boolean; output?: string },
  ) {
    const where = `${target.role === 'ns' ? 'nameserver' : 'tablet'} ${target.endpoint}`;
    const reason = detail === '' ? '<no message>' : oneLine(detail);
    super(`\`${command}\` failed on ${where}: ${reason} [${kind}${options.transient ? ', transient' : ''}]: ${advice(kind)}`);
    this.transient = options.transient;
    this.mayHaveApplied = options.mutating === true && (kind === 'rpc' || kind === 'unknown');
    this.output = options.output ?? '';
  }

  /** The raw output (for --verbose and reports), not part of the message. */
  readonly output: string;

  /** The endpoint the command ran against. */
  get endpoint(): string {
    return this.target.endpoint;
  }
}

/** A database or table named by the operator does not exist. */
export class UnknownTable extends ClusterError {
  override readonly name = 'UnknownTable';
  readonly transient = false;
  constructor(
    readonly db: string,
    readonly table: string | undefined,
    known: readonly string[],
  ) {
    const what = table === undefined ? `database ${db}` : `table ${db}.${table}`;
    const list = known.length === 0 ? 'none' : known.length > 12 ? `${known.slice(0, 12).join(', ')}, ...` : known.join(', ');
    super(`${what} does not exist in the cluster (known ${table === undefined ? 'databases' : `tables of ${db}`}: ${list}): check the name`);
  }
}

function advice(kind: FailureKind): string {
  switch (kind) {
    case 'auto_failover_enabled':
      return 'turn auto_failover off first (confset auto_failover false)';
    case 'not_leader':
      return 'the nameserver leader changed; retry';
    case 'rpc':
      return 'the server did not answer; retry, and check that it is running';
    case 'zk':
      return 'ZooKeeper trouble; retry, and check ZooKeeper';
    case 'endpoint_not_exist':
      return 'the nameserver does not know this tablet (it has not registered since the nameserver started); start the tablet';
    case 'table_not_exist':
      return 'check the database and table name';
    case 'pid_not_exist':
      return 'check the partition id and endpoint against showtable';
    case 'tablet_not_healthy':
      return 'wait until the tablet is kHealthy in showtablet';
    case 'table_already_exists':
      return 'the partition is already loaded on this tablet';
    case 'bad_format':
      return 'the binary rejected the arguments; check that its version is supported';
    case 'auth':
      return 'check --user and the password (OPENMLDB_PASSWORD or --password-file)';
    case 'http':
      return 'the address does not answer as an OpenMLDB server; check it, and that the server version is supported';
    case 'unknown':
      return 'unrecognised output; run with --verbose to see it (or read it in `openmldb-recover history show last`)';
    default:
      return 're-observe the cluster and check its state';
  }
}

/** First line only, trimmed: messages stay one line. */
export function oneLine(text: string): string {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return line === undefined ? '' : line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
