/**
 * Classification of the one-line results of mutating commands (protocol reference
 * sections 1.6 and 3). The binary exits 0 on every failure, so success is recognised
 * only by the exact success text of the command that was run; anything else is a
 * failure, and text that is neither a known success nor a known failure is `unknown`
 * (never success).
 */
import { logMessages, resultLines } from './lines.js';

export type MutatingCommand =
  | 'updatetablealive'
  | 'recovertable'
  | 'changeleader'
  | 'offlineendpoint'
  | 'recoverendpoint'
  | 'confset'
  | 'loadtable'
  | 'cancelop'
  | 'deleteop'
  | 'addreplica'
  | 'delreplica'
  | 'migrate'
  | 'pausesnapshot';

export type FailureKind =
  /** `auto_failover is enabled` (301), old: `..., cannot execute this cmd`. */
  | 'auto_failover_enabled'
  /** `nameserver is not leader` (300): we talked to a standby. */
  | 'not_leader'
  /** `endpoint does not exist` / old `endpoint is not exist` (302). */
  | 'endpoint_not_exist'
  | 'table_not_exist'
  | 'pid_not_exist'
  /** recovertable: `table is alive, need not recover` (311). */
  | 'table_alive'
  /** `tablet is not healthy` (303). */
  | 'tablet_not_healthy'
  /** changeleader without candidate: `leader is alive` (309). */
  | 'leader_alive'
  | 'no_alive_follower'
  /** changeleader on a single-replica partition: `no follower` (134). */
  | 'no_follower'
  /** updatetablealive matched no replica: `no pid has update` (321). */
  | 'no_pid_updated'
  /** loadtable: `ReturnCode[101]table already exists`. */
  | 'table_already_exists'
  /** old offlineendpoint refusal: `endpoint is healthy`. */
  | 'endpoint_healthy'
  /** NS-side argument rejection: `invalid parameter` (307), old `invalid value`, `cannot found key`. */
  | 'invalid_parameter'
  | 'create_op_failed'
  /** cancelop on a finished op: `op status is not kDoing or kInited` (312). */
  | 'op_state'
  /** brpc transport error (`[E111]Fail to connect ...`, `[E1008]Reached timeout=...`) or an empty `error msg:`. */
  | 'rpc'
  /** The server refused the credential (`[E1004]Fail to authenticate`, HTTP 401/403). */
  | 'auth'
  /** An HTTP answer that is not OpenMLDB's (404 unknown method, 400 rejected body...): wrong address or version. */
  | 'http'
  /** CLI-side argument rejection: `Bad format`, `Invalid args...`, `unsupported cmd`. */
  | 'bad_format'
  /** ZooKeeper / client start-up failures: `zk client init failed`, `get leader failed`, ... */
  | 'zk'
  /** A recognised failure line whose reason has no specific kind (e.g. `Fail to LoadTable`). */
  | 'failed'
  /** Neither a known success nor a recognisable failure. Never treat as success. */
  | 'unknown';

export interface CommandSuccess {
  readonly ok: true;
  /** The success line as printed (changeleader v0.8.3+ appends a warning sentence). */
  readonly message: string;
}

export interface CommandFailure {
  readonly ok: false;
  readonly kind: FailureKind;
  /** The reason as printed: the text after `error msg:` / `ReturnCode[n]` where present, else the line. */
  readonly message: string;
  /** The line the failure was read from (absent for `unknown` with no output). */
  readonly line?: string;
  /** `n` of a `ReturnCode[n]` prefix (cancelop, deleteop, loadtable v0.8.4+). */
  readonly code?: number;
  /** Worth retrying (after re-resolving the leader for `not_leader`). */
  readonly transient: boolean;
}

export type CommandResult = CommandSuccess | CommandFailure;

const TRANSIENT: ReadonlySet<FailureKind> = new Set<FailureKind>(['rpc', 'not_leader', 'zk']);

/** Kinds worth retrying: transport errors, a standby nameserver, ZooKeeper trouble. The rest are permanent answers. */
export function isTransient(kind: FailureKind): boolean {
  return TRANSIENT.has(kind);
}

const SUCCESS: Readonly<Record<MutatingCommand, (line: string) => boolean>> = {
  updatetablealive: (l) => l === 'update ok',
  recovertable: (l) => l === 'recover table ok',
  // v0.8.3+: `change leader ok. If there are writing operations ...`
  changeleader: (l) => l === 'change leader ok' || l.startsWith('change leader ok.'),
  offlineendpoint: (l) => l === 'offline endpoint ok',
  recoverendpoint: (l) => l === 'recover endpoint ok',
  confset: (l) => /^set \w+ ok$/.test(l),
  loadtable: (l) => l === 'LoadTable ok',
  // v0.8.4+ `Cancel op ok`, before `Cancel op ok!`
  cancelop: (l) => l === 'Cancel op ok' || l === 'Cancel op ok!',
  deleteop: (l) => l === 'Delete op ok',
  addreplica: (l) => l === 'AddReplica ok',
  delreplica: (l) => l === 'DelReplica ok',
  migrate: (l) => l === 'partition migrate ok',
  pausesnapshot: (l) => l === 'PauseSnapshot ok',
};

export const MUTATING_COMMANDS: readonly MutatingCommand[] = Object.keys(SUCCESS) as MutatingCommand[];

/** Reason patterns, most specific first; tested against the extracted reason. */
const KINDS: ReadonlyArray<readonly [FailureKind, RegExp]> = [
  ['auto_failover_enabled', /auto_failover is enabled/i],
  ['not_leader', /nameserver is not leader/i],
  ['endpoint_not_exist', /endpoint (?:does not|is not|not) exists?/i],
  ['table_not_exist', /table (?:does not|is not|not) exists?/i],
  ['pid_not_exist', /pid (?:does not|is not|not) exists?/i],
  ['table_alive', /table is alive/i],
  ['tablet_not_healthy', /tablet is not healthy/i],
  ['leader_alive', /leader is alive/i],
  ['no_alive_follower', /no alive follower/i],
  ['no_follower', /^(?:no follower|has no follower)$/i],
  ['no_pid_updated', /no pid has update/i],
  ['table_already_exists', /table already exists/i],
  ['endpoint_healthy', /endpoint is healthy/i],
  ['invalid_parameter', /^(?:invalid parameter|invalid value|cannot found key\b.*)$/i],
  ['create_op_failed', /create op failed/i],
  ['op_state', /op status is not/i],
  ['auth', /\[E1004\]|Fail to authenticate/i],
  ['rpc', /\[E\d+\]|Fail to connect|Reached timeout|Connection refused|Connection reset/],
  [
    'zk',
    /zk client init failed|get children failed|get leader failed|^client init failed|^Start failed!|get real_endpoint failed|get server name nodes failed|get zk server name failed|set zk failed|zk_cluster is empty/i,
  ],
  ['bad_format', /^Bad (?:\w+ )?format\b|^Invalid args\b|is_alive should be yes or no|^unsupported cmd\b/i],
];

/**
 * Classify one output line as a failure, or undefined when it is not a recognisable
 * failure form (a success line, a table line, or unknown text).
 */
export function classifyFailureLine(line: string): CommandFailure | undefined {
  const trimmed = line.trim();
  let reason = trimmed;
  let marker = false;
  const msg = /error msg:\s?(.*)$/.exec(trimmed);
  const load = /^Fail to LoadTable:\s*(.*)$/.exec(trimmed);
  const cancel = /^(?:Cancel|Delete) op failed!\s*(.*)$/.exec(trimmed);
  if (msg !== null) {
    marker = true;
    reason = (msg[1] ?? '').trim();
  } else if (load !== null) {
    reason = (load[1] ?? '').trim();
  } else if (cancel !== null) {
    reason = (cancel[1] ?? '').trim();
  }
  let code: number | undefined;
  const rc = /ReturnCode\[(-?\d+)\]\s*(.*)$/.exec(reason);
  if (rc !== null) {
    code = Number(rc[1]);
    reason = (rc[2] ?? '').trim();
  }

  const make = (kind: FailureKind): CommandFailure => ({
    ok: false,
    kind,
    message: reason,
    line: trimmed,
    ...(code === undefined ? {} : { code }),
    transient: isTransient(kind),
  });

  for (const [kind, re] of KINDS) if (re.test(reason)) return make(kind);
  // Bool-returning client methods print an empty reason on RPC failure (section 1.6).
  if (marker && reason === '') return make('rpc');
  if (marker || load !== null || cancel !== null || /\b(?:fail|failed|error)\b/i.test(trimmed)) return make('failed');
  return undefined;
}

/** First failure line in a command's output (noise, prompts and `ns leader:` ignored), if any. */
export function findFailure(text: string): CommandFailure | undefined {
  for (const line of resultLines(text)) {
    const failure = classifyFailureLine(line);
    if (failure !== undefined) return failure;
  }
  return undefined;
}

/**
 * A failure carried only by a glog line's message (`W0508 ... ns_client.cc:88] nameserver
 * is not leader`), classified by its content. Only a specific reason or an explicit
 * `error msg:` counts: a log line merely saying "failed" is not the command's result.
 * Callers ask this last, when the plain output holds neither a result nor a failure.
 */
export function findLoggedFailure(text: string): CommandFailure | undefined {
  for (const message of logMessages(text)) {
    const failure = classifyFailureLine(message);
    if (failure !== undefined && (failure.kind !== 'failed' || /error msg:/.test(message))) return failure;
  }
  return undefined;
}

/**
 * Classify the output of a mutating command. `ns leader:` lines, log noise and prompt
 * lines are ignored. Success requires that every remaining line is the command's success
 * text (a transcript may hold several invocations); any failure line wins; any other
 * text makes the result `unknown`.
 */
export function classifyResult(command: MutatingCommand, text: string): CommandResult {
  const lines = resultLines(text).map((l) => l.trim());
  const failure = findFailure(text);
  if (failure !== undefined) return failure;
  if (lines.length === 0) return findLoggedFailure(text) ?? { ok: false, kind: 'unknown', message: 'no output', transient: false };
  const isSuccess = SUCCESS[command];
  const stray = lines.find((l) => !isSuccess(l));
  if (stray !== undefined) return findLoggedFailure(text) ?? { ok: false, kind: 'unknown', message: stray, line: stray, transient: false };
  return { ok: true, message: lines[0] as string };
}
