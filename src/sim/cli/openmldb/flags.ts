// gflags-compatible command-line parsing for the stand-in `openmldb` binary.
//
// Behaviour copied from gflags (src/gflags.cc ParseNewCommandLineFlags,
// SplitArgumentLocked, ReportErrors, gflags_reporting.cc ShowVersion):
// `--name=value`, `-name=value`, `--name value` (non-boolean flags take the next
// argument), `--name` / `--noname` for booleans, `--` ends flag parsing, other
// arguments are positional and ignored. Errors are collected per flag name, printed
// to stderr sorted by flag name (a std::map), and the process exits with status 1.
// `--version` prints `<prog> version <version>` and exits 0 before errors are reported.
import { readFileSync } from 'node:fs';

export type FlagType = 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'double' | 'string';
export type FlagValue = string | number | boolean;

// Every flag the real binary defines that a client might pass. Names, types and defaults
// from src/flags.cc, src/cmd/sql_cmd.h and hybridse/src/flags.cc of OpenMLDB, plus the
// gflags and glog built-in flags and the brpc flags most often seen on command lines.
const FLAG_SPECS = `
string endpoint ""
string log_level debug
int32 glog_level 1
string glog_dir ""
string openmldb_log_dir ./logs
int32 log_overdue_days 0
string role ""
string cmd ""
string user root
string password ""
int32 zk_session_timeout 2000
uint32 tablet_heartbeat_timeout 300000
uint32 tablet_offline_check_interval 1000
string zk_cluster ""
string zk_root_path /openmldb
string zk_auth_schema digest
string zk_cert ""
string tablet ""
string nameserver ""
int32 get_sys_mem_interval 10000
int32 zk_keep_alive_check_interval 15000
uint32 zk_log_level 0
string zk_log_file ""
string host ""
int32 port 0
int32 request_timeout 600000
int32 get_task_status_interval 2000
uint32 get_table_status_interval 2000
uint32 get_table_diskused_interval 600000
uint32 get_memory_stat_interval 10000
int32 name_server_task_pool_size 8
uint32 name_server_task_concurrency 2
uint32 name_server_task_concurrency_for_replica_cluster 2
uint32 name_server_task_max_concurrency 8
int32 name_server_task_wait_time 1000
uint32 name_server_op_execute_timeout 7200000
bool auto_failover false
int32 max_op_num 10000
uint32 partition_num 8
uint32 replica_num 3
uint32 system_table_replica_num 1
int32 gc_interval 120
int32 disk_gc_interval 120
int32 gc_pool_size 2
int32 gc_safe_offset 1
uint64 gc_on_table_recover_count 10000000
uint32 gc_deleted_pk_version_delta 2
double mem_release_rate 5
int32 task_pool_size 3
int32 io_pool_size 2
bool use_name false
string data_dir ./data
bool enable_distsql false
bool enable_localtablet true
string bucket_size 1d
uint32 scan_max_bytes_size 0
uint32 scan_reserve_size 1024
uint32 preview_limit_max_num 1000
uint32 preview_default_limit 100
int32 binlog_single_file_max_size 4096
int32 binlog_sync_batch_size 32
bool binlog_notify_on_put false
bool binlog_enable_crc false
int32 binlog_coffee_time 1000
int32 binlog_sync_wait_time 100
int32 binlog_sync_to_disk_interval 20000
int32 binlog_delete_interval 60000
int32 binlog_match_logoffset_interval 1000
int32 binlog_name_length 8
uint32 check_binlog_sync_progress_delta 100000
uint32 go_back_max_try_cnt 10
uint32 put_slow_log_threshold 50000
uint32 query_slow_log_threshold 50000
string db_root_path /tmp/
int32 put_concurrency_limit 0
int32 thread_pool_size 16
int32 get_concurrency_limit 0
int32 request_max_retry 3
int32 request_timeout_ms 20000
int32 request_sleep_time 1000
uint32 max_memory_mb 0
uint32 max_traverse_key_cnt 0
uint32 max_traverse_cnt 0
uint32 traverse_cnt_limit 1000
string ssd_root_path ""
string hdd_root_path ""
uint32 task_check_interval 1000
int32 send_file_max_try 3
int32 retry_send_file_wait_time_ms 3000
int32 stream_close_wait_time_ms 1000
uint32 stream_block_size 1232896
int32 stream_bandwidth_limit 12328960
int32 make_snapshot_time 23
int32 make_snapshot_check_interval 600000
int32 make_snapshot_threshold_offset 100000
uint32 make_snapshot_max_deleted_keys 1000000
uint32 make_snapshot_offline_interval 86400
string snapshot_compression off
int32 snapshot_pool_size 1
uint32 load_index_max_wait_time 7200000
string recycle_bin_root_path /tmp/recycle
string recycle_bin_ssd_root_path ""
string recycle_bin_hdd_root_path ""
bool recycle_bin_enabled true
uint32 recycle_ttl 0
uint32 latest_ttl_max 1000
uint32 absolute_ttl_max 15768000
uint32 skiplist_max_height 12
uint32 key_entry_max_height 8
uint32 latest_default_skiplist_height 1
uint32 absolute_default_skiplist_height 4
uint32 max_col_display_length 256
uint32 load_table_batch 30
uint32 load_table_thread_num 3
uint32 load_table_queue_size 1000
uint32 get_replica_status_interval 10000
uint32 sync_deploy_stats_timeout 10000
bool disable_wal true
string file_compression off
uint32 block_cache_mb 4096
uint32 write_buffer_mb 128
uint32 block_cache_shardbits 8
bool verify_compression false
uint32 max_log_file_size 104857600
uint32 keep_log_file_num 5
int32 sync_job_timeout 1800000
int32 deploy_job_max_wait_time_ms 1800000
bool skip_grant_tables true
uint32 cidx_gc_max_size 1000
bool interactive true
string database ""
string spark_conf ""
string default_db_name _hybridse
bool enable_spark_unsaferow_format false
string flagfile ""
string fromenv ""
string tryfromenv ""
string undefok ""
int32 tab_completion_columns 80
string tab_completion_word ""
bool help false
bool helpfull false
bool helpshort false
string helpon ""
string helpmatch ""
bool helppackage false
bool helpxml false
bool version false
bool logtostderr false
bool alsologtostderr false
bool colorlogtostderr false
int32 stderrthreshold 2
int32 minloglevel 0
string log_dir ""
string log_link ""
int32 v 0
string vmodule ""
int32 logbufsecs 30
int32 logbuflevel 0
int32 max_log_size 1800
bool stop_logging_if_full_disk false
bool log_prefix true
string log_backtrace_at ""
bool drop_log_memory true
int32 health_check_interval 3
int32 max_body_size 67108864
bool usercode_in_pthread false
bool enable_rpcz false
bool log_error_text false
int32 connect_timeout_as_unreachable 3
int32 defer_close_second 0
int32 idle_timeout_second 10
`;

interface FlagSpec {
  name: string;
  type: FlagType;
  def: FlagValue;
}

const SPECS: Map<string, FlagSpec> = (() => {
  const m = new Map<string, FlagSpec>();
  for (const line of FLAG_SPECS.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const [type, name, raw = ''] = t.split(' ') as [FlagType, string, string?];
    const text = raw === '""' ? '' : raw;
    const def: FlagValue = type === 'bool' ? text === 'true' : type === 'string' ? text : Number(text);
    m.set(name, { name, type, def });
  }
  return m;
})();

export interface ParsedFlags {
  /** Value of every known flag (defaults filled in). */
  values: Map<string, FlagValue>;
  /** Flags set explicitly on the command line (gflags `is_default == false`). */
  explicit: Set<string>;
  /** Arguments that are not flags (ignored by the binary). */
  positional: string[];
  /** Error text for stderr (each line ends with "\n"); empty when none. */
  errors: string;
}

const BOOL_TRUE = new Set(['1', 't', 'true', 'y', 'yes']);
const BOOL_FALSE = new Set(['0', 'f', 'false', 'n', 'no']);

function parseValue(spec: FlagSpec, value: string): FlagValue | undefined {
  switch (spec.type) {
    case 'bool': {
      const v = value.toLowerCase();
      if (BOOL_TRUE.has(v)) return true;
      if (BOOL_FALSE.has(v)) return false;
      return undefined;
    }
    case 'string':
      return value;
    case 'double': {
      if (value.trim() === '' || !Number.isFinite(Number(value))) return undefined;
      return Number(value);
    }
    default: {
      // strtol-style: optional sign, decimal, or 0x hex
      const m = /^([+-]?)(0x[0-9a-f]+|\d+)$/i.exec(value);
      if (!m) return undefined;
      const neg = m[1] === '-';
      const digits = m[2] as string;
      const big = (neg ? -1n : 1n) * BigInt(digits);
      const ranges: Record<string, [bigint, bigint]> = {
        int32: [-(2n ** 31n), 2n ** 31n - 1n],
        uint32: [0n, 2n ** 32n - 1n],
        int64: [-(2n ** 63n), 2n ** 63n - 1n],
        uint64: [0n, 2n ** 64n - 1n],
      };
      const range = ranges[spec.type];
      if (!range) return undefined;
      if ((spec.type === 'uint32' || spec.type === 'uint64') && neg) return undefined;
      if (big < range[0] || big > range[1]) return undefined;
      return Number(big);
    }
  }
}

function readFlagfile(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#') && l.startsWith('-'));
  } catch {
    return [];
  }
}

export function parseFlags(argv: string[]): ParsedFlags {
  const values = new Map<string, FlagValue>();
  for (const spec of SPECS.values()) values.set(spec.name, spec.def);
  const explicit = new Set<string>();
  const positional: string[] = [];
  const errors = new Map<string, string>();
  const undefinedNames = new Set<string>();

  const args = [...argv];
  for (let i = 0; i < args.length; i++) {
    const raw = args[i] as string;
    if (raw[0] !== '-' || raw.length === 1) {
      positional.push(raw);
      continue;
    }
    let arg = raw.slice(1);
    if (arg[0] === '-') arg = arg.slice(1);
    if (arg === '') {
      positional.push(...args.slice(i + 1));
      break;
    }
    const eq = arg.indexOf('=');
    let key = eq < 0 ? arg : arg.slice(0, eq);
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    let spec = SPECS.get(key);
    if (!spec) {
      if (!key.startsWith('no')) {
        undefinedNames.add(key);
        errors.set(key, `ERROR: unknown command line flag '${key}'\n`);
        continue;
      }
      const base = SPECS.get(key.slice(2));
      if (!base) {
        undefinedNames.add(key);
        errors.set(key, `ERROR: unknown command line flag '${key}'\n`);
        continue;
      }
      if (base.type !== 'bool') {
        undefinedNames.add(key);
        errors.set(key, `ERROR: boolean value (${key}) specified for ${base.type} command line flag\n`);
        continue;
      }
      spec = base;
      key = base.name;
      value = '0';
    }
    if (value === undefined && spec.type === 'bool') value = '1';
    if (value === undefined) {
      if (i + 1 >= args.length) {
        errors.set(key, `ERROR: flag '${raw}' is missing its argument\n`);
        break;
      }
      value = args[++i] as string;
    }
    const parsed = parseValue(spec, value);
    if (parsed === undefined) {
      errors.set(key, `ERROR: illegal value '${value}' specified for ${spec.type} flag '${spec.name}'\n`);
      continue;
    }
    values.set(spec.name, parsed);
    explicit.add(spec.name);
    if (spec.name === 'flagfile' && typeof parsed === 'string' && parsed !== '') {
      args.splice(i + 1, 0, ...readFlagfile(parsed));
    }
  }

  // --undefok=a,b silences "unknown flag" for those names (and their no- forms)
  const undefok = String(values.get('undefok') ?? '');
  if (undefok !== '') {
    for (const name of undefok.split(',').map((s) => s.trim())) {
      if (undefinedNames.has(name)) errors.delete(name);
      else if (undefinedNames.has('no' + name)) errors.delete('no' + name);
    }
  }
  const sorted = [...errors.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const text = sorted.map((k) => errors.get(k) ?? '').join('');
  return { values, explicit, positional, errors: text };
}

/** Typed accessors over ParsedFlags. */
export class Flags {
  constructor(readonly parsed: ParsedFlags) {}
  str(name: string): string {
    return String(this.parsed.values.get(name) ?? '');
  }
  num(name: string): number {
    const v = this.parsed.values.get(name);
    return typeof v === 'number' ? v : Number(v ?? 0);
  }
  bool(name: string): boolean {
    return this.parsed.values.get(name) === true;
  }
  isDefault(name: string): boolean {
    return !this.parsed.explicit.has(name);
  }
}
