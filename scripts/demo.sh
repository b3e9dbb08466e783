#!/usr/bin/env bash
# Sets everything up and runs usage_meter on a throwaway cluster: installs the Debian packages it needs,
# builds and installs the extension, starts a private PostgreSQL 15 cluster, runs scripts/demo.sql, and
# removes the cluster. With KEEP=1 the cluster stays up and the psql command to reach it is printed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$UM_ROOT"
um_deps
um_build_install
um_cluster_start
psql -X -q -d postgres -f scripts/demo.sql
if [ "${KEEP:-0}" = 1 ]; then
    trap - EXIT
    um_log "cluster left running: psql -h $PGHOST -p $PGPORT -U postgres postgres"
    um_log "stop it with: runuser -u postgres -- $UM_PG_BIN/pg_ctl -D $UM_CLUSTER_DIR/data stop; rm -rf $UM_CLUSTER_DIR"
fi
