#!/usr/bin/env bash
# Runs every test of usage_meter on this machine: a formatting check of the C++ sources, the C++ core's
# GoogleTest suites (plain and with AddressSanitizer + UndefinedBehaviorSanitizer), then, against a
# throwaway cluster, the pg_regress files, the isolation specs, the libpq client test and the stages of
# tests/stages/. Installs what it needs first (Debian packages).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$UM_ROOT"

passed=0
failed=0
stage() {  # stage NAME COMMAND...
    local name=$1
    shift
    um_log "$name"
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

# The C++ sources are formatted with .clang-format (clang-format 14): lists each file that is not.
format_check() {
    local files
    files=$(git ls-files '*.cpp' '*.h' '*.c' 2>/dev/null || find src tests examples -name '*.cpp' -o -name '*.h' -o -name '*.c')
    # shellcheck disable=SC2086
    clang-format-14 --dry-run --Werror $files
}

core_tests() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null &&
        cmake --build "$dir" -j"$(nproc)" >/dev/null &&
        ctest --test-dir "$dir" --output-on-failure
}

regression_tests() {
    make installcheck || { cat build/regress/regression.diffs build/isolation/regression.diffs 2>/dev/null | head -200; return 1; }
}

client_test() {
    g++ -std=c++17 -O2 -Wall -Wextra -o build/concurrent_record tests/client/concurrent_record.cpp \
        -I"$(pg_config --includedir)" -lpq && build/concurrent_record
}

um_deps
mkdir -p build
stage "C++ formatting (clang-format 14)" format_check
stage "core unit tests (GoogleTest)" core_tests build/core
stage "core unit tests with ASan and UBSan" core_tests build/core-asan -DUSAGE_METER_SANITIZE=ON
um_build_install
um_cluster_start
stage "pg_regress and isolation tests" regression_tests
stage "libpq client test: concurrent recording" client_test
# Further stages that need the cluster (stress, fuzz, examples, crash, dump/restore, upgrade): each file in
# tests/stages/ defines its functions and calls `stage NAME FUNCTION`; they run in file-name order.
for stage_file in tests/stages/*.sh; do
    [ -e "$stage_file" ] || continue
    source "$stage_file"
done

echo
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
