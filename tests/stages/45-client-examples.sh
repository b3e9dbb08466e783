# Runs the client examples under examples/ (psql, Python with psycopg, Node.js with pg, C++ with libpq, and
# Go with pgx v4, all from Debian or npm) against the throwaway cluster, as a user
# would, and checks what they did: the first run records the response, a second run of the same response is
# counted once, a user over the limit is refused before the (simulated) provider call, a response without
# usage is reported and records nothing, and the ledger holds exactly the normalized counts. The Python and Node.js
# examples also record a spend log in one usage_record_batch call: the first run records its three lines, a second
# run records none again, a log with a bad line is refused naming the line and records none of it.

examples_db=usage_meter_examples

examples_deps() {
    local missing=()
    /usr/bin/python3 -c 'import psycopg' 2>/dev/null || missing+=(python3-psycopg)
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
    # Go and pgx v4 from Debian (about a minute to install on a fresh machine).
    command -v go >/dev/null || missing+=(golang-go)
    [ -d /usr/share/gocode/src/github.com/jackc/pgx/v4 ] || missing+=(golang-github-jackc-pgx-v4-dev)
    if [ ${#missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
    fi
    (cd examples/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

# example_run NAME USER [RESPONSE_FILE]: runs one language's example; prints its output.
example_run() {
    local name=$1 user=$2 response=${3:-}
    case $name in
        sql) PGDATABASE=$examples_db psql -X -q -v user="$user" ${response:+-v response_file="$response"} \
                 -f examples/sql/record.sql 2>&1 ;;
        python) env PGDATABASE=$examples_db ${response:+EXAMPLE_RESPONSE=$response} \
                    /usr/bin/python3 examples/python/record.py "$user" ;;
        node) env PGDATABASE=$examples_db ${response:+EXAMPLE_RESPONSE=$response} node examples/node/record.js "$user" ;;
        cpp) env PGDATABASE=$examples_db ${response:+EXAMPLE_RESPONSE=$response} build/example_cpp "$user" ;;
        go) env PGDATABASE=$examples_db ${response:+EXAMPLE_RESPONSE=$response} build/example_go "$user" ;;
    esac
}

# example_batch NAME [SPEND_LOG_FILE]: runs one language's spend-log sync (--batch); prints its output.
example_batch() {
    local name=$1 log=${2:-}
    case $name in
        python) env PGDATABASE=$examples_db ${log:+EXAMPLE_SPEND_LOG=$log} /usr/bin/python3 examples/python/record.py --batch ;;
        node) env PGDATABASE=$examples_db ${log:+EXAMPLE_SPEND_LOG=$log} node examples/node/record.js --batch ;;
    esac
}

expect_output() {  # expect_output WHAT PATTERN OUTPUT
    if ! grep -qE "$2" <<<"$3"; then
        echo "example $1: expected /$2/ in:"
        echo "$3"
        return 1
    fi
}

# examples_build: the dependencies and the C++ and Go programs (tests/stages/47-scale-out.sh runs them too).
examples_build() {
    examples_deps || return 1
    g++ -std=c++17 -O2 -Wall -Wextra -Werror -o build/example_cpp examples/cpp/record.cpp \
        -I"$(pg_config --includedir)" -lpq || return 1
    # Debian's Go packages live in GOPATH (no modules, no network).
    GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$UM_ROOT/build/go-cache" \
        go build -o build/example_go examples/go/record.go || return 1
    printf '{"id": "chatcmpl-cut", "object": "chat.completion", "usage": null}\n' >build/examples_no_usage.json
    # A spend log whose second line has its prompt tokens as a string (its first line is new): refused, nothing recorded.
    printf '%s\n' '[{"request_id": "chatcmpl-sync-004", "user": "carol", "model": "gpt-4o-mini-2024-07-18",' \
        '  "custom_llm_provider": "openai", "prompt_tokens": 10, "completion_tokens": 5, "startTime": "2026-11-20T10:00:00Z"},' \
        ' {"request_id": "chatcmpl-sync-005", "user": "carol", "model": "gpt-4o-mini-2024-07-18",' \
        '  "custom_llm_provider": "openai", "prompt_tokens": "12", "completion_tokens": 5, "startTime": "2026-11-20T10:00:01Z"}]' \
        >build/examples_bad_spend_log.json
}

# examples_check: runs every language's example against $examples_db (set up with examples/setup.sql) and
# checks what each printed.
examples_check() {
    local lang out ok=0
    for lang in sql python node cpp go; do
        out=$(example_run "$lang" alice) &&
            expect_output "$lang (first run)" "recorded event [0-9]+|\| f$" "$out" &&
            out=$(example_run "$lang" alice) &&
            expect_output "$lang (same response again)" "already recorded|\| t$" "$out" &&
            out=$(example_run "$lang" mallory) &&
            expect_output "$lang (over the limit)" "^refused: mallory has reached the day requests limit" "$out" ||
            { echo "FAILED: $lang example"; ok=1; continue; }
        if [ "$lang" = sql ]; then
            # psql stops at the error (ON_ERROR_STOP): exit status 3 and the message.
            out=$(example_run sql bob build/examples_no_usage.json) && { echo "sql: bad response accepted"; ok=1; }
        else
            out=$(example_run "$lang" bob build/examples_no_usage.json) || { echo "FAILED: $lang (bad response)"; ok=1; }
        fi
        expect_output "$lang (response without usage)" "no usage block" "$out" || ok=1
        echo "$lang example: recorded, deduplicated, refused over the limit, reported an unreadable response"
    done

    for lang in python node; do
        out=$(example_batch "$lang") &&
            expect_output "$lang (spend log)" "^batch: 3 events, 3 new, 0 already recorded" "$out" &&
            out=$(example_batch "$lang") &&
            expect_output "$lang (spend log again)" "^batch: 3 events, 0 new, 3 already recorded" "$out" &&
            out=$(example_batch "$lang" build/examples_bad_spend_log.json) &&
            expect_output "$lang (bad spend log)" \
                "^not recorded: element 1: invalid input_tokens: a JSON string where a whole number is expected" "$out" ||
            { echo "FAILED: $lang batch example"; ok=1; continue; }
        echo "$lang example: recorded a spend log in one batch, counted once on a re-run, refused a bad line naming it"
    done
    return $ok
}

# The ledger after the examples: one event per example tenant, for alice only, with the normalized counts of its
# response.
examples_ledger_query="SELECT tenant, user_id, provider, model, input_tokens, output_tokens, cache_read_tokens,
       cache_write_tokens, reasoning_tokens, cost, cost_source, idempotency_key
  FROM usage_meter.events WHERE tenant LIKE 'demo-%' AND idempotency_key NOT LIKE 'chatcmpl-sync-%' ORDER BY tenant"
examples_ledger="demo-cpp alice gemini gemini-2.5-pro 150000 1500 100000 0 500 0.2335 price_table Kq3aaPmOGIqgz7IP2Ny9mQQ
demo-go alice openai o4-mini-2025-04-16 1488 900 512 0 640 0.0057376 price_table resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41
demo-node alice openrouter openai/gpt-4o-mini 800 300 400 0 0 0.000275 reported gen-1741570283-aBcDeFgHiJkLmNoPqRsT
demo-python alice anthropic claude-sonnet-4-20250514 50 400 10000 2000 0 0.01665 price_table msg_013Zva2CMHLNnXjNJJKqJ2EF
demo-sql alice openai gpt-4o-mini-2024-07-18 176 300 1024 0 0 0.0002832 price_table chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"

# The spend logs: three events per batch example (none of the bad log), priced from the log's counts:
# 1200 x 0.15 + 300 x 0.60, 800 x 0.15 + 200 x 0.60, 50 x 0.15 + 20 x 0.60 per million.
examples_spend_query="SELECT tenant, count(*), string_agg(user_id || ':' || cost, ',' ORDER BY idempotency_key), sum(cost)
  FROM usage_meter.events WHERE idempotency_key LIKE 'chatcmpl-sync-%' GROUP BY tenant ORDER BY tenant"
examples_spend="demo-node 3 alice:0.00036,bob:0.00024,alice:0.0000195 0.0006195
demo-python 3 alice:0.00036,bob:0.00024,alice:0.0000195 0.0006195"

client_examples() {
    examples_build || return 1
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres \
        -c "DROP DATABASE IF EXISTS $examples_db WITH (FORCE)" -c "CREATE DATABASE $examples_db" &&
        PGDATABASE=$examples_db psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION usage_meter" \
            -f examples/setup.sql >/dev/null || return 1

    local ok=0
    examples_check || ok=1

    local ledger
    ledger=$(PGDATABASE=$examples_db psql -X -At -F ' ' -c "$examples_ledger_query") || return 1
    if [ "$ledger" != "$examples_ledger" ]; then
        echo "ledger after the examples:"; echo "$ledger"; echo "expected:"; echo "$examples_ledger"
        ok=1
    fi
    ledger=$(PGDATABASE=$examples_db psql -X -At -F ' ' -c "$examples_spend_query") || return 1
    if [ "$ledger" != "$examples_spend" ]; then
        echo "spend-log events after the examples:"; echo "$ledger"; echo "expected:"; echo "$examples_spend"
        ok=1
    fi
    local drift
    drift=$(PGDATABASE=$examples_db psql -X -At -c "SELECT count(*) FROM usage_meter.verify()") || return 1
    [ "$drift" = 0 ] || { echo "verify() reports $drift disagreements"; ok=1; }
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $examples_db WITH (FORCE)" || ok=1
    return $ok
}

stage "client examples (psql, Python, Node.js, C++, Go; batches from Python and Node.js) against the cluster" client_examples
