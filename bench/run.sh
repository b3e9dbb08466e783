#!/usr/bin/env bash
# Throughput benchmark of usage_meter against plain-SQL baselines, in a throwaway cluster:
#   usage_record  vs a bare INSERT of the same ledger row into a trigger-less copy of the ledger table
#   check_limit   vs a primary-key SELECT of one ledger row
#   reserve + settle (a pair of transactions) vs usage_record, and vs its floor: the same pair with the reserve
#                 reduced to one durable INSERT (floor_pair), the most any design that commits a hold could reach
# at a ~1k-row and a ~100k-row ledger, 16 clients on one hot tenant; then the large transactions of a sync job or
# an import, one client, each workload one transaction, against the same rows written into plain tables:
#   usage_record x1k and x20k in one transaction  vs the ledger row + key row per call into plain tables (and the
#                 20k run's cost per call against the 1k run's)
#   INSERT INTO usage_meter.events ... SELECT and COPY of 200k rows  vs the same rows into plain tables with the same
#                 indexes, plus the key table
#   usage_record_batch of 1k elements in one call  vs usage_record x1k in one transaction
# Prints the tables and writes them to bench/results/latest.txt. Measures the extension as installed on this
# machine (it does not build it).
#
#   bash bench/run.sh                     # 15 s per pgbench run, 13 runs, plus the fills; then the large transactions
#   BENCH_SECONDS=60 bash bench/run.sh    # longer runs, steadier numbers
#   BENCH_ROUNDS=3 bash bench/run.sh      # the write runs (bare insert, usage_record, floor pair, reserve/settle) 3 times
#                                         # in turn at each size, and the large transactions 3 times; each ratio is
#                                         # the median of its rounds'
#   BENCH_ONLY=large bash bench/run.sh    # only the large transactions (BENCH_ONLY=throughput: only the pgbench runs)
#   BENCH_LARGE_ROWS=20000 BENCH_LARGE_CALLS=5000 bash bench/run.sh   # smaller bulk loads and long transaction (a
#                                         # quick check that they work; the issue's sizes are 200000 and 20000)
# A full run writes its output to bench/results/latest.txt too; a partial one (BENCH_ONLY, smaller sizes) only prints.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$BENCH_DIR/../scripts/lib.sh"

SECONDS_PER_RUN="${BENCH_SECONDS:-15}"
ROUNDS="${BENCH_ROUNDS:-1}"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_ROUNDS must be a positive integer" >&2; exit 2; }
ONLY="${BENCH_ONLY:-}"
[[ "$ONLY" =~ ^(|throughput|large)$ ]] || { echo "BENCH_ONLY must be throughput or large" >&2; exit 2; }
LARGE_ROWS="${BENCH_LARGE_ROWS:-200000}"    # rows of each bulk load (INSERT ... SELECT, COPY)
LARGE_CALLS="${BENCH_LARGE_CALLS:-20000}"   # usage_record calls in the long transaction
SMALL_CALLS=1000                            # ... in the short one, and the elements of one usage_record_batch call
for v in LARGE_ROWS LARGE_CALLS; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_${v} must be a positive integer" >&2; exit 2; }
done
CLIENTS=16
THREADS=2
SMALL=1000
LARGE=100000
DB=usage_meter_bench
RESULTS_DIR="$BENCH_DIR/results"
COMMAND="$(for v in BENCH_SECONDS BENCH_ROUNDS BENCH_ONLY BENCH_LARGE_ROWS BENCH_LARGE_CALLS; do
               [ -n "${!v:-}" ] && printf '%s=%q ' "$v" "${!v}"; done
           printf 'bash %q' "$0"; [ $# -gt 0 ] && printf ' %q' "$@"; true)"

um_deps
um_cluster_start
WORK="$(mktemp -d /tmp/usage_meter_bench.XXXXXX)"
trap 'rm -rf "$WORK"; um_cluster_stop' EXIT
PGBENCH="$UM_PG_BIN/pgbench"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
ledger_rows() { q "SELECT count(*) FROM usage_meter.events"; }
counter_rows() { q "SELECT count(*) FROM usage_meter.counters WHERE tenant = 'hot'"; }
# Counter rows check_limit sums per user-day key of today (one per slot written), averaged over the ~100 users.
slot_rows() { q "SELECT round(count(*) / 100.0, 1) FROM usage_meter.counters WHERE tenant = 'hot'
                   AND user_id IS NOT NULL AND period = 'day' AND period_start = (now() AT TIME ZONE 'UTC')::date"; }
say() { printf '%s\n' "$*"; }

createdb -T template0 "$DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$BENCH_DIR/setup.sql" >/dev/null
PRICE_ID="$(q "SELECT price_id FROM usage_meter.prices WHERE model = 'claude-3-5-haiku'")"

# Fills the ledger up to $1 rows with one bulk INSERT (through the ledger's triggers, so priced and rolled up):
# ~100 users of the hot tenant, occurred_at spread over the last 20 days, never in the future.
fill_to() {
    local target=$1 have missing start=$SECONDS
    have="$(ledger_rows)"
    missing=$((target - have))
    if [ "$missing" -gt 0 ]; then
        q "INSERT INTO usage_meter.events (tenant, user_id, operation, model, input_tokens, output_tokens,
                                          cache_read_tokens, latency_ms, occurred_at)
           SELECT 'hot', 'user' || (1 + g % 100), 'chat', 'claude-3-5-haiku', 200 + (random() * 3000)::int,
                  50 + (random() * 1000)::int, (random() * 500)::int, 100 + (random() * 2000)::int,
                  now() - random() * interval '20 days'
             FROM generate_series(1, $missing) AS g"
    fi
    q "SELECT count(*) FROM usage_meter.create_partitions(0)" >/dev/null  # rows of an earlier month leave the default partition
    q "VACUUM ANALYZE"
    say "   ledger filled from $have to $(ledger_rows) rows in $((SECONDS - start)) s (bulk INSERT through the triggers, VACUUM ANALYZE)"
}

# Makes the baseline table the same size as the ledger (a copy of its rows), so both writers start equal.
copy_ledger_to_bare() {
    q "SELECT bench.mirror_partitions()" >/dev/null
    q "TRUNCATE bench.bare_events"
    q "INSERT INTO bench.bare_events SELECT * FROM usage_meter.events"
    q "SELECT setval('bench.bare_event_id_seq', (SELECT max(event_id) FROM bench.bare_events))" >/dev/null
    q "VACUUM ANALYZE bench.bare_events"
}

declare -A TPS ROWS FAILED WRITE_START_ID OTHER_CPU AFTER COUNTERS SLOTS RATIO ROUND_RATIOS
OTHER_CPU_BAR=10  # % of the machine's CPU used by processes outside this benchmark; above it a run is flagged

# CPU accounting (bench/cpu.sh: machine_ticks, cluster_ticks), plus this shell's children.
source "$BENCH_DIR/cpu.sh"
shell_children_ticks() {  # sets SHELL_TICKS: user + system time of this shell's finished children (the times builtin)
    times >"$WORK/times"
    SHELL_TICKS="$(tail -1 "$WORK/times" | awk -v hz="$(getconf CLK_TCK)" '{
        s = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } printf "%d", s * hz }')"
}

PROBLEMS=()   # errors: make the script exit non-zero
WARNINGS=()   # the numbers are less trustworthy (a busy machine)
PGBENCH_TEMPLATE="$PGBENCH -n -M prepared -c $CLIENTS -j $THREADS -T $SECONDS_PER_RUN -f bench/<workload>.sql [-D ...] $DB"

# [SCRIPT=name] [ROUND=r] run_bench SIZE WORKLOAD [-D var=value ...]: one pgbench run of bench/WORKLOAD.sql (or
# SCRIPT.sql); with ROUND, its results are kept under SIZE/WORKLOAD@r.
run_bench() {
    local size=$1 workload=$2
    shift 2
    local key="$size/$workload${ROUND:+@$ROUND}" log="$WORK/$size-$workload${ROUND:+-$ROUND}.log" rc=0
    ROWS[$key]="$(ledger_rows)"
    q "CHECKPOINT"
    local m0 mt0 c0 s0 m1 mt1 c1 s1
    read -r m0 mt0 <<<"$(machine_ticks)"; c0="$(cluster_ticks)"; shell_children_ticks; s0=$SHELL_TICKS
    "$PGBENCH" -n -M prepared -c "$CLIENTS" -j "$THREADS" -T "$SECONDS_PER_RUN" -f "$BENCH_DIR/${SCRIPT:-$workload}.sql" \
        "$@" "$DB" >"$log" 2>&1 || rc=$?
    shell_children_ticks; s1=$SHELL_TICKS; read -r m1 mt1 <<<"$(machine_ticks)"; c1="$(cluster_ticks)"
    OTHER_CPU[$key]="$(awk -v busy=$((m1 - m0)) -v all=$((mt1 - mt0)) -v ours=$((c1 - c0 + s1 - s0)) \
        'BEGIN { o = (busy - ours) / (all > 0 ? all : 1) * 100; printf "%.0f", (o < 0 ? 0 : o) }')"
    TPS[$key]="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$log")"
    FAILED[$key]="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")"
    local aborted
    aborted="$(grep -c -i 'aborted' "$log" || true)"
    if [ "$rc" -ne 0 ] || [ -z "${TPS[$key]}" ] || [ "${FAILED[$key]:-0}" != 0 ] || [ "$aborted" -gt 0 ]; then
        PROBLEMS+=("$key: pgbench exit $rc, ${FAILED[$key]:-?} failed transactions, $aborted lines mentioning 'aborted'")
        say "   pgbench output ($key):"
        sed 's/^/     | /' "$log" | head -40
    fi
    [ "${OTHER_CPU[$key]}" -le "$OTHER_CPU_BAR" ] ||
        WARNINGS+=("$key: other processes used ${OTHER_CPU[$key]}% of the machine's CPU during the run")
    say "$(printf '   %-5s %-18s %10.1f tps   (ledger %s rows at start, %s after; %s failed; other processes %s%% CPU)' \
        "$size" "${workload}${ROUND:+ (round $ROUND)}" "${TPS[$key]:-0}" "${ROWS[$key]}" "$(ledger_rows)" "${FAILED[$key]:-?}" "${OTHER_CPU[$key]}")"
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# summarize_rounds SIZE: each write workload's TPS as the median of its rounds, its ledger size at round 1, the
# largest other-CPU share of its rounds; each write ratio as the median of the rounds' ratios (a round's runs
# follow one another, so a ratio within a round cancels most of what drifts between rounds).
summarize_rounds() {
    local size=$1 w base pair r tps_list cpu_list ratios
    for w in bare_insert usage_record floor_pair reserve_settle; do
        tps_list=(); cpu_list=()
        for ((r = 1; r <= ROUNDS; r++)); do
            tps_list+=("${TPS[$size/$w@$r]:-}"); cpu_list+=("${OTHER_CPU[$size/$w@$r]:-0}")
        done
        TPS[$size/$w]="$(median "${tps_list[@]}")"
        ROWS[$size/$w]="${ROWS[$size/$w@1]}"
        OTHER_CPU[$size/$w]="$(printf '%s\n' "${cpu_list[@]}" | sort -n | tail -1)"
    done
    for pair in usage_record:bare_insert floor_pair:usage_record reserve_settle:usage_record reserve_settle:floor_pair; do
        w=${pair%%:*}; base=${pair##*:}
        ratios=()
        for ((r = 1; r <= ROUNDS; r++)); do
            ratios+=("$(awk -v a="${TPS[$size/$w@$r]:-}" -v b="${TPS[$size/$base@$r]:-}" \
                'BEGIN { if (a == "" || b + 0 == 0) print "0"; else printf "%.4f", a / b }')")
        done
        RATIO[$size/$w/$base]="$(median "${ratios[@]}")"
        ROUND_RATIOS[$size/$w/$base]="$(printf '%s\n' "${ratios[@]}" | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }')"
    done
}

# stage SIZE: the reads first (so they see the ledger at its nominal size), then the writes.
stage() {
    local size=$1 ids
    ids="$(q "SELECT min(event_id) || ' ' || max(event_id) || ' ' || count(*) FROM usage_meter.events WHERE tenant = 'hot'")"
    read -r min_id max_id hot_rows <<<"$ids"
    [ $((max_id - min_id + 1)) -eq "$hot_rows" ] ||
        PROBLEMS+=("$size: hot tenant's event ids $min_id..$max_id are not contiguous ($hot_rows rows); some pk reads miss")
    COUNTERS[$size]="$(counter_rows)"
    SLOTS[$size/check_limit]="$(slot_rows)"
    say "   counters rows of the hot tenant: ${COUNTERS[$size]} (${SLOTS[$size/check_limit]} per user-day key of today)"
    run_bench "$size" pk_select -D min_id="$min_id" -D max_id="$max_id"
    run_bench "$size" check_limit
    if [ "$size" = 1k ]; then
        # At 1k most users have no counters for today yet, while at 100k (after usage_record's run) each has one
        # row per slot: check_limit does more work there for a reason that is not the ledger's size. So measure
        # it again at ~1k with the counters in that shape; the flatness bar compares 100k with this run.
        "$PGBENCH" -n -M prepared -c "$CLIENTS" -j "$THREADS" -t 1 -f "$BENCH_DIR/prime_counters.sql" "$DB" \
            >"$WORK/prime.log" 2>&1 || { cat "$WORK/prime.log"; PROBLEMS+=("priming the counters failed"); }
        q "VACUUM ANALYZE"
        SLOTS[1k/check_limit_primed]="$(slot_rows)"
        say "   counters primed: $(counter_rows) rows (${SLOTS[1k/check_limit_primed]} per user-day key of today)"
        SCRIPT=check_limit run_bench 1k check_limit_primed
    fi
    WRITE_START_ID[$size]="$max_id"
    local round
    for ((round = 1; round <= ROUNDS; round++)); do
        copy_ledger_to_bare
        ROUND=$round run_bench "$size" bare_insert -D price_id="$PRICE_ID" -D day="$(date -u +%F)"
        ROUND=$round run_bench "$size" usage_record
        # The floor of the pair below: reserve reduced to one durable INSERT (bench/floor_pair.sql).
        ROUND=$round run_bench "$size" floor_pair
        # A reserve/settle pair (two transactions: reserve, then usage_record with reservation_id) against the
        # same limits, as a ratio to the plain usage_record just measured.
        ROUND=$round run_bench "$size" reserve_settle
    done
    summarize_rounds "$size"
    AFTER[$size]="$(ledger_rows)"
}

# ---------------------------------------------------------------------------------------------------------------
# Large transactions: a sync job's or an import's, one client, tenant 'bulk' (100 users, the hot tenant's price).
# Each workload is one transaction, timed by pgbench -c 1 -t 1 ("latency average" of its one transaction), after a
# VACUUM of the summaries and a CHECKPOINT; every row carries its own idempotency key (as a sync's do), so every
# baseline writes the ledger row and a key row into plain tables: bench.bare_events (as for bare_insert) and
# bench.bare_keys (LIKE usage_meter.idempotency_keys INCLUDING ALL). The baseline of each pair runs right before it.
# ---------------------------------------------------------------------------------------------------------------
declare -A LMS LOTHER LRATIO LROUND_RATIOS
COPY_DIR="$WORK/copy"
DAY="$(date -u +%F)"

# run_large KEY STATEMENT...: one pgbench transaction of the statements (a script file of them); its time in ms
# goes to LMS[KEY], the other processes' share of the CPU during it to LOTHER[KEY].
run_large() {
    local key=$1 file="$WORK/large-${1//@/-}.sql" log="$WORK/large-${1//@/-}.log" rc=0
    shift
    printf '%s\n' "$@" >"$file"
    # Each workload starts with the summaries vacuumed: a long transaction before it leaves thousands of dead
    # versions of the same daily and counter rows, which would otherwise be the next workload's to prune.
    q "VACUUM usage_meter.daily_rollup, usage_meter.counters"
    q "CHECKPOINT"
    local m0 mt0 c0 s0 m1 mt1 c1 s1
    read -r m0 mt0 <<<"$(machine_ticks)"; c0="$(cluster_ticks)"; shell_children_ticks; s0=$SHELL_TICKS
    "$PGBENCH" -n -c 1 -t 1 -f "$file" "$DB" >"$log" 2>&1 || rc=$?
    shell_children_ticks; s1=$SHELL_TICKS; read -r m1 mt1 <<<"$(machine_ticks)"; c1="$(cluster_ticks)"
    LOTHER[$key]="$(awk -v busy=$((m1 - m0)) -v all=$((mt1 - mt0)) -v ours=$((c1 - c0 + s1 - s0)) \
        'BEGIN { o = (busy - ours) / (all > 0 ? all : 1) * 100; printf "%.0f", (o < 0 ? 0 : o) }')"
    LMS[$key]="$(sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' "$log")"
    if [ "$rc" -ne 0 ] || [ -z "${LMS[$key]}" ] || grep -q -i -E 'aborted|error' "$log"; then
        PROBLEMS+=("large $key: pgbench exit $rc, or an error or abort in its output")
        say "   pgbench output ($key):"
        sed 's/^/     | /' "$log" | head -20
    fi
    # (CPU time is counted in 10 ms ticks: for a run under a second the share is too coarse to flag.)
    [ "${LOTHER[$key]}" -le "$OTHER_CPU_BAR" ] || awk -v t="${LMS[$key]:-0}" 'BEGIN { exit !(t < 1000) }' ||
        WARNINGS+=("large $key: other processes used ${LOTHER[$key]}% of the machine's CPU during the run")
    say "$(printf '   %-28s %12.1f ms   (other processes %s%% CPU)' "$key" "${LMS[$key]:-0}" "${LOTHER[$key]}")"
}

# The columns of one bulk row (the same event as bench/usage_record.sql's, for user 1 + g % 100, key PREFIX-g),
# and of its bare copy, whose derived columns are constants as in bench/bare_insert.sql.
LEDGER_COLS="tenant, user_id, operation, model, input_tokens, output_tokens, cache_read_tokens, occurred_at, idempotency_key"
BARE_COLS="tenant, user_id, operation, model, provider, input_tokens, output_tokens, cache_read_tokens,
           cache_write_tokens, reasoning_tokens, quantity, cost, billed_cost, priced, cost_source, price_id,
           unit_price_id, markup_pct, day, occurred_at, idempotency_key"
ledger_values() { echo "'bulk', 'user' || (1 + g % 100), 'chat', 'claude-3-5-haiku', 1234, 567, 89, $1, '$2-' || g"; }
bare_values() {
    echo "'bulk', 'user' || (1 + g % 100), 'chat', 'claude-3-5-haiku', NULL, 1234, 567, 89, 0, 0, NULL, 0.00326232,
          0.00326232, true, 'price_table', $PRICE_ID, NULL, 0, '$DAY', $1, '$2-' || g"
}

# large_round R: every large workload once, each after its baseline. Keys are unique per round and workload.
large_round() {
    local r=$1 key first at
    # usage_record x1k and x(LARGE_CALLS) in one transaction (bench.record_loop, a plpgsql loop), and the ledger
    # row + key row per call into the plain tables (bench.bare_loop, the same loop).
    run_large "bare_1k@$r" "SELECT bench.bare_loop($SMALL_CALLS, 'r$r-small');"
    run_large "usage_record_1k@$r" "SELECT bench.record_loop($SMALL_CALLS, 'r$r-small');"
    run_large "bare_long@$r" "SELECT bench.bare_loop($LARGE_CALLS, 'r$r-long');"
    run_large "usage_record_long@$r" "SELECT bench.record_loop($LARGE_CALLS, 'r$r-long');"
    # usage_record_batch: the same 1k events as usage_record_1k, as one jsonb array (the literal in the script, as a
    # client sends it: parsing it is part of the call).
    q "COPY (SELECT jsonb_agg(jsonb_build_object('user_id', 'user' || (1 + g % 100), 'operation', 'chat',
                     'model', 'claude-3-5-haiku', 'input_tokens', 1234, 'output_tokens', 567, 'cache_read_tokens', 89,
                     'idempotency_key', 'r$r-batch-' || g) ORDER BY g)
              FROM generate_series(1, $SMALL_CALLS) AS g) TO '$COPY_DIR/batch.json'"
    run_large "usage_record_batch_1k@$r" \
        "SELECT count(*) FROM usage_meter.usage_record_batch('bulk', '$(cat "$COPY_DIR/batch.json")');"
    # INSERT ... SELECT of LARGE_ROWS rows: into the ledger (through its triggers) and into the plain tables.
    at="'$(q "SELECT now()")'::timestamptz"
    run_large "bare_insert_select@$r" \
        "WITH e AS (INSERT INTO bench.bare_events ($BARE_COLS)
                    SELECT $(bare_values "$at" "r$r-insert") FROM generate_series(1, $LARGE_ROWS) AS g
                    RETURNING tenant, idempotency_key, event_id, occurred_at)
         INSERT INTO bench.bare_keys (tenant, idempotency_key, event_id, occurred_at) SELECT * FROM e;"
    run_large "insert_select@$r" \
        "INSERT INTO usage_meter.events ($LEDGER_COLS)
         SELECT $(ledger_values "$at" "r$r-insert") FROM generate_series(1, $LARGE_ROWS) AS g;"
    # COPY of LARGE_ROWS rows from server-side CSV files written beforehand (not timed): the ledger's columns for
    # the ledger; for the plain tables the bare row (with event ids taken from its sequence) and the key row.
    at="'$(q "SELECT now()")'::timestamptz"
    first="$(q "SELECT nextval('bench.bare_event_id_seq')")"
    q "SELECT setval('bench.bare_event_id_seq', $first + $LARGE_ROWS)" >/dev/null
    q "COPY (SELECT $(ledger_values "$at" "r$r-copy") FROM generate_series(1, $LARGE_ROWS) AS g)
         TO '$COPY_DIR/events.csv' (FORMAT csv)"
    q "COPY (SELECT $first + g, $(bare_values "$at" "r$r-copy") FROM generate_series(1, $LARGE_ROWS) AS g)
         TO '$COPY_DIR/bare_events.csv' (FORMAT csv)"
    q "COPY (SELECT 'bulk', 'r$r-copy-' || g, $first + g, $at FROM generate_series(1, $LARGE_ROWS) AS g)
         TO '$COPY_DIR/bare_keys.csv' (FORMAT csv)"
    run_large "bare_copy@$r" "BEGIN;" \
        "COPY bench.bare_events (event_id, $BARE_COLS) FROM '$COPY_DIR/bare_events.csv' (FORMAT csv);" \
        "COPY bench.bare_keys (tenant, idempotency_key, event_id, occurred_at) FROM '$COPY_DIR/bare_keys.csv' (FORMAT csv);" \
        "COMMIT;"
    run_large "copy@$r" "COPY usage_meter.events ($LEDGER_COLS) FROM '$COPY_DIR/events.csv' (FORMAT csv);"
}

# The pairs (workload:baseline) whose ratio is baseline time / workload time, as TPS / base TPS elsewhere.
LARGE_PAIRS="usage_record_1k:bare_1k usage_record_long:bare_long insert_select:bare_insert_select copy:bare_copy
             usage_record_batch_1k:usage_record_1k usage_record_batch_1k:bare_1k"

summarize_large() {
    local w base pair r list cpu ratios
    for w in bare_1k usage_record_1k bare_long usage_record_long usage_record_batch_1k bare_insert_select insert_select \
             bare_copy copy; do
        list=(); cpu=()
        for ((r = 1; r <= ROUNDS; r++)); do list+=("${LMS[$w@$r]:-}"); cpu+=("${LOTHER[$w@$r]:-0}"); done
        LMS[$w]="$(median "${list[@]}")"
        LOTHER[$w]="$(printf '%s\n' "${cpu[@]}" | sort -n | tail -1)"
    done
    for pair in $LARGE_PAIRS long_per_call:short_per_call; do
        w=${pair%%:*}; base=${pair##*:}
        ratios=()
        for ((r = 1; r <= ROUNDS; r++)); do
            if [ "$pair" = long_per_call:short_per_call ]; then  # (long ms / LARGE_CALLS) / (1k ms / 1000)
                ratios+=("$(awk -v a="${LMS[usage_record_long@$r]:-}" -v b="${LMS[usage_record_1k@$r]:-}" \
                    -v n="$LARGE_CALLS" -v m="$SMALL_CALLS" \
                    'BEGIN { if (a == "" || b + 0 == 0) print "0"; else printf "%.4f", (a / n) / (b / m) }')")
            else
                ratios+=("$(awk -v a="${LMS[$w@$r]:-}" -v b="${LMS[$base@$r]:-}" \
                    'BEGIN { if (a + 0 == 0 || b == "") print "0"; else printf "%.4f", b / a }')")
            fi
        done
        LRATIO[$w/$base]="$(median "${ratios[@]}")"
        LROUND_RATIOS[$w/$base]="$(printf '%s\n' "${ratios[@]}" | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }')"
    done
}

large() {
    um_log "large transactions: ${SMALL_CALLS} and ${LARGE_CALLS} usage_record calls, bulk loads of ${LARGE_ROWS} rows," \
        "usage_record_batch of ${SMALL_CALLS}"
    install -d -o postgres -m 700 "$COPY_DIR"
    chmod 755 "$WORK"
    copy_ledger_to_bare
    q "TRUNCATE bench.bare_keys"
    q "INSERT INTO bench.bare_keys SELECT * FROM usage_meter.idempotency_keys"
    LARGE_START_ID="$(q "SELECT coalesce(max(event_id), 0) FROM usage_meter.events")"
    local r
    for ((r = 1; r <= ROUNDS; r++)); do
        [ "$ROUNDS" -gt 1 ] && say "   round $r"
        large_round "$r"
    done
    summarize_large
}

# The bare insert must write the same logical row as usage_record (all but ids, user and timestamps).
COLS="tenant, operation, model, provider, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
      reasoning_tokens, quantity, cost, billed_cost, priced, cost_source, price_id, unit_price_id, markup_pct, day,
      idempotency_key, session_id, latency_ms, success, metadata"
# The throughput runs' checks, made before the large transactions refill the bare table.
throughput_checks() {
    SHAPE_DIFF="$(q "WITH r AS (SELECT DISTINCT $COLS FROM usage_meter.events WHERE tenant = 'hot' AND event_id > ${WRITE_START_ID[1k]}),
                          b AS (SELECT DISTINCT $COLS FROM bench.bare_events WHERE tenant = 'hot' AND event_id > ${WRITE_START_ID[1k]})
                     SELECT (SELECT count(*) FROM (TABLE r EXCEPT TABLE b) x) + (SELECT count(*) FROM (TABLE b EXCEPT TABLE r) y)")"
    ROW_SIZES="$(q "SELECT round(avg(pg_column_size(e.*))) || ' / ' ||
                           (SELECT round(avg(pg_column_size(b.*))) FROM bench.bare_events AS b
                             WHERE b.tenant = 'hot' AND b.event_id > ${WRITE_START_ID[100k]})
                      FROM usage_meter.events AS e WHERE e.tenant = 'hot' AND e.event_id > ${WRITE_START_ID[100k]}")"
    HELD="$(q "SELECT count(*) FROM usage_meter.reservations WHERE state = 'held'")"
    [ "$HELD" = 0 ] || PROBLEMS+=("$HELD reservations still held after the reserve_settle runs (every one should be settled)")
    [ "$SHAPE_DIFF" = 0 ] || PROBLEMS+=("bare insert row differs from the usage_record row in $SHAPE_DIFF column sets")
}

um_log "benchmark: $CLIENTS clients, $THREADS threads, ${SECONDS_PER_RUN}s per run"
fill_to "$SMALL"
if [ "$ONLY" != large ]; then
    stage 1k
    fill_to "$LARGE"
    stage 100k
    throughput_checks
fi
[ "$ONLY" = throughput ] || large

um_log "checks"
if [ "$ONLY" != throughput ]; then
    # The large workloads' rows: the same logical rows in the ledger and the plain tables (all columns but ids,
    # user, timestamps and key), as many as written, and one key row per row on both sides.
    LCOLS="${COLS/idempotency_key, /}"
    LARGE_SHAPE_DIFF="$(q "WITH r AS (SELECT DISTINCT $LCOLS FROM usage_meter.events WHERE tenant = 'bulk'),
                                b AS (SELECT DISTINCT $LCOLS FROM bench.bare_events WHERE tenant = 'bulk')
                           SELECT (SELECT count(*) FROM (TABLE r EXCEPT TABLE b) x) + (SELECT count(*) FROM (TABLE b EXCEPT TABLE r) y)")"
    LARGE_COUNTS="$(q "SELECT (SELECT count(*) FROM usage_meter.events WHERE tenant = 'bulk') || ' ' ||
                              (SELECT count(*) FROM usage_meter.idempotency_keys WHERE tenant = 'bulk') || ' ' ||
                              (SELECT count(*) FROM bench.bare_events WHERE tenant = 'bulk') || ' ' ||
                              (SELECT count(*) FROM bench.bare_keys WHERE tenant = 'bulk')")"
    # usage_record_batch writes SMALL_CALLS more ledger rows a round than the plain tables get.
    LARGE_EXPECTED="$((ROUNDS * (2 * SMALL_CALLS + LARGE_CALLS + 2 * LARGE_ROWS))) $((ROUNDS * (2 * SMALL_CALLS + LARGE_CALLS + 2 * LARGE_ROWS))) $((ROUNDS * (SMALL_CALLS + LARGE_CALLS + 2 * LARGE_ROWS))) $((ROUNDS * (SMALL_CALLS + LARGE_CALLS + 2 * LARGE_ROWS)))"
    [ "$LARGE_SHAPE_DIFF" = 0 ] || PROBLEMS+=("large transactions: bare rows differ from the ledger rows in $LARGE_SHAPE_DIFF column sets")
    [ "$LARGE_COUNTS" = "$LARGE_EXPECTED" ] ||
        PROBLEMS+=("large transactions: ledger rows, ledger keys, bare rows, bare keys = $LARGE_COUNTS, expected $LARGE_EXPECTED")
fi
VERIFY="$(q "SELECT count(*) FROM usage_meter.verify()")"
SERVER_ERRORS="$(grep -c -E 'ERROR|FATAL|deadlock' "$UM_CLUSTER_DIR/server.log" || true)"
[ "$VERIFY" = 0 ] || PROBLEMS+=("usage_meter.verify() returned $VERIFY mismatches after the runs")
if [ "$SERVER_ERRORS" != 0 ]; then
    PROBLEMS+=("server log has $SERVER_ERRORS ERROR/FATAL/deadlock lines (first ones below)")
    grep -E 'ERROR|FATAL|deadlock' "$UM_CLUSTER_DIR/server.log" | head -5 | sed 's/^/     | /'
fi

tps() { awk -v t="$1" 'BEGIN { if (t == "") print "n/a"; else printf "%.1f", t }'; }
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
ratio_of_ratios() {
    awk -v a="${1:-}" -v b="${2:-}" -v c="${3:-}" -v d="${4:-}" \
        'BEGIN { if (a == "" || b + 0 == 0 || c + 0 == 0 || d + 0 == 0) print "n/a"; else printf "%.2f", (a / b) / (c / d) }'
}
verdict() { awk -v r="$1" -v bar="$2" 'BEGIN { if (r == "n/a") print "n/a"; else print (r + 0 >= bar + 0 ? "PASS" : "FAIL") }'; }

report_large() {
    say "large transactions: one client, tenant 'bulk' (100 users), every row with its own idempotency key; each workload"
    say "            is one transaction timed by $PGBENCH -n -c 1 -t 1 -f <script> (its \"latency average\"), after a VACUUM"
    say "            of daily_rollup and counters and a CHECKPOINT, right after its baseline: the same rows into plain tables"
    say "            with the same indexes (bench.bare_events as for bare_insert, bench.bare_keys LIKE"
    say "            usage_meter.idempotency_keys INCLUDING ALL): a ledger row and a key row per row."
    say "            ratio = baseline time / time (like TPS / base TPS: 1 = as fast as the baseline); $ROUNDS round(s), medians;"
    say "            other CPU % is counted in 10 ms clock ticks: coarse for runs under a second (not flagged below)"
    say ""
    local fmt='%-29s %7s %10s %8s  %-28s %10s %8s %6s  %-7s %-6s %s\n'
    printf "$fmt" workload rows "time ms" "us/row" baseline "base ms" "us/row" ratio bar result "other CPU % (run/base)"
    printf "$fmt" ----------------------------- ------- ---------- -------- ---------------------------- ---------- -------- ------ ------- ------ ----------------------
    lrow() {  # lrow WORKLOAD LABEL ROWS BASELINE BASE_LABEL BASE_ROWS BAR: BAR '-' for a row that only informs
        local r bar=$7
        r="$(awk -v x="${LRATIO[$1/$4]:-}" 'BEGIN { if (x == "") print "n/a"; else printf "%.2f", x }')"
        printf "$fmt" "$2" "$3" "$(tps "${LMS[$1]:-}")" "$(awk -v t="${LMS[$1]:-0}" -v n="$3" 'BEGIN { printf "%.1f", t * 1000 / n }')" \
            "$5" "$(tps "${LMS[$4]:-}")" "$(awk -v t="${LMS[$4]:-0}" -v n="$6" 'BEGIN { printf "%.1f", t * 1000 / n }')" "$r" \
            "$([ "$bar" = - ] && echo - || echo ">= $bar")" "$([ "$bar" = - ] && echo - || verdict "$r" "$bar")" \
            "${LOTHER[$1]:-?} / ${LOTHER[$4]:-?}"
    }
    lrow usage_record_1k "usage_record x$SMALL_CALLS, one txn" "$SMALL_CALLS" bare_1k "bare ledger+key rows, loop" "$SMALL_CALLS" -
    lrow usage_record_long "usage_record x$LARGE_CALLS, one txn" "$LARGE_CALLS" bare_long "bare ledger+key rows, loop" "$LARGE_CALLS" -
    lrow insert_select "INSERT ... SELECT $LARGE_ROWS" "$LARGE_ROWS" bare_insert_select "bare INSERT ... SELECT" "$LARGE_ROWS" 0.50
    lrow copy "COPY $LARGE_ROWS" "$LARGE_ROWS" bare_copy "bare COPY (events, keys)" "$LARGE_ROWS" 0.50
    lrow usage_record_batch_1k "usage_record_batch($SMALL_CALLS)" "$SMALL_CALLS" usage_record_1k "usage_record x$SMALL_CALLS, one txn" "$SMALL_CALLS" -
    lrow usage_record_batch_1k "usage_record_batch($SMALL_CALLS)" "$SMALL_CALLS" bare_1k "bare ledger+key rows, loop" "$SMALL_CALLS" -
    local per r
    per="$(awk -v x="${LRATIO[long_per_call/short_per_call]:-}" 'BEGIN { if (x == "") print "n/a"; else printf "%.2f", x }')"
    say ""
    say "usage_record per call, x$LARGE_CALLS / x$SMALL_CALLS in one transaction = $per  (bar: <= 1.30): $(awk -v r="$per" 'BEGIN { if (r == "n/a") print "n/a"; else print (r + 0 <= 1.3 ? "PASS" : "FAIL") }')"
    if [ "$ROUNDS" -gt 1 ]; then
        say "ratios of each round (round 1 first):"
        for r in usage_record_1k/bare_1k usage_record_long/bare_long insert_select/bare_insert_select copy/bare_copy \
                 usage_record_batch_1k/usage_record_1k usage_record_batch_1k/bare_1k long_per_call/short_per_call; do
            say "  ${r/\// \/ }: ${LROUND_RATIOS[$r]}"
        done
    fi
    say ""
}

report_throughput() {
    say "each run:   $PGBENCH_TEMPLATE"
    say "            (CHECKPOINT before each run; reads run before writes at each size; the bare table is"
    say "             refilled with a copy of the ledger before each write pair, so both start at the same size;"
    say "             at 1k the counters are then primed by bench/prime_counters.sql, -c 16 -t 1, for check_limit_primed;"
    say "             reserve_settle's TPS counts pairs: each is two transactions, reserve then the settling usage_record;"
    say "             floor_pair's likewise: a durable INSERT into bench.floor_holds, then a plain usage_record)"
    say "rounds:     $ROUNDS of the write runs at each size (bare_insert, usage_record, floor_pair, reserve_settle in turn); write rows"
    say "            show the median TPS, the largest other-CPU share and the median of the rounds' ratios"
    say ""
    local fmt='%-5s %-18s %8s %10s  %-12s %10s %6s  %-7s %-6s %s\n'
    printf "$fmt" size workload ledger TPS baseline "base TPS" ratio bar result "other CPU % (run/base)"
    printf "$fmt" ----- ------------------ -------- ---------- ------------ ---------- ------ ------- ------ ----------------------
    local size r
    row() {  # row SIZE WORKLOAD BASELINE [BAR]: BAR defaults to 0.50; '-' for a row that only informs
        local r bar=${4:-0.50}
        if [ -n "${RATIO[$1/$2/$3]:-}" ]; then r="$(awk -v x="${RATIO[$1/$2/$3]}" 'BEGIN { printf "%.2f", x }')"
        else r="$(ratio "${TPS[$1/$2]:-}" "${TPS[$1/$3]:-}")"; fi
        printf "$fmt" "$1" "$2" "${ROWS[$1/$2]}" "$(tps "${TPS[$1/$2]:-}")" "$3" "$(tps "${TPS[$1/$3]:-}")" "$r" \
            "$([ "$bar" = - ] && echo - || echo ">= $bar")" "$([ "$bar" = - ] && echo - || verdict "$r" "$bar")" \
            "${OTHER_CPU[$1/$2]:-?} / ${OTHER_CPU[$1/$3]:-?}"
    }
    for size in 1k 100k; do
        row "$size" usage_record bare_insert
        row "$size" check_limit pk_select
        [ "$size" = 1k ] && row 1k check_limit_primed pk_select
        row "$size" reserve_settle usage_record
        row "$size" floor_pair usage_record -
        row "$size" reserve_settle floor_pair -
    done
    if [ "$ROUNDS" -gt 1 ]; then
        say ""
        say "ratios of each round (round 1 first):"
        for size in 1k 100k; do
            say "  $size: usage_record / bare_insert ${ROUND_RATIOS[$size/usage_record/bare_insert]}; reserve_settle / usage_record ${ROUND_RATIOS[$size/reserve_settle/usage_record]}"
            say "  $size: floor_pair / usage_record ${ROUND_RATIOS[$size/floor_pair/usage_record]}; reserve_settle / floor_pair ${ROUND_RATIOS[$size/reserve_settle/floor_pair]}"
        done
    fi
    say ""
    say "check_limit sums one counter row per slot written: rows per user-day key of today during the runs:"
    say "  check_limit 1k ${SLOTS[1k/check_limit]:-?}, check_limit_primed 1k ${SLOTS[1k/check_limit_primed]:-?}, check_limit 100k ${SLOTS[100k/check_limit]:-?}"
    # Flatness is judged on the ratio to the primary-key read of the same stage, so that whatever slows the
    # whole machine between stages (page cache, autovacuum after the fill, CPU clock) cancels out.
    r="$(ratio_of_ratios "${TPS[100k/check_limit]:-}" "${TPS[100k/pk_select]:-}" \
                         "${TPS[1k/check_limit_primed]:-}" "${TPS[1k/pk_select]:-}")"
    say "check_limit flat in ledger size: (check_limit/pk_select at 100k) / (check_limit_primed/pk_select at 1k) = $r  (bar: >= 0.90): $(verdict "$r" 0.9)"
    say "  raw TPS at 100k / at 1k (primed, same counter shape) = $(ratio "${TPS[100k/check_limit]:-}" "${TPS[1k/check_limit_primed]:-}")"
    say "  TPS at 100k / at 1k with its counters as the fill left them (mostly none for today) = $(ratio "${TPS[100k/check_limit]:-}" "${TPS[1k/check_limit]:-}")"
    say "  for context, same ratio for pk_select = $(ratio "${TPS[100k/pk_select]:-}" "${TPS[1k/pk_select]:-}"), usage_record = $(ratio "${TPS[100k/usage_record]:-}" "${TPS[1k/usage_record]:-}"), bare_insert = $(ratio "${TPS[100k/bare_insert]:-}" "${TPS[1k/bare_insert]:-}")"
    say ""
    say "ledger rows (usage_meter.events) at the start of each run:"
    for size in 1k 100k; do
        say "  $size: pk_select ${ROWS[$size/pk_select]}, check_limit ${ROWS[$size/check_limit]},$( [ $size = 1k ] && echo " check_limit_primed ${ROWS[1k/check_limit_primed]},") bare_insert ${ROWS[$size/bare_insert]}, usage_record ${ROWS[$size/usage_record]}, after usage_record ${AFTER[$size]} (hot tenant's counters rows during the reads: ${COUNTERS[$size]})"
    done
    say ""
}

report() {
    say "usage_meter benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
    say "machine:    $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GB RAM"
    say "postgres:   $(q "SELECT version()")"
    say "extension:  usage_meter $(q "SELECT extversion FROM pg_extension WHERE extname = 'usage_meter'") as installed ($(pg_config --pkglibdir)/usage_meter.so), source at git $(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$BENCH_DIR/.." diff --quiet HEAD -- src sql extension 2>/dev/null || echo ' + uncommitted changes')"
    say "cluster:    throwaway (scripts/lib.sh): shared_buffers $(q "SHOW shared_buffers"), fsync $(q "SHOW fsync"), synchronous_commit $(q "SHOW synchronous_commit"), usage_meter.counter_slots $(psql -X -q -At -d "$DB" -c "LOAD 'usage_meter'" -c "SHOW usage_meter.counter_slots")"
    say "command:    $COMMAND"
    if [ "$ONLY" != large ]; then report_throughput; fi
    if [ "$ONLY" != throughput ]; then report_large; fi
    if [ "$ONLY" != large ]; then
        say "checks: bare insert row == usage_record row (all columns but ids, user, timestamps): $( [ "$SHAPE_DIFF" = 0 ] && echo yes || echo "NO ($SHAPE_DIFF differing)")"
        say "        average row size, usage_record / bare insert: $ROW_SIZES bytes"
        say "        reservations still held after the reserve_settle runs: $HELD"
    fi
    if [ "$ONLY" != throughput ]; then
        say "checks: large transactions' bare rows == ledger rows (all columns but ids, user, timestamps, key): $( [ "$LARGE_SHAPE_DIFF" = 0 ] && echo yes || echo "NO ($LARGE_SHAPE_DIFF differing)")"
        say "        ledger rows, ledger keys, bare rows, bare keys of tenant bulk: $LARGE_COUNTS (expected $LARGE_EXPECTED)"
    fi
    say "        usage_meter.verify() mismatches after all runs: $VERIFY"
    say "        server log ERROR/FATAL/deadlock lines: $SERVER_ERRORS"
    if [ ${#PROBLEMS[@]} -gt 0 ]; then
        say "problems:"
        printf '  - %s\n' "${PROBLEMS[@]}"
    else
        say "problems:   none (no failed transactions, no aborted clients)"
    fi
    if [ ${#WARNINGS[@]} -gt 0 ]; then
        say "warnings:   the machine was shared; TPS and ratios are noisier than usual (flagged above ${OTHER_CPU_BAR}% other CPU):"
        printf '  - %s\n' "${WARNINGS[@]}"
    fi
}

um_log "results"
if [ -z "$ONLY" ] && [ -z "${BENCH_LARGE_ROWS:-}" ] && [ -z "${BENCH_LARGE_CALLS:-}" ]; then
    mkdir -p "$RESULTS_DIR"
    report | tee "$RESULTS_DIR/latest.txt"
else
    report  # a partial run (BENCH_ONLY, smaller sizes) leaves bench/results/latest.txt as it is
fi
[ ${#PROBLEMS[@]} -eq 0 ]
