#!/usr/bin/env bash
# Demo: a simulated OpenMLDB cluster that had a failover, then a full restart.
#   Before: a tablet died with auto_failover on; its partitions got new leaders in a new
#   term, and one of them (demo_db.t1 pid 1) had entries the old leader never replicated:
#   an orphaned tail, given up by OpenMLDB at that failover. Writes went on; then every
#   machine lost power and the whole cluster restarted: nothing loaded, metadata offsets
#   stale, some followers holding more than the replica flagged leader.
#   Then:
#     openmldb-recover status   (unhealthy, exit 1)
#     openmldb-recover recover  (observe, plan, apply, verify; the orphaned tail is reported)
#     openmldb-recover status   (healthy, exit 0)
#     openmldb-sim check        (the simulator's own verdict and data ledger)
# Everything lives in one temporary directory, removed at the end: the simulator, and the
# tool's lock, run journal, evidence record and run records (XDG_STATE_HOME points there).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$(mktemp -d "${TMPDIR:-/tmp}/openmldb-demo.XXXXXX")
SIM="node dist/sim/cli/openmldb-sim.js"
RECOVER="node dist/cli/openmldb-recover.js"
export XDG_STATE_HOME="$DIR/state"
trap '$SIM down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "openmldb-sim up: a failover (one old leader kept an orphaned tail), then a full restart"
$SIM up --dir "$DIR" --scenario full-restart-after-failover --tables 2 --partitions 3 --seed 7
# shellcheck disable=SC1091
. "$DIR/env"   # OPENMLDB_ZK_CLUSTER, OPENMLDB_ZK_ROOT_PATH, OPENMLDB_BIN

step "showtable demo_db.t1, as an operator sees it"
"$OPENMLDB_BIN" --zk_cluster="$OPENMLDB_ZK_CLUSTER" --zk_root_path="$OPENMLDB_ZK_ROOT_PATH" \
  --role=ns_client --interactive=false --database=demo_db --cmd="showtable t1"

step "openmldb-recover status"
$RECOVER status && echo "(exit 0)" || echo "(exit $?: unhealthy)"

step "openmldb-recover recover"
$RECOVER recover

step "openmldb-recover status"
$RECOVER status

step "openmldb-sim check"
$SIM check --dir "$DIR"
