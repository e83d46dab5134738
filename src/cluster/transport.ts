/**
 * The only code that talks to a cluster: runs the `openmldb` binary (ns_client and
 * tablet client roles, protocol reference section 1) and makes brpc HTTP+JSON calls
 * (section 7). It knows nothing of command semantics: it returns raw output or JSON,
 * and raises typed errors only for what happens below the command level (binary
 * missing, timeouts, connection failures, unusable HTTP replies).
 */
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import pLimit from 'p-limit';
import { $ } from 'zx';
import { credential, nsArgv, tabletArgv } from './command-line.js';
import { BinaryMissing, CommandError, type CommandTarget } from './errors.js';
import { classifyFailureLine, ParseError } from './parse/index.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * Binary runs at once: a run works on hundreds of partitions at once, and a process per
 * waiting partition would swamp the host (and ZooKeeper with sessions). Calls beyond it
 * wait here, before their timeout starts.
 */
export const CLI_PROCESSES = 8;

/** How commands reach the cluster: brpc HTTP+JSON wherever a method exists, or the binary wherever it can. */
export type TransportMode = 'http' | 'cli';
export const TRANSPORT_MODES: readonly TransportMode[] = ['http', 'cli'];

export interface TransportOptions {
  /** Path of the `openmldb` binary. */
  bin: string;
  /**
   * `http` (default): every call with a brpc HTTP+JSON method goes over HTTP, the binary
   * only finds the leader nameserver in ZooKeeper (showns). `cli`: the binary for every
   * command it has; HTTP only for what it cannot do (section 7).
   */
  transport?: TransportMode;
  /** ZooKeeper hosts `h1:p1,h2:p2`. */
  zkCluster: string;
  zkRootPath: string;
  /** Per command / RPC; the process is killed after it. Default 30 s. */
  timeoutMs?: number;
  /** Credential for HTTP calls (any value is accepted by servers with skip_grant_tables, the default). */
  user?: string;
  password?: string;
  /** Receives every command run and its output. */
  log?: CommandLog;
}

/** One command or RPC as it ran, for `--verbose` and the report. */
export interface CommandLogEntry {
  seq: number;
  kind: 'cli' | 'http';
  /** Nameserver or tablet. */
  role: 'ns' | 'tablet';
  /** ZooKeeper address (ns_client) or the address connected to. */
  target: string;
  /** `showtable`, `loadtable t1 3 0 144000 8 true`, `NameServer/ShowTable`, ... */
  command: string;
  /** Full argv (cli) or the JSON body (http). */
  request: string;
  startedAt: string;
  durationMs: number;
  /** stdout (cli) or the response body (http). */
  output: string;
  stderr?: string;
  exitCode?: number | null;
  httpStatus?: number;
  /** Set when the transport itself failed (timeout, connection refused...). */
  error?: string;
  /** A change to the cluster (the run record keeps its output in full), not a read. */
  mutating?: boolean;
}

/** Entries a CommandLog keeps in memory (the newest); the run record keeps every change. */
export const LOG_KEEP = 1000;
/** ... and at most about this many characters of their outputs. */
export const LOG_KEEP_BYTES = 16 * 1024 * 1024;

/** Per-run log of everything sent to the cluster; subscribe with `onEntry`. */
export class CommandLog {
  /** The newest entries (at least LOG_KEEP of them): a long run's memory stays flat. */
  readonly entries: CommandLogEntry[] = [];
  /** Every command sent, by kind: binary runs and HTTP calls. */
  readonly counts = { cli: 0, http: 0 };
  private readonly listeners: Array<(e: CommandLogEntry) => void> = [];
  private seq = 0;
  private keptBytes = 0;

  /** Drop the oldest `n` entries kept (the newest always stays). */
  private forget(n: number): void {
    const gone = this.entries.splice(0, Math.min(n, this.entries.length - 1));
    for (const g of gone) this.keptBytes -= g.output.length;
  }

  onEntry(listener: (e: CommandLogEntry) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  add(entry: Omit<CommandLogEntry, 'seq'>): CommandLogEntry {
    const e = { seq: ++this.seq, ...entry };
    this.entries.push(e);
    this.keptBytes += e.output.length;
    this.counts[e.kind]++;
    if (this.entries.length > 2 * LOG_KEEP) this.forget(this.entries.length - LOG_KEEP);
    // A whole tablet's status on a large cluster is megabytes: the outputs kept stay bounded too.
    else if (this.keptBytes > LOG_KEEP_BYTES) this.forget(Math.max(1, Math.floor(this.entries.length / 2)));
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a broken listener must not break the run
      }
    }
    return e;
  }
}

export interface CliOutput {
  stdout: string;
  stderr: string;
}

/** How a run of the binary ended. */
export interface BinaryRun extends CliOutput {
  /** null when it was killed. */
  exitCode: number | null;
  signal: string | null;
}


const MUTATING_NS = new Set(['confset', 'updatetablealive', 'recovertable', 'changeleader', 'offlineendpoint', 'recoverendpoint', 'cancelop', 'deleteop']);
const MUTATING_HTTP = new Set(['LoadTable', 'ChangeRole', 'ConfSet', 'UpdateTableAliveStatus', 'RecoverTable', 'ChangeLeader', 'OfflineEndpoint', 'RecoverEndpoint', 'CancelOP', 'DeleteOP']);

export class Transport {
  readonly bin: string;
  readonly zkCluster: string;
  readonly zkRootPath: string;
  readonly timeoutMs: number;
  readonly mode: TransportMode;
  readonly log: CommandLog;
  protected readonly auth: string;
  private binChecked: Promise<void> | undefined;
  private readonly processes = pLimit(CLI_PROCESSES);
  /**
   * Kept-alive connections, reused by the next call; idle ones are closed after 4 s (before
   * a server would: brpc never closes them, Node's HTTP server after 5 s; reopening each
   * after a second was a tenth of the tool's CPU at 1600 partitions). No cap on connections per server: a call must leave when it
   * is made, never wait in a queue here, since a disk LoadTable is recorded as sent just
   * before it goes out and a crash must not leave it recorded but unsent.
   */
  private readonly agent = new Agent({ keepAlive: true, timeout: 4000 });

  constructor(options: TransportOptions) {
    this.bin = options.bin;
    this.zkCluster = options.zkCluster;
    this.zkRootPath = options.zkRootPath;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.mode = options.transport ?? 'http';
    this.log = options.log ?? new CommandLog();
    this.auth = credential(options.user ?? 'root', options.password ?? '');
    // An idle kept-alive connection must not keep the process alive once the run is over.
    this.agent.on('free', (socket: Socket) => socket.unref());
  }

  /** Where ns_client commands go, for messages. */
  get zkWhere(): string {
    return `${this.zkCluster}${this.zkRootPath}`;
  }

  /** Throws BinaryMissing unless the binary is an executable file. Checked once. */
  checkBinary(): Promise<void> {
    this.binChecked ??= (async () => {
      if (this.bin === '') throw new BinaryMissing('(empty path)', 'is not set');
      try {
        const s = await stat(this.bin);
        if (!s.isFile()) throw new BinaryMissing(this.bin, 'is not a file');
        await access(this.bin, fsConstants.X_OK);
      } catch (err) {
        if (err instanceof BinaryMissing) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        throw new BinaryMissing(this.bin, code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not executable' : `cannot be used (${code ?? String(err)})`);
      }
    })();
    // Only success is remembered: a fixed path is picked up on the next call.
    this.binChecked.catch(() => {
      this.binChecked = undefined;
    });
    return this.binChecked;
  }

  /** ns_client through ZooKeeper; `db` adds `--database` (always pass it for table commands). */
  ns(cmd: string, db?: string): Promise<CliOutput> {
    return this.run({ role: 'ns', endpoint: this.zkWhere }, cmd, nsArgv(this.zkCluster, this.zkRootPath, cmd, db));
  }

  /** Tablet client against a real address. */
  tablet(address: string, cmd: string): Promise<CliOutput> {
    return this.run({ role: 'tablet', endpoint: address }, cmd, tabletArgv(address, cmd));
  }

  private async run(target: CommandTarget, cmd: string, argv: string[]): Promise<CliOutput> {
    await this.checkBinary();
    const mutating = target.role === 'ns' ? MUTATING_NS.has(cmd.split(' ')[0] ?? '') : cmd.startsWith('loadtable');
    // Arguments are interpolated as an array: zx quotes each one, so nothing in a
    // command or flag is interpreted by the shell. stdin is closed: a binary that
    // falls into interactive mode reads EOF instead of the operator's terminal.
    const { out, started } = await this.processes(async () => {
      const at = Date.now();
      return { started: at, out: await this.exec(argv) };
    });
    const durationMs = Date.now() - started;
    const timedOut = out.exitCode === null && durationMs >= this.timeoutMs - 50;
    const entry = {
      kind: 'cli' as const,
      role: target.role,
      target: target.endpoint,
      command: cmd,
      request: [this.bin, ...argv].join(' '),
      startedAt: new Date(started).toISOString(),
      durationMs,
      output: out.stdout,
      stderr: out.stderr,
      exitCode: out.exitCode,
      mutating,
    };
    if (timedOut) {
      const msg = `no answer within ${Math.round(this.timeoutMs / 1000)} s; the process was killed`;
      this.log.add({ ...entry, error: msg });
      throw new CommandError(cmd, 'rpc', msg, target, { transient: true, mutating, output: out.stdout });
    }
    this.log.add(entry);
    if (out.exitCode === 126 || out.exitCode === 127) {
      // The shell could not start it (removed or made non-executable since the check).
      this.binChecked = undefined;
      throw new BinaryMissing(this.bin, `could not be started (${lastLine(out.stderr) || `exit ${out.exitCode}`})`);
    }
    if (out.exitCode !== 0) {
      // gflags rejects unknown flags with exit 1; a crash ends with a signal. Either way
      // the binary did not run the command as asked.
      const why = out.exitCode === null ? `killed by ${out.signal ?? 'a signal'}` : `exit status ${out.exitCode}`;
      const detail = `${why}${lastLine(out.stderr) ? `: ${lastLine(out.stderr)}` : ''}`;
      const kind = out.exitCode === 1 && /unknown command line flag|illegal value/.test(out.stderr) ? 'bad_format' : 'unknown';
      throw new CommandError(cmd, kind, detail, target, { transient: false, mutating, output: out.stdout });
    }
    return { stdout: out.stdout, stderr: out.stderr };
  }

  /**
   * One run of the binary, killed (exit status null) after the timeout. The one place the
   * binary is started (the engine tier of the tests runs the stand-in binary in process).
   */
  protected async exec(argv: string[]): Promise<BinaryRun> {
    const r = await $({ nothrow: true, quiet: true, timeout: this.timeoutMs, timeoutSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] })`${this.bin} ${argv}`;
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, signal: r.signal };
  }

  /**
   * POST http://<address>/<service>/<method> with a JSON body; returns the JSON reply.
   * Replies with a non-zero `code` are returned, not thrown: the caller interprets them.
   * Connections are kept alive and reused, so a run makes thousands of calls over as many
   * connections as it has calls in flight at once.
   */
  /** Addresses whose reads just failed at the connection every try, and when: further reads there fail at once for a moment. */
  private readonly failingReads = new Map<string, number>();

  private readsFailing(address: string): boolean {
    const since = this.failingReads.get(address);
    return since !== undefined && Date.now() - since < READS_FAILING_MS;
  }

  /**
   * One call over HTTP. A read (nothing mutating) that fails at the connection (refused,
   * reset) is tried again twice, quickly: a look at a large cluster makes hundreds of reads,
   * and one connection a node drops must not fail the whole look. A node that refuses every
   * try is remembered for a moment, so a stopped node costs a look one round of tries, not
   * one per call. A change is never repeated here: the engine's steps look first.
   */
  async http(role: 'ns' | 'tablet', address: string, method: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const service = role === 'ns' ? 'NameServer' : 'TabletServer';
    const command = `${service}/${method}`;
    const target: CommandTarget = { role, endpoint: address };
    const mutating = MUTATING_HTTP.has(method);
    const request = JSON.stringify(body);
    const started = Date.now();
    const base = { kind: 'http' as const, role, target: address, command, request, startedAt: new Date(started).toISOString(), mutating };
    let status: number;
    let text: string;
    let at = started;
    for (let attempt = 1; ; attempt++) {
      at = Date.now();
      try {
        ({ status, text } = await this.post(address, `/${command}`, request));
        this.failingReads.delete(address);
        break;
      } catch (err) {
        const msg = postFailure(err, this.timeoutMs);
        this.log.add({ ...base, startedAt: new Date(at).toISOString(), durationMs: Date.now() - at, output: '', error: msg });
        const atConnection = connectionFailure(err);
        if (!mutating && atConnection && attempt < READ_TRIES && !this.readsFailing(address)) {
          await delay(READ_RETRY_MS * 3 ** (attempt - 1));
          continue;
        }
        if (!mutating && atConnection) this.failingReads.set(address, Date.now());
        throw new CommandError(`HTTP ${command}`, 'rpc', msg, target, { transient: true, mutating });
      }
    }
    this.log.add({ ...base, startedAt: new Date(at).toISOString(), durationMs: Date.now() - at, output: text, httpStatus: status });
    if (status !== 200) {
      const detail = `HTTP ${status} ${text.trim()}`.trim();
      const kind = httpFailureKind(status, text);
      throw new CommandError(`HTTP ${command}`, kind, detail, target, { transient: kind === 'rpc', mutating, output: text });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ParseError(command, text, 'the reply is not JSON');
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ParseError(command, text, 'the reply is not a JSON object');
    return json as Record<string, unknown>;
  }

  /**
   * One POST on a kept-alive connection; rejects on transport failure (an error with the
   * socket's `code`: ECONNREFUSED, ECONNRESET) or after the timeout. The one place a call
   * meets the network (the engine tier of the tests answers it in process).
   */
  protected post(address: string, path: string, body: string): Promise<{ status: number; text: string }> {
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(address.slice(colon + 1));
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host,
          port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Authorization: this.auth },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('aborted', () => fail(new Error('the connection closed before the reply was complete')));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      const timer = setTimeout(() => req.destroy(new TimeoutError()), this.timeoutMs);
      function fail(err: Error): void {
        clearTimeout(timer);
        reject(err);
      }
      req.on('socket', (socket) => socket.ref());
      req.on('error', fail);
      req.end(body);
    });
  }

  /** Closes the kept-alive connections (a run that ends must not wait for them). */
  close(): void {
    this.agent.destroy();
  }
}

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * What a non-200 answer means. brpc answers transport trouble (timeout, overload) with
 * 5xx and plain text, and so do proxies with 408 and 429: worth retrying. A refused
 * credential (401/403, brpc's `[E1004]`) and any other 4xx (unknown method, a body the
 * server rejects: not the OpenMLDB we expect, or not OpenMLDB at all) will not heal by
 * asking again. None of them is an answer from OpenMLDB itself.
 */
export function httpFailureKind(status: number, body: string): 'rpc' | 'auth' | 'http' {
  if (status >= 500 || status === 408 || status === 429) return 'rpc';
  if (status === 401 || status === 403 || classifyFailureLine(body)?.kind === 'auth') return 'auth';
  return 'http';
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

/** One-line reason for a call that got no HTTP reply. */
/** Tries of a read failing at the connection, the first wait between them (then three times that), and how long a node that failed them all fails at once. */
const READ_TRIES = 3;
const READ_RETRY_MS = 100;
const READS_FAILING_MS = 2000;

/** Refused or reset: the connection failed, not the call (a timeout is neither: it already waited). */
function connectionFailure(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'EPIPE' || /closed before the reply was complete/.test(e.message ?? '');
}

function postFailure(err: unknown, timeoutMs: number): string {
  const e = err as NodeJS.ErrnoException;
  if (e.name === 'TimeoutError') return `no reply within ${Math.round(timeoutMs / 1000)} s`;
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  // The server closed a kept-alive connection under the call (it stopped, or dropped it).
  if (e.code === 'ECONNRESET') return 'connection reset by the server';
  if (e.code !== undefined) return `${e.code}${e.message && !e.message.startsWith(e.code) ? ` (${e.message})` : ''}`;
  return e.message ?? String(err);
}
