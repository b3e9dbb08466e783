# Fuzzes the provider payload reader (src/core/payload.cpp on the tree src/core/json.cpp builds with
# nlohmann/json, and the event-stream splitter src/core/event_stream.cpp) with libFuzzer from Debian's clang,
# under AddressSanitizer and UndefinedBehaviorSanitizer, seeded with the example responses: at most 1M
# executions or 60 seconds. A crash, a sanitizer report, a leak or a result outside the ledger's bounds
# fails the stage (and leaves the reproducer in build/fuzz/).

payload_fuzz() {
    if ! command -v clang++ >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null || return 1
    fi
    local dir=build/fuzz
    mkdir -p "$dir" || return 1
    clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Isrc/core tests/fuzz/payload_fuzz.cpp src/core/*.cpp -o "$dir/payload_fuzz" || return 1
    # Seeds: every example response under each provider name that reads it (first byte picks the name).
    local corpus
    corpus=$(mktemp -d "$dir/corpus.XXXXXX") || return 1
    local f i=0
    for f in examples/responses/*.json; do
        for selector in '\x00' '\x01' '\x04' '\x06' '\x07' '\x08' '\x0a' '\x0b' '\x0c' '\x0d' '\x0e' '\x0f'; do
            { printf "$selector"; cat "$f"; } >"$corpus/seed_$i"
            i=$((i + 1))
        done
    done
    local status=0
    (cd "$dir" && ./payload_fuzz -dict=../../tests/fuzz/payload.dict -max_total_time=60 -runs=1000000 \
        -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$(basename "$corpus")") \
        >"$dir/fuzz.log" 2>&1 || status=$?
    grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|SUMMARY)|ERROR|Test unit written" \
        "$dir/fuzz.log" || true
    [ "$status" -eq 0 ] || tail -40 "$dir/fuzz.log"
    rm -rf "$corpus"
    return "$status"
}

stage "payload parser fuzzed (libFuzzer + ASan/UBSan, 1M runs or 60 s)" payload_fuzz
