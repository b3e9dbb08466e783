#!/usr/bin/env bash
# The analytics functions against ledgers of two sizes with the same summaries: usage_series, top_usage and
# spend_forecast read the summaries only (daily_rollup, counters), so their speed should not depend on the
# ledger's size (bar: the small ledger at most 1.2x as fast as the large one); session_usage is one index lookup
# per partition. Each database: one tenant (New York), 10 users (each with one of 2 models) x 28 local days =
# the same 280 summary keys, filled with SMALL (default 10k) or LARGE (default 1M) events by bulk INSERTs
# through the ledger triggers, all in October 2026 (one monthly partition), then VACUUM ANALYZE. Each function
# runs as one pgbench client for RUN_SECONDS (default 5) per size, in ROUNDS (default 3) rounds. Needs
# PGHOST/PGPORT of a cluster with the extension installed (for instance: PGROOT=... bash /tmp/devcluster.sh
# ENV; source ENV). Not a test: it prints the figures.
set -euo pipefail
SMALL=${SMALL:-10000} LARGE=${LARGE:-1000000} RUN_SECONDS=${RUN_SECONDS:-5} ROUNDS=${ROUNDS:-3}
here=$(cd "$(dirname "$0")" && pwd)
q="psql -X -q -At -v ON_ERROR_STOP=1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/usage_series.sql" <<'SQL'
SELECT count(*) FROM usage_meter.usage_series('acme', '2026-10-01', '2026-10-31', 'day', '{model}');
SQL
cat >"$work/top_usage.sql" <<'SQL'
SELECT count(*) FROM usage_meter.top_usage('acme', '2026-10-01', '2026-10-31', 'user_id', 'cost', 5);
SQL
cat >"$work/spend_forecast.sql" <<'SQL'
SELECT projected FROM usage_meter.spend_forecast('acme', at => '2026-10-20 12:00Z');
SQL
cat >"$work/session_usage.sql" <<'SQL'
\set s random(1, 1000)
SELECT requests FROM usage_meter.session_usage('acme', 's' || :s);
SQL

fill() {  # fill DB EVENTS
    local db=$1 events=$2 batch=100000 from=1
    $q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    $q -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION usage_meter;
SELECT usage_meter.set_price('m', 1, 2), usage_meter.set_price('big', 10, 20);
SELECT usage_meter.set_tenant('acme', 'America/New_York', 10);
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'month', 1000000);
SELECT usage_meter.create_partition('2026-10-01Z');
SQL
    while [ "$from" -le "$events" ]; do
        local to=$((from + batch - 1))
        [ "$to" -le "$events" ] || to=$events
        # Spread over 27 days from 2 October 12:00 UTC (local days 2 .. 28), 10 users (u0, u2, ... use m; u1,
        # u3, ... big); sessions of 10 events at both sizes, so session_usage reads as many rows at both.
        $q -d "$db" -c "INSERT INTO usage_meter.events (tenant, user_id, operation, model, input_tokens, output_tokens,
                                                        occurred_at, session_id, latency_ms)
                        SELECT 'acme', 'u' || (i % 10), 'chat', CASE WHEN i % 2 = 0 THEN 'm' ELSE 'big' END, 1000, 500,
                               '2026-10-02 12:00Z'::timestamptz + ((i::bigint * 7919) % (27 * 86400)) * interval '1 second',
                               's' || (i / 10), i % 997
                          FROM generate_series($from, $to) AS i"
        from=$((to + 1))
    done
    $q -d "$db" -c "VACUUM ANALYZE"
}

declare -A tps
for size in "$SMALL" "$LARGE"; do
    db=um_bench_analytics_$size
    start=$(date +%s)
    fill "$db" "$size"
    echo "ledger $size events: filled in $(( $(date +%s) - start )) s;" \
         "$($q -d "$db" -c "SELECT count(*) || ' ledger rows, ' || (SELECT count(*) FROM usage_meter.daily_rollup) || ' daily_rollup rows, '
                              || (SELECT count(*) FROM usage_meter.counters) || ' counter rows' FROM usage_meter.events")"
done
$q -d "um_bench_analytics_$LARGE" -c "EXPLAIN (COSTS OFF) SELECT * FROM usage_meter.events AS e
                                       WHERE e.tenant = 'acme' AND e.session_id = 's1'" | sed 's/^/plan at the large size: /'
# Rounds: each function at the small size, then at once at the large one, so what slows the machine between
# rounds hits both; the ratio of each round, and their median.
for round in $(seq 1 "$ROUNDS"); do
    for f in usage_series top_usage spend_forecast session_usage; do
        for size in "$SMALL" "$LARGE"; do
            tps[$f,$size,$round]=$(pgbench -n -c 1 -T "$RUN_SECONDS" -f "$work/$f.sql" "um_bench_analytics_$size" 2>/dev/null |
                                   sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
        done
        echo "round $round $f: ${tps[$f,$SMALL,$round]} calls/s at $SMALL events, ${tps[$f,$LARGE,$round]} at $LARGE"
    done
done
echo "small/large calls per second, median of $ROUNDS rounds (bar for the summary readers: <= 1.2):"
for f in usage_series top_usage spend_forecast session_usage; do
    ratios=""
    for round in $(seq 1 "$ROUNDS"); do ratios+=" ${tps[$f,$SMALL,$round]}/${tps[$f,$LARGE,$round]}"; done
    python3 -c "import statistics, sys
r = [eval(x) for x in sys.argv[2:]]
print('  %-15s %.2f (rounds %s)' % (sys.argv[1], statistics.median(r), ', '.join('%.2f' % x for x in r)))" "$f" $ratios
done
for size in "$SMALL" "$LARGE"; do $q -d postgres -c "DROP DATABASE um_bench_analytics_$size"; done
