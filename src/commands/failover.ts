// `openmldb-recover failover [status|on|off]`: read or switch auto_failover.
import type { Argv } from 'yargs';
import { renderFailover, runFailover } from '../workflow/failover.js';
import type { OpenMLDBClient } from '../cluster/client.js';
import { openClient, progressFor } from './common.js';
import { Recording } from './recording.js';
import { EXIT } from '../exit-codes.js';
import { defineCommand } from './args.js';
import { connectionOptions, dryRunOption, lockOptions, outputOptions, recordOptions, retriesOption } from './options.js';
import { type RunSafety, openRunSafety } from './run-safety.js';
import { runSettingsOf } from './settings.js';
import { json, redactOutput, writeDocument } from './redact-output.js';

function builder(y: Argv) {
  return recordOptions(retriesOption(lockOptions(dryRunOption(outputOptions(connectionOptions(y)))))).positional('action', {
    choices: ['status', 'on', 'off'] as const,
    default: 'status' as const,
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
    const { action } = argv;
    const settings = runSettingsOf(argv);
    const { dryRun, retries } = settings;
    redactOutput(settings.connection); // before anything is printed
    // A switch (and its dry run) is recorded like every mutating run; reading it is not.
    const recording = action === 'status' ? undefined : Recording.start(settings, `failover-${action}`, dryRun, progressFor(settings.output));
    const progress = recording?.progress ?? progressFor(settings.output);
    let client: OpenMLDBClient;
    let safety: RunSafety | undefined;
    try {
      client = openClient(settings.connection, settings.output);
      recording?.attach(client);
      // A switch is a mutating run: it waits for no one, but never races a running recovery.
      safety = action === 'status' || dryRun ? undefined : await openRunSafety(settings, `failover ${action}`, progress, client);
      const gate = safety;
      if (gate) client.changeGate = (restore) => gate.changeGate(restore);
    } catch (err) {
      progress.stop(); // a spinner left running would keep the process alive
      recording?.fail(err);
      throw err;
    }
    try {
      const r = await runFailover(client, action, { dryRun, retries, progress });
      if (dryRun && settings.detailedExitcode && r.ok && action !== 'status' && r.before !== (action === 'on')) {
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
      if (settings.output.json) writeDocument(process.stdout, json(r));
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
