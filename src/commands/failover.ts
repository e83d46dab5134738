// `openmldb-recover failover [status|on|off]`: read or switch auto_failover.
import type { Argv } from 'yargs';
import { renderFailover, runFailover, type FailoverAction } from '../workflow/failover.js';
import type { OpenMLDBClient } from '../cluster/client.js';
import { openClient } from './common.js';
import { connectionOptions, resolveConnection } from './config.js';
import { Recording } from './recording.js';
import { EXIT } from '../exit-codes.js';
import { defineCommand, dryRunOption, outputOptions, progressFor, recordOptions, retriesOf, retriesOption } from './procedure-command.js';
import { type RunSafety, lockOptions, openRunSafety } from './run-safety.js';
import { json, redactOutput, writeDocument } from './redact-output.js';

function builder(y: Argv) {
  return recordOptions(retriesOption(lockOptions(dryRunOption(outputOptions(connectionOptions(y)))))).positional('action', {
    choices: ['status', 'on', 'off'],
    default: 'status',
    describe: 'status reads it (the default); on/off switch it',
  });
}

export const failoverCommand = defineCommand({
  command: 'failover [action]',
  describe: 'read auto_failover (status, the default) or switch it (on, off)',
  examples: [
    ['$0 failover', 'print auto_failover (read-only)'],
    ['$0 failover off', 'switch it off before manual maintenance (recorded: see history)'],
    ['$0 failover on --dry-run', 'say what would change, change nothing'],
  ],
  builder,
  handler: async (argv) => {
    const action = (argv['action'] ?? 'status') as FailoverAction;
    const dryRun = argv['dry-run'] === true;
    const retries = retriesOf(argv);
    const config = resolveConnection(argv);
    redactOutput(config);
    // A switch (and its dry run) is recorded like every mutating run; reading it is not.
    const recording = action === 'status' ? undefined : Recording.start(argv, config, `failover-${action}`, dryRun, progressFor(argv));
    const progress = recording?.progress ?? progressFor(argv);
    let client: OpenMLDBClient;
    let safety: RunSafety | undefined;
    try {
      client = openClient(config, argv);
      recording?.attach(client);
      // A switch is a mutating run: it waits for no one, but never races a running recovery.
      safety = action === 'status' || dryRun ? undefined : await openRunSafety(argv, config, `failover ${action}`, progress, client, retriesOf(argv));
      const gate = safety;
      if (gate) client.changeGate = (restore) => gate.changeGate(restore);
    } catch (err) {
      progress.stop(); // a spinner left running would keep the process alive
      recording?.fail(err);
      throw err;
    }
    try {
      const r = await runFailover(client, action, { dryRun, retries, progress });
      if (dryRun && argv['detailed-exitcode'] === true && r.ok && action !== 'status' && r.before !== (action === 'on')) {
        // A switch would change it: as `recover --dry-run --detailed-exitcode`.
        r.exitCode = EXIT.changesPending;
        r.ok = false;
      }
      if (safety && r.ok) {
        // The operator chose the value: an unfinished run's journal must not undo it later.
        const stale = await safety.dropJournal();
        if (stale) {
          progress.warn(
            stale.plan
              ? `dropped plan ${stale.plan.id} (pending since ${stale.plan.since}): it can no longer be applied; auto_failover is what you set (it was ${stale.autoFailoverOriginal} before the plan)`
              : `cleared the journal of an earlier run that did not finish (${stale.command}; it would have put auto_failover back to ${stale.autoFailoverOriginal})`,
          );
        }
      }
      progress.stop();
      recording?.finishWith(r, r.exitCode);
      if (!r.ok && r.error !== undefined) process.stderr.write(`openmldb-recover: auto_failover NOT switched: ${r.error}\n`);
      if (argv['json'] === true) writeDocument(process.stdout, json(r));
      else if (r.ok || r.error === undefined) process.stdout.write(`${renderFailover(r)}\n`);
      return r.exitCode;
    } catch (err) {
      recording?.fail(err);
      throw err;
    } finally {
      progress.stop();
      await safety?.release();
    }
  },
});
