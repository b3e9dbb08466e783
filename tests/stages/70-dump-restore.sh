# pg_dump and restore: a database with prices, unit prices, tenants, limits, reader bindings, events
# (with idempotency keys, voids and corrections), summaries and counters is dumped with pg_dump and restored
# into new databases three ways: plain pg_restore of a custom-format dump, psql of a plain SQL dump (both with
# the ledger triggers on: they keep restored rows as dumped and do not roll them up again), and pg_restore with
# the triggers off (session_replication_role = replica). Each restored database has the same rows in every
# table, the same totals, an empty verify(), and keeps working: the event id sequence continues, old
# idempotency keys are still duplicates, restored events can be voided. Bounded: a few seconds.

dump_restore_test() {
    local src=usage_meter_dump_src dst=usage_meter_dump_dst dump="$UM_ROOT/build/dump_restore.dump"
    local plain="$UM_ROOT/build/dump_restore.sql" ok=0 method
    local fingerprint="$UM_ROOT/tests/stages/fingerprint.sql" cols='e.*' q="psql -X -q -At -v ON_ERROR_STOP=1"
    $q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $src" \
        -c "DROP DATABASE IF EXISTS $dst" -c "CREATE DATABASE $src" -c "CREATE DATABASE $dst" || return 1
    $q -d "$src" >/dev/null <<'SQL' || return 1
CREATE EXTENSION usage_meter;
SELECT usage_meter.set_price('m', 1, 2), usage_meter.set_price('m', 3, 4, effective_from => '2026-11-10'),
       usage_meter.set_price('m', 0.5, 1, 0.1, 1.25, provider => 'p'), usage_meter.set_unit_price('search', 0.01);
SELECT usage_meter.set_tenant('acme', 'Europe/Paris', 10), usage_meter.set_tenant('globex', 'America/New_York');
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'month', 100), usage_meter.set_limit('acme', '*', 'tokens', 'day', 1e6);
INSERT INTO usage_meter.reader_tenants (tenant, role_name) VALUES ('acme', 'acme_dashboard');
SELECT usage_meter.set_model_alias('m-deployment', 'm', 'p'), usage_meter.set_provider_alias('p-eu', 'p');
SELECT usage_meter.usage_record(t, 'user' || (i % 5), CASE WHEN i % 7 = 0 THEN 'search' ELSE 'chat' END, 'm',
                                i * 10, i, i % 3, 0, 0, CASE WHEN i % 7 = 0 THEN i END, NULL,
                                CASE WHEN i % 2 = 0 THEN 'p' END, '2026-10-01 00:00Z'::timestamptz + i * interval '3 hours',
                                'key-' || i, NULL, i, i % 11 <> 0)
  FROM generate_series(1, 300) AS i, unnest(ARRAY['acme', 'globex']) AS t;
-- Retention: a month of raw events is dropped (its summaries stay). The ledger is then spread over a monthly
-- partition created at run time (not an extension member: October) and the default partition (a member:
-- November, whose partition is not created yet): each row is dumped once and restored into its partition.
SELECT usage_meter.usage_record('acme', 'old', 'chat', 'm', i, i, occurred_at => '2026-09-15Z'::timestamptz + i * interval '1 hour',
                                idempotency_key => 'sept-' || i)
  FROM generate_series(1, 10) AS i;
SELECT usage_meter.drop_events_before('2026-10-01Z');
SELECT usage_meter.create_partition('2026-10-01Z');
SELECT usage_meter.void_event('acme', 5, 'test traffic');
SELECT usage_meter.correct_event('globex', (SELECT max(event_id) FROM usage_meter.events WHERE tenant = 'globex'),
                                 'provider bill', input_tokens => 1);
SQL
    $q -d "$src" -v event_columns="$cols" -f "$fingerprint" >"$UM_ROOT/build/dump_src.txt" || return 1
    $q -d "$src" -f "$UM_ROOT/tests/stages/fingerprint_partitions.sql" >>"$UM_ROOT/build/dump_src.txt" || return 1
    cat "$UM_ROOT/build/dump_src.txt"
    pg_dump -Fc -d "$src" -f "$dump" || return 1
    pg_dump -Fp -d "$src" -f "$plain" || return 1
    for method in pg_restore psql replica; do
        $q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $dst" -c "CREATE DATABASE $dst"
        case $method in
            pg_restore) pg_restore -d "$dst" --exit-on-error "$dump" || return 1 ;;
            psql) $q -d "$dst" -f "$plain" >/dev/null || return 1 ;;
            replica) PGOPTIONS='-c session_replication_role=replica' pg_restore -d "$dst" --exit-on-error "$dump" || return 1 ;;
        esac
        echo "-- restored with $method"
        dump_restore_check "$dst" || ok=1
    done
    $q -d postgres -c "DROP DATABASE $src" -c "DROP DATABASE $dst"
    return $ok
}

dump_restore_check() {  # dump_restore_check DB: compares DB with the source and checks it keeps working
    local dst=$1 ok=0 fingerprint="$UM_ROOT/tests/stages/fingerprint.sql" cols='e.*' q="psql -X -q -At -v ON_ERROR_STOP=1"
    $q -d "$dst" -v event_columns="$cols" -f "$fingerprint" >"$UM_ROOT/build/dump_dst.txt" || return 1
    $q -d "$dst" -f "$UM_ROOT/tests/stages/fingerprint_partitions.sql" >>"$UM_ROOT/build/dump_dst.txt" || return 1
    diff "$UM_ROOT/build/dump_src.txt" "$UM_ROOT/build/dump_dst.txt" || { echo "restored database differs"; ok=1; }
    grep -q "^verify() differences: 0$" "$UM_ROOT/build/dump_dst.txt" || ok=1
    grep -q "^events 6" "$UM_ROOT/build/dump_dst.txt" || { echo "expected 600+ events"; ok=1; }
    # The restored database keeps working.
    $q -d "$dst" >"$UM_ROOT/build/dump_after.txt" <<'SQL' || ok=1
SELECT 'new event id above every restored one: ' || (r.event_id > (SELECT max(event_id) FROM usage_meter.events
                                                                  WHERE event_id <> r.event_id))
  FROM usage_meter.usage_record('acme', 'user1', 'chat', 'm', 10, 10) AS r;
SELECT 'old key is a duplicate: ' || duplicate FROM usage_meter.usage_record('acme', 'user1', 'chat', 'm', 10, 1,
                                                                            idempotency_key => 'key-1');
SELECT 'restored event voided: ' || (usage_meter.void_event('acme', (SELECT min(event_id) FROM usage_meter.events
                                                                     WHERE tenant = 'acme' AND event_id > 5), 'after restore') IS NOT NULL);
SELECT 'verify() differences after: ' || count(*) FROM usage_meter.verify();
SELECT 'reader binding kept: ' || count(*) FROM usage_meter.reader_tenants WHERE role_name = 'acme_dashboard';
-- Aliases: the admin's are kept, the built-in ones are there once (created by the extension, not dumped).
SELECT 'aliases kept: ' || (SELECT count(*) FROM usage_meter.model_aliases WHERE alias = 'm-deployment')
       || ' ' || (SELECT count(*) FROM usage_meter.provider_aliases WHERE NOT builtin AND provider = 'p-eu')
       || ' ' || (SELECT count(*) FROM usage_meter.provider_aliases WHERE builtin AND provider = 'vertex_ai');
SELECT 'alias prices after restore: ' || rule FROM usage_meter.price_for('m-deployment', 'p-eu');
-- The dropped month stays refused (its keys are gone, so a retry must not count again).
\set ON_ERROR_STOP off
SELECT usage_meter.usage_record('acme', 'old', 'chat', 'm', 1, 1, occurred_at => '2026-09-15 01:00Z', idempotency_key => 'sept-1');
\set ON_ERROR_STOP on
SELECT 'september events: ' || count(*) FROM usage_meter.events WHERE occurred_at < '2026-10-01Z';
SELECT 'partitions created after restore: ' || string_agg(p, ' ' ORDER BY p) FROM usage_meter.create_partitions(0) AS p;
SELECT 'verify() after create_partitions: ' || count(*) FROM usage_meter.verify();
SQL
    cat "$UM_ROOT/build/dump_after.txt"
    grep -q "above every restored one: true" "$UM_ROOT/build/dump_after.txt" &&
        grep -q "old key is a duplicate: true" "$UM_ROOT/build/dump_after.txt" &&
        grep -q "restored event voided: true" "$UM_ROOT/build/dump_after.txt" &&
        grep -q "verify() differences after: 0" "$UM_ROOT/build/dump_after.txt" &&
        grep -q "reader binding kept: 1" "$UM_ROOT/build/dump_after.txt" &&
        grep -q "aliases kept: 1 1 15" "$UM_ROOT/build/dump_after.txt" &&
        grep -q "alias prices after restore: model alias" "$UM_ROOT/build/dump_after.txt" &&
        grep -q "september events: 0" "$UM_ROOT/build/dump_after.txt" &&
        grep -q "partitions created after restore: events_2026_11" "$UM_ROOT/build/dump_after.txt" &&
        grep -q "verify() after create_partitions: 0" "$UM_ROOT/build/dump_after.txt" || ok=1
    return $ok
}

stage "pg_dump and restore: same rows, same totals, verify() empty, and recording continues" dump_restore_test
