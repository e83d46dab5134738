// A dry run's plan as a shell script an operator can read, and paste a line of at a time:
// each step as the `openmldb` command line (ns_client or tablet client) that does it, curl
// for what the binary cannot send, and `#` comments for what a dry run cannot decide yet
// (the leader is chosen only once every replica has been loaded and read).
import {
  type BinaryAccess,
  changeRoleBody,
  httpCommandLine,
  loadTableBody,
  loadTableCmd,
  nsCommandLine,
  tabletCommandLine,
} from '../cluster/command-line.js';
import { describeClusterStep } from './cluster-steps.js';
import type { ClusterStep, PartitionPlan, Step } from './procedure.js';

/**
 * What a dry run cannot name yet, after a probe: the leader is chosen once every replica
 * has been loaded and read. The steps that follow, as the run would take them.
 */
export function afterTheProbe(plan: PartitionPlan, replicas: string[]): string[] {
  if (plan.action !== 'probe') return [];
  return [
    `then, once every replica serves as a follower: the leader is the replica holding the most entries of ${replicas.join(', ')} (the offset each reads; refused if another holds entries it lacks)`,
    `then: the flagged leader, if it holds the most, is made leader on its tablet (ChangeRole over HTTP); a replica holding more takes over with changeleader ${plan.table} ${plan.pid} ENDPOINT; a follower behind the leader's snapshot, or the old leader, is rebuilt with recovertable ${plan.table} ${plan.pid} ENDPOINT`,
    `then: updatetablealive ${plan.table} ${plan.pid} ENDPOINT yes for each replica that serves`,
  ];
}

/** Text as shell comments, line by line. */
const comment = (text: string): string[] => text.split('\n').map((l) => `# ${l}`);

/**
 * One step as the command line that does it (a wait: the read to repeat, and until when).
 * `address`: where a tablet listens (a server registered by name is reached at its real address).
 */
export function stepCommandLine(step: Step, p: PartitionPlan, a: BinaryAccess, address: (endpoint: string) => string = (e) => e): string {
  switch (step.kind) {
    case 'set-alive':
      return nsCommandLine(a, `updatetablealive ${p.table} ${p.pid} ${step.endpoint} ${step.alive ? 'yes' : 'no'}`, p.db);
    case 'load': {
      const load = { name: p.table, tid: p.tid, pid: p.pid, segCnt: p.segCnt, storageMode: p.storageMode, mode: step.mode } as const;
      // The CLI's loadtable sends no storage mode: a disk table is loaded over HTTP.
      return p.storageMode === 'kMemory' ? tabletCommandLine(a, address(step.endpoint), loadTableCmd(load)) : httpCommandLine(a, address(step.endpoint), 'TabletServer', 'LoadTable', loadTableBody(load));
    }
    case 'wait-loaded':
      return `${tabletCommandLine(a, address(step.endpoint), `gettablestatus ${p.tid} ${p.pid}`)}  # again until its state is kTableNormal`;
    case 'change-role':
      return httpCommandLine(a, address(step.endpoint), 'TabletServer', 'ChangeRole', changeRoleBody({ tid: p.tid, pid: p.pid, mode: step.mode, term: step.term, replicas: step.followers }));
    case 'change-leader':
      return nsCommandLine(a, `changeleader ${p.table} ${p.pid} ${step.endpoint}`, p.db);
    case 'recover-replica':
      return nsCommandLine(a, `recovertable ${p.table} ${p.pid} ${step.endpoint}`, p.db);
    case 'wait-ops':
      return `${nsCommandLine(a, `showopstatus ${p.table} ${p.pid}`, p.db)}  # again until no op is kInited or kDoing`;
  }
}

export interface DryRunScript {
  /** auto_failover is on and the run would change something: off first, back on last. */
  switchesFailover: boolean;
  cluster: readonly ClusterStep[];
  partitions: ReadonlyArray<{ plan: PartitionPlan; replicas: string[] }>;
  /** Where each tablet listens, by endpoint (its real address when servers register by name). */
  addresses: ReadonlyMap<string, string>;
}

/** The whole run as a script: auto_failover off, the cluster-wide commands, each partition's steps, auto_failover back on. */
export function dryRunScript(s: DryRunScript, a: BinaryAccess): string[] {
  const out: string[] = [];
  if (s.switchesFailover) out.push('# manual recovery commands are refused while auto_failover is on: off for the run', nsCommandLine(a, 'confset auto_failover false'));
  for (const step of s.cluster) out.push(nsCommandLine(a, describeClusterStep(step)), `${nsCommandLine(a, 'showopstatus')}  # again until its ops end`);
  for (const { plan, replicas } of s.partitions) {
    if (plan.steps.length === 0 && !plan.via?.length) continue;
    out.push(...comment(`${plan.db}.${plan.table} pid ${plan.pid}: ${plan.reason}`));
    for (const v of plan.via ?? []) out.push(`# done by: ${v}`);
    for (const step of plan.steps) out.push(stepCommandLine(step, plan, a, (e) => s.addresses.get(e) ?? e));
    for (const line of afterTheProbe(plan, replicas)) out.push(...comment(line));
  }
  if (s.switchesFailover) out.push('# back to its value before the run', nsCommandLine(a, 'confset auto_failover true'));
  if (a.passwordFrom === '"$OPENMLDB_PASSWORD"' && out.some((l) => l.startsWith('curl '))) out.unshift('# the curl lines read the password from OPENMLDB_PASSWORD: export it in this shell first');
  return out;
}
