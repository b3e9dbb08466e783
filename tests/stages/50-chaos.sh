# Stage: issue 13's chaos mix (tests/client/chaos.cpp). Two rounds, usage_meter.counter_slots = 1 then 16, each
# in a fresh database: 14 libpq connections for 40 s record (keyed, racing duplicate keys, unkeyed, backfills into
# other and default partitions), send record_response twice, void and correct, reprice in both modes while prices
# change, rebuild, create partitions, drop old months, reserve/settle/release and change markups and limits.
# Then every acknowledged call is in the ledger exactly once, every voided event nets to 0, verify() is empty and
# every error is one the docs list for its call (no 40P01, 23514 or 40001); no deadlock in the server log.
# Bounded to 170 s (about 90 s on a 2-core machine); the client drops its databases, the stage again if it died.

chaos() {
    local deadlocks_before deadlocks_after rc=0 db
    deadlocks_before="$(grep -c 'deadlock detected' "$UM_CLUSTER_DIR/server.log" 2>/dev/null || true)"
    g++ -std=c++17 -O2 -Wall -Wextra -o build/chaos tests/client/chaos.cpp -I"$(pg_config --includedir)" -lpq || return 1
    timeout -k 5 170 build/chaos || rc=1
    deadlocks_after="$(grep -c 'deadlock detected' "$UM_CLUSTER_DIR/server.log" 2>/dev/null || true)"
    if [ "${deadlocks_after:-0}" != "${deadlocks_before:-0}" ]; then
        echo "FAIL  $(( ${deadlocks_after:-0} - ${deadlocks_before:-0} )) deadlocks in the server log"
        rc=1
    fi
    for db in usage_meter_chaos_1 usage_meter_chaos_16; do
        psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || rc=1
    done
    return $rc
}

stage "chaos: every feature at once, on counter_slots 1 and 16; every acknowledged call kept once, only documented errors" chaos
