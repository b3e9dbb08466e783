# Moving a tenant between two databases (docs/trust.md, "Moving a tenant to another database"): a source with
# two tenants (300 events each with keys, a void, a correction, limits, a markup change, an open reservation,
# a dropped month and a monthly partition) and a target that already has a tenant of its own whose event ids
# overlap the moved tenant's. acme is marked moving while one of its recordings is in flight (its writes are
# refused with 55000 from then on; the export waits for the one in flight and carries it), exported with psql's
# \copy to a file, imported from it into the target, then purged from the source. Checks: the target's rows of
# acme equal the source's in every table (ids included), verify() is empty on both, the retention boundary
# travelled, the source holds no row of acme and globex is untouched, and on the target acme keeps working
# (old keys are duplicates, the key of a dropped event is still refused, an imported event can be voided, new
# events get new ids). Bounded: a few seconds.

tenant_move_test() {
    local src=usage_meter_move_src dst=usage_meter_move_dst ok=0 file="$UM_ROOT/build/tenant_move.json"
    local q="psql -X -q -At -v ON_ERROR_STOP=1" out="$UM_ROOT/build/tenant_move"
    $q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $src" \
        -c "DROP DATABASE IF EXISTS $dst" -c "CREATE DATABASE $src" -c "CREATE DATABASE $dst" || return 1
    $q -d "$src" >/dev/null <<'SQL' || return 1
CREATE EXTENSION usage_meter;
SELECT usage_meter.set_price('m', 1, 2, effective_from => '2026-01-01'), usage_meter.set_unit_price('search', 0.01, '2026-01-01');
SELECT usage_meter.set_tenant('acme', 'Europe/Paris', 10), usage_meter.set_tenant('acme', 'Europe/Paris', 15);
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'month', 100), usage_meter.set_limit('acme', '*', 'tokens', 'day', 1e6);
SELECT usage_meter.usage_record(t, 'user' || (i % 5), CASE WHEN i % 7 = 0 THEN 'search' ELSE 'chat' END, 'm',
                                i * 10, i, i % 3, 0, 0, CASE WHEN i % 7 = 0 THEN i END, NULL, NULL,
                                '2026-09-01 00:00Z'::timestamptz + i * interval '6 hours', 'key-' || i, NULL, i, i % 11 <> 0)
  FROM generate_series(1, 300) AS i, unnest(ARRAY['acme', 'globex']) AS t;
SELECT usage_meter.drop_events_before('2026-10-01Z');
SELECT usage_meter.create_partition('2026-10-01Z');
SELECT usage_meter.void_event('acme', (SELECT event_id FROM usage_meter.idempotency_keys
                                        WHERE tenant = 'acme' AND idempotency_key = 'key-150'), 'test traffic');
SELECT usage_meter.correct_event('acme', (SELECT event_id FROM usage_meter.idempotency_keys
                                          WHERE tenant = 'acme' AND idempotency_key = 'key-160'), 'provider bill',
                                 input_tokens => 1);
SELECT usage_meter.reserve('acme', 'user1', 1, 10);
SQL
    $q -d "$dst" >/dev/null <<'SQL' || return 1
CREATE EXTENSION usage_meter;
SELECT usage_meter.set_price('m', 1, 2, effective_from => '2026-01-01'), usage_meter.set_unit_price('search', 0.01, '2026-01-01');
SELECT usage_meter.usage_record('initech', 'i', 'chat', 'm', i, i, occurred_at => '2026-11-01Z', idempotency_key => 'key-' || i)
  FROM generate_series(1, 600) AS i;
SQL
    # A recording in flight when acme is marked moving: the export waits for it and carries its event.
    $q -d "$src" -c "BEGIN" -c "SELECT usage_meter.usage_record('acme', 'late', 'chat', 'm', 7, 7, idempotency_key => 'in-flight')" \
        -c "SELECT pg_sleep(3) /* in flight */" -c "COMMIT" >/dev/null &
    local inflight=$! i
    for i in $(seq 1 100); do
        [ "$($q -d "$src" -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%/* in flight */%' AND state = 'active' AND pid <> pg_backend_pid()")" = 1 ] && break
        sleep 0.1
    done
    $q -d "$src" -c "SELECT usage_meter.set_tenant_moving('acme', true)" >/dev/null || return 1
    # The moving tenant's writes are refused; the catalogs agree.
    $q -d "$src" -c "SELECT usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 1)" >"$out.refused.txt" 2>&1
    um_expect "$out.refused.txt" 'tenant "acme" is being moved to another database' || ok=1
    $q -d "$src" -c "SELECT * FROM usage_meter.price_catalog_digest()" >"$out.catalog_src.txt" || return 1
    $q -d "$dst" -c "SELECT * FROM usage_meter.price_catalog_digest()" >"$out.catalog_dst.txt" || return 1
    cmp -s "$out.catalog_src.txt" "$out.catalog_dst.txt" || { echo "catalogs differ"; ok=1; }

    # acme's rows, every table, as the source has them (ids included).
    local rows="SELECT 'events', to_jsonb(x) FROM usage_meter.events AS x WHERE tenant = 'acme'
        UNION ALL SELECT 'keys', to_jsonb(x) FROM usage_meter.idempotency_keys AS x WHERE tenant = 'acme'
        UNION ALL SELECT 'daily', to_jsonb(x) FROM usage_meter.daily_usage AS x WHERE tenant = 'acme'
        UNION ALL SELECT 'counters', jsonb_build_array(user_id, period, period_start, sum(requests), sum(tokens), sum(cost), sum(billed_cost))
                    FROM usage_meter.counters WHERE tenant = 'acme' GROUP BY user_id, period, period_start
        UNION ALL SELECT 'limits', to_jsonb(x) FROM usage_meter.limits AS x WHERE tenant = 'acme'
        UNION ALL SELECT 'tenant', to_jsonb(x) - 'moving' FROM usage_meter.tenants AS x WHERE tenant = 'acme'
        UNION ALL SELECT 'markups', to_jsonb(x) FROM usage_meter.tenant_markups AS x WHERE tenant = 'acme'
        UNION ALL SELECT 'reservations', to_jsonb(x) FROM usage_meter.reservations AS x WHERE tenant = 'acme'
        ORDER BY 1, 2"
    $q -d "$src" -c "\\copy (SELECT usage_meter.export_tenant('acme')) TO '$file'" || return 1
    wait "$inflight" || { echo "the recording in flight failed"; ok=1; }
    $q -d "$src" -c "$rows" >"$out.src.txt" || return 1
    grep -q '"in-flight"' "$out.src.txt" || { echo "the event in flight is missing"; ok=1; }
    $q -d "$dst" -c "CREATE TEMP TABLE doc (d jsonb)" -c "\\copy doc FROM '$file'" \
        -c "SELECT table_name || ' ' || row_count FROM usage_meter.import_tenant('acme', (SELECT d FROM doc))" \
        >"$out.import.txt" || return 1
    cat "$out.import.txt"
    um_expect "$out.import.txt" '^events 185$' '^idempotency_keys 301$' '^retention 1$' '^rebuilt 0$' \
        '^reservations 1$' || ok=1
    $q -d "$dst" -c "$rows" >"$out.dst.txt" || return 1
    cmp -s "$out.src.txt" "$out.dst.txt" || { echo "acme's rows differ:"; diff "$out.src.txt" "$out.dst.txt" | head -20; ok=1; }
    [ "$(wc -l <"$out.src.txt")" -gt 500 ] || { echo "too few rows compared"; ok=1; }

    $q -d "$src" -c "SELECT table_name || ' ' || row_count FROM usage_meter.purge_tenant('acme')" >"$out.purge.txt" || return 1
    um_expect "$out.purge.txt" '^tenants 1$' '^limits 2$' '^tenant_markups 1$' || ok=1
    {
        echo "src acme rows: $($q -d "$src" -c "SELECT (SELECT count(*) FROM usage_meter.events WHERE tenant = 'acme')
            + (SELECT count(*) FROM usage_meter.counters WHERE tenant = 'acme')
            + (SELECT count(*) FROM usage_meter.idempotency_keys WHERE tenant = 'acme')")"
        echo "src globex events: $($q -d "$src" -c "SELECT count(*) FROM usage_meter.events WHERE tenant = 'globex'")"
        echo "src verify: $($q -d "$src" -c "SELECT count(*) FROM usage_meter.verify()")"
        echo "dst verify: $($q -d "$dst" -c "SELECT count(*) FROM usage_meter.verify()")"
        echo "dst kept_from: $($q -d "$dst" -c "SELECT kept_from = '2026-10-01Z' FROM usage_meter.retention")"
        echo "dst duplicate: $($q -d "$dst" -c "SELECT r.duplicate AND r.event_id = k.event_id
            FROM usage_meter.usage_record('acme', 'user1', 'chat', 'm', 1, 1, occurred_at => '2026-10-01 06:00Z',
                                          idempotency_key => 'key-120') AS r,
                 usage_meter.idempotency_keys AS k WHERE k.tenant = 'acme' AND k.idempotency_key = 'key-120'")"
        echo "dst tombstone: $($q -d "$dst" -c "SELECT usage_meter.usage_record('acme', 'user1', 'chat', 'm', 1, 1,
            occurred_at => '2026-10-05Z', idempotency_key => 'key-10')" 2>&1)"
        echo "dst void: $($q -d "$dst" -c "SELECT usage_meter.void_event('acme', event_id, 'after the move') > 600
            FROM usage_meter.idempotency_keys WHERE tenant = 'acme' AND idempotency_key = 'key-200'")"
        echo "dst new id: $($q -d "$dst" -c "SELECT r.event_id > (SELECT max(event_id) FROM usage_meter.events WHERE event_id <> r.event_id)
            FROM usage_meter.usage_record('acme', 'user1', 'chat', 'm', 1, 1) AS r")"
        echo "dst verify after: $($q -d "$dst" -c "SELECT count(*) FROM usage_meter.verify()")"
    } >"$out.after.txt" 2>&1
    cat "$out.after.txt"
    um_expect "$out.after.txt" '^src acme rows: 0$' '^src globex events: 181$' '^src verify: 0$' '^dst verify: 0$' \
        '^dst kept_from: t$' '^dst duplicate: t$' \
        'dst tombstone: .*idempotency_key "key-10" was recorded by tenant "acme" as event [0-9]* at .*, whose raw events were dropped' '^dst void: t$' '^dst new id: t$' '^dst verify after: 0$' || ok=1

    $q -d postgres -c "DROP DATABASE $src" -c "DROP DATABASE $dst" || ok=1
    return $ok
}

stage "moving a tenant between two databases: same rows and ids, verify() empty on both, writes refused meanwhile" tenant_move_test
