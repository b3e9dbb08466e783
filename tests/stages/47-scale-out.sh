# Stage: scale-out through usage_meter_proxy (docs/scale-out.md). A proxy database routes to 4 partition
# databases: partitions 0-2 on the test cluster, partition 3 on a second cluster (scripts/lib.sh,
# um_side_cluster_*) so that it can be stopped. Checks, in order: a misconfigured proxy (no server, a partition
# count that is not a power of two) gets a clear error; the client examples of tests/stages/45-client-examples.sh
# run unchanged against the proxy; every tenant's events live on exactly the partition tenant_partition names;
# per-tenant figures through the proxy equal the partition's; bad input gets the same SQLSTATE and message as
# direct; reservations race through the proxy with exactly K admitted; catalog calls reach every partition and
# catalog_check() finds a difference; with partition 3 stopped (as by a crash) its tenants get a clear error, the
# others keep recording, a catalog call fails naming it and is completed by repeating it after the restart, and
# no acknowledged recording is missing; then the cluster grows to 8 partitions and the tenants whose partition
# changes move (export_tenant / import_tenant / purge_tenant) with their totals, keys and limits. About 30 s on
# 2 cores.

scale_proxy_db=um_scale_proxy
scale_parts=(um_scale_p0 um_scale_p1 um_scale_p2 um_scale_p3)

# scale_psql PARTITION ARGS...: psql on partition PARTITION (0-3), quiet, unaligned.
scale_psql() {
    local p=$1
    shift
    if [ "$p" = 3 ]; then
        PGHOST=$UM_SIDE_DIR PGPORT=$UM_SIDE_PORT psql -X -q -At -d "${scale_parts[3]}" "$@"
    else
        psql -X -q -At -d "${scale_parts[$p]}" "$@"
    fi
}
scale_proxy() { psql -X -q -At -d $scale_proxy_db "$@"; }

scale_setup() {
    local p q="psql -X -q -v ON_ERROR_STOP=1"
    [ -f "$(pg_config --sharedir)/extension/plproxy.control" ] ||
        { echo "PL/Proxy is not installed (postgresql-15-plproxy)"; return 1; }
    um_side_cluster_start || return 1
    $q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $scale_proxy_db WITH (FORCE)" \
        -c "CREATE DATABASE $scale_proxy_db" || return 1
    for p in 0 1 2; do
        $q -d postgres -c "SET client_min_messages = warning" \
            -c "DROP DATABASE IF EXISTS ${scale_parts[$p]} WITH (FORCE)" -c "CREATE DATABASE ${scale_parts[$p]}" || return 1
    done
    PGHOST=$UM_SIDE_DIR PGPORT=$UM_SIDE_PORT $q -d postgres -c "CREATE DATABASE ${scale_parts[3]}" || return 1
    for p in 0 1 2 3; do
        scale_psql $p -v ON_ERROR_STOP=1 -c "CREATE EXTENSION usage_meter" || return 1
    done
    $q -d $scale_proxy_db -c "SET client_min_messages = warning" -c "CREATE EXTENSION usage_meter_proxy CASCADE"
}

# scale_error DB SQL: the error SQL raises on DB, as "SQLSTATE: message" and its DETAIL and HINT lines.
scale_error() {
    local db=$1 sql=$2
    shift 2
    psql -X -q -d "$db" "$@" -v VERBOSITY=verbose -v SHOW_CONTEXT=never -c "$sql" 2>&1 >/dev/null | grep -v '^LOCATION:'
}

scale_misconfigured() {
    local out ok=0
    out=$(scale_error $scale_proxy_db "SELECT usage_meter.usage_record('acme', 'u', 'chat')")
    grep -q '^ERROR:  42704: no cluster configuration: the foreign server "usage_meter" does not exist' <<<"$out" ||
        { echo "no server: $out"; ok=1; }
    out=$(scale_error $scale_proxy_db "CREATE SERVER usage_meter FOREIGN DATA WRAPPER plproxy
                                       OPTIONS (p0 'dbname=a', p1 'dbname=b', p2 'dbname=c')")
    grep -q 'invalid number of partitions' <<<"$out" && grep -q 'must be power of 2' <<<"$out" ||
        { echo "3 partitions: $out"; ok=1; }
    [ $ok = 0 ] && echo "misconfigured: no server and 3 partitions refused with clear errors"
    return $ok
}

scale_configure() {
    scale_proxy -v ON_ERROR_STOP=1 <<SQL
CREATE SERVER usage_meter FOREIGN DATA WRAPPER plproxy OPTIONS (
    p0 'host=$PGHOST port=$PGPORT dbname=${scale_parts[0]}',
    p1 'host=$PGHOST port=$PGPORT dbname=${scale_parts[1]}',
    p2 'host=$PGHOST port=$PGPORT dbname=${scale_parts[2]}',
    p3 'host=$UM_SIDE_DIR port=$UM_SIDE_PORT dbname=${scale_parts[3]} connect_timeout=5');
CREATE USER MAPPING FOR PUBLIC SERVER usage_meter OPTIONS (user 'postgres');
SQL
}

# The client examples, unchanged, with PGDATABASE the proxy; their ledger read from the partitions.
scale_examples() {
    declare -F examples_check >/dev/null || {
        # Run alone: load the examples' functions without running their stage.
        local real_stage
        real_stage=$(declare -f stage)
        stage() { :; }
        source tests/stages/45-client-examples.sh
        eval "$real_stage"
    }
    mkdir -p build && examples_build || return 1
    scale_proxy -v ON_ERROR_STOP=1 -f examples/setup.sql >/dev/null || return 1
    local examples_db=$scale_proxy_db ok=0 ledger p
    examples_check || ok=1
    ledger=$(for p in 0 1 2 3; do scale_psql $p -F ' ' -c "$examples_ledger_query"; done | sort)
    if [ "$ledger" != "$examples_ledger" ]; then
        echo "ledger on the partitions after the examples:"; echo "$ledger"; echo "expected:"; echo "$examples_ledger"
        ok=1
    fi
    ledger=$(for p in 0 1 2 3; do scale_psql $p -F ' ' -c "$examples_spend_query"; done | sort)
    if [ "$ledger" != "$examples_spend" ]; then
        echo "spend-log events on the partitions:"; echo "$ledger"; echo "expected:"; echo "$examples_spend"
        ok=1
    fi
    return $ok
}

# 40 tenants, 3 events each (and the examples' 5): each tenant's events on exactly the partition named for it.
scale_placement() {
    local p placed expected ok=0
    scale_proxy -v ON_ERROR_STOP=1 -c "
        SELECT count(*) FROM pg_catalog.generate_series(0, 39) AS t,
               LATERAL pg_catalog.generate_series(1, 3) AS i,
               LATERAL usage_meter.usage_record('tenant-' || t, 'user-' || (i % 2), 'chat', 'gpt-4o-mini-2024-07-18',
                                                input_tokens => 100 * i, output_tokens => 10 * t, provider => 'openai',
                                                idempotency_key => 'k-' || t || '-' || i)" >/dev/null || return 1
    placed=$(for p in 0 1 2 3; do scale_psql $p -c "SELECT DISTINCT $p || ' ' || tenant FROM usage_meter.events"; done |
             sort -k2)
    expected=$(scale_proxy -c "SELECT usage_meter.tenant_partition(t) || ' ' || t
                                 FROM pg_catalog.unnest(ARRAY['demo-sql', 'demo-python', 'demo-node', 'demo-cpp',
                                                              'demo-go']
                                                        || ARRAY(SELECT 'tenant-' || i FROM pg_catalog.generate_series(0, 39) AS i)) AS t" |
               sort -k2)
    [ "$placed" = "$expected" ] || { echo "placement:"; diff <(echo "$expected") <(echo "$placed"); ok=1; }
    for p in 0 1 2 3; do
        grep -q "^$p " <<<"$placed" || { echo "no tenant on partition $p"; ok=1; }
    done
    [ $ok = 0 ] && echo "placement: 45 tenants, each on exactly its partition ($(cut -d' ' -f1 <<<"$placed" | sort | uniq -c | tr -s ' ' | tr '\n' ';'))"
    return $ok
}

# Per-tenant figures through the proxy are the partition's, for a few tenants on every partition.
scale_figures() {
    local t p sql through direct ok=0 n=0
    for t in tenant-0 tenant-1 tenant-2 tenant-3 tenant-4 tenant-5 tenant-6 tenant-7 demo-go; do
        p=$(scale_proxy -c "SELECT usage_meter.tenant_partition('$t')")
        sql="SELECT * FROM usage_meter.live_usage('$t');
             SELECT * FROM usage_meter.live_usage('$t', 'user-1');
             SELECT * FROM usage_meter.check_limit('$t', 'user-0', estimated_cost => 0.5);
             SELECT * FROM usage_meter.usage_series('$t', current_date - 1, current_date, group_by => '{model}');
             SELECT * FROM usage_meter.top_usage('$t', current_date - 1, current_date, 'user_id');
             SELECT * FROM usage_meter.spend_forecast('$t', at => pg_catalog.date_trunc('day', pg_catalog.now()) + interval '12 hours');
             SELECT * FROM usage_meter.period_bounds('$t', '2026-03-01 12:00+00')"
        through=$(scale_proxy -c "$sql") && direct=$(scale_psql "$p" -c "$sql") || { ok=1; continue; }
        [ "$through" = "$direct" ] || { echo "$t: through the proxy"; echo "$through"; echo "direct"; echo "$direct"; ok=1; }
        n=$((n + 1))
    done
    [ $ok = 0 ] && echo "figures: $n tenants, the same live usage, limits, series, top usage, forecast and periods through the proxy"
    return $ok
}

# Bad input: the same SQLSTATE, message, detail and hint through the proxy as direct on the partition.
scale_bad_input() {
    local sql through direct ok=0 n=0
    local calls=(
        "SELECT usage_meter.usage_record('tenant-1', 'u', 'chat', input_tokens => -5)"
        "SELECT usage_meter.usage_record(NULL, 'u', 'chat')"
        "SELECT usage_meter.usage_record('tenant-1', 'u', 'chat', occurred_at => 'infinity')"
        "SELECT usage_meter.record_response('tenant-1', 'u', 'chat', 'auto', '{}')"
        "SELECT usage_meter.record_response('tenant-1', 'u', 'chat', 'nosuch', '{}')"
        "SELECT usage_meter.set_limit('tenant-1', 'u', 'requests', 'week', 5)"
        "SELECT usage_meter.set_tenant('tenant-1', 'Mars/Olympus')"
        "SELECT usage_meter.check_limit('tenant-1', estimated_cost => -1)"
        "SELECT usage_meter.reserve('tenant-1', ttl => '-1 minute')"
        "SELECT usage_meter.release('tenant-1', 999999)"
        "SELECT usage_meter.void_event('tenant-1', 999999, 'typo')"
        "SELECT usage_meter.usage_series('tenant-1', current_date, current_date - 1)"
        "SELECT usage_meter.set_price('m', -1, 1)"
        "SELECT usage_meter.normalize_usage('openai', '[]')"
    )
    for sql in "${calls[@]}"; do
        through=$(scale_error $scale_proxy_db "$sql")
        direct=$(scale_error "${scale_parts[1]}" "$sql")
        if [ -z "$direct" ] || [ "$through" != "$direct" ]; then
            echo "$sql"; echo "  through the proxy: $through"; echo "  direct:            $direct"; ok=1
        fi
        n=$((n + 1))
    done
    [ $ok = 0 ] && echo "bad input: $n calls, the same SQLSTATE, message, detail and hint through the proxy"
    return $ok
}

# Reservations race through the proxy: 8 connections, 12 attempts each, against a limit of K = 30 requests a day;
# every 5th admitted reservation is released (its room comes back). Exactly K are settled.
scale_reservations() {
    local k=30 w out settled=0 other p ok=0
    scale_proxy -v ON_ERROR_STOP=1 -c "SELECT usage_meter.set_limit('race', NULL, 'requests', 'day', $k)" >/dev/null ||
        return 1
    for w in 1 2 3 4 5 6 7 8; do
        scale_proxy -v ON_ERROR_STOP=1 >"$UM_CLUSTER_DIR/race.$w" 2>&1 <<SQL &
DO \$race\$
DECLARE
    id bigint;
    settled integer := 0;
    released integer := 0;
    refused integer := 0;
BEGIN
    FOR i IN 1..12 LOOP
        BEGIN
            id := usage_meter.reserve('race', 'w$w', 0.001);
            IF (settled + released) % 5 = 4 THEN
                PERFORM usage_meter.release('race', id);
                released := released + 1;
            ELSE
                PERFORM usage_meter.usage_record('race', 'w$w', 'chat', reservation_id => id);
                settled := settled + 1;
            END IF;
        EXCEPTION WHEN SQLSTATE 'UM001' THEN
            refused := refused + 1;
        END;
    END LOOP;
    RAISE NOTICE 'worker settled % released % refused %', settled, released, refused;
END
\$race\$;
SQL
    done
    wait
    for w in 1 2 3 4 5 6 7 8; do
        out=$(grep -o 'settled [0-9]*' "$UM_CLUSTER_DIR/race.$w") || { cat "$UM_CLUSTER_DIR/race.$w"; ok=1; continue; }
        settled=$((settled + ${out#settled }))
    done
    p=$(scale_proxy -c "SELECT usage_meter.tenant_partition('race')")
    other=$(scale_psql "$p" -c "SELECT count(*) FROM usage_meter.events WHERE tenant = 'race'")
    [ "$settled" = $k ] && [ "$other" = $k ] || { echo "race: settled $settled, ledger $other, K $k"; ok=1; }
    out=$(scale_proxy -c "SELECT used = max_value AND held = 0 FROM usage_meter.check_limit('race')")
    [ "$out" = t ] || { echo "race: check_limit after the race: $(scale_proxy -c "SELECT * FROM usage_meter.check_limit('race')")"; ok=1; }
    [ $ok = 0 ] && echo "reservations: 96 attempts from 8 connections through the proxy, exactly $k settled"
    return $ok
}

# Catalog calls reach every partition; catalog_check() lists a difference made behind the proxy's back.
scale_catalog() {
    local out ok=0
    scale_proxy -v ON_ERROR_STOP=1 -c "SELECT usage_meter.set_unit_price('web_search', 0.01)" \
        -c "SELECT usage_meter.set_model_alias('my-deployment', 'gpt-4o-mini-2024-07-18')" >/dev/null || return 1
    out=$(scale_proxy -c "SELECT count(*) FROM usage_meter.catalog_check()")
    [ "$out" = 0 ] || { echo "catalog_check after catalog calls:"; scale_proxy -c "SELECT * FROM usage_meter.catalog_check()"; ok=1; }
    scale_psql 2 -c "SELECT usage_meter.set_price('only-on-2', 1, 2)" >/dev/null
    out=$(scale_proxy -F ' ' -c "SELECT item, key, partition, content IS NOT NULL FROM usage_meter.catalog_check()")
    [ "$out" = "price only-on-2 (any provider) from -infinity 0 f
price only-on-2 (any provider) from -infinity 1 f
price only-on-2 (any provider) from -infinity 2 t
price only-on-2 (any provider) from -infinity 3 f" ] || { echo "catalog_check: $out"; ok=1; }
    # The same call through the proxy completes it (a no-op where the price exists).
    scale_proxy -c "SELECT usage_meter.set_price('only-on-2', 1, 2)" >/dev/null || ok=1
    out=$(scale_proxy -c "SELECT count(*) FROM usage_meter.catalog_check()")
    [ "$out" = 0 ] || { echo "catalog_check after the repeated call: $out rows"; ok=1; }
    [ $ok = 0 ] && echo "catalog: calls on every partition; catalog_check found the difference, the repeated call removed it"
    return $ok
}

# Partition 3 stopped as by a crash while a writer records for tenants of every partition; after its restart
# every recording that was acknowledged is in its ledger.
scale_partition_down() {
    local ok=0 t3 t0 out acked present missing
    t3=$(scale_proxy -c "SELECT t FROM (SELECT 'tenant-' || i AS t FROM pg_catalog.generate_series(0, 39) AS i) AS x
                          WHERE usage_meter.tenant_partition(t) = 3 LIMIT 1")
    t0=$(scale_proxy -c "SELECT t FROM (SELECT 'tenant-' || i AS t FROM pg_catalog.generate_series(0, 39) AS i) AS x
                          WHERE usage_meter.tenant_partition(t) = 0 LIMIT 1")
    # A writer: one connection records for $t3 in a loop, each call its own statement; acknowledged keys logged.
    (
        for i in $(seq 1 400); do
            psql -X -q -At -d $scale_proxy_db \
                -c "SELECT 'ack k-down-$i' FROM usage_meter.usage_record('$t3', 'u', 'chat', idempotency_key => 'k-down-$i')" \
                2>/dev/null
        done
    ) >"$UM_CLUSTER_DIR/acked.txt" &
    local writer=$!
    sleep 2
    um_side_cluster_ctl stop || return 1

    out=$(scale_error $scale_proxy_db "SELECT usage_meter.usage_record('$t3', 'u', 'chat')")
    grep -q '^ERROR:  08001: partition 3 (database "'"${scale_parts[3]}"'") of cluster "usage_meter" is unreachable' <<<"$out" &&
        grep -q '^DETAIL:  connection to server on socket .* failed' <<<"$out" ||
        { echo "a call for $t3 (partition 3 down):"; echo "$out"; ok=1; }
    out=$(scale_proxy -c "SELECT count(*) FROM pg_catalog.generate_series(1, 20) AS i,
                                LATERAL usage_meter.usage_record('$t0', 'u', 'chat', idempotency_key => 'k-up-' || i)") ||
        ok=1
    [ "$out" = 20 ] || { echo "$t0 (partition 0) while partition 3 is down: $out"; ok=1; }
    out=$(scale_error $scale_proxy_db "SELECT usage_meter.set_unit_price('image', 0.04)")
    grep -q '^ERROR:  08001: the partition with database "'"${scale_parts[3]}"'" of cluster "usage_meter" is unreachable' <<<"$out" ||
        { echo "a catalog call with partition 3 down:"; echo "$out"; ok=1; }

    wait $writer
    um_side_cluster_ctl start || return 1
    scale_proxy -c "SELECT usage_meter.set_unit_price('image', 0.04)" >/dev/null || ok=1
    out=$(scale_proxy -c "SELECT count(*) FROM usage_meter.catalog_check()")
    [ "$out" = 0 ] || { echo "catalog_check after repeating the catalog call: $out rows"; ok=1; }
    acked=$(grep -c '^ack ' "$UM_CLUSTER_DIR/acked.txt")
    present=$(sed -n 's/^ack //p' "$UM_CLUSTER_DIR/acked.txt" | sort)
    missing=$(comm -23 <(echo "$present") <(scale_psql 3 -c "SELECT idempotency_key FROM usage_meter.events
                                                             WHERE tenant = '$t3' AND idempotency_key LIKE 'k-down-%'" | sort))
    [ "$acked" -gt 0 ] && [ "$acked" -lt 400 ] || { echo "the writer had $acked of 400 acknowledged (expected some, not all)"; ok=1; }
    [ -z "$missing" ] || { echo "acknowledged but missing after the restart: $missing"; ok=1; }
    [ $ok = 0 ] && echo "partition 3 down: its tenant refused (08001, naming it), partition 0 kept recording, the catalog call completed after the restart, all $acked acknowledged recordings kept"
    return $ok
}

scale_consistent() {
    local out
    out=$(scale_proxy -c "SELECT count(*) FROM usage_meter.verify()")
    [ "$out" = 0 ] || { echo "verify() through the proxy: $out rows"; return 1; }
    out=$(scale_proxy -c "SELECT events FROM usage_meter.health() WHERE tenant IS NULL")
    local sum=0 p n
    for p in 0 1 2 3; do
        n=$(scale_psql $p -c "SELECT events FROM usage_meter.health() WHERE tenant IS NULL")
        sum=$((sum + n))
    done
    [ "$out" = "$sum" ] || { echo "health() total $out, partitions' sum $sum"; return 1; }
    echo "verify() empty on every partition; health() total $out = the partitions' sum"
}

# Growing from 4 to 8 partitions (docs/scale-out.md, "Adding partitions"): partitions 4-7 on the test cluster get
# usage_meter and the catalog; every tenant whose partition under 8 is p + 4 is marked moving on p, exported and
# imported on p + 4; the server gets p4..p7; the moved tenants are purged from p. Their totals, idempotency keys
# and limits through the proxy are what they were; every tenant is on its partition under 8. Runs when usage_meter
# has the move functions (export_tenant, import_tenant, purge_tenant, set_tenant_moving).
scale_tenant_move() {
    local ok=0 p t n moved=0 before after dir="$UM_CLUSTER_DIR/move" tenants sql placed expected
    if [ "$(scale_psql 0 -c "SELECT count(*) FROM pg_catalog.pg_proc
                              WHERE proname IN ('export_tenant', 'import_tenant', 'purge_tenant', 'set_tenant_moving')
                                AND pronamespace = 'usage_meter'::regnamespace")" != 4 ]; then
        echo "TODO: the tenant move 4 -> 8 needs usage_meter.export_tenant / import_tenant / purge_tenant (not in this build)"
        return 0
    fi
    mkdir -p "$dir" && chmod 777 "$dir"
    for p in 4 5 6 7; do
        scale_parts[$p]=um_scale_p$p
        psql -X -q -d postgres -c "SET client_min_messages = warning" \
            -c "DROP DATABASE IF EXISTS ${scale_parts[$p]} WITH (FORCE)" -c "CREATE DATABASE ${scale_parts[$p]}" &&
            scale_psql $p -v ON_ERROR_STOP=1 -c "CREATE EXTENSION usage_meter" || return 1
        # The catalog the proxy set on partitions 0-3, set again on the new ones.
        { grep '^SELECT usage_meter.set_price' examples/setup.sql
          echo "SELECT usage_meter.set_unit_price('web_search', 0.01);"
          echo "SELECT usage_meter.set_unit_price('image', 0.04);"
          echo "SELECT usage_meter.set_model_alias('my-deployment', 'gpt-4o-mini-2024-07-18');"
          echo "SELECT usage_meter.set_price('only-on-2', 1, 2);"; } | scale_psql $p -v ON_ERROR_STOP=1 >/dev/null || return 1
    done
    # What each tenant looks like through the proxy before the move.
    tenants=$(scale_proxy -c "SELECT tenant FROM usage_meter.health() WHERE tenant IS NOT NULL ORDER BY 1")
    move_figures() {  # the figures of tenant $1 compared across the move
        echo "SELECT * FROM usage_meter.live_usage('$1');
              SELECT * FROM usage_meter.usage_series('$1', current_date - 1, current_date, group_by => '{user_id,model}');
              SELECT * FROM usage_meter.check_limit('$1', 'mallory');
              SELECT * FROM usage_meter.check_limit('$1');"
    }
    before=$(for t in $tenants; do scale_proxy -c "$(move_figures "$t")"; done)

    for t in $tenants; do
        p=$(scale_proxy -c "SELECT usage_meter.partition_of('$t') & 3")
        n=$(scale_proxy -c "SELECT usage_meter.partition_of('$t') & 7")
        [ "$n" = "$p" ] && continue
        scale_psql "$p" -v ON_ERROR_STOP=1 -c "SELECT usage_meter.set_tenant_moving('$t', true)" >/dev/null &&
            scale_psql "$p" -v ON_ERROR_STOP=1 -c "\copy (SELECT usage_meter.export_tenant('$t')) TO '$dir/$t.json'" &&
            scale_psql "$n" -v ON_ERROR_STOP=1 >/dev/null <<SQL || { echo "moving $t from $p to $n failed"; return 1; }
CREATE TEMP TABLE doc (d jsonb);
\copy doc FROM '$dir/$t.json'
SELECT * FROM usage_meter.import_tenant('$t', (SELECT d FROM doc));
SQL
        moved=$((moved + 1))
        echo "$p $t" >>"$dir/moved.txt"
    done
    # While moved tenants are on both sides, the old side refuses their writes.
    t=$(head -1 "$dir/moved.txt" | cut -d' ' -f2)
    sql=$(scale_error $scale_proxy_db "SELECT usage_meter.usage_record('$t', 'u', 'chat')")
    grep -q '^ERROR:  55000: ' <<<"$sql" || { echo "a moving tenant's write before the switch: $sql"; ok=1; }

    scale_proxy -v ON_ERROR_STOP=1 -c "ALTER SERVER usage_meter OPTIONS (
        ADD p4 'host=$PGHOST port=$PGPORT dbname=${scale_parts[4]}', ADD p5 'host=$PGHOST port=$PGPORT dbname=${scale_parts[5]}',
        ADD p6 'host=$PGHOST port=$PGPORT dbname=${scale_parts[6]}', ADD p7 'host=$PGHOST port=$PGPORT dbname=${scale_parts[7]}')" ||
        return 1
    while read -r p t; do
        scale_psql "$p" -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM usage_meter.purge_tenant('$t')" >/dev/null ||
            { echo "purge of $t on $p failed"; ok=1; }
    done <"$dir/moved.txt"

    after=$(for t in $tenants; do scale_proxy -c "$(move_figures "$t")"; done)
    [ "$before" = "$after" ] || { echo "figures changed by the move:"; diff <(echo "$before") <(echo "$after") | head -20; ok=1; }
    # Keys: an event recorded before the move, recorded again with its key, is the same event, a duplicate.
    sql=$(scale_proxy -F ' ' -c "SELECT e.duplicate FROM usage_meter.usage_record('demo-sql', 'alice', 'chat', 'x',
                                      idempotency_key => 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG') AS e")
    [ "$sql" = t ] || { echo "demo-sql's key after the move: duplicate = $sql"; ok=1; }
    placed=$(for p in 0 1 2 3 4 5 6 7; do scale_psql $p -c "SELECT DISTINCT $p || ' ' || tenant FROM usage_meter.events"; done | sort -k2)
    expected=$(for t in $tenants; do scale_proxy -c "SELECT usage_meter.tenant_partition('$t') || ' $t'"; done | sort -k2)
    [ "$placed" = "$expected" ] || { echo "placement under 8:"; diff <(echo "$expected") <(echo "$placed") | head; ok=1; }
    [ "$(scale_proxy -c "SELECT count(*) FROM usage_meter.verify()")" = 0 ] || { echo "verify() after the move"; ok=1; }
    [ "$(scale_proxy -c "SELECT count(*) FROM usage_meter.catalog_check()")" = 0 ] ||
        { echo "catalog_check() after the move:"; scale_proxy -c "SELECT * FROM usage_meter.catalog_check()" | head; ok=1; }
    [ $ok = 0 ] && echo "move 4 -> 8: $moved of $(wc -w <<<"$tenants") tenants moved; totals, keys and limits the same through the proxy"
    return $ok
}

scale_teardown() {
    local p
    psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $scale_proxy_db WITH (FORCE)"
    for p in 0 1 2 4 5 6 7; do
        psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS um_scale_p$p WITH (FORCE)"
    done
    um_side_cluster_remove
}

scale_out() {
    local ok=0 step
    if scale_setup; then
        for step in scale_misconfigured scale_configure scale_examples scale_placement scale_figures scale_bad_input \
                    scale_reservations scale_catalog scale_partition_down scale_consistent scale_tenant_move; do
            $step || { echo "FAILED: $step"; ok=1; }
        done
    else
        ok=1
    fi
    scale_teardown
    return $ok
}

stage "scale-out: usage_meter_proxy over 4 partitions in 2 clusters (PL/Proxy)" scale_out
