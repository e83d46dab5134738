// The stand-in `openmldb` binary's run: flags, then the role's client. It runs on its host
// (host.ts): its own process (src/sim/cli/openmldb.ts), or another program's, in process.
import { Flags, parseFlags } from './flags.js';
import { type BinaryHost, host, onHost } from './host.js';
import type { CliEnv } from './cli-env.js';
import { type Dialect, LineReader, println } from './util.js';

function dialectFromEnv(): Dialect {
  return host().env['OPENMLDB_SIM_DIALECT'] === '2018' ? '2018' : 'modern';
}

function versionString(dialect: Dialect): string {
  const v = host().env['OPENMLDB_SIM_VERSION'];
  if (v !== undefined && v !== '') return v;
  return dialect === '2018' ? '0.2.2-sim' : '0.9.3-sim';
}

/** One run of the binary with these arguments; resolves to its exit status. */
export async function main(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv);
  const flags = new Flags(parsed);
  const dialect = dialectFromEnv();
  const version = versionString(dialect);

  // gflags: help/version are handled before errors are reported
  if (flags.bool('help') || flags.bool('helpfull') || flags.bool('helpshort')) {
    println('openmldb: Warning: SetUsageMessage() never called');
    return 1;
  }
  if (flags.bool('version')) {
    println(`openmldb version ${version}`);
    return 0;
  }
  if (parsed.errors !== '') {
    host().stderr(parsed.errors);
    return 1;
  }

  const stdin = new LineReader();
  const env: CliEnv = { flags, dialect, version, stdin };
  const role = flags.str('role');
  try {
    if (role === '') {
      const { startStandaloneSqlClient } = await import('./sql-client.js');
      startStandaloneSqlClient(env);
    } else if (role === 'ns_client') {
      const { startNsClient } = await import('./ns-client.js');
      await startNsClient(env);
    } else if (role === 'sql_client') {
      const { startSqlClient } = await import('./sql-client.js');
      await startSqlClient(env);
    } else if (role === 'client') {
      const { startTabletClient } = await import('./tablet-client.js');
      await startTabletClient(env);
    } else if (role === 'tablet' || role === 'nameserver' || role === 'apiserver') {
      host().stderr(`the simulated openmldb binary does not run servers (role ${role}); use openmldb-sim\n`);
      return 1;
    } else {
      println(`Invalid role: ${role}`);
    }
  } finally {
    stdin.close();
  }
  return 0;
}

/** One run of the binary inside another program, on `h` (nothing of this process is touched). */
export function runOnHost(h: BinaryHost, argv: string[]): Promise<number> {
  return onHost(h, () => main(argv));
}
