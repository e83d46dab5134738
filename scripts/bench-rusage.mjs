// Preloaded into the tool by the benchmark (node --import): at exit, writes the process's
// peak memory and CPU time to $BENCH_RUSAGE_FILE. Not part of the tool.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RUSAGE_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKb: u.maxRSS, userUs: u.userCPUTime, systemUs: u.systemCPUTime }));
  });
}
