#!/usr/bin/env bash
# Demo: a simulated OpenMLDB cluster after a full restart (metadata alive, nothing loaded),
# judged by `openmldb-sim check`, recovered, judged again, stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$(mktemp -d "${TMPDIR:-/tmp}/openmldb-demo.XXXXXX")
SIM="node dist/sim/cli/openmldb-sim.js"
trap '$SIM down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT

$SIM up --dir "$DIR" --scenario full-restart-after-failover --tables 2 --partitions 3 --seed 7
# shellcheck disable=SC1091
. "$DIR/env"
echo
echo "== showtable demo_db.t0, as an operator sees it after the restart"
"$OPENMLDB_BIN" --zk_cluster="$OPENMLDB_ZK_CLUSTER" --zk_root_path="$OPENMLDB_ZK_ROOT_PATH" \
  --role=ns_client --interactive=false --database=demo_db --cmd="showtable t0" || true
echo
echo "== openmldb-sim check (before)"
$SIM check --dir "$DIR" | head -8 || true
echo
echo "== recovery rehearsal: the runbook's manual procedure over HTTP, leader = highest offset"
npx --no-install tsx scripts/runbook-by-hand.ts "$DIR" highest-offset
echo
echo "== openmldb-sim check (after)"
$SIM check --dir "$DIR"
