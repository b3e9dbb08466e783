# Fresh install vs. upgrade: CREATE EXTENSION usage_meter (the default version) and CREATE EXTENSION
# usage_meter VERSION '1.0' followed by ALTER EXTENSION usage_meter UPDATE must give the same schema.
# pg_dump --schema-only prints only CREATE EXTENSION for an extension's members, so the catalogs are compared:
# tests/stages/catalog_fingerprint.sql prints one line per catalog fact of everything the extension owns
# (functions, columns, defaults, indexes, constraints, triggers with their enabled state, policies, grants,
# comments, config-dump registration; what it leaves out and why is in its header). Checks: both databases
# report the control file's default version and their fingerprints are equal. The check is shown to be able
# to fail: in a third database with the default installed, each of a list of single changes (volatility,
# comment, trigger state, grant, default, policy, index, constraint, sequence, membership, RLS, a stray
# table...) is made in a transaction that is rolled back, and must change the fingerprint where it should;
# after the rollbacks that database's fingerprint equals the first one (two fresh installs agree: no OID or
# other per-database value leaks into the fingerprint). Bounded: a few seconds.

fresh_vs_upgrade_test() {
    local fresh=usage_meter_fresh upgraded=usage_meter_upgraded altered=usage_meter_altered ok=0
    local q="psql -X -q -At -v ON_ERROR_STOP=1"
    $q -d postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $fresh" -c "DROP DATABASE IF EXISTS $upgraded" -c "DROP DATABASE IF EXISTS $altered" \
        -c "CREATE DATABASE $fresh" -c "CREATE DATABASE $upgraded" -c "CREATE DATABASE $altered" || return 1
    fresh_vs_upgrade_compare "$fresh" "$upgraded" "$altered" || ok=1
    $q -d postgres -c "DROP DATABASE $fresh" -c "DROP DATABASE $upgraded" -c "DROP DATABASE $altered" || ok=1
    return $ok
}

fresh_vs_upgrade_compare() {  # fresh_vs_upgrade_compare FRESH_DB UPGRADED_DB SELF_TEST_DB
    local fresh=$1 upgraded=$2 altered=$3 ok=0 i version lines
    local q="psql -X -q -At -v ON_ERROR_STOP=1" fingerprint="$UM_ROOT/tests/stages/catalog_fingerprint.sql"
    local out="$UM_ROOT/build/fresh_vs_upgrade"
    $q -d "$fresh" -c "CREATE EXTENSION usage_meter" || return 1
    $q -d "$upgraded" -c "CREATE EXTENSION usage_meter VERSION '1.0'" -c "ALTER EXTENSION usage_meter UPDATE" || return 1
    $q -d "$altered" -c "CREATE EXTENSION usage_meter" || return 1

    # The version: both the control file's default_version (one source of truth).
    version="$(sed -n "s/^default_version = '\(.*\)'$/\1/p" "$UM_ROOT/usage_meter.control")"
    {
        echo "fresh install: $($q -d "$fresh" -c "SELECT extversion FROM pg_extension WHERE extname = 'usage_meter'")"
        echo "1.0 updated: $($q -d "$upgraded" -c "SELECT extversion FROM pg_extension WHERE extname = 'usage_meter'")"
    } >"$out.versions.txt"
    cat "$out.versions.txt"
    um_expect "$out.versions.txt" "^fresh install: $version$" "^1.0 updated: $version$" || ok=1

    $q -d "$fresh" -f "$fingerprint" >"$out.fresh.txt" || return 1
    $q -d "$upgraded" -f "$fingerprint" >"$out.upgraded.txt" || return 1
    lines=$(wc -l <"$out.fresh.txt")
    echo "catalog fingerprint: $lines lines (fresh install), $(wc -l <"$out.upgraded.txt") lines (1.0 updated)"
    # The fingerprint really reads the catalogs (a script printing nothing would make every diff empty).
    um_expect "$out.fresh.txt" \
        "^extension usage_meter version $version schema usage_meter " \
        "^extension config usage_meter.events_default condition ''$" \
        "^member table usage_meter.events_default$" \
        "^member type usage_meter.recorded$" \
        "^function usage_meter.usage_record(.*) def|CREATE OR REPLACE FUNCTION usage_meter.usage_record(" \
        "^relation usage_meter.events kind partitioned table " \
        "^relation usage_meter.events row level security true forced false$" \
        "^column usage_meter.events.event_id #1 bigint not null default nextval(" \
        "^column usage_meter.recorded.duplicate #5 boolean " \
        "^view usage_meter.daily_usage def| SELECT " \
        "^sequence usage_meter.event_id_seq type bigint " \
        "^index usage_meter.events_default_pkey on usage_meter.events_default: CREATE UNIQUE INDEX " \
        "^constraint usage_meter.limits limits_tenant_fkey type f: FOREIGN KEY (tenant) REFERENCES usage_meter.tenants(tenant)" \
        "^trigger usage_meter.limits limits_cache_invalidate: CREATE TRIGGER .* enabled A$" \
        "^policy usage_meter.events reader_bound for SELECT permissive to usage_meter_reader using " \
        "^grant table usage_meter.reader_tenants to usage_meter_admin INSERT by " \
        "^grant function usage_meter.usage_record(.*) to usage_meter_writer EXECUTE by " \
        "^grant schema usage_meter to usage_meter_writer USAGE by " \
        "^initial privileges table usage_meter.events (e) to usage_meter_reader SELECT by " \
        "^comment table usage_meter.tenants: " \
        "^comment table column usage_meter.events.reason: " \
        "^comment function usage_meter.verify(): " \
        "^rows usage_meter.tenants 0$" || ok=1
    if ! diff "$out.fresh.txt" "$out.upgraded.txt" >"$out.diff"; then
        echo "the fresh install and the updated 1.0 install differ ($(grep -c '^[<>]' "$out.diff") lines; < fresh, > updated):"
        head -n 100 "$out.diff"
        [ "$(wc -l <"$out.diff")" -le 100 ] || echo "... (the whole diff: $out.diff)"
        ok=1
    fi

    # Self-test: each change, made alone in a rolled-back transaction, must show in the fingerprint's diff as
    # the line given with it.
    local -a changes=(
        "ALTER FUNCTION usage_meter.health() VOLATILE"
        '^< function usage_meter\.health() def| STABLE$'
        "ALTER FUNCTION usage_meter.health() SET work_mem = '1MB'"
        '^> function usage_meter\.health() def| SET work_mem TO '
        "COMMENT ON TABLE usage_meter.tenants IS 'x'"
        '^> comment table usage_meter\.tenants: x$'
        "COMMENT ON COLUMN usage_meter.events.reason IS NULL"
        '^< comment table column usage_meter\.events\.reason: '
        "ALTER TABLE usage_meter.limits DISABLE TRIGGER limits_cache_invalidate"
        '^> trigger usage_meter\.limits limits_cache_invalidate: .* enabled D$'
        "REVOKE SELECT ON usage_meter.daily_usage FROM usage_meter_reader"
        '^< grant view usage_meter\.daily_usage to usage_meter_reader SELECT by '
        "GRANT UPDATE (time_zone) ON usage_meter.tenants TO usage_meter_writer"
        '^> grant column usage_meter\.tenants\.time_zone to usage_meter_writer UPDATE by '
        "ALTER TABLE usage_meter.tenants ALTER COLUMN time_zone SET DEFAULT 'Europe/Paris'"
        "^> column usage_meter\.tenants\.time_zone #2 text not null default 'Europe/Paris'"
        "ALTER TABLE usage_meter.reservations ALTER COLUMN expires_at DROP NOT NULL"
        '^> column usage_meter\.reservations\.expires_at #7 timestamp with time zone storage '
        "ALTER POLICY reader_bound ON usage_meter.events USING (false)"
        '^> policy usage_meter\.events reader_bound for SELECT permissive to usage_meter_reader using false '
        "ALTER TABLE usage_meter.tenants FORCE ROW LEVEL SECURITY"
        '^> relation usage_meter\.tenants row level security true forced true$'
        "ALTER VIEW usage_meter.daily_usage RESET (security_invoker)"
        '^> relation usage_meter\.daily_usage kind view .* options - '
        "DROP INDEX usage_meter.reader_tenants_role"
        '^< index usage_meter\.reader_tenants_role on usage_meter\.reader_tenants: '
        "ALTER TABLE usage_meter.unit_prices DROP CONSTRAINT unit_prices_per_unit_check"
        '^< constraint usage_meter\.unit_prices unit_prices_per_unit_check type c: '
        "ALTER SEQUENCE usage_meter.event_id_seq CACHE 10"
        '^> sequence usage_meter\.event_id_seq type bigint .* cache 10 '
        "ALTER EXTENSION usage_meter DROP TABLE usage_meter.retention"
        '^< extension config usage_meter\.retention condition '
        "CREATE TABLE usage_meter.stray (x integer)"
        '^> not owned table usage_meter\.stray$'
    )
    local failed_changes=0
    for ((i = 0; i < ${#changes[@]}; i += 2)); do
        $q -d "$altered" -c "BEGIN" -c "${changes[i]}" -f "$fingerprint" -c "ROLLBACK" >"$out.altered.txt" ||
            { echo "self-test change failed to run: ${changes[i]}"; failed_changes=$((failed_changes + 1)); continue; }
        if diff "$out.fresh.txt" "$out.altered.txt" >"$out.altered.diff"; then
            echo "self-test: the fingerprint did not change after: ${changes[i]}"
            failed_changes=$((failed_changes + 1))
        elif ! um_expect "$out.altered.diff" "${changes[i + 1]}" >/dev/null; then
            echo "self-test: after ${changes[i]}, expected in the diff: ${changes[i + 1]}; the diff was:"
            head -n 20 "$out.altered.diff"
            failed_changes=$((failed_changes + 1))
        fi
    done
    echo "self-test: $((${#changes[@]} / 2 - failed_changes)) of $((${#changes[@]} / 2)) single changes seen in the fingerprint"
    [ "$failed_changes" -eq 0 ] || ok=1
    # Every change was rolled back: a second fresh install has the same fingerprint as the first.
    $q -d "$altered" -f "$fingerprint" >"$out.altered.txt" || return 1
    if ! diff "$out.fresh.txt" "$out.altered.txt" >"$out.altered.diff"; then
        echo "two fresh installs have different fingerprints (< first, > second):"
        head -n 100 "$out.altered.diff"
        ok=1
    fi
    return $ok
}

stage "fresh install vs. 1.0 + ALTER EXTENSION UPDATE: the same catalogs (fingerprint shown to catch single changes)" \
    fresh_vs_upgrade_test
