# Crash safety: concurrent recording clients, the postmaster and its backends killed with SIGKILL mid-load,
# a restart (crash recovery), then: every event a client saw committed is present, with the event id the
# client was given; no idempotency key is present twice; clients retrying every call after the crash get
# duplicates for what was committed and new events for the rest; a large batch killed in the middle of its one
# transaction (its summary deltas still pending in backend memory) leaves nothing; verify() is empty. Runs on a cluster of
# its own (fsync on, synchronous_commit on). Bounded: about 15 seconds of load at most.

crash_clients=6
crash_calls=4000  # per client; far more than fit before the kill

crash_client_sql() {  # crash_client_sql CLIENT -> the client's calls, one statement each
    local c=$1
    for i in $(seq 1 "$crash_calls"); do
        printf "SELECT 'c%s-%s', event_id, duplicate FROM usage_meter.usage_record('crash', 'user%s', 'chat', 'm', %s, 7, idempotency_key => 'c%s-%s');\n" \
            "$c" "$i" "$c" "$i" "$c" "$i"
    done
}

crash_test() (
    set -euo pipefail
    um_cluster_start
    local work="$UM_CLUSTER_DIR/crash"
    mkdir -p "$work"
    psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION usage_meter" -c "SELECT usage_meter.set_price('m', 1, 2)" >/dev/null
    for c in $(seq 1 $crash_clients); do crash_client_sql "$c" >"$work/calls$c.sql"; done

    # Each client prints "key|event_id|duplicate" for every call whose commit the server acknowledged.
    local pids=()
    for c in $(seq 1 $crash_clients); do
        timeout 60 psql -X -At -f "$work/calls$c.sql" >"$work/acked$c.txt" 2>"$work/client$c.err" &
        pids+=($!)
    done
    # One more client records a batch far too large to finish, in one transaction.
    timeout 60 psql -X -q -c "DO \$\$ BEGIN FOR i IN 1..10000000 LOOP
        PERFORM usage_meter.usage_record('crash_batch', 'user' || (i % 50), 'chat', 'm', i, 7); END LOOP; END \$\$" \
        >/dev/null 2>"$work/batch.err" &
    pids+=($!)
    # Kill mid-load: once the clients have committed a fair number of events.
    local deadline=$((SECONDS + 15)) committed=0
    while [ $SECONDS -lt $deadline ]; do
        committed=$(cat "$work"/acked*.txt 2>/dev/null | wc -l)
        [ "$committed" -ge 1500 ] && break
        sleep 0.2
    done
    local batch_running
    batch_running=$(psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'DO %crash_batch%'")
    [ "$batch_running" = 1 ] || { echo "the batch is not running at the kill"; cat "$work/batch.err"; return 1; }
    local postmaster
    postmaster=$(head -1 "$UM_CLUSTER_DIR/data/postmaster.pid")
    local children
    children=$(ps -o pid= --ppid "$postmaster" | tr '\n' ' ')
    kill -KILL "$postmaster"
    # shellcheck disable=SC2086
    kill -KILL $children 2>/dev/null || true
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    local waited=0  # the killed processes must be gone (shared memory detached) before the restart
    # shellcheck disable=SC2086
    while kill -0 "$postmaster" $children 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
    echo "killed the postmaster and its $(echo $children | wc -w) children after ~$committed acknowledged commits"

    runuser -u postgres -- "$UM_PG_BIN/pg_ctl" -D "$UM_CLUSTER_DIR/data" -l "$UM_CLUSTER_DIR/server.log" -w -t 60 start 2>/dev/null \
        >/dev/null || { tail -20 "$UM_CLUSTER_DIR/server.log"; return 1; }
    cat "$work"/acked*.txt >"$work/acked.txt"
    chmod 644 "$work/acked.txt"
    local acked
    acked=$(wc -l <"$work/acked.txt")
    [ "$acked" -gt 0 ] || { echo "no commit was acknowledged before the kill"; return 1; }

    # Clients retry every call of theirs up to a little past where they stopped; then check everything.
    for c in $(seq 1 $crash_clients); do
        local done_calls
        done_calls=$(wc -l <"$work/acked$c.txt")
        head -n $((done_calls + 50)) "$work/calls$c.sql"
    done >"$work/retry.sql"
    psql -X -At -v ON_ERROR_STOP=1 -f "$work/retry.sql" >"$work/retried.txt"
    local retried
    retried=$(wc -l <"$work/retried.txt")

    psql -X -At -v ON_ERROR_STOP=1 <<SQL | tee "$work/result.txt"
CREATE TEMP TABLE acked (key text, event_id bigint, duplicate boolean);
\copy acked FROM '$work/acked.txt' WITH (FORMAT text, DELIMITER '|')
CREATE TEMP TABLE retried (key text, event_id bigint, duplicate boolean);
\copy retried FROM '$work/retried.txt' WITH (FORMAT text, DELIMITER '|')
SELECT 'acked commits missing from the ledger: ' || count(*) FROM acked AS a
 WHERE NOT EXISTS (SELECT 1 FROM usage_meter.events AS e
                    WHERE e.tenant = 'crash' AND e.idempotency_key = a.key AND e.event_id = a.event_id);
SELECT 'keys present more than once: ' || count(*) FROM (
    SELECT idempotency_key FROM usage_meter.events GROUP BY idempotency_key HAVING count(*) > 1) AS d;
SELECT 'acked commits not reported as duplicates on retry: ' || count(*) FROM acked AS a
  JOIN retried AS r USING (key) WHERE NOT r.duplicate OR r.event_id <> a.event_id;
SELECT 'retried keys not in the ledger exactly once: ' || count(*) FROM retried AS r
 WHERE (SELECT count(*) FROM usage_meter.events AS e WHERE e.tenant = 'crash' AND e.idempotency_key = r.key) <> 1;
SELECT 'ledger events that no client sent: ' || count(*) FROM usage_meter.events AS e
 WHERE NOT EXISTS (SELECT 1 FROM retried AS r WHERE r.key = e.idempotency_key);
SELECT 'rows of the killed batch: ' || (SELECT count(*) FROM usage_meter.events WHERE tenant = 'crash_batch')
       + (SELECT count(*) FROM usage_meter.daily_rollup WHERE tenant = 'crash_batch')
       + (SELECT count(*) FROM usage_meter.counters WHERE tenant = 'crash_batch');
SELECT 'verify() differences: ' || count(*) FROM usage_meter.verify();
SELECT 'counters requests vs ledger: ' || (SELECT sum(requests) FROM usage_meter.counters
                                              WHERE user_id IS NULL AND period = 'month')
       || ' / ' || (SELECT count(*) FROM usage_meter.events);
SQL
    echo "acknowledged before the kill: $acked; calls retried after restart: $retried"
    grep -q "missing from the ledger: 0$" "$work/result.txt" &&
        grep -q "more than once: 0$" "$work/result.txt" &&
        grep -q "not reported as duplicates on retry: 0$" "$work/result.txt" &&
        grep -q "not in the ledger exactly once: 0$" "$work/result.txt" &&
        grep -q "that no client sent: 0$" "$work/result.txt" &&
        grep -q "rows of the killed batch: 0$" "$work/result.txt" &&
        grep -q "verify() differences: 0$" "$work/result.txt"
)

stage "crash safety: SIGKILL of the postmaster under concurrent recording loses and doubles nothing" crash_test
