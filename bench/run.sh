#!/usr/bin/env bash
# Throughput benchmark of usage_meter against plain-SQL baselines, in a throwaway cluster:
#   usage_record  vs a bare INSERT of the same ledger row into a trigger-less copy of the ledger table
#   check_limit   vs a primary-key SELECT of one ledger row
#   reserve + settle (a pair of transactions) vs usage_record, and vs its floor: the same pair with the reserve
#                 reduced to one durable INSERT (floor_pair), the most any design that commits a hold could reach
# at a ~1k-row and a ~100k-row ledger, 16 clients on one hot tenant. Prints a table and writes it to
# bench/results/latest.txt. Measures the extension as installed on this machine (it does not build it).
#
#   bash bench/run.sh                     # 15 s per pgbench run, 13 runs, plus the fills
#   BENCH_SECONDS=60 bash bench/run.sh    # longer runs, steadier numbers
#   BENCH_ROUNDS=3 bash bench/run.sh      # the write runs (bare insert, usage_record, floor pair, reserve/settle) 3 times
#                                         # in turn at each size; each write ratio is the median of its rounds'
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$BENCH_DIR/../scripts/lib.sh"

SECONDS_PER_RUN="${BENCH_SECONDS:-15}"
ROUNDS="${BENCH_ROUNDS:-1}"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_ROUNDS must be a positive integer" >&2; exit 2; }
CLIENTS=16
THREADS=2
SMALL=1000
LARGE=100000
DB=usage_meter_bench
RESULTS_DIR="$BENCH_DIR/results"
COMMAND="$( [ -n "${BENCH_SECONDS:-}" ] && printf 'BENCH_SECONDS=%q ' "$BENCH_SECONDS"; [ -n "${BENCH_ROUNDS:-}" ] && printf 'BENCH_ROUNDS=%q ' "$BENCH_ROUNDS"; printf 'bash %q' "$0"; [ $# -gt 0 ] && printf ' %q' "$@"; true)"

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

# CPU accounting in clock ticks, to tell how much of the machine other processes took during a run (the numbers
# mean little on a shared, busy machine): the whole machine from /proc/stat, this benchmark as the cluster's
# processes (the postmaster's own and reaped children's time, plus its live children) and this shell's children.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
cluster_ticks() {
    local pm pid total=0
    pm="$(head -1 "$UM_CLUSTER_DIR/data/postmaster.pid")"
    for pid in "$pm" $(ps -o pid= --ppid "$pm"); do
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ s += $12 + $13 + $14 + $15 } END { print s + 0 }')))
    done
    echo "$total"
}
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

um_log "benchmark: $CLIENTS clients, $THREADS threads, ${SECONDS_PER_RUN}s per run"
fill_to "$SMALL"
stage 1k
fill_to "$LARGE"
stage 100k

um_log "checks"
# The bare insert must write the same logical row as usage_record (all but ids, user and timestamps).
COLS="tenant, operation, model, provider, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
      reasoning_tokens, quantity, cost, billed_cost, priced, cost_source, price_id, unit_price_id, markup_pct, day,
      idempotency_key, session_id, latency_ms, success, metadata"
SHAPE_DIFF="$(q "WITH r AS (SELECT DISTINCT $COLS FROM usage_meter.events WHERE event_id > ${WRITE_START_ID[1k]}),
                      b AS (SELECT DISTINCT $COLS FROM bench.bare_events WHERE event_id > ${WRITE_START_ID[1k]})
                 SELECT (SELECT count(*) FROM (TABLE r EXCEPT TABLE b) x) + (SELECT count(*) FROM (TABLE b EXCEPT TABLE r) y)")"
ROW_SIZES="$(q "SELECT round(avg(pg_column_size(e.*))) || ' / ' ||
                       (SELECT round(avg(pg_column_size(b.*))) FROM bench.bare_events AS b
                         WHERE b.event_id > ${WRITE_START_ID[100k]})
                  FROM usage_meter.events AS e WHERE e.event_id > ${WRITE_START_ID[100k]}")"
VERIFY="$(q "SELECT count(*) FROM usage_meter.verify()")"
HELD="$(q "SELECT count(*) FROM usage_meter.reservations WHERE state = 'held'")"
[ "$HELD" = 0 ] || PROBLEMS+=("$HELD reservations still held after the reserve_settle runs (every one should be settled)")
SERVER_ERRORS="$(grep -c -E 'ERROR|FATAL|deadlock' "$UM_CLUSTER_DIR/server.log" || true)"
[ "$SHAPE_DIFF" = 0 ] || PROBLEMS+=("bare insert row differs from the usage_record row in $SHAPE_DIFF column sets")
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

report() {
    say "usage_meter benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
    say "machine:    $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GB RAM"
    say "postgres:   $(q "SELECT version()")"
    say "extension:  usage_meter $(q "SELECT extversion FROM pg_extension WHERE extname = 'usage_meter'") as installed ($(pg_config --pkglibdir)/usage_meter.so), source at git $(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$BENCH_DIR/.." diff --quiet HEAD -- src sql extension 2>/dev/null || echo ' + uncommitted changes')"
    say "cluster:    throwaway (scripts/lib.sh): shared_buffers $(q "SHOW shared_buffers"), fsync $(q "SHOW fsync"), synchronous_commit $(q "SHOW synchronous_commit"), usage_meter.counter_slots $(psql -X -q -At -d "$DB" -c "LOAD 'usage_meter'" -c "SHOW usage_meter.counter_slots")"
    say "command:    $COMMAND"
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
    say "checks: bare insert row == usage_record row (all columns but ids, user, timestamps): $( [ "$SHAPE_DIFF" = 0 ] && echo yes || echo "NO ($SHAPE_DIFF differing)")"
    say "        average row size, usage_record / bare insert: $ROW_SIZES bytes"
    say "        usage_meter.verify() mismatches after all runs: $VERIFY"
    say "        reservations still held after the reserve_settle runs: $HELD"
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

mkdir -p "$RESULTS_DIR"
um_log "results"
report | tee "$RESULTS_DIR/latest.txt"
[ ${#PROBLEMS[@]} -eq 0 ]
