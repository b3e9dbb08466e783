# SQL-level fuzz test: thousands of random and adversarial calls to every public function (NULLs, huge and
# tiny numerics, NaN and infinities, odd Unicode, very long strings, malformed and deeply nested JSON,
# infinite and far-away times, unknown ids). Checks: the backend never crashes (the one connection survives
# every call and the server log has no crashed process); every refusal has a specific SQLSTATE, never
# XX000 (internal error); the ledger holds exactly the rows the successful calls wrote (1 per new event or
# void, 2 per correction, minus what drop_events_before dropped) so refused calls wrote nothing; and verify() is
# empty at the end (over the days whose raw events are kept). Seeded, so a
# failure can be replayed. Bounded: a few seconds.

fuzz_test() {
    local db=usage_meter_fuzz
    psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" || return 1
    local log_before
    log_before=$(grep -c "terminated by signal" "$UM_CLUSTER_DIR/server.log" 2>/dev/null || true)
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -f "$UM_ROOT/tests/stages/fuzz.sql" >"$UM_ROOT/build/fuzz.out" 2>&1
    local rc=$?
    cat "$UM_ROOT/build/fuzz.out"
    local log_after
    log_after=$(grep -c "terminated by signal" "$UM_CLUSTER_DIR/server.log" 2>/dev/null || true)
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db"
    [ "$rc" -eq 0 ] && [ "${log_before:-0}" = "${log_after:-0}" ] && grep -q "^fuzz: ok" "$UM_ROOT/build/fuzz.out"
}

stage "fuzz: random and adversarial calls to every public function never crash and refused calls write nothing" fuzz_test
