// The simulator's contract: a full-restart recovery done by hand over nothing but
// OpenMLDB's own interfaces leaves `openmldb-sim check` passing with no entry lost when the
// leader is chosen on what the replicas really hold; the runbook's literal choice (the
// highest `showtable` offset, stale after a restart) and openmldb_ops.py's (the last replica
// flagged leader) lose entries, and `check` fails and counts them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverByHand } from '../helpers/runbook-by-hand.js';
import { SIM_BIN, runNode, withSim } from '../helpers/sim.js';

const SIZE = ['--tables', '2', '--partitions', '3', '--no-system-tables'];

describe('full-restart recovery by hand over HTTP', () => {
  it('leader by offsets read from every replica: every partition served, no entry lost', async () => {
    await withSim(['--scenario', 'full-restart-after-failover', '--diverged-tails', '0', '--seed', '11', ...SIZE], async (sim) => {
      assert.equal((await sim.check()).ok, false);
      await recoverByHand(sim, 'read-offsets');
      const after = await sim.check();
      assert.deepEqual(after.problems, []);
      assert.equal(after.ok, true);
      assert.equal(after.entriesLost, 0);
      assert.equal(after.autoFailover, true, 'auto_failover restored');
    });
  });

  it('leader by the highest showtable offset (the runbook as written): served, entries lost, check fails', async () => {
    await withSim(['--scenario', 'full-restart', '--seed', '21', ...SIZE], async (sim) => {
      await recoverByHand(sim, 'metadata-offset');
      const after = await sim.check();
      assert.ok(after.entriesLost > 0, 'stale metadata offsets picked a replica holding less');
      assert.equal(after.ok, false);
      assert.ok(after.problems.some((p) => /entries held before the incident are lost/.test(p)), after.problems.join('; '));
      assert.equal(after.partitionsServed, after.partitions, 'every partition serves: only the ledger sees the loss');
      const cli = await runNode(SIM_BIN, ['check', '--dir', sim.dir, '--json']);
      assert.equal(cli.code, 1, '`openmldb-sim check` fails');
      assert.equal((JSON.parse(cli.stdout) as { ok: boolean; entriesLost: number }).entriesLost, after.entriesLost);
    });
  });

  it('the last flagged leader (openmldb_ops.py): entries lost', async () => {
    await withSim(['--scenario', 'full-restart-after-failover', '--diverged-tails', '0', '--seed', '11', ...SIZE], async (sim) => {
      await recoverByHand(sim, 'last-flagged-leader');
      const after = await sim.check();
      assert.ok(after.entriesLost > 0);
      assert.equal(after.ok, false);
    });
  });

  it('a diverged tail is counted by identity: the served offset passes the old leader\'s, yet its entries are gone, orphaned at the failover (not lost)', async () => {
    await withSim(['--scenario', 'full-restart-after-failover', '--diverged-tails', '1', '--seed', '11', ...SIZE], async (sim) => {
      await recoverByHand(sim, 'read-offsets');
      const after = await sim.check();
      assert.deepEqual(after.ledger.filter((l) => l.lost > 0), [], 'nothing lost');
      const orphaned = after.ledger.filter((l) => l.orphaned > 0);
      assert.equal(orphaned.length, 1, 'the diverged partition');
      const l = orphaned[0]!;
      assert.ok((l.served ?? 0) >= l.bestBefore, `served ${l.served} >= best before ${l.bestBefore}: offsets alone see nothing gone`);
      assert.ok(l.orphaned >= 5 && l.orphaned <= 40, `the old leader's unreplicated tail (${l.orphaned})`);
      assert.match(l.orphanedRuns?.[0] ?? '', /\(term 1\)$/);
      assert.equal(after.entriesOrphaned, l.orphaned);
      assert.equal(after.entriesLost, 0);
      assert.equal(after.ok, true, 'OpenMLDB gave the tail up at the failover: not held against the recovery');
    });
  });
});
