# CPU accounting for the benchmarks (sourced by bench/run.sh and bench/proxy.sh), in clock ticks, to tell how
# much of the machine other processes took during a run (the numbers mean little on a shared, busy machine):
# the whole machine from /proc/stat, the benchmark as the cluster's processes (the postmaster's own and reaped
# children's time, plus its live children). Needs UM_CLUSTER_DIR (scripts/lib.sh).

# machine_ticks: prints the machine's busy ticks and all its ticks since boot.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

# cluster_ticks: prints the ticks the cluster's processes used.
cluster_ticks() {
    local pm pid total=0
    pm="$(head -1 "$UM_CLUSTER_DIR/data/postmaster.pid")"
    for pid in "$pm" $(ps -o pid= --ppid "$pm"); do
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ s += $12 + $13 + $14 + $15 } END { print s + 0 }')))
    done
    echo "$total"
}
