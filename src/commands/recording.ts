// The command layer's side of the run record: a mutating run (or a dry run)
// opens a record in the state directory, sends it every command the client runs and every
// progress line, and closes it with the report or the error and the exit code. The engine
// knows nothing of it.
import type { OpenMLDBClient } from '../cluster/client.js';
import { Redactor } from '../history/redact.js';
import { RunRecord } from '../history/record.js';
import { JournalError } from '../safety/state-error.js';
import type { Progress } from '../engine/progress.js';
import type { Report } from '../engine/report.js';
import { explain } from './common.js';
import type { RunSettings } from './settings.js';
import { VERSION } from './version.js';


export class Recording {
  private constructor(
    readonly record: RunRecord | undefined,
    readonly progress: Progress,
  ) {}

  /**
   * Open the record (a state directory that cannot be written is said once on stderr; the
   * run goes on without a record) and route the client's commands and the progress into it.
   */
  static start(settings: Pick<RunSettings, 'connection' | 'state' | 'recorded'>, command: string, dryRun: boolean, progress: Progress): Recording {
    const config = settings.connection;
    let record: RunRecord | undefined;
    try {
      record = RunRecord.open({
        stateDir: settings.state.dir,
        command,
        dryRun,
        argv: process.argv.slice(2),
        options: settings.recorded,
        cluster: { zkCluster: config.zkCluster, zkRootPath: config.zkRootPath },
        connection: { bin: config.bin, user: config.user, passwordFrom: config.passwordFrom },
        version: VERSION,
        retention: settings.state.retention,
        redactor: new Redactor(config.user, config.password),
      });
    } catch (err) {
      // A state directory that cannot be used stops a mutating run with one clear line of
      // its own; say nothing twice.
      if (!(err instanceof JournalError)) progress.warn(`no run record: ${(err as Error).message}`);
    }
    return new Recording(record, record ? recordingProgress(progress, record) : progress);
  }

  /** Record every command and RPC the client sends from now on. */
  attach(client: OpenMLDBClient): void {
    this.record?.attach(client.log);
  }

  /** The run ended with a report. */
  finish(report: Report): void {
    this.record?.report(report);
    this.record?.end(report.exitCode);
  }

  /** The run ended with another result (failover). */
  finishWith(result: unknown, exitCode: number): void {
    this.record?.result(result);
    this.record?.end(exitCode);
  }

  /** The run stopped with this exit code and line, as the operator sees them. */
  stopped(exitCode: number, line: string): void {
    this.record?.end(exitCode, line);
  }

  /** The run stopped on an error: its line and exit code, as the operator sees them. */
  fail(err: unknown): void {
    const { line, code } = explain(err);
    this.record?.end(code, line);
  }
}

function recordingProgress(p: Progress, record: RunRecord): Progress {
  return {
    update: (t) => {
      record.progress('step', t);
      p.update(t);
    },
    info: (t) => {
      record.progress('info', t);
      p.info(t);
    },
    // One partition's steps are in the report; the record leaves these lines out.
    detail: (t) => p.detail(t),
    warn: (t) => {
      record.progress('warn', t);
      p.warn(t);
    },
    stop: () => p.stop(),
  };
}
