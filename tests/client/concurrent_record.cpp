// libpq client test of usage_meter under concurrency: 32 connections record usage at once, single-threaded,
// with the asynchronous API (PQsendQueryParams / PQconsumeInput / PQisBusy / poll()). Most calls hit one hot
// tenant; some share idempotency keys across connections so duplicates race. Then the ledger, the daily
// summaries and the live counters are checked against each other and against what the client sent.
//
// Connection settings come from the environment (PGHOST, PGPORT, PGUSER). The last line printed is
// "client: N passed, M failed"; the exit status is 0 only when every check passed.

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "client_checks.h"

namespace {

using client::check;
using client::fatal;
using client::Result;

constexpr const char* kTestDb = "usage_meter_client_test";
constexpr int kConnections = 32;
constexpr int kCallsPerConnection = 200;
constexpr int kSharedKeys = 300;    // shared keys are 'dup-0' .. 'dup-299'
constexpr int kStallSeconds = 120;  // no result from any connection for this long: report a hang
constexpr int kScale = 12;          // money is kept client-side as integers of 10^-12 USD

const char* const kTenants[] = {"acme", "globex", "initech"};
constexpr int kTenantCount = 3;

// ---------------------------------------------------------------------------------------------------------
// Checks and reporting.
// ---------------------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------------------
// Small libpq helpers.
// ---------------------------------------------------------------------------------------------------------

PGconn* connect_to(const char* dbname) {
    const char* keys[] = {"dbname", "application_name", nullptr};
    const char* values[] = {dbname, "usage_meter_concurrent_record", nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 0);
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string message = PQerrorMessage(conn);
        PQfinish(conn);
        fatal(std::string("could not connect to database ") + dbname + ": " + message);
    }
    return conn;
}

// Runs a statement that must succeed; returns its result.
Result run(PGconn* conn, const std::string& sql, const std::vector<std::optional<std::string>>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    Result r(
        PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    ExecStatusType status = PQresultStatus(r.res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        fatal("statement failed: " + sql + "\n      " + PQresultErrorMessage(r.res));
    return r;
}

// ---------------------------------------------------------------------------------------------------------
// Money as integers of 10^-kScale USD.
// ---------------------------------------------------------------------------------------------------------
int64_t pow10(int n) {
    int64_t v = 1;
    while (n-- > 0) v *= 10;
    return v;
}

std::string money_text(int64_t v) {
    bool negative = v < 0;
    uint64_t m = negative ? static_cast<uint64_t>(-v) : static_cast<uint64_t>(v);
    uint64_t unit = static_cast<uint64_t>(pow10(kScale));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%0*" PRIu64, negative ? "-" : "", m / unit, kScale, m % unit);
    return buf;
}

// Parses numeric text as printed by PostgreSQL; nullopt if it is not exactly representable at kScale.
std::optional<int64_t> parse_money(const std::string& text) {
    size_t i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
    int64_t whole = 0;
    size_t digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) whole = whole * 10 + (text[i] - '0');
    int64_t frac = 0;
    int frac_digits = 0;
    if (i < text.size() && text[i] == '.') {
        for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            if (frac_digits < kScale) {
                frac = frac * 10 + (text[i] - '0');
                ++frac_digits;
            } else if (text[i] != '0') {
                return std::nullopt;
            }
        }
    }
    if (i != text.size() || (digits == 0 && frac_digits == 0)) return std::nullopt;
    int64_t v = whole * pow10(kScale) + frac * pow10(kScale - frac_digits);
    return negative ? -v : v;
}

// ---------------------------------------------------------------------------------------------------------
// The workload.
// ---------------------------------------------------------------------------------------------------------
uint64_t mix(uint64_t x) {  // splitmix64
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Prices set up by the test, per token / per unit, in 10^-kScale USD.
// claude-3-5-haiku: 0.80 / 4.00 / 0.08 per million tokens, cache writes at the input price.
const int64_t kInputPerToken = 800000;          // 0.80e-6 USD
const int64_t kOutputPerToken = 4000000;        // 4.00e-6
const int64_t kCacheReadPerToken = 80000;       // 0.08e-6
const int64_t kCacheWritePerToken = 800000;     // NULL cache write price = input price
const int64_t kWebSearchPerTenth = 1000000000;  // web_search: 0.01 USD per unit, i.e. 0.001 per tenth of a unit

struct Call {
    int conn = 0;
    int step = 0;
    // What is sent.
    int tenant = 0;
    std::optional<std::string> user_id;
    std::string operation;
    std::optional<std::string> model;
    int64_t input = 0, output = 0, cache_read = 0, cache_write = 0, reasoning = 0;
    std::optional<std::string> quantity;
    std::optional<std::string> cost;
    std::optional<std::string> occurred_at;  // nullopt: the default, now()
    std::optional<std::string> key;
    bool shared_key = false;
    std::optional<std::string> session_id;
    std::optional<std::string> latency_ms;
    bool success = true;
    std::optional<std::string> metadata;
    // What the client expects.
    bool expect_priced = false;
    int64_t expect_cost = 0;
    // What came back.
    bool done = false;
    bool failed = false;
    std::string error;
    long long event_id = -1;
    bool priced = false;
    bool duplicate = false;
    std::optional<std::string> cost_text, billed_text;
    double seconds = 0;
};

std::string utc_timestamp(time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S+00", &tm);
    return buf;
}

// Fills the parameters of one call from a hash. Calls with a shared key get their hash (and their tenant)
// from the key alone, so every send of one key carries the same event.
void fill(Call& c, uint64_t h, time_t start) {
    int r = static_cast<int>(h % 100);
    c.tenant = r < 78 ? 0 : r < 93 ? 1 : 2;  // acme is the hot tenant
    int u = static_cast<int>((h >> 8) % 20);
    if (u == 0) {
        c.user_id.reset();  // tenant-level usage, no user
    } else if (u < 10) {
        c.user_id = "u1";  // a hot user too
    } else {
        c.user_id = "u" + std::to_string(2 + u % 7);
    }
    uint64_t t = mix(h ^ 0x5bd1e995);
    c.input = static_cast<int64_t>(t % 5000);
    c.output = static_cast<int64_t>((t >> 13) % 2000);
    c.reasoning = ((t >> 24) & 3) == 0 ? c.output / 3 : 0;
    c.cache_read = ((t >> 26) & 3) == 0 ? static_cast<int64_t>((t >> 28) % 3000) : 0;
    c.cache_write = ((t >> 40) & 7) == 0 ? static_cast<int64_t>((t >> 43) % 1000) : 0;
    int kind = static_cast<int>((h >> 16) % 100);
    if (kind < 45) {
        c.operation = "chat";
        c.model = "claude-3-5-haiku";
    } else if (kind < 55) {  // priced model, cost reported by the caller
        c.operation = "chat";
        c.model = "claude-3-5-haiku";
        c.cost = "0." + std::string(6 - std::to_string((t >> 50) % 100000 + 1).size(), '0') +
                 std::to_string((t >> 50) % 100000 + 1);
    } else if (kind < 67) {  // no model: tokens cannot be priced
        c.operation = "chat";
        if (((t >> 52) & 3) == 0) c.input = c.output = c.reasoning = c.cache_read = c.cache_write = 0;
    } else if (kind < 77) {  // a model without a price
        c.operation = "chat";
        c.model = "mystery-model-x";
    } else if (kind < 82) {  // a model without a price, cost reported
        c.operation = "chat";
        c.model = "mystery-model-x";
        c.cost = std::to_string((t >> 50) % 3) + ".25";
    } else if (kind < 90) {  // quantity with a unit price
        c.operation = "web_search";
        c.input = c.output = c.reasoning = c.cache_read = c.cache_write = 0;
        int tenths = 5 + static_cast<int>((t >> 52) % 26);
        c.quantity = std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
    } else if (kind < 95) {  // quantity without a unit price
        c.operation = "tool_call";
        c.input = c.output = c.reasoning = c.cache_read = c.cache_write = 0;
        c.quantity = std::to_string(1 + (t >> 52) % 3);
    } else {
        c.operation = "embedding";
        c.model = "claude-3-5-haiku";
        c.output = c.reasoning = 0;
    }
    if ((h >> 24) % 100 < 12) {  // backfill: 3 to 9 days ago, never in any tenant's today
        int days = 3 + static_cast<int>((h >> 32) % 7);
        int seconds = static_cast<int>((h >> 40) % 3600);
        c.occurred_at = utc_timestamp(start - static_cast<time_t>(days) * 86400 - seconds);
    }
    c.success = (h >> 44) % 40 != 0;
    if ((h >> 50) % 3 != 0) c.latency_ms = std::to_string(20 + (h >> 20) % 3000);
    if ((h >> 53) % 2 == 0) c.session_id = "s-" + std::to_string((h >> 54) % 50);
    if ((h >> 56) % 4 == 0) c.metadata = "{\"src\": \"client-test\", \"n\": " + std::to_string((h >> 57) % 100) + "}";

    // What usage_meter should charge: a reported cost wins; otherwise every non-zero part needs a price.
    if (c.cost) {
        c.expect_priced = true;
        c.expect_cost = *parse_money(*c.cost);
        return;
    }
    int64_t cost = 0;
    bool tokens = c.input + c.output + c.cache_read + c.cache_write != 0;
    if (tokens) {
        if (!c.model || *c.model != "claude-3-5-haiku") return;
        cost += c.input * kInputPerToken + c.output * kOutputPerToken + c.cache_read * kCacheReadPerToken +
                c.cache_write * kCacheWritePerToken;
    }
    if (c.quantity) {
        if (c.operation != "web_search") return;
        int64_t tenths = *parse_money(*c.quantity) / pow10(kScale - 1);
        cost += tenths * kWebSearchPerTenth;
    }
    c.expect_priced = true;
    c.expect_cost = cost;
}

Call make_call(int conn, int step, time_t start, uint64_t seed) {
    Call c;
    c.conn = conn;
    c.step = step;
    if (step % 3 == 0) {
        // Shared key: every connection with the same conn % 6 sends the same key at the same step, so they race;
        // keys wrap around after step 150 and are sent again later (plain, non-racing duplicates).
        int k = ((step / 3) * 6 + conn % 6) % kSharedKeys;
        fill(c, mix(seed ^ (0xD00D0000ULL + static_cast<uint64_t>(k))), start);
        c.key = "dup-" + std::to_string(k);
        c.shared_key = true;
    } else {
        fill(c, mix(seed ^ (static_cast<uint64_t>(conn) << 20 | static_cast<uint64_t>(step))), start);
        if (step % 10 == 5) c.key = "uniq-" + std::to_string(conn) + "-" + std::to_string(step);
    }
    return c;
}

// Named notation with explicit casts; occurred_at is left out for "now" so the function's default applies.
std::string record_sql(bool with_occurred_at) {
    std::string sql =
        "SELECT event_id, cost, billed_cost, priced, duplicate FROM usage_meter.usage_record("
        "tenant => $1::text, user_id => $2::text, operation => $3::text, model => $4::text,"
        " input_tokens => $5::bigint, output_tokens => $6::bigint, cache_read_tokens => $7::bigint,"
        " cache_write_tokens => $8::bigint, reasoning_tokens => $9::bigint, quantity => $10::numeric,"
        " cost => $11::numeric, idempotency_key => $12::text, session_id => $13::text,"
        " latency_ms => $14::integer, success => $15::boolean, metadata => $16::jsonb";
    if (with_occurred_at) sql += ", occurred_at => $17::timestamptz";
    return sql + ")";
}

struct Slot {
    PGconn* conn = nullptr;
    std::vector<int> calls;  // indexes into the call list, in sending order
    size_t next = 0;         // next call to send
    int current = -1;        // call in flight
    bool active = false;
    bool need_flush = false;
    std::chrono::steady_clock::time_point sent_at;
};

// Sends the slot's next call; returns false when it has none left (or on a send error, recorded).
bool send_next(Slot& s, std::vector<Call>& calls) {
    if (s.next >= s.calls.size()) {
        s.active = false;
        s.current = -1;
        return false;
    }
    s.current = s.calls[s.next++];
    Call& c = calls[s.current];
    std::vector<std::string> storage = {
        kTenants[c.tenant],           c.user_id.value_or(""),        c.operation,
        c.model.value_or(""),         std::to_string(c.input),       std::to_string(c.output),
        std::to_string(c.cache_read), std::to_string(c.cache_write), std::to_string(c.reasoning),
        c.quantity.value_or(""),      c.cost.value_or(""),           c.key.value_or(""),
        c.session_id.value_or(""),    c.latency_ms.value_or(""),     c.success ? "true" : "false",
        c.metadata.value_or(""),      c.occurred_at.value_or("")};
    std::vector<bool> is_null = {false,         !c.user_id,    false, !c.model,    false,         false,
                                 false,         false,         false, !c.quantity, !c.cost,       !c.key,
                                 !c.session_id, !c.latency_ms, false, !c.metadata, !c.occurred_at};
    int n = c.occurred_at ? 17 : 16;
    const char* values[17];
    for (int i = 0; i < n; ++i) values[i] = is_null[i] ? nullptr : storage[i].c_str();
    static const std::string with = record_sql(true), without = record_sql(false);
    s.sent_at = std::chrono::steady_clock::now();
    if (!PQsendQueryParams(s.conn, c.occurred_at ? with.c_str() : without.c_str(), n, nullptr, values, nullptr, nullptr,
                           0)) {
        c.done = c.failed = true;
        c.error = std::string("send failed: ") + PQerrorMessage(s.conn);
        s.active = false;
        return false;
    }
    int f = PQflush(s.conn);
    s.need_flush = f == 1;
    if (f < 0) {
        c.done = c.failed = true;
        c.error = std::string("flush failed: ") + PQerrorMessage(s.conn);
        s.active = false;
        return false;
    }
    return true;
}

void take_result(Call& c, PGresult* res) {
    ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        c.failed = true;
        const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        c.error = std::string(state ? state : "?????") + " " + PQresultErrorMessage(res);
        while (!c.error.empty() && c.error.back() == '\n') c.error.pop_back();
        if (c.error.size() <= 6) c.error += PQresStatus(status);
        return;
    }
    if (PQgetisnull(res, 0, 0)) {
        c.failed = true;
        c.error = "usage_record returned a NULL event_id";
        return;
    }
    c.event_id = std::strtoll(PQgetvalue(res, 0, 0), nullptr, 10);
    if (!PQgetisnull(res, 0, 1)) c.cost_text = PQgetvalue(res, 0, 1);
    if (!PQgetisnull(res, 0, 2)) c.billed_text = PQgetvalue(res, 0, 2);
    c.priced = std::strcmp(PQgetvalue(res, 0, 3), "t") == 0;
    c.duplicate = std::strcmp(PQgetvalue(res, 0, 4), "t") == 0;
}

// What the server is doing, for a report on a hang.
void dump_activity(PGconn* admin) {
    PGresult* r = PQexec(admin,
                         "SELECT a.pid, a.state, a.wait_event_type, a.wait_event, pg_blocking_pids(a.pid),"
                         " left(a.query, 80) FROM pg_stat_activity a WHERE a.datname = current_database()"
                         " AND a.pid <> pg_backend_pid() ORDER BY a.pid");
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQntuples(r); ++i)
            std::printf("      pid %s %s %s/%s blocked by %s: %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                        PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5));
    } else {
        std::printf("      (pg_stat_activity: %s)\n", PQerrorMessage(admin));
    }
    PQclear(r);
}

// Runs every call over the slots until all are answered. Returns false on a hang.
bool run_workload(std::vector<Slot>& slots, std::vector<Call>& calls, PGconn* admin) {
    int active = 0;
    for (Slot& s : slots) {
        s.active = true;
        if (send_next(s, calls)) ++active;
    }
    auto last_progress = std::chrono::steady_clock::now();
    std::vector<pollfd> fds;
    std::vector<Slot*> owners;
    while (active > 0) {
        fds.clear();
        owners.clear();
        for (Slot& s : slots) {
            if (!s.active) continue;
            pollfd p{};
            p.fd = PQsocket(s.conn);
            p.events = static_cast<short>(POLLIN | (s.need_flush ? POLLOUT : 0));
            fds.push_back(p);
            owners.push_back(&s);
        }
        int n = poll(fds.data(), fds.size(), 1000);
        if (n < 0) {
            if (errno == EINTR) continue;
            fatal(std::string("poll failed: ") + std::strerror(errno));
        }
        auto now = std::chrono::steady_clock::now();
        if (n == 0) {
            if (now - last_progress > std::chrono::seconds(kStallSeconds)) {
                std::printf("HANG  no result for %d s with %d calls in flight; server activity:\n", kStallSeconds,
                            active);
                dump_activity(admin);
                return false;
            }
            continue;
        }
        for (size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].revents == 0) continue;
            Slot& s = *owners[i];
            Call& c = calls[s.current];
            if (s.need_flush) {
                int f = PQflush(s.conn);
                s.need_flush = f == 1;
                if (f < 0) {
                    c.done = c.failed = true;
                    c.error = std::string("flush failed: ") + PQerrorMessage(s.conn);
                    s.active = false;
                    --active;
                    continue;
                }
            }
            if (!PQconsumeInput(s.conn)) {
                c.done = c.failed = true;
                c.error = std::string("connection lost: ") + PQerrorMessage(s.conn);
                s.active = false;
                --active;
                continue;
            }
            bool finished = false;
            while (!PQisBusy(s.conn)) {
                PGresult* res = PQgetResult(s.conn);
                if (res == nullptr) {
                    finished = true;
                    break;
                }
                take_result(c, res);
                PQclear(res);
            }
            if (!finished) continue;
            c.done = true;
            c.seconds = std::chrono::duration<double>(now - s.sent_at).count();
            last_progress = now;
            if (!send_next(s, calls)) --active;
        }
    }
    return true;
}

}  // namespace

int main() {
    auto started = std::chrono::steady_clock::now();
    time_t start = std::time(nullptr);
    uint64_t seed = 20241123;

    // 1. A fresh database with the extension, a price, and tenants in time zones.
    PGconn* admin = connect_to("postgres");
    PQsetNoticeProcessor(
        admin, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
    run(admin, std::string("DROP DATABASE IF EXISTS ") + kTestDb + " WITH (FORCE)");
    run(admin, std::string("CREATE DATABASE ") + kTestDb);
    PGconn* db = connect_to(kTestDb);
    run(db, "CREATE EXTENSION usage_meter");
    run(db, "SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08)");
    run(db, "SELECT usage_meter.set_unit_price('web_search', 0.01)");
    run(db, "SELECT usage_meter.set_tenant('acme', 'America/Los_Angeles')");
    run(db, "SELECT usage_meter.set_tenant('globex', 'Asia/Kolkata', 10)");
    // initech is left to be created on first use (UTC, no markup), by concurrent writers.
    int64_t markup_pct[kTenantCount] = {0, 10, 0};

    // 2. The workload: kConnections x kCallsPerConnection calls, each connection one call in flight at a time.
    std::vector<Call> calls;
    std::vector<Slot> slots(kConnections);
    for (int conn = 0; conn < kConnections; ++conn) {
        slots[conn].conn = connect_to(kTestDb);
        if (PQsetnonblocking(slots[conn].conn, 1) != 0) fatal("PQsetnonblocking failed");
        for (int step = 0; step < kCallsPerConnection; ++step) {
            slots[conn].calls.push_back(static_cast<int>(calls.size()));
            calls.push_back(make_call(conn, step, start, seed));
        }
    }
    auto load_started = std::chrono::steady_clock::now();
    bool finished = run_workload(slots, calls, admin);
    double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_started).count();
    if (!finished) {
        check(false, "workload finishes (no hang)", "see the server activity above; the test database is kept");
        std::printf("client: %d passed, %d failed\n", client::g_passed, client::g_failed);
        return 1;
    }

    // 3. Checks. First, what the calls returned.
    int errors = 0, not_done = 0, duplicates = 0;
    std::map<std::string, int> error_kinds;
    double max_call = 0;
    for (const Call& c : calls) {
        if (!c.done) ++not_done;
        if (c.failed) {
            ++errors;
            if (++error_kinds[c.error] == 1)
                std::printf("      error (conn %d, step %d, tenant %s, key %s): %s\n", c.conn, c.step,
                            kTenants[c.tenant], c.key.value_or("-").c_str(), c.error.c_str());
        } else if (c.duplicate) {
            ++duplicates;
        }
        if (c.seconds > max_call) max_call = c.seconds;
    }
    check(not_done == 0, "every call was answered", std::to_string(not_done) + " calls never completed");
    {
        std::string detail = std::to_string(errors) + " of " + std::to_string(calls.size()) + " calls failed";
        for (const auto& [message, count] : error_kinds) detail += "\n      " + std::to_string(count) + " x " + message;
        check(errors == 0, "no call returned an error", detail);
    }

    // Expected events: every call without a shared key, plus one per distinct (tenant, shared key).
    struct KeyGroup {
        int tenant = 0;
        std::vector<int> calls;
    };
    std::map<std::pair<int, std::string>, KeyGroup> shared;
    long long expected_events = 0;
    long long expected_per_tenant[kTenantCount] = {0, 0, 0};
    long long expected_today[kTenantCount] = {0, 0, 0};
    int64_t expected_cost[kTenantCount] = {0, 0, 0};
    for (size_t i = 0; i < calls.size(); ++i) {
        const Call& c = calls[i];
        bool first = true;
        if (c.shared_key) {
            KeyGroup& g = shared[{c.tenant, *c.key}];
            g.tenant = c.tenant;
            first = g.calls.empty();
            g.calls.push_back(static_cast<int>(i));
        }
        if (!first) continue;
        ++expected_events;
        ++expected_per_tenant[c.tenant];
        if (!c.occurred_at) ++expected_today[c.tenant];
        if (c.expect_priced) expected_cost[c.tenant] += c.expect_cost;
    }
    long long expected_duplicates = static_cast<long long>(calls.size()) - expected_events;

    // Shared keys: one event per key, the same event_id for every call, exactly one not flagged duplicate.
    int bad_groups = 0, racing_groups = 0;
    std::string first_bad;
    for (const auto& [key, g] : shared) {
        std::set<long long> ids;
        int originals = 0;
        std::set<int> steps;
        for (int i : g.calls) {
            const Call& c = calls[i];
            if (c.failed) continue;
            ids.insert(c.event_id);
            if (!c.duplicate) ++originals;
            steps.insert(c.step);
        }
        if (steps.size() < g.calls.size()) ++racing_groups;
        if (ids.size() != 1 || originals != 1) {
            if (bad_groups++ == 0) {
                first_bad = "key " + key.second + " (" + kTenants[g.tenant] + "): " + std::to_string(ids.size()) +
                            " distinct event_ids, " + std::to_string(originals) + " calls with duplicate = false";
            }
        }
    }
    check(bad_groups == 0,
          "each of the " + std::to_string(shared.size()) + " shared keys (" + std::to_string(racing_groups) +
              " sent concurrently) has one event_id and exactly one original",
          std::to_string(bad_groups) + " keys wrong; first: " + first_bad);

    // Calls without a shared key are never duplicates, and no two originals share an event_id.
    int unexpected_duplicates = 0;
    std::map<long long, int> originals;
    for (size_t i = 0; i < calls.size(); ++i) {
        const Call& c = calls[i];
        if (c.failed) continue;
        if (!c.shared_key && c.duplicate) ++unexpected_duplicates;
        if (!c.duplicate) ++originals[c.event_id];
    }
    int reused = 0;
    for (const auto& [id, count] : originals)
        if (count > 1) ++reused;
    check(unexpected_duplicates == 0, "calls with unique or no keys are never duplicates",
          std::to_string(unexpected_duplicates) + " flagged duplicate");
    check(reused == 0, "no two original calls returned the same event_id",
          std::to_string(reused) + " event_ids returned by more than one original call");
    check(duplicates == expected_duplicates, "duplicate calls = calls - distinct events",
          "got " + std::to_string(duplicates) + ", expected " + std::to_string(expected_duplicates));

    // Pricing as returned to the caller.
    int wrong_price = 0;
    std::string first_wrong;
    for (const Call& c : calls) {
        if (c.failed) continue;
        bool ok = c.priced == c.expect_priced;
        if (ok && c.expect_priced) {
            std::optional<int64_t> got = c.cost_text ? parse_money(*c.cost_text) : std::nullopt;
            ok = got && *got == c.expect_cost;
            int64_t billed = c.expect_cost + c.expect_cost * markup_pct[c.tenant] / 100;
            std::optional<int64_t> got_billed = c.billed_text ? parse_money(*c.billed_text) : std::nullopt;
            ok = ok && got_billed && *got_billed == billed;
        } else if (ok) {
            ok = !c.cost_text && !c.billed_text;
        }
        if (!ok && wrong_price++ == 0)
            first_wrong = "conn " + std::to_string(c.conn) + " step " + std::to_string(c.step) + ": priced " +
                          (c.priced ? "t" : "f") + " cost " + c.cost_text.value_or("NULL") + " billed " +
                          c.billed_text.value_or("NULL") + ", expected priced " + (c.expect_priced ? "t" : "f") +
                          " cost " + money_text(c.expect_cost);
    }
    check(wrong_price == 0, "every call returned the expected priced flag, cost and billed cost",
          std::to_string(wrong_price) + " wrong; first: " + first_wrong);

    // The ledger against the calls.
    long long ledger_events = run(db, "SELECT count(*) FROM usage_meter.events").num(0, 0);
    check(ledger_events == expected_events, "ledger rows = calls - duplicates",
          "ledger has " + std::to_string(ledger_events) + ", expected " + std::to_string(calls.size()) + " - " +
              std::to_string(expected_duplicates) + " = " + std::to_string(expected_events));
    {
        Result r = run(db, "SELECT event_id, tenant, idempotency_key FROM usage_meter.events");
        std::set<long long> ledger_ids;
        std::map<std::pair<std::string, std::string>, long long> ledger_keys;
        for (int i = 0; i < r.rows(); ++i) {
            ledger_ids.insert(r.num(i, 0));
            if (!r.null(i, 2)) ledger_keys[{r.text(i, 1), r.text(i, 2)}] = r.num(i, 0);
        }
        std::set<long long> returned;
        for (const auto& [id, count] : originals) returned.insert(id);
        check(ledger_ids == returned, "the ledger's event_ids are exactly those returned as originals",
              std::to_string(ledger_ids.size()) + " in the ledger, " + std::to_string(returned.size()) + " returned");
        int key_mismatch = 0;
        for (const auto& [key, g] : shared) {
            auto it = ledger_keys.find({kTenants[key.first], key.second});
            for (int i : g.calls)
                if (!calls[i].failed && (it == ledger_keys.end() || it->second != calls[i].event_id)) ++key_mismatch;
        }
        check(key_mismatch == 0, "every shared-key call returned the ledger's event for its key",
              std::to_string(key_mismatch) + " calls disagree with the ledger");
    }

    // Summaries against the ledger.
    {
        Result r = run(db, "SELECT * FROM usage_meter.verify()");
        std::string detail = std::to_string(r.rows()) + " differences";
        for (int i = 0; i < r.rows() && i < 10; ++i) {
            detail += "\n     ";
            for (int col = 0; col < PQnfields(r.res); ++col)
                detail += " " + std::string(PQfname(r.res, col)) + "=" + (r.null(i, col) ? "NULL" : r.text(i, col));
        }
        check(r.rows() == 0, "usage_meter.verify() returns no rows", detail);
    }

    for (int t = 0; t < kTenantCount; ++t) {
        std::string tenant = kTenants[t];
        Result r = run(db,
                       "SELECT (SELECT count(*) FROM usage_meter.events WHERE tenant = $1),"
                       "       (SELECT COALESCE(sum(requests), 0) FROM usage_meter.daily_usage WHERE tenant = $1),"
                       "       (SELECT COALESCE(sum(cost), 0) FROM usage_meter.events WHERE tenant = $1),"
                       "       (SELECT COALESCE(sum(billed_cost), 0) FROM usage_meter.events WHERE tenant = $1)",
                       {tenant});
        long long ledger = r.num(0, 0), daily = r.num(0, 1);
        check(ledger == expected_per_tenant[t], tenant + ": ledger rows = expected from the calls",
              "ledger " + std::to_string(ledger) + ", expected " + std::to_string(expected_per_tenant[t]));
        check(daily == ledger, tenant + ": sum of daily_usage.requests = ledger rows",
              "daily_usage " + std::to_string(daily) + ", ledger " + std::to_string(ledger));
        int64_t billed = expected_cost[t] + expected_cost[t] * markup_pct[t] / 100;
        auto cost = parse_money(r.text(0, 2)), billed_got = parse_money(r.text(0, 3));
        check(cost && *cost == expected_cost[t] && billed_got && *billed_got == billed,
              tenant + ": ledger cost and billed cost = computed by the client",
              "ledger " + r.text(0, 2) + " / " + r.text(0, 3) + ", expected " + money_text(expected_cost[t]) + " / " +
                  money_text(billed));

        // Today and this month in the tenant's own time zone, from the live counters and from the ledger.
        Result live = run(db,
                          "WITH b AS (SELECT period, period_start FROM usage_meter.period_bounds($1)),"
                          " l AS (SELECT period, requests, cost FROM usage_meter.live_usage($1))"
                          " SELECT b.period, b.period_start, l.requests, l.cost,"
                          "   (SELECT count(*) FROM usage_meter.events e WHERE e.tenant = $1 AND"
                          "     CASE b.period WHEN 'day' THEN e.day = b.period_start"
                          "     ELSE e.day >= b.period_start AND e.day < b.period_start + interval '1 month' END),"
                          "   (SELECT COALESCE(sum(e.cost), 0) FROM usage_meter.events e WHERE e.tenant = $1 AND"
                          "     CASE b.period WHEN 'day' THEN e.day = b.period_start"
                          "     ELSE e.day >= b.period_start AND e.day < b.period_start + interval '1 month' END)"
                          " FROM b JOIN l USING (period) ORDER BY b.period",
                          {tenant});
        if (live.rows() != 2) {
            check(false, tenant + ": live_usage has a day and a month row", std::to_string(live.rows()) + " rows");
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            std::string period = live.text(i, 0), start_day = live.text(i, 1);
            long long live_requests = live.num(i, 2), ledger_requests = live.num(i, 4);
            std::string live_cost = live.text(i, 3), ledger_cost = live.text(i, 5);
            std::string label = tenant + ": " + period + " " + start_day + ": ";
            if (period == "day") {
                check(ledger_requests == expected_today[t], label + "ledger rows of today = calls recorded now",
                      "ledger " + std::to_string(ledger_requests) + ", expected " + std::to_string(expected_today[t]) +
                          " (a tenant-local midnight during the run moves some)");
            }
            check(live_requests == ledger_requests, label + "live_usage requests = ledger rows",
                  "live " + std::to_string(live_requests) + ", ledger " + std::to_string(ledger_requests));
            auto a = parse_money(live_cost), b = parse_money(ledger_cost);
            check(a && b && *a == *b, label + "live_usage cost = ledger sum(cost)",
                  "live " + live_cost + ", ledger " + ledger_cost);
        }
    }

    // 4. Summary, then the test database goes away.
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf(
        "summary: %zu calls over %d connections, %lld events (%lld expected), %d duplicates, %d errors,"
        " %zu shared keys; recording %.2f s (%.0f calls/s, slowest call %.3f s); total %.2f s\n",
        calls.size(), kConnections, ledger_events, expected_events, duplicates, errors, shared.size(), load_seconds,
        static_cast<double>(calls.size()) / load_seconds, max_call, elapsed);
    for (Slot& s : slots) PQfinish(s.conn);
    PQfinish(db);
    // Plain DROP waits (up to 5 s) for the closed sessions' backends to exit; FORCE only if that was not enough.
    PGresult* dropped = PQexec(admin, (std::string("DROP DATABASE IF EXISTS ") + kTestDb).c_str());
    if (PQresultStatus(dropped) != PGRES_COMMAND_OK) {
        PQclear(dropped);
        dropped = PQexec(admin, (std::string("DROP DATABASE IF EXISTS ") + kTestDb + " WITH (FORCE)").c_str());
    }
    check(PQresultStatus(dropped) == PGRES_COMMAND_OK, "the test database is dropped", PQresultErrorMessage(dropped));
    PQclear(dropped);
    PQfinish(admin);
    std::printf("client: %d passed, %d failed\n", client::g_passed, client::g_failed);
    return client::g_failed == 0 ? 0 : 1;
}
