// A dry run shows the whole procedure: the probe it would start with, what follows once the
// replicas are read (the leader cannot be named before), auto_failover off and back on; and
// with --detailed-exitcode it says by its exit code whether anything would change. Its
// commands are the `openmldb` binary's (and curl for what the binary cannot send): pasted
// into a shell one by one, they do what the run's probe does.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { report } from '../helpers/report.js';
import { autoFailover } from '../helpers/runs.js';
import { recoverCli, withSim } from '../helpers/sim.js';

/** A line pasted into bash, as an operator's shell runs it. */
function paste(line: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', line], { timeout: 60_000 }, (err, stdout) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }));
  });
}

describe('--dry-run', () => {
  it('shows the probe, the steps after it and auto_failover off and on; exit 6 under --detailed-exitcode, 0 once nothing is left; nothing changed', async () => {
    await withSim(['--no-system-tables', '--scenario', 'full-restart', '--tables', '1', '--partitions', '2', '--storage', 'memory'], async (sim) => {
      const text = await recoverCli(sim, ['recover', '--dry-run']);
      assert.equal(text.code, 0, text.stderr);
      const block = text.stdout.split('\n');
      const pid0 = block.findIndex((l) => /^# demo_db\.t0 pid 0: /.test(l));
      assert.ok(pid0 >= 0, text.stdout);
      const pid1 = block.findIndex((l) => /^# demo_db\.t0 pid 1: /.test(l));
      const steps = block.slice(pid0 + 1, pid1).join('\n');
      assert.match(steps, /--role=ns_client --interactive=false --cmd='updatetablealive t0 0 \S+ no' --database=demo_db/);
      assert.match(steps, /--role=client --interactive=false --cmd='loadtable t0 \d+ 0 144000 \d+ false'/);
      assert.match(steps, /# then, once every replica serves as a follower: the leader is the replica holding the most entries of \S+, \S+, \S+ \(the offset each reads/);
      assert.match(steps, /# then: .*changeleader t0 0 ENDPOINT.*recovertable t0 0 ENDPOINT/);
      assert.match(steps, /# then: updatetablealive t0 0 ENDPOINT yes/);
      assert.match(text.stdout, /auto_failover: true -> false during the run \(confset auto_failover false\) -> true \(confset auto_failover true\); the dry run changed nothing/);

      const detailed = await recoverCli(sim, ['recover', '--dry-run', '--detailed-exitcode', '--json']);
      assert.equal(detailed.code, 6, detailed.stderr);
      const rep = report(detailed);
      assert.equal(rep.exitCode, 6);
      assert.equal(rep.ok, false);
      assert.equal(rep.totals.planned, 2);
      assert.deepEqual(rep.script, block.slice(block.indexOf(rep.script?.[0] ?? '-'), block.indexOf(rep.script?.at(-1) ?? '-') + 1), 'the JSON report carries the script the text prints');
      assert.deepEqual(await sim.mutations(), [], 'the dry runs changed nothing');

      assert.equal((await recoverCli(sim, ['recover'])).code, 0);
      const after = await recoverCli(sim, ['recover', '--dry-run', '--detailed-exitcode']);
      assert.equal(after.code, 0, 'nothing left to do');
      assert.match(after.stdout, /auto_failover: true \(untouched\)/);
      assert.doesNotMatch(after.stdout, /--role=/, 'no command to paste');
    });
  });

  it("its commands, pasted into a shell one by one, run the probe on a memory and a disk table (curl for the disk table's load); recover then serves every partition", async () => {
    await withSim(['--no-system-tables', '--scenario', 'full-restart', '--tables', '3', '--partitions', '1', '--storage', 'mixed'], async (sim) => {
      const dry = report(await recoverCli(sim, ['recover', '--dry-run', '--json']));
      const script = dry.script ?? [];
      const commands = script.filter((l) => !l.startsWith('#'));
      assert.ok(commands.some((l) => l.startsWith('curl ') && l.includes('/TabletServer/LoadTable')), `a disk table is loaded over HTTP:\n${script.join('\n')}`);
      assert.ok(commands.some((l) => l.includes("--cmd='loadtable ")), 'a memory table with the tablet client');
      assert.match(commands[0] ?? '', /--cmd='confset auto_failover false'$/);
      assert.match(commands.at(-1) ?? '', /--cmd='confset auto_failover true'$/);
      for (const line of commands) {
        const until = /# again until (.*)$/.exec(line)?.[1];
        // A wait: the read again until it shows what the comment says.
        const done = (out: string) => (until === undefined ? true : until.includes('kTableNormal') ? /kTableNormal/.test(out) : !/kInited|kDoing/.test(out));
        const r = await sim.waitFor(line, async () => {
          const out = await paste(line);
          assert.equal(out.code, 0, `${line}\n${out.stdout}`);
          assert.doesNotMatch(out.stdout.replace(/auto_failover/g, ''), /fail|error/i, line);
          return done(out.stdout) ? out : undefined;
        });
        if (line.startsWith('curl ')) assert.match(r.stdout, /"code":\s*0/, `${line}\n${r.stdout}`);
      }
      assert.equal(await autoFailover(sim), true, 'the script ends with auto_failover back on');
      const recovered = report(await recoverCli(sim, ['recover', '--json']));
      assert.equal(recovered.exitCode, 0, JSON.stringify(recovered.errors));
      assert.deepEqual((await sim.check()).problems, []);
    });
  });
});
