# Stage: the limits cache (1.3) under real concurrency. 8 pgbench clients reserve against a tenant's requests
# limit in a loop (one reserve per transaction; a refusal is caught and counted as a NULL) while another
# session lowers that limit to 0. Every reserve that starts after the lowering's COMMIT has returned must be
# refused: no reservation may have created_at (taken when reserve starts, before it reads the limits) later
# than a clock_timestamp() read right after that COMMIT. Also checks the run was a real race: reserves were
# admitted before the change and attempted after it. Bounded: about 8 seconds.

limits_cache_race() {
    local db=usage_meter_cache_race q="psql -X -q -At -v ON_ERROR_STOP=1" script="$UM_ROOT/build/cache_race.sql"
    local after ok=0
    $q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" || return 1
    $q -d "$db" <<'SQL' || return 1
CREATE EXTENSION usage_meter;
SELECT usage_meter.set_limit('race', NULL, 'requests', 'day', 1000000000);
-- A refusal (UM001) is an answer here, not an error that would stop a pgbench client.
CREATE FUNCTION try_reserve() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN usage_meter.reserve('race', 'u' || (random() * 9)::int, 0, 0, '1 minute');
EXCEPTION WHEN SQLSTATE 'UM001' THEN
    RETURN NULL;
END $$;
CREATE TABLE attempts (at timestamptz NOT NULL, admitted boolean NOT NULL);
SQL
    cat >"$script" <<'SQL'
INSERT INTO attempts SELECT clock_timestamp(), try_reserve() IS NOT NULL;
SQL
    "$UM_PG_BIN/pgbench" -n -c 8 -j 2 -T 6 -f "$script" "$db" >"$UM_ROOT/build/cache_race_pgbench.txt" 2>&1 &
    local bench=$!
    sleep 2
    # Autocommit: clock_timestamp() is read after set_limit's transaction has committed and returned.
    after="$($q -d "$db" -c "SELECT usage_meter.set_limit('race', NULL, 'requests', 'day', 0)" -c "SELECT clock_timestamp()")"
    wait "$bench" || { cat "$UM_ROOT/build/cache_race_pgbench.txt"; ok=1; }
    $q -d "$db" -v after="$after" >"$UM_ROOT/build/cache_race.txt" <<'SQL' || ok=1
SELECT 'admitted before the change: ' || (count(*) > 0) FROM usage_meter.reservations WHERE created_at < :'after';
SELECT 'attempted after the change: ' || (count(*) > 0) FROM attempts WHERE at > :'after';
SELECT 'admitted after the change: ' || count(*) FROM usage_meter.reservations WHERE created_at > :'after';
SQL
    cat "$UM_ROOT/build/cache_race.txt"
    um_expect "$UM_ROOT/build/cache_race.txt" "^admitted before the change: true$" \
        "^attempted after the change: true$" "^admitted after the change: 0$" || ok=1
    $q -d postgres -c "DROP DATABASE $db"
    return $ok
}

stage "limits cache: a lowered limit refuses every reserve that starts after its commit" limits_cache_race
