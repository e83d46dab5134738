// A run's verify (run.ts), once auto_failover is held or back: the look the verdict stands on,
// a look again at the partitions refused or blocked, the followers behind watched once more,
// and what is served again forgotten by the run memory.
import type { ClusterSnapshot } from '../cluster/types.js';
import { errorMessage } from '../exit-codes.js';
import { assessPartition } from './health.js';
import { partitionKey as key } from './run-memory.js';
import { CATCH_UP_MS, describeStuck } from './catch-up.js';
import { type RunState, catchUp, look } from './run-state.js';

/** Said before the look after the run, for the partitions it refused or found blocked (the report's verdict stands on the look before). */
export const END_LOOK = 'looking again at the partitions refused or blocked';

/** A run stopped by a failure (interrupt.ts) says so, and where it was. */
export function noteFailure(s: RunState): void {
  const { o } = s;
  if (o.interrupt.failure) {
    s.errors.push(`stopped: ${o.interrupt.failure.message}`);
    s.stoppedIn ??= s.phase;
  }
}

/** The run verified: the last look at the cluster, the one its report judges. */
export async function verify(s: RunState): Promise<ClusterSnapshot> {
  const final = await finalLook(s);
  await lookAgainAtRefused(s, final);
  const { keeper } = s;
  if (!keeper.switchedOff && !keeper.pendingRestore) s.after = keeper.raceSettled ? false : final.autoFailover;
  await watchFollowersBehind(s, final);
  await forgetServed(s, final);
  return final;
}

/**
 * The last observation was taken after the last change, unless the run stopped early
 * (signal, error) or the fence changed the cluster since; then look once more.
 */
async function finalLook(s: RunState): Promise<ClusterSnapshot> {
  const { o, snapshot, errors } = s;
  let final = snapshot;
  if (snapshot === s.first || o.interrupt.aborted || errors.length > 0 || s.fenced > 0) {
    try {
      o.progress.update('verifying');
      final = await look(s);
    } catch (err) {
      errors.push(`verify: ${errorMessage(err)}`);
    }
  }
  return final;
}

/**
 * Partitions refused or found blocked may have been served since, not by this run (the
 * nameserver with auto_failover back, a tablet that came back): one more look says so in
 * their reason. They stay refused or blocked: this run did not check what they hold.
 */
async function lookAgainAtRefused(s: RunState, final: ClusterSnapshot): Promise<void> {
  const { o } = s;
  if (!o.dryRun && [...s.plans.values()].some((p) => p.action === 'refused' || p.action === 'blocked')) {
    try {
      if (final === s.snapshot) o.progress.update(END_LOOK);
      s.endLook = final === s.snapshot ? await look(s) : final;
    } catch {
      // Only a reason is lost: the report stands on the verify above.
    }
  }
}

/**
 * Followers still behind at the end are watched once more; those that do not catch up
 * are named in the report, and remembered for the next run to rebuild.
 */
async function watchFollowersBehind(s: RunState, final: ClusterSnapshot): Promise<void> {
  const { o } = s;
  if (s.watchesCatchUp && !o.interrupt.aborted) {
    try {
      for (const b of await catchUp(s, final)) s.stuck.set(b.key, [...(s.stuck.get(b.key) ?? []), describeStuck(b, o.catchUpMs ?? CATCH_UP_MS)]);
    } catch (err) {
      s.errors.push(`verify: the followers behind could not be watched: ${errorMessage(err)}`);
    }
  }
}

/** Served again: nothing of theirs needs remembering by a later run. */
async function forgetServed(s: RunState, final: ClusterSnapshot): Promise<void> {
  const verdict = s.proc.verdict ?? assessPartition;
  s.memory.forget(final.tables.flatMap((t) => t.partitions.filter((p) => verdict(t, p, final, { opBaseline: s.opBaseline }).healthy && !s.stuck.has(key(t.db, t.name, p.pid))).map((p) => key(t.db, t.name, p.pid))));
  await s.memory.save().catch((err: unknown) => s.errors.push(`the evidence record could not be written: ${errorMessage(err)}`));
}
