#!/usr/bin/env bash
# usage_record through usage_meter_proxy (PL/Proxy) with 1, 2 and 4 partitions, against usage_record called
# directly, in one throwaway cluster: every database (the partitions and the proxies) on this machine. On a
# 2-core machine this measures the proxy's overhead (a second backend and a round trip per call), not scaling:
# the partitions share the same cores. Not part of CI (docs/scale-out.md, "Capacity").
#
#   bash bench/proxy.sh                    # 15 s per pgbench run
#   BENCH_SECONDS=30 bash bench/proxy.sh
#
# Each run: pgbench -n -M prepared -c 16 -j 2 -T $BENCH_SECONDS -f bench/proxy_record.sql (one event for one of
# 1000 tenants, chosen at random, so the load spreads over the partitions). Runs, in this order: direct (one
# usage_meter database), proxy over 1, 2 and 4 partitions, and over 4 partitions calling the PL/Proxy function
# itself (usage_meter_proxy.usage_record: no PL/pgSQL wrapper, no exception block, remote errors with
# PL/Proxy's prefix) to show what the wrapper costs, and a routed call that does nothing (SELECT 1 on the
# partition) for the proxy path's own ceiling. Prints TPS, the ratio to direct measured in the same run,
# the share of the CPU taken by other processes during the run, and writes it to bench/results/proxy.txt.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$BENCH_DIR/../scripts/lib.sh"

SECONDS_PER_RUN="${BENCH_SECONDS:-15}"
CLIENTS=16
THREADS=2
RESULTS="$BENCH_DIR/results/proxy.txt"
COMMAND="$( [ -n "${BENCH_SECONDS:-}" ] && printf 'BENCH_SECONDS=%q ' "$BENCH_SECONDS"; printf 'bash %q' "$0")"

[ -f "$(pg_config --sharedir)/extension/usage_meter_proxy.control" ] ||
    { echo "usage_meter_proxy is not installed: make install" >&2; exit 1; }
[ -f "$(pg_config --sharedir)/extension/plproxy.control" ] ||
    { echo "PL/Proxy is not installed: apt-get install postgresql-15-plproxy" >&2; exit 1; }
um_cluster_start
WORK="$(mktemp -d /tmp/usage_meter_bench.XXXXXX)"
trap 'rm -rf "$WORK"; um_cluster_stop' EXIT
PGBENCH="$UM_PG_BIN/pgbench"
q() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

PRICE="SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08, 1.00)"
# Each proxy its own partitions (proxyN: partN_0 .. partN_N-1), so each run starts from empty ledgers.
createdb direct && q direct -c "CREATE EXTENSION usage_meter" -c "$PRICE" >/dev/null
for n in 1 2 4; do
    for ((p = 0; p < n; p++)); do
        createdb "part${n}_$p" && q "part${n}_$p" -c "CREATE EXTENSION usage_meter" -c "$PRICE" >/dev/null
    done
    opts=$(for ((p = 0; p < n; p++)); do printf "%sp%d 'dbname=part%d_%d'" "$([ $p -gt 0 ] && echo ', ')" $p $n $p; done)
    createdb "proxy$n"
    q "proxy$n" -c "SET client_min_messages = warning" -c "CREATE EXTENSION usage_meter_proxy CASCADE" \
        -c "CREATE SERVER usage_meter FOREIGN DATA WRAPPER plproxy OPTIONS ($opts)" \
        -c "CREATE USER MAPPING FOR PUBLIC SERVER usage_meter OPTIONS (user 'postgres')" >/dev/null
done
q proxy4 -c "CREATE FUNCTION bench_noop(tenant text) RETURNS integer LANGUAGE plproxy
             AS \$\$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); SELECT 1; \$\$"

source "$BENCH_DIR/cpu.sh"  # machine_ticks, cluster_ticks

declare -A TPS OTHER
# run NAME DATABASE [SCRIPT]: one pgbench run.
run() {
    local name=$1 db=$2 script=${3:-proxy_record} m0 mt0 c0 m1 mt1 c1 t0 t1
    q "$db" -c "CHECKPOINT"
    read -r m0 mt0 <<<"$(machine_ticks)"; c0=$(cluster_ticks); t0=$(cat /proc/$$/stat | awk '{ print $16 + $17 }')
    "$PGBENCH" -n -M prepared -c $CLIENTS -j $THREADS -T "$SECONDS_PER_RUN" -f "$BENCH_DIR/$script.sql" "$db" \
        >"$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log"; exit 1; }
    read -r m1 mt1 <<<"$(machine_ticks)"; c1=$(cluster_ticks); t1=$(cat /proc/$$/stat | awk '{ print $16 + $17 }')
    TPS[$name]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$WORK/$name.log")
    # other processes' share of the machine: busy ticks not spent by the cluster or pgbench (this shell's children)
    OTHER[$name]=$(awk -v busy=$((m1 - m0)) -v all=$((mt1 - mt0)) -v ours=$((c1 - c0 + t1 - t0)) \
        'BEGIN { o = (busy - ours) / (all > 0 ? all : 1) * 100; printf "%.0f", (o < 0 ? 0 : o) }')
    printf '   %-22s %9.1f tps  (other processes %s%% CPU)\n' "$name" "${TPS[$name]}" "${OTHER[$name]}"
}

echo "== runs ($SECONDS_PER_RUN s each)"
run direct direct
run proxy_1_partition proxy1
run proxy_2_partitions proxy2
run proxy_4_partitions proxy4
run plproxy_only_4 proxy4 proxy_record_plproxy_only
run noop_4 proxy4 proxy_noop

# Placement check (the 4-partition proxy): every partition got events, each tenant on one partition only.
spread=$(for p in 0 1 2 3; do printf '%s ' "$(q "part4_$p" -c "SELECT count(*) FROM usage_meter.events")"; done)
dup=$(for p in 0 1 2 3; do q "part4_$p" -c "SELECT DISTINCT tenant FROM usage_meter.events"; done | sort | uniq -d | wc -l)

{
    echo "usage_meter_proxy benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine:    $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GB RAM"
    echo "postgres:   $(q direct -c "SELECT version()")"
    echo "extensions: usage_meter $(q direct -c "SELECT extversion FROM pg_extension WHERE extname = 'usage_meter'"), usage_meter_proxy $(q proxy4 -c "SELECT extversion FROM pg_extension WHERE extname = 'usage_meter_proxy'"), plproxy $(q proxy4 -c "SELECT extversion FROM pg_extension WHERE extname = 'plproxy'"); source at git $(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "cluster:    one throwaway cluster (scripts/lib.sh), every database in it: shared_buffers $(q direct -c "SHOW shared_buffers"), fsync $(q direct -c "SHOW fsync"), synchronous_commit $(q direct -c "SHOW synchronous_commit")"
    echo "command:    $COMMAND"
    echo "each run:   $PGBENCH -n -M prepared -c $CLIENTS -j $THREADS -T $SECONDS_PER_RUN -f bench/proxy_record.sql <db>"
    echo "            (one usage_record for one of 1000 tenants at random; CHECKPOINT before each run)"
    echo "note:       all partitions share this machine's $(nproc) cores: the ratios show the proxy's overhead, not scaling"
    echo ""
    printf '%-22s %10s %8s %s\n' run TPS "vs direct" "other CPU %"
    printf '%-22s %10s %8s %s\n' ---------------------- ---------- -------- -----------
    for name in direct proxy_1_partition proxy_2_partitions proxy_4_partitions plproxy_only_4 noop_4; do
        printf '%-22s %10.1f %8s %s\n' "$name" "${TPS[$name]}" \
            "$(awk -v a="${TPS[$name]}" -v b="${TPS[direct]}" 'BEGIN { printf "%.2f", a / b }')" "${OTHER[$name]}"
    done
    echo ""
    echo "plproxy_only_4: the PL/Proxy function itself (usage_meter_proxy.usage_record), without the PL/pgSQL wrapper"
    echo "                that re-raises remote errors unprefixed; wrapper cost = 1 - proxy_4_partitions / plproxy_only_4"
    echo "                = $(awk -v a="${TPS[proxy_4_partitions]}" -v b="${TPS[plproxy_only_4]}" 'BEGIN { printf "%.0f %%", (1 - a / b) * 100 }')"
    echo "noop_4:         a PL/Proxy call routed by tenant that runs SELECT 1 on the partition (bench/proxy_noop.sql):"
    echo "                the proxy path's own ceiling on this machine, proxy and partitions sharing its cores"
    echo "events on the 4 partitions after the last two runs: $spread(tenants on more than one partition: $dup)"
} | tee "$RESULTS"
