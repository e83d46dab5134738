// `recover` (and the manual recovery of `recover-table`): the runbook's manual data
// recovery for every partition not served, planned by recover-plan.ts.
import type { Procedure } from '../../engine/procedure.js';
import { type PlanOptions, planRecovery } from './recover-plan.js';

/**
 * Plain recovery: every partition not served gets the runbook's manual procedure. With
 * `force` (recover-table) a partition is planned even when it looks served, until its
 * procedure has run once in this run: later rounds only finish what is still missing.
 */
export function recoveryProcedure(options: PlanOptions): Procedure {
  return {
    // Probe (load every replica), decide and promote, then finish what is still missing.
    rounds: 5,
    pipeline: true,
    plan: (snapshot, round, memory) => {
      const now = Date.now();
      const perPartition = (k: string) => ({ ...options, now, ...(options.force ? { force: !round.done.has(k) } : {}) });
      return planRecovery(snapshot, perPartition, memory ? (k) => memory.partition(k) : undefined);
    },
  };
}

