// Make the built entry points executable (npm does it on install, not on a local build).
import { chmodSync, existsSync } from 'node:fs';

const entries = ['dist/cli/openmldb-recover.js', 'dist/sim/cli/openmldb-sim.js', 'dist/sim/cli/openmldb.js'];
for (const file of entries) {
  if (existsSync(file)) chmodSync(file, 0o755);
}
