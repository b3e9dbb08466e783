# Upgrade: install the first released version (CREATE EXTENSION usage_meter VERSION '1.0'), record usage with
# it (through the current usage_meter.so, which serves 1.0 databases too), then ALTER EXTENSION usage_meter
# UPDATE. Checks: the version is the default one; every row recorded before is unchanged; verify() is empty
# and rebuild() finds nothing to repair; and the new behaviour works on old data: an old idempotency key is
# still a duplicate, an event recorded under 1.0 can be voided, roles and row-level security are in place.
# The ledger becomes partitioned: its rows move to the default partition, then create_partitions() spreads them
# over monthly partitions, unchanged; drop_events_before then drops October and the summaries keep it.
# Bounded: a few seconds.

upgrade_test() {
    local db=usage_meter_upgrade fingerprint="$UM_ROOT/tests/stages/fingerprint.sql" q="psql -X -q -At -v ON_ERROR_STOP=1"
    # The ledger columns 1.0 had: compared before and after the update.
    local cols='e.event_id, e.tenant, e.user_id, e.operation, e.model, e.provider, e.input_tokens, e.output_tokens,
                e.cache_read_tokens, e.cache_write_tokens, e.reasoning_tokens, e.quantity, e.cost, e.billed_cost,
                e.priced, e.cost_source, e.price_id, e.unit_price_id, e.markup_pct, e.occurred_at, e.day,
                e.recorded_at, e.idempotency_key, e.session_id, e.latency_ms, e.success, e.metadata'
    $q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" || return 1
    $q -d "$db" >"$UM_ROOT/build/upgrade_before.txt" <<'SQL' || return 1
CREATE EXTENSION usage_meter VERSION '1.0';
SELECT 'installed ' || extversion FROM pg_extension WHERE extname = 'usage_meter';
\o /dev/null
SELECT usage_meter.set_price('m', 1, 2), usage_meter.set_unit_price('search', 0.01);
SELECT usage_meter.set_tenant('acme', 'Europe/Paris', 10), usage_meter.set_limit('acme', NULL, 'cost', 'month', 100);
SELECT count(*) FROM (
    SELECT usage_meter.usage_record('acme', 'user' || (i % 3), CASE WHEN i % 5 = 0 THEN 'search' ELSE 'chat' END, 'm',
                                    i, i, quantity => CASE WHEN i % 5 = 0 THEN i END,
                                    occurred_at => '2026-10-15 00:00Z'::timestamptz + i * interval '5 hours',
                                    idempotency_key => 'old-' || i, success => i % 7 <> 0)
      FROM generate_series(1, 100) AS i) AS r;
\o
-- COPY into the ledger, the bulk path, also works on 1.0.
COPY usage_meter.events (tenant, user_id, operation, model, input_tokens, occurred_at) FROM stdin;
acme	bulk	chat	m	5	2026-11-01 10:00:00+00
acme	bulk	chat	m	6	2026-11-02 10:00:00+00
\.
SELECT 'verify() under 1.0: ' || count(*) FROM usage_meter.verify();
SQL
    $q -d "$db" -v event_columns="$cols" -f "$fingerprint" >"$UM_ROOT/build/upgrade_fp_before.txt" || return 1
    $q -d "$db" -c "ALTER EXTENSION usage_meter UPDATE" || return 1
    # The update turns the ledger into a partitioned table: the old rows are in its default partition, their
    # keys in usage_meter.idempotency_keys; create_partitions() then moves them into monthly partitions. The
    # fingerprint below is taken after both: every row unchanged, none lost or doubled.
    $q -d "$db" >"$UM_ROOT/build/upgrade_partitions.txt" <<'SQL' || return 1
SELECT 'ledger after the update: ' || c.relkind::text || ', default partition rows ' || (SELECT count(*) FROM usage_meter.events_default)
       || ', keys ' || (SELECT count(*) FROM usage_meter.idempotency_keys)
  FROM pg_class AS c WHERE c.oid = 'usage_meter.events'::regclass;
SELECT 'partitions for the old rows: ' || string_agg(p, ' ' ORDER BY p)
  FROM usage_meter.create_partitions(0) AS p WHERE p < 'events_2026_12';
SELECT 'default partition rows: ' || count(*) FROM usage_meter.events_default;
SQL
    $q -d "$db" -v event_columns="$cols" -f "$fingerprint" >"$UM_ROOT/build/upgrade_fp_after.txt" || return 1
    $q -d "$db" >"$UM_ROOT/build/upgrade_after.txt" <<'SQL' || return 1
SELECT 'updated to ' || extversion || ' (default ' || default_version || ')'
  FROM pg_extension JOIN pg_available_extensions ON name = extname WHERE extname = 'usage_meter';
SELECT 'rebuild() changes: ' || count(*) FROM usage_meter.rebuild();
SELECT 'old key is a duplicate: ' || duplicate
  FROM usage_meter.usage_record('acme', 'user1', 'chat', 'm', 1, 1, idempotency_key => 'old-1');
SELECT 'new event recorded: ' || NOT duplicate FROM usage_meter.usage_record('acme', 'user1', 'chat', 'm', 1, 1);
SELECT 'old event voided: ' || (usage_meter.void_event('acme', 2, 'after the upgrade') IS NOT NULL);
SELECT 'old event corrected: ' || (replacement_id IS NOT NULL)
  FROM usage_meter.correct_event('acme', 3, 'after the upgrade', input_tokens => 1000);
SELECT 'verify() after: ' || count(*) FROM usage_meter.verify();
SELECT 'roles: ' || string_agg(rolname, ' ' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'usage\_meter\_%';
SELECT 'row-level security on events: ' || relrowsecurity FROM pg_class WHERE oid = 'usage_meter.events'::regclass;
-- Retention on the upgraded ledger: October's raw events go, its summaries stay, verify() checks the rest.
SELECT sum(requests) AS requests_before FROM usage_meter.daily_usage \gset
SELECT 'dropped October events: ' || usage_meter.drop_events_before('2026-11-01Z');
SELECT 'summaries kept: ' || (sum(requests) = :requests_before) FROM usage_meter.daily_usage;
SELECT 'verify() after the drop: ' || count(*) FROM usage_meter.verify();
SELECT 'rebuild() after the drop: ' || count(*) FROM usage_meter.rebuild();
SELECT 'usage_record runs as owner: ' || prosecdef FROM pg_proc WHERE oid = 'usage_meter.usage_record'::regproc;
SELECT 'limits cache triggers: ' || string_agg(tgname || '=' || tgenabled::text, ' ' ORDER BY tgname)
  FROM pg_trigger WHERE tgname LIKE '%\_cache\_invalidate';
SQL
    cat "$UM_ROOT/build/upgrade_before.txt" "$UM_ROOT/build/upgrade_partitions.txt" "$UM_ROOT/build/upgrade_after.txt"
    local ok=0
    diff "$UM_ROOT/build/upgrade_fp_before.txt" "$UM_ROOT/build/upgrade_fp_after.txt" ||
        { echo "the update changed recorded data"; ok=1; }
    um_expect "$UM_ROOT/build/upgrade_before.txt" \
        "^installed 1.0$" \
        "^verify() under 1.0: 0$" || ok=1
    um_expect "$UM_ROOT/build/upgrade_fp_after.txt" \
        "^verify() differences: 0$" \
        "^events 102 " || ok=1
    # The version the update reaches is the control file's default_version (one source of truth).
    local version
    version="$(sed -n "s/^default_version = '\(.*\)'$/\1/p" "$UM_ROOT/usage_meter.control")"
    um_expect "$UM_ROOT/build/upgrade_after.txt" \
        "^updated to $version (default $version)$" \
        "^rebuild() changes: 0$" \
        "^old key is a duplicate: true$" \
        "^new event recorded: true$" \
        "^old event voided: true$" \
        "^old event corrected: true$" \
        "^verify() after: 0$" \
        "^roles: usage_meter_admin usage_meter_reader usage_meter_writer$" \
        "^row-level security on events: true$" \
        "^usage_record runs as owner: true$" \
        "^limits cache triggers: limits_cache_invalidate=A tenants_cache_invalidate=A$" \
        "^dropped October events: [1-9]" \
        "^summaries kept: true$" \
        "^verify() after the drop: 0$" \
        "^rebuild() after the drop: 0$" || ok=1
    um_expect "$UM_ROOT/build/upgrade_partitions.txt" \
        "^ledger after the update: p, default partition rows 102, keys 100$" \
        "^partitions for the old rows: events_2026_10 events_2026_11$" \
        "^default partition rows: 0$" || ok=1
    $q -d postgres -c "DROP DATABASE $db"
    return $ok
}

stage "upgrade: 1.0 with data, ALTER EXTENSION UPDATE, data unchanged and new behaviour on old data" upgrade_test
