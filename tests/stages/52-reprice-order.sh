# Stage: reprice against backfilling recorders on one shared slot (usage_meter.counter_slots = 1), the mix that
# deadlocked 1.3 (its reprice added each event's correction to the summaries as it went, across days, while
# recorders locked the same rows in another order). 6 pgbench clients record into the last 4 days for 20 users;
# one client loops: price the unpriced model, reprice everything in those days, roll back (so every loop has
# corrections to apply). Passes when no client failed, no deadlock reached the server log, and verify() is
# empty. Bounded: 20 s of load.

reprice_order() {
    local db=usage_meter_reprice_order q="psql -X -q -At -v ON_ERROR_STOP=1" ok=0
    local deadlocks_before deadlocks_after
    deadlocks_before="$(grep -c 'deadlock detected' "$UM_CLUSTER_DIR/server.log" 2>/dev/null || true)"
    $q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" || return 1
    $q -d "$db" -c "CREATE EXTENSION usage_meter" \
        -c "SELECT count(*) FROM (SELECT usage_meter.usage_record('t', 'u' || i % 20, 'chat', 'm', 10, 10,
                                  occurred_at => now() - i * interval '1 hour') FROM generate_series(1, 90) AS i) AS r" \
        >/dev/null || return 1
    cat >"$UM_ROOT/build/reprice_order_record.sql" <<'SQL'
SELECT usage_meter.usage_record('t', 'u' || (random() * 19)::int, 'chat', 'm', 10, 10, occurred_at => now() - random() * interval '4 days');
SQL
    cat >"$UM_ROOT/build/reprice_order_reprice.sql" <<'SQL'
BEGIN;
SELECT usage_meter.set_price('m', 1, 2, effective_from => '2000-01-01Z');
SELECT * FROM usage_meter.reprice(NULL, now() - interval '4 days', NULL, false);
ROLLBACK;
SQL
    export PGOPTIONS="-c usage_meter.counter_slots=1"
    "$UM_PG_BIN/pgbench" -n -c 6 -j 2 -T 20 -f "$UM_ROOT/build/reprice_order_record.sql" "$db" \
        >"$UM_ROOT/build/reprice_order_record.txt" 2>&1 &
    local recorders=$!
    "$UM_PG_BIN/pgbench" -n -c 1 -T 20 -f "$UM_ROOT/build/reprice_order_reprice.sql" "$db" \
        >"$UM_ROOT/build/reprice_order_reprice.txt" 2>&1 || { cat "$UM_ROOT/build/reprice_order_reprice.txt"; ok=1; }
    wait "$recorders" || { cat "$UM_ROOT/build/reprice_order_record.txt"; ok=1; }
    unset PGOPTIONS
    grep -h "number of transactions actually processed\|number of failed" "$UM_ROOT"/build/reprice_order_*.txt
    deadlocks_after="$(grep -c 'deadlock detected' "$UM_CLUSTER_DIR/server.log" 2>/dev/null || true)"
    if [ "${deadlocks_after:-0}" != "${deadlocks_before:-0}" ]; then
        echo "FAIL  $(( ${deadlocks_after:-0} - ${deadlocks_before:-0} )) deadlocks in the server log"
        ok=1
    fi
    echo "verify() disagreements: $($q -d "$db" -c "SELECT count(*) FROM usage_meter.verify()")" \
        | tee "$UM_ROOT/build/reprice_order.txt"
    um_expect "$UM_ROOT/build/reprice_order.txt" "^verify() disagreements: 0$" || ok=1
    $q -d postgres -c "DROP DATABASE $db"
    return $ok
}

stage "reprice against backfilling recorders on one shared slot: no deadlock" reprice_order
