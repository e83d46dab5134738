#!/usr/bin/env bash
# Demo: a simulated OpenMLDB cluster after a full restart (metadata alive, nothing loaded,
# one follower holding more data than the replica flagged leader), then
#   openmldb-recover status   (unhealthy, exit 1)
#   openmldb-recover recover  (observe, plan, apply, verify)
#   openmldb-recover status   (healthy, exit 0)
#   openmldb-sim check        (the simulator's own verdict and data ledger)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$(mktemp -d "${TMPDIR:-/tmp}/openmldb-demo.XXXXXX")
SIM="node dist/sim/cli/openmldb-sim.js"
RECOVER="node dist/cli/openmldb-recover.js"
trap '$SIM down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "openmldb-sim up: a cluster that just went through a full restart"
$SIM up --dir "$DIR" --scenario full-restart-after-failover --tables 2 --partitions 3 --seed 7
# shellcheck disable=SC1091
. "$DIR/env"   # OPENMLDB_ZK_CLUSTER, OPENMLDB_ZK_ROOT_PATH, OPENMLDB_BIN

step "showtable demo_db.t0, as an operator sees it"
"$OPENMLDB_BIN" --zk_cluster="$OPENMLDB_ZK_CLUSTER" --zk_root_path="$OPENMLDB_ZK_ROOT_PATH" \
  --role=ns_client --interactive=false --database=demo_db --cmd="showtable t0"

step "openmldb-recover status"
$RECOVER status && echo "(exit 0)" || echo "(exit $?: unhealthy)"

step "openmldb-recover recover"
$RECOVER recover

step "openmldb-recover status"
$RECOVER status

step "openmldb-sim check"
$SIM check --dir "$DIR"
