# Stage: the reservation guarantee under real concurrency (tests/client/reservation_stress.cpp): 32 libpq
# connections race reserve/settle/release cycles; exactly K are admitted, no deadlock, verify() is empty.
# Bounded to 180 s (it takes well under a minute on a 2-core machine).

reservation_stress() {
    local deadlocks_before deadlocks_after
    deadlocks_before="$(grep -c 'deadlock detected' "$UM_CLUSTER_DIR/server.log" 2>/dev/null || true)"
    g++ -std=c++17 -O2 -Wall -Wextra -o build/reservation_stress tests/client/reservation_stress.cpp \
        -I"$(pg_config --includedir)" -lpq || return 1
    timeout 180 build/reservation_stress || return 1
    deadlocks_after="$(grep -c 'deadlock detected' "$UM_CLUSTER_DIR/server.log" 2>/dev/null || true)"
    [ "${deadlocks_after:-0}" = "${deadlocks_before:-0}" ] || { echo "FAIL  deadlocks in the server log"; return 1; }
}

stage "libpq stress test: concurrent reservations admit exactly K" reservation_stress
