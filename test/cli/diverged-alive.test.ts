// Two replicas alive before the incident whose histories diverged: no OpenMLDB rule chose
// between them, so the partition is refused by default (unlike an orphaned tail), and each
// command the refusal prints, pasted into a shell, proceeds as it says.
//
// The incident is made with OpenMLDB's own commands, as an operator could have: after a
// failover the old leader (holding a tail its followers never got) is loaded by hand,
// snapshotted, and marked alive again without being rebuilt; then the whole cluster
// restarts. Its snapshot (of the old term, past the offset where the newer term began) is
// the evidence that it diverged: OpenMLDB's MatchTermOffset would fail for it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PartitionReport } from '../../src/engine/report.js';
import { runPasted } from '../helpers/paste.js';
import { recoverJson } from '../helpers/report.js';
import { type Sim, withSim } from '../helpers/sim.js';

interface State {
  tables: Array<{ tid: number; db: string; name: string; partitions: Array<{ pid: number; replicas: Array<{ endpoint: string; isLeader: boolean; isAlive: boolean }> }> }>;
  tablets: Array<{ endpoint: string; disk: Array<{ tid: number; pid: number; snapshotOffset: number; binlogOffset: number }> }>;
  incident: { ledger: Array<{ db: string; name: string; tid: number; pid: number; orphaned: unknown[] }> } | null;
}

const ARGS = ['--scenario', 'full-restart-after-failover', '--diverged-tails', '1', '--seed', '11', '--no-system-tables', '--tables', '2', '--partitions', '3', '--make-snapshot-threshold-offset', '0'];

/** The old leader revived by hand before the incident; returns the partition and that replica. */
async function reviveOldLeader(sim: Sim): Promise<{ db: string; name: string; pid: number; old: string }> {
  const s = await sim.ctl<State>('state');
  const line = s.incident?.ledger.find((l) => l.orphaned.length > 0);
  assert.ok(line, 'the scenario has an orphaned tail');
  const part = s.tables.find((t) => t.tid === line.tid)?.partitions.find((p) => p.pid === line.pid);
  const old = part?.replicas.find((r) => r.isLeader && !r.isAlive)?.endpoint;
  assert.ok(old, 'the old leader: flagged leader, not alive');
  const ok = async (what: string, p: Promise<{ stdout: string; code: number }>, want: RegExp) => {
    const r = await p;
    assert.match(r.stdout, want, `${what}: ${r.stdout}`);
  };
  await ok('confset', sim.ns('confset auto_failover false'), /set auto_failover ok/);
  await ok('loadtable', sim.tablet(old, `loadtable ${line.name} ${line.tid} ${line.pid} 144000 8 false`), /LoadTable ok/);
  await sim.waitFor('the old leader loaded', async () => /kTableNormal/.test((await sim.tablet(old, `gettablestatus ${line.tid} ${line.pid}`)).stdout));
  await ok('makesnapshot', sim.tablet(old, `makesnapshot ${line.tid} ${line.pid}`), /MakeSnapshot ok/);
  await sim.waitFor('its snapshot written', async () => {
    const d = (await sim.ctl<State>('state')).tablets.find((t) => t.endpoint === old)?.disk.find((x) => x.tid === line.tid && x.pid === line.pid);
    return d !== undefined && d.snapshotOffset === d.binlogOffset;
  });
  await ok('updatetablealive', sim.ns(`updatetablealive ${line.name} ${line.pid} ${old} yes`, line.db), /update ok/);
  await ok('confset', sim.ns('confset auto_failover true'), /set auto_failover ok/);
  await sim.ctl('full-restart');
  await sim.ctl('incident', { autoFailoverBefore: true });
  return { db: line.db, name: line.name, pid: line.pid, old };
}

async function refusedPartition(sim: Sim, at: { db: string; name: string; pid: number }): Promise<PartitionReport> {
  const first = await recoverJson(sim);
  assert.equal(first.code, 1, first.stderr);
  const p = first.report.tables.find((t) => t.db === at.db && t.name === at.name)?.partitions.find((x) => x.pid === at.pid);
  assert.ok(p);
  return p;
}

describe('diverged histories between replicas alive before the incident', { concurrency: true }, () => {
  for (const side of ['the newer term', 'the old leader'] as const) {
    it(`refused by default; the printed command naming ${side} proceeds, losing what it says`, async () => {
      await withSim(ARGS, async (sim) => {
        const at = await reviveOldLeader(sim);
        const p = await refusedPartition(sim, at);
        assert.equal(p.status, 'refused');
        assert.match(p.reason, new RegExp(`diverged histories: ${at.old.replace(/\./g, '\\.')} \\(alive before the incident, but its snapshot at offset \\d+ is of term \\d+, where term \\d+ began at offset \\d+: it diverged there\\)`));
        assert.equal(p.orphaned, undefined, 'not an orphaned tail: it was alive');
        assert.ok(p.atStake > 0);
        assert.equal(p.proceed?.length, 2, JSON.stringify(p.proceed));
        const check0 = await sim.check();
        assert.equal(check0.entriesLost, 0, 'nothing lost while refused');
        const [newer, older] = p.proceed!;
        assert.ok(older?.command.includes(`--leader ${at.pid}=${at.old} --accept-data-loss`), older?.command);
        const chosen = side === 'the newer term' ? newer! : older!;
        const pasted = await runPasted(chosen.command, { HOME: sim.dir, ...sim.env, XDG_STATE_HOME: sim.stateHome });
        assert.equal(pasted.code, 0, `${chosen.command}\n${pasted.stderr}\n${pasted.stdout}`);
        const lost = Number(/the (\d+) entries/.exec(chosen.effect)?.[1]);
        const check = await sim.check();
        const line = check.ledger.find((l) => l.db === at.db && l.table === at.name && l.pid === at.pid);
        assert.ok(line?.served !== undefined, 'served');
        assert.equal(line.lost, lost, `lost what the printed effect said: ${chosen.effect}`);
        assert.equal(check.entriesLost, lost);
        assert.equal(check.partitionsServed, check.partitions);
      });
    });
  }
});
