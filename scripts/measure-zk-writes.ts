// How long a ZooKeeper set of a node takes, by the node's size: the measurement behind the
// simulator's default table-node write time (src/sim/timing: zkWriteMs). OpenMLDB's
// nameserver rewrites a table's whole node (its TableInfo) on every metadata change
// (name_server_impl.cc UpdateZkTableNode -> SetNodeValue), synchronously, under its mutex.
//   npx tsx scripts/measure-zk-writes.ts            # 1, 4, 16, 64, 128 KB nodes, 300 sets each (after 100 unmeasured)
// Starts a private server from Debian's zookeeper package (as the ZooKeeper test tier does).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startZooKeeper } from '../src/zk/server.js';
import { ZkSession } from '../src/zk/session.js';

// (node-zookeeper-client drops the connection on a 256 KB value; table nodes stay far below that)
const SIZES_KB = [1, 4, 16, 64, 128];
const SETS = 300;

const dir = mkdtempSync(join(tmpdir(), 'zk-writes-'));
const server = await startZooKeeper({ dir });
try {
  const zk = await ZkSession.connect(server.address, { sessionTimeoutMs: 10000 });
  console.log(`ZooKeeper ${server.address}: median and p90 of ${SETS} sequential sets per size`);
  const rows: Array<{ kb: number; median: number; p90: number }> = [];
  for (const kb of SIZES_KB) {
    const path = `/node-${kb}`;
    const value = 'x'.repeat(kb * 1024);
    await zk.put(path, value);
    for (let i = 0; i < 100; i++) await zk.set(path, value); // warm-up, not measured
    const ms: number[] = [];
    for (let i = 0; i < SETS; i++) {
      const started = process.hrtime.bigint();
      await zk.set(path, `${i % 10}${value.slice(1)}`);
      ms.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    ms.sort((a, b) => a - b);
    const row = { kb, median: ms[Math.floor(SETS / 2)] ?? 0, p90: ms[Math.floor(SETS * 0.9)] ?? 0 };
    rows.push(row);
    console.log(`${String(kb).padStart(4)} KB: median ${row.median.toFixed(2)} ms, p90 ${row.p90.toFixed(2)} ms`);
  }
  // Least squares of the medians: ms = base + perKb * kb.
  const n = rows.length;
  const sx = rows.reduce((s, r) => s + r.kb, 0);
  const sy = rows.reduce((s, r) => s + r.median, 0);
  const sxx = rows.reduce((s, r) => s + r.kb * r.kb, 0);
  const sxy = rows.reduce((s, r) => s + r.kb * r.median, 0);
  const perKb = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const base = (sy - perKb * sx) / n;
  console.log(`fit: ${base.toFixed(3)} ms + ${perKb.toFixed(4)} ms per KB`);
  await zk.close();
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
