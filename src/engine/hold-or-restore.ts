// A run's way out of its rounds (run.ts), whichever way they ended: no new steps from here;
// auto_failover held off for a reviewed plan (`plan`), or else the replicas it must not act
// on fenced (restore-fence.ts) and auto_failover put back as found.
import { errorMessage } from '../exit-codes.js';
import { type FenceRun, fenceBeforeRestore } from './restore-fence.js';
import type { RunState } from './run-state.js';

/** auto_failover held for the plan's decisions, or put back (fenced first). */
export async function holdOrRestore(s: RunState): Promise<void> {
  s.o.interrupt.restoring = true;
  await holdForPlan(s);
  if (s.held !== undefined) return;
  await fence(s);
  await restoreFailover(s);
}

/** `plan`: the probes ran and decisions wait for a person; auto_failover stays off for them. */
async function holdForPlan(s: RunState): Promise<void> {
  const { o, keeper } = s;
  const decisions = [...s.plans.values()].some((p) => p.action !== 'none');
  if (o.hold && decisions && !o.interrupt.aborted && s.errors.length === 0) {
    try {
      await keeper.hold(s.cluster, s.snapshot.autoFailover && !keeper.switchedOff, o.hold);
      s.held = o.hold.id;
      s.after = false;
    } catch (err) {
      s.errors.push(`holding auto_failover off for plan ${o.hold.id}: ${errorMessage(err)}`);
    }
  }
}

/** Before auto_failover goes back on: the replicas it must not act on marked not alive. */
async function fence(s: RunState): Promise<void> {
  const { o } = s;
  if (!s.keeper.switchesOn) return;
  const fencing: FenceRun = { progress: o.progress, retries: o.apply.retries, ...(o.apply.backoff ? { backoff: o.apply.backoff } : {}), invocation: o.invocation ?? [], touched: s.touched, outcomes: s.outcomes, plans: s.plans, outside: s.outside, errors: s.errors };
  s.fenced = await fenceBeforeRestore(s.cluster, fencing, { snapshot: s.snapshot, reads: s.watch, scope: s.proc.scope, memory: s.memory }).catch((err: unknown) => {
    s.errors.push(`fencing before auto_failover goes back on: ${errorMessage(err)}`);
    return 0;
  });
}

/** auto_failover back to its value before the run (and the journal closed). */
async function restoreFailover(s: RunState): Promise<void> {
  const { keeper } = s;
  if (keeper.switchedOff || keeper.pendingRestore) {
    s.after = await keeper.restore(s.cluster, s.errors);
  } else {
    // Nothing to put back (auto_failover was already off), but the journal written
    // before the first change must not make the next run think this one died.
    await keeper.restore(s.cluster, s.errors);
  }
}
