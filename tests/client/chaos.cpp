// Chaos test of usage_meter (issue 13): every feature at once against one ledger, in two rounds
// (usage_meter.counter_slots = 1, then 16). Each round makes a fresh database and forks one process per
// connection; each runs a random mix for a fixed time: keyed (unique, and shared keys whose duplicates race)
// and unkeyed usage_record, backfills into other partitions and the default one, record_response sent twice,
// void_event / correct_event of its own events, reprice in both modes, rebuild, create_partitions,
// reserve + settle / release, set_tenant markups, set_limit / remove_limit and check_limit. Process 0 is also
// the operator: it drops old months early in the round and adds and changes prices on a schedule.
//
// Every acknowledged call and every error is logged by its process to a file. Once all are done the parent
// checks the ledger against those logs: each acknowledged event is there exactly once with the id the client
// was given and nothing else is, each voided event's reversal is its exact negation, verify() is empty, no
// rebuild() found anything to repair, and no error is one the docs do not list for its call (40P01, 23514 and
// 40001 never are).
//
// Connection settings come from the environment (PGHOST, PGPORT, PGUSER: a superuser). CHAOS_SECONDS (per
// round, default 40), CHAOS_CONNECTIONS (default 14) and CHAOS_SEED change the run. The last line printed is
// "chaos: N passed, M failed"; the exit status is 0 only when every check passed.

#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "client_checks.h"

namespace {

using client::check;
using client::fatal;
using client::Result;

using Text = std::optional<std::string>;  // a parameter; nullopt is SQL NULL
using Params = std::vector<Text>;

constexpr int kStatementTimeoutMs = 20000;  // a wait this long is a hang: an unexpected 57014
constexpr int kGraceSeconds = 30;           // processes still running this long after the round are killed
constexpr int kSharedKeys = 300;            // keys 'dup-N' sent by every process: their duplicates race
constexpr int kSharedResponses = 120;       // response ids 'chatcmpl-shared-N', likewise
constexpr long long kDay = 86400;
constexpr long long kNow = LLONG_MIN;          // occurred_at = now(): never before a retention boundary
constexpr long long kVoidableAge = 40 * kDay;  // only younger events are voided: no drop reaches them

const char* const kTenants[] = {"acme", "globex", "initech"};
const char* const kZones[] = {"America/Los_Angeles", "Asia/Tokyo", "UTC"};  // initech is created on first use

// ---------------------------------------------------------------------------------------------------------
// Checks, reporting and libpq helpers (as in concurrent_record.cpp).
// ---------------------------------------------------------------------------------------------------------

PGconn* connect_to(const std::string& dbname) {  // the caller checks PQstatus
    const char* keys[] = {"dbname", "application_name", nullptr};
    const char* values[] = {dbname.c_str(), "usage_meter_chaos", nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 0);
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);  // "does not exist, skipping", alerts
    return conn;
}

Result exec(PGconn* conn, const std::string& sql, const Params& params = {}) {
    std::vector<const char*> values;
    for (const Text& p : params) values.push_back(p ? p->c_str() : nullptr);
    return Result(
        PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
}

// A statement of the parent (set-up and checks) that must succeed.
Result run(PGconn* conn, const std::string& sql) {
    Result r = exec(conn, sql);
    if (!r.ok()) fatal("statement failed: " + sql + "\n      " + PQresultErrorMessage(r.res));
    return r;
}

std::string clean(std::string s) {  // one field of a log line: no tabs or line breaks
    for (char& ch : s)
        if (ch == '\t' || ch == '\n' || ch == '\r') ch = ' ';
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

std::string when(long long occurred) { return occurred == kNow ? "-" : std::to_string(occurred); }

uint64_t mix(uint64_t x) {  // splitmix64
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct Rng {
    uint64_t state;
    uint64_t next() { return state = mix(state); }
    int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
    bool chance(int percent) { return below(100) < percent; }
};

// ---------------------------------------------------------------------------------------------------------
// One connection's process. Its log lines (tab-separated), read by the parent:
//   A call tenant event_id duplicate(t/f) key|- occurred|-   an acknowledged recording
//   V tenant event_id reversal_id replacement_id|-          an acknowledged void_event (correct_event)
//   S reservation_id event_id, L reservation_id             a reservation settled, released
//   E call sqlstate occurred|- message                      a refused call
//   R tenant rows first-row                                 a rebuild() that changed summaries
//   T call ok refused                                       calls made of a kind (at the end)
// occurred is the occurred_at sent, in epoch seconds ('-': now()).
// ---------------------------------------------------------------------------------------------------------
struct Own {
    std::string tenant;
    long long id;
    long long occurred;
};

class Worker {
public:
    Worker(PGconn* db, FILE* log, int index, uint64_t seed, time_t start, int seconds)
        : db_(db), log_(log), index_(index), rng_{seed}, start_(start), seconds_(seconds) {}

    void run() {
        if (index_ == 0) schedule_operator();
        while (!lost_ && std::time(nullptr) < start_ + seconds_) {
            if (!schedule_.empty() && std::time(nullptr) >= schedule_.front().first) {
                schedule_.front().second();
                schedule_.erase(schedule_.begin());
            } else {
                random_call();
            }
        }
        for (const auto& [name, t] : tally_) std::fprintf(log_, "T\t%s\t%ld\t%ld\n", name.c_str(), t.first, t.second);
    }

private:
    PGconn* db_;
    FILE* log_;
    int index_;
    Rng rng_;
    time_t start_;
    int seconds_;
    long long seq_ = 0;  // makes this process's keys unique
    bool lost_ = false;
    std::vector<Own> mine_;    // recent events this process was given: what it voids and corrects
    std::vector<Own> voided_;  // those it voided: voided again now and then (refused: already reversed)
    std::map<std::string, std::pair<long, long>> tally_;
    std::vector<std::pair<time_t, std::function<void()>>> schedule_;

    std::string unique(const char* prefix) { return prefix + std::to_string(index_) + "-" + std::to_string(++seq_); }

    // Runs one call: its result, or nullopt after logging the refusal.
    std::optional<Result> call(const char* name, const std::string& sql, const Params& params, long long occurred = kNow) {
        Result r = exec(db_, sql, params);
        if (r.ok()) {
            ++tally_[name].first;
            return r;
        }
        ++tally_[name].second;
        const char* state = PQresultErrorField(r.res, PG_DIAG_SQLSTATE);
        const char* message = PQresultErrorField(r.res, PG_DIAG_MESSAGE_PRIMARY);
        std::fprintf(log_, "E\t%s\t%s\t%s\t%s\n", name, state ? state : "-----", when(occurred).c_str(),
                     clean(message ? message : PQerrorMessage(db_)).c_str());
        if (PQstatus(db_) != CONNECTION_OK) lost_ = true;  // the server went away: stop (reported as an error)
        return std::nullopt;
    }

    // Logs a recording's result (event_id, duplicate) and keeps the event to void or correct later.
    void acknowledge(const char* name, const std::string& tenant, const Result& r, const std::string& key,
                     long long occurred) {
        std::fprintf(log_, "A\t%s\t%s\t%s\t%s\t%s\t%s\n", name, tenant.c_str(), r.text(0, 0).c_str(),
                     r.text(0, 1).c_str(), key.empty() ? "-" : key.c_str(), when(occurred).c_str());
        if (occurred == kNow || occurred > std::time(nullptr) - kVoidableAge)
            mine_.push_back({tenant, r.num(0, 0), occurred});
        if (mine_.size() > 400) mine_.erase(mine_.begin(), mine_.begin() + 100);
    }

    static Text user(uint64_t h) { return h % 7 == 0 ? std::nullopt : Text("u" + std::to_string(h % 7)); }
    static Text key_or_null(const std::string& key) { return key.empty() ? std::nullopt : Text(key); }

    // A backfill time: 1 to 75 days ago, after the retention boundary as last committed. A drop committing
    // right after this read can still refuse it; the parent allows exactly that refusal.
    long long backfill_time() {
        auto kept =
            call("read kept_from", "SELECT floor(extract(epoch FROM kept_from))::bigint FROM usage_meter.retention", {});
        long long now = std::time(nullptr), oldest = now - 75 * kDay;
        if (kept && kept->rows() == 1 && kept->num(0, 0) + 3600 > oldest) oldest = kept->num(0, 0) + 3600;
        if (oldest >= now - kDay) return now - kDay;
        return oldest + static_cast<long long>(rng_.next() % static_cast<uint64_t>(now - kDay - oldest));
    }

    // usage_record: 0 unkeyed, 1 unique key, 2 shared key, 3 backfill (half of them keyed).
    void record(int kind) {
        uint64_t h = rng_.next();
        std::string key;
        long long occurred = kNow;
        if (kind == 1) key = unique("k-");
        if (kind == 2) {  // everything derives from the key: every send of it is the same event
            int n = rng_.below(kSharedKeys);
            h = mix(0xD00DULL + static_cast<uint64_t>(n));
            key = "dup-" + std::to_string(n);
        }
        if (kind == 3) {
            occurred = backfill_time();
            if (rng_.chance(50)) key = unique("b-");
        }
        std::string tenant = kTenants[h % 3];
        static const char* const models[] = {"claude-3-5-haiku", "claude-3-5-haiku", "gpt-4o-mini", "mystery-x",
                                             "mystery-z"};
        int m = static_cast<int>((h >> 8) % 5);
        Text provider = m < 2 && (h >> 12) % 2 ? Text("anthropic") : std::nullopt;  // repriced by its own price
        auto r = call("usage_record",
                      "SELECT event_id, duplicate FROM usage_meter.usage_record($1, $2, 'chat', $3,"
                      " input_tokens => $4::bigint, output_tokens => $5::bigint, cache_read_tokens => $6::bigint,"
                      " provider => $7, occurred_at => COALESCE(to_timestamp($8::bigint), now()), idempotency_key => $9)",
                      {tenant, user(h >> 16), std::string(models[m]), std::to_string((h >> 20) % 5000),
                       std::to_string((h >> 33) % 2000), std::to_string((h >> 45) % 4 ? 0 : (h >> 47) % 3000), provider,
                       occurred == kNow ? std::nullopt : Text(std::to_string(occurred)), key_or_null(key)},
                      occurred);
        if (r) acknowledge("usage_record", tenant, *r, key, occurred);
    }

    // An OpenAI chat completion arriving twice (webhook and sync): the second send is a duplicate.
    void record_response() {
        uint64_t h = rng_.next();
        std::string id = unique("chatcmpl-");
        if (rng_.chance(30)) {  // an id shared with the other processes: their sends race
            int n = rng_.below(kSharedResponses);
            h = mix(0xC0FFEEULL + static_cast<uint64_t>(n));
            id = "chatcmpl-shared-" + std::to_string(n);
        }
        std::string tenant = kTenants[h % 3];
        long long prompt = static_cast<long long>((h >> 8) % 4000);
        std::string body = "{\"id\":\"" + id + "\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\"," +
                           "\"choices\":[],\"usage\":{\"prompt_tokens\":" + std::to_string(prompt) +
                           ",\"completion_tokens\":" + std::to_string((h >> 20) % 1500) +
                           ",\"prompt_tokens_details\":{\"cached_tokens\":" + std::to_string(prompt / 3) + "}}}";
        for (int send = 0; send < 2; ++send) {
            auto r = call("record_response",
                          "SELECT event_id, duplicate FROM usage_meter.record_response($1, $2, 'chat', 'auto',"
                          " $3::jsonb)",
                          {tenant, user(h >> 16), body});
            if (r) acknowledge("record_response", tenant, *r, id, kNow);
        }
    }

    // Voids or corrects one of this process's events (shared-key events are other processes' too, so those
    // race); one time in ten, an event it voided already.
    void void_or_correct(bool correct) {
        bool again = !voided_.empty() && rng_.chance(10);
        std::vector<Own>& pool = again ? voided_ : mine_;
        if (pool.empty()) return;
        size_t i = static_cast<size_t>(rng_.below(static_cast<int>(pool.size())));
        Own e = pool[i];
        if (!again) {
            mine_.erase(mine_.begin() + static_cast<long>(i));
            voided_.push_back(e);
        }
        if (!correct) {
            auto r = call("void_event", "SELECT usage_meter.void_event($1, $2::bigint, 'chaos void')",
                          {e.tenant, std::to_string(e.id)}, e.occurred);
            if (r) std::fprintf(log_, "V\t%s\t%lld\t%s\t-\n", e.tenant.c_str(), e.id, r->text(0, 0).c_str());
            return;
        }
        auto r = call("correct_event",
                      "SELECT reversal_id, replacement_id FROM usage_meter.correct_event($1, $2::bigint,"
                      " 'chaos correction', input_tokens => $3::bigint)",
                      {e.tenant, std::to_string(e.id), std::to_string(rng_.below(3000))}, e.occurred);
        if (!r) return;
        std::fprintf(log_, "V\t%s\t%lld\t%s\t%s\n", e.tenant.c_str(), e.id, r->text(0, 0).c_str(), r->text(0, 1).c_str());
        mine_.push_back({e.tenant, r->num(0, 1), e.occurred});  // the replacement is an ordinary event
    }

    // reserve (UM001 is an answer), then settle with a usage_record, or release.
    void reserve_cycle() {
        uint64_t h = rng_.next();
        std::string tenant = kTenants[h % 3];
        Text u = user(h >> 8);
        auto r = call("reserve", "SELECT usage_meter.reserve($1, $2, estimated_cost => $3::numeric)",
                      {tenant, u, "0.0" + std::to_string(10 + (h >> 16) % 90)});
        if (!r) return;
        std::string rid = r->text(0, 0);
        if (rng_.chance(30)) {
            if (call("release", "SELECT usage_meter.release($1::bigint)", {rid}))
                std::fprintf(log_, "L\t%s\n", rid.c_str());
            return;
        }
        std::string key = rng_.chance(50) ? unique("s-") : "";
        auto s = call("settle",
                      "SELECT event_id, duplicate FROM usage_meter.usage_record($1, $2, 'chat', 'claude-3-5-haiku',"
                      " input_tokens => $3::bigint, output_tokens => 100, idempotency_key => $4,"
                      " reservation_id => $5::bigint)",
                      {tenant, u, std::to_string((h >> 24) % 5000), key_or_null(key), rid});
        if (!s) return;
        acknowledge("settle", tenant, *s, key, kNow);
        std::fprintf(log_, "S\t%s\t%s\n", rid.c_str(), s->text(0, 0).c_str());
    }

    void reprice(Text tenant, const std::string& since, bool only_unpriced) {
        call("reprice",
             "SELECT events_changed FROM usage_meter.reprice($1, now() - $2::interval, $3::timestamptz,"
             " $4::boolean)",
             {tenant, since, rng_.chance(50) ? std::nullopt : Text("infinity"), only_unpriced ? "true" : "false"});
    }

    // Recording changes the ledger and the summaries together, so anything rebuild() repairs is drift.
    void rebuild() {
        std::string tenant = kTenants[rng_.below(3)];
        auto r = call("rebuild",
                      "SELECT concat_ws(' ', summary, user_id, period, period_start, field, before, after)"
                      " FROM usage_meter.rebuild($1)",
                      {tenant});
        if (r && r->rows() > 0)
            std::fprintf(log_, "R\t%s\t%d\t%s\n", tenant.c_str(), r->rows(), clean(r->text(0, 0)).c_str());
    }

    // set_limit / remove_limit; $1, where used, is a number from 300 to 2999.
    void change_limit() {
        static const char* const changes[] = {
            "SELECT usage_meter.set_limit('globex', NULL, 'requests', 'day', $1::numeric)",  // refuses reserve()
            "SELECT usage_meter.set_limit('acme', '*', 'tokens', 'day', $1::numeric * 1000)",
            "SELECT usage_meter.remove_limit('acme', '*', 'tokens', 'day')",
            "SELECT usage_meter.set_limit('acme', 'u1', 'cost', 'day', $1::numeric / 1000, true, true)",  // alerts
            "SELECT usage_meter.set_limit('initech', NULL, 'cost', 'month', $1::numeric / 500, false)",   // soft
            "SELECT usage_meter.remove_limit('initech', NULL, 'cost', 'month')"};
        std::string sql = changes[rng_.below(6)];
        if (sql.find("$1") == std::string::npos)
            call("remove_limit", sql, {});
        else
            call("set_limit", sql, {std::to_string(300 + rng_.below(2700))});
    }

    void random_call() {
        int r = rng_.below(100);
        uint64_t h = rng_.next();
        if (r < 14) return record(0);
        if (r < 26) return record(1);
        if (r < 40) return record(2);
        if (r < 52) return record(3);
        if (r < 59) return record_response();
        if (r < 66) return void_or_correct(false);
        if (r < 71) return void_or_correct(true);
        if (r < 80) return reserve_cycle();
        if (r < 85) {
            call("check_limit", "SELECT allowed FROM usage_meter.check_limit($1, $2, estimated_cost => 0.01)",
                 {std::string(kTenants[h % 3]), user(h >> 8)});
        } else if (r < 88) {
            reprice(h % 10 < 3 ? std::nullopt : Text(kTenants[h % 3]), std::to_string(1 + (h >> 8) % 60) + " days",
                    (h >> 16) % 2);
        } else if (r < 89) {
            rebuild();
        } else if (r < 91) {
            call("create_partitions", "SELECT count(*) FROM usage_meter.create_partitions($1::integer)",
                 {h % 2 ? "0" : "2"});
        } else if (r < 93) {
            call("set_tenant", "SELECT usage_meter.set_tenant($1, $2, $3::numeric)",
                 {std::string(kTenants[h % 3]), std::string(kZones[h % 3]), std::to_string((h >> 8) % 51 / 2.0)});
        } else if (r < 96) {
            change_limit();
        } else {
            record(static_cast<int>(h % 3));
        }
    }

    // Process 0's schedule, in fractions of the round: two drops early, then prices, each followed by a reprice
    // of the last 90 days. The first price of a key may start at -infinity (so it applies to events recorded
    // before it); a change must start after the key's latest price (set_price refuses otherwise): now().
    void schedule_operator() {
        auto at = [&](double f, std::function<void()> action) {
            schedule_.emplace_back(start_ + static_cast<time_t>(f * seconds_), std::move(action));
        };
        auto drop = [this](const char* age) {
            call("drop_events_before", "SELECT usage_meter.drop_events_before(now() - $1::interval)", {std::string(age)});
        };
        auto price = [this](const char* model, const char* in, const char* out, Text provider, bool from_now,
                            bool only_unpriced) {
            call("set_price",
                 "SELECT usage_meter.set_price($1, $2::numeric, $3::numeric, provider => $4,"
                 " effective_from => CASE WHEN $5::boolean THEN now() ELSE '-infinity' END)",
                 {std::string(model), std::string(in), std::string(out), provider, from_now ? "true" : "false"});
            reprice(std::nullopt, "90 days", only_unpriced);
        };
        at(0.08, [=] { drop("80 days"); });
        at(0.20, [=] { drop("55 days"); });
        // A provider's own price beats the provider-NULL one: every (haiku, anthropic) event costs more now.
        at(0.30, [=] { price("claude-3-5-haiku", "1.00", "5.00", "anthropic", false, false); });
        // The unpriced model gets a price (with a tier and a per-request fee); what it recorded is priced.
        at(0.45, [this] {
            call("set_price",
                 "SELECT usage_meter.set_tiered_price('mystery-x', 2, 8, '[{\"above_input_tokens\": 3000,"
                 " \"input_per_mtok\": 4, \"output_per_mtok\": 16}]', per_request => 0.001)",
                 {});
            reprice(std::nullopt, "90 days", true);
        });
        at(0.55, [=] { price("claude-3-5-haiku", "0.90", "4.50", std::nullopt, true, false); });
        at(0.70, [=] { price("mystery-x", "3.00", "9.00", std::nullopt, true, true); });
        at(0.85, [=] { price("claude-3-5-haiku", "1.20", "6.00", "anthropic", true, false); });
    }
};

int child_main(const std::string& dbname, const std::string& log_path, int index, uint64_t seed, time_t start,
               int seconds, int slots) {
    FILE* log = std::fopen(log_path.c_str(), "w");
    if (!log) return 2;
    setvbuf(log, nullptr, _IOLBF, 0);  // whole lines only, even if the process is killed as hung
    PGconn* db = connect_to(dbname);
    // The slot count of this backend (a placeholder until the library loads, then kept: we are a superuser),
    // and a bound on any one wait.
    Result set =
        exec(db, "SELECT set_config('usage_meter.counter_slots', $1, false), set_config('statement_timeout', $2, false)",
             {std::to_string(slots), std::to_string(kStatementTimeoutMs)});
    if (PQstatus(db) != CONNECTION_OK || !set.ok()) {
        std::fprintf(log, "E\tconnect\t-----\t-\t%s\n", clean(PQerrorMessage(db)).c_str());
        std::fclose(log);
        return 2;
    }
    Worker(db, log, index, seed, start, seconds).run();
    std::fclose(log);
    PQfinish(db);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------
// The parent: what the processes were told, and the checks.
// ---------------------------------------------------------------------------------------------------------
struct Ack {
    std::string call, tenant, key;
    long long id;
    bool duplicate;
    long long occurred;
};
struct Void {
    std::string tenant;
    long long event, reversal, replacement;  // replacement -1: a void_event
};
struct Refusal {
    std::string call, state, message;
    long long occurred;
};
struct Logs {
    std::vector<Ack> acks;
    std::vector<Void> voids;
    std::vector<Refusal> refusals;
    std::vector<std::pair<long long, long long>> settled;  // reservation, event
    std::vector<long long> released;
    std::vector<std::string> repairs;
    std::map<std::string, std::pair<long, long>> tally;
};

Logs read_logs(const std::vector<std::string>& paths) {
    Logs l;
    auto occurred = [](const std::string& s) { return s == "-" ? kNow : std::stoll(s); };
    for (const std::string& path : paths) {
        std::ifstream in(path);
        std::string line, part;
        while (std::getline(in, line)) {
            std::vector<std::string> f;
            std::stringstream fields(line);
            while (std::getline(fields, part, '\t')) f.push_back(part);
            if (f.empty()) continue;
            try {
                if (f[0] == "A" && f.size() == 7)
                    l.acks.push_back({f[1], f[2], f[5] == "-" ? "" : f[5], std::stoll(f[3]), f[4] == "t", occurred(f[6])});
                else if (f[0] == "V" && f.size() == 5)
                    l.voids.push_back({f[1], std::stoll(f[2]), std::stoll(f[3]), f[4] == "-" ? -1 : std::stoll(f[4])});
                else if (f[0] == "E" && f.size() >= 4)
                    l.refusals.push_back({f[1], f[2], f.size() > 4 ? f[4] : "", occurred(f[3])});
                else if (f[0] == "S" && f.size() == 3)
                    l.settled.emplace_back(std::stoll(f[1]), std::stoll(f[2]));
                else if (f[0] == "L" && f.size() == 2)
                    l.released.push_back(std::stoll(f[1]));
                else if (f[0] == "R" && f.size() == 4)
                    l.repairs.push_back(f[1] + ": " + f[2] + " rows, e.g. " + f[3]);
                else if (f[0] == "T" && f.size() == 4)
                    l.tally[f[1]] = {l.tally[f[1]].first + std::stol(f[2]), l.tally[f[1]].second + std::stol(f[3])};
            } catch (const std::exception&) {  // a line cut short: its call counts as not acknowledged
            }
        }
    }
    return l;
}

// The refusals the docs list for each call; anything else (40P01, 23514, 40001, 57014...) is unexpected.
bool listed(const Refusal& e, long long kept_from) {
    auto says = [&](const char* text) { return e.message.find(text) != std::string::npos; };
    if (e.call == "reserve") return e.state == "UM001";
    if (e.call == "void_event" || e.call == "correct_event")  // voided before, or two voids racing
        return (e.state == "22023" && says("already reversed")) || (e.state == "23505" && says("reversed_once"));
    if (e.call == "usage_record")  // a backfill that a drop committing meanwhile put before the boundary
        return e.state == "22023" && says("before the retention boundary") && e.occurred != kNow &&
               e.occurred < kept_from;
    return false;
}

// Runs one round in a fresh database and checks it.
void run_round(int round, int slots, int connections, int seconds, uint64_t seed, const std::string& workdir) {
    std::string db_name = "usage_meter_chaos_" + std::to_string(slots), label = "slots=" + std::to_string(slots) + ": ";
    std::printf("== round %d: usage_meter.counter_slots = %d, %d connections, %d s\n", round, slots, connections,
                seconds);
    PGconn* admin = connect_to("postgres");
    if (PQstatus(admin) != CONNECTION_OK) fatal(std::string("cannot connect: ") + PQerrorMessage(admin));
    run(admin, "DROP DATABASE IF EXISTS " + db_name + " WITH (FORCE)");
    run(admin, "CREATE DATABASE " + db_name);
    PGconn* db = connect_to(db_name);
    for (const char* sql :
         {"CREATE EXTENSION usage_meter", "SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08)",
          "SELECT usage_meter.set_price('gpt-4o-mini', 0.15, 0.60)",  // mystery-x, -z: no price
          "SELECT usage_meter.set_tenant('acme', 'America/Los_Angeles')",
          "SELECT usage_meter.set_tenant('globex', 'Asia/Tokyo', 10)",
          "SELECT usage_meter.set_limit('globex', NULL, 'requests', 'day', 600)",   // hard: UM001
          "SELECT usage_meter.set_limit('acme', NULL, 'cost', 'month', 1, false)",  // soft
          "SELECT usage_meter.set_limit('acme', 'u1', 'cost', 'day', 0.5, true, true)"})
        run(db, sql);
    PQfinish(db);

    // The processes (stdout flushed first, so none repeats buffered output). A process still running long after
    // the round's end is hung: it is ours, so it is killed.
    std::fflush(stdout);
    time_t start = std::time(nullptr);
    std::vector<pid_t> pids;
    std::vector<std::string> paths;
    for (int i = 0; i < connections; ++i) {
        paths.push_back(workdir + "/round" + std::to_string(round) + "-" + std::to_string(i) + ".log");
        pid_t pid = fork();
        if (pid < 0) fatal("fork failed");
        if (pid == 0) _exit(child_main(db_name, paths.back(), i, mix(seed + i), start, seconds, slots));
        pids.push_back(pid);
    }
    int hung = 0, failed = 0;
    for (size_t left = pids.size(); left > 0; usleep(100000)) {
        bool late = std::time(nullptr) > start + seconds + kGraceSeconds;
        for (pid_t& pid : pids) {
            int status = 0;
            if (pid > 0 && late) {
                kill(pid, SIGKILL);
                ++hung;
            }
            if (pid > 0 && waitpid(pid, &status, late ? 0 : WNOHANG) == pid) {
                failed += !late && !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                pid = 0;
                --left;
            }
        }
    }
    check(hung == 0 && failed == 0,
          label + "every connection ran its mix and finished (" + std::to_string(std::time(nullptr) - start) + " s)",
          std::to_string(hung) + " killed as hung, " + std::to_string(failed) + " failed");

    Logs logs = read_logs(paths);
    for (const std::string& path : paths) std::remove(path.c_str());
    std::string calls = "      calls (ok/refused):";
    for (const auto& [name, t] : logs.tally)
        calls += " " + name + " " + std::to_string(t.first) + "/" + std::to_string(t.second);
    std::printf("%s\n", calls.c_str());

    db = connect_to(db_name);
    if (PQstatus(db) != CONNECTION_OK) fatal(std::string("cannot connect: ") + PQerrorMessage(db));
    Result kept = run(db, "SELECT floor(extract(epoch FROM kept_from))::bigint, kept_from FROM usage_meter.retention");
    long long kept_from = kept.rows() == 1 ? kept.num(0, 0) : LLONG_MIN + 1;
    auto dropped = [&](long long occurred) { return occurred != kNow && occurred < kept_from; };

    // Every refusal is listed for its call.
    {
        std::map<std::string, std::pair<int, std::string>> kinds;  // call + SQLSTATE -> count, first message
        int unexpected = 0;
        for (const Refusal& e : logs.refusals) {
            if (listed(e, kept_from)) continue;
            auto& k = kinds[e.call + " " + e.state];
            if (k.first++ == 0) k.second = e.message;
            ++unexpected;
        }
        std::string detail = std::to_string(unexpected) + " unexpected errors";
        for (const auto& [what, k] : kinds)
            detail += "\n      " + std::to_string(k.first) + " x " + what + ": " + k.second;
        check(unexpected == 0,
              label + "every error is one the docs list for its call (" +
                  std::to_string(logs.refusals.size() - unexpected) +
                  " were: UM001, already reversed, retention boundary)",
              detail);
    }

    // The ledger, all connections closed: event_id -> row (and how many rows have that id).
    struct Row {
        std::string tenant;
        long long reverses, corrects, occurred;
        int copies;
    };
    std::map<long long, Row> ledger;
    std::map<std::pair<std::string, std::string>, std::vector<long long>> keys;
    {
        Result r = run(db,
                       "SELECT event_id, tenant, idempotency_key, COALESCE(reverses_event_id, -1),"
                       " COALESCE(corrects_event_id, -1), floor(extract(epoch FROM occurred_at))::bigint"
                       " FROM usage_meter.events");
        for (int i = 0; i < r.rows(); ++i) {
            auto [it, fresh] = ledger.insert({r.num(i, 0), {r.text(i, 1), r.num(i, 3), r.num(i, 4), r.num(i, 5), 0}});
            ++it->second.copies;
            if (!r.null(i, 2)) keys[{r.text(i, 1), r.text(i, 2)}].push_back(r.num(i, 0));
        }
        long long gone = 0;
        for (const Ack& a : logs.acks) gone += dropped(a.occurred);
        std::printf(
            "      ledger: %d rows; %zu acknowledged recordings (%lld in months dropped since), %zu voids and"
            " corrections; retention boundary %s\n",
            r.rows(), logs.acks.size(), gone, logs.voids.size(), kept.rows() ? kept.text(0, 1).c_str() : "none");
    }
    std::set<long long> told;  // the ids clients were given of events that are still kept
    auto once = [&](long long id, const std::string& tenant) {
        auto it = ledger.find(id);
        return it != ledger.end() && it->second.copies == 1 && it->second.tenant == tenant;
    };

    // Keyed calls: per (tenant, key), one event id for every acknowledged call and exactly one original; that
    // event in the ledger exactly once, under the key (none if its month was dropped since).
    {
        std::map<std::pair<std::string, std::string>, std::vector<const Ack*>> groups;
        for (const Ack& a : logs.acks)
            if (!a.key.empty()) groups[{a.tenant, a.key}].push_back(&a);
        int inconsistent = 0, missing = 0, raced = 0;
        std::string first, first_missing;
        for (const auto& [key, group] : groups) {
            std::set<long long> ids;
            int originals = 0;
            for (const Ack* a : group) {
                ids.insert(a->id);
                originals += !a->duplicate;
            }
            raced += group.size() > 1;
            bool gone = dropped(group.front()->occurred);
            if (!gone) told.insert(ids.begin(), ids.end());
            if ((ids.size() != 1 || originals != 1) && inconsistent++ == 0)
                first = key.second + ": " + std::to_string(ids.size()) + " ids, " + std::to_string(originals) +
                        " originals";
            auto in_ledger = keys.find(key);
            bool ok = gone ? in_ledger == keys.end()
                           : in_ledger != keys.end() && in_ledger->second == std::vector<long long>{*ids.begin()} &&
                                 once(*ids.begin(), key.first);
            if (!ok && missing++ == 0)
                first_missing = key.first + "/" + key.second + ": the client was given " +
                                std::to_string(*ids.begin()) + ", the ledger has " +
                                std::to_string(in_ledger == keys.end() ? 0 : in_ledger->second.size()) + " rows";
        }
        check(inconsistent == 0,
              label + "each of the " + std::to_string(groups.size()) + " keys (" + std::to_string(raced) +
                  " sent more than once) was given one event id, as an original exactly once",
              std::to_string(inconsistent) + " keys wrong; first: " + first);
        check(missing == 0, label + "every acknowledged keyed event is in the ledger exactly once, under its key",
              std::to_string(missing) + " keys wrong; first: " + first_missing);
    }

    // Unkeyed calls, voids and corrections: each id given is in the ledger exactly once, rightly linked.
    {
        int wrong = 0;
        std::string first;
        for (const Ack& a : logs.acks) {
            if (!a.key.empty()) continue;
            bool gone = dropped(a.occurred);
            if (!gone) told.insert(a.id);
            if (!(gone ? ledger.count(a.id) == 0 : once(a.id, a.tenant) && ledger[a.id].reverses == -1) && wrong++ == 0)
                first = a.call + " event " + std::to_string(a.id) + " of " + a.tenant;
        }
        check(wrong == 0, label + "every acknowledged unkeyed event is in the ledger exactly once",
              std::to_string(wrong) + " wrong; first: " + first);
        wrong = 0;
        for (const Void& v : logs.voids) {
            told.insert(v.reversal);
            bool ok = once(v.reversal, v.tenant) && ledger[v.reversal].reverses == v.event;
            if (v.replacement >= 0) {
                told.insert(v.replacement);
                ok = ok && once(v.replacement, v.tenant) && ledger[v.replacement].corrects == v.event;
            }
            if (!ok && wrong++ == 0) first = v.tenant + " event " + std::to_string(v.event);
        }
        check(wrong == 0, label + "every acknowledged void and correction is in the ledger exactly once",
              std::to_string(wrong) + " wrong; first: " + first);
    }

    // Nothing else: no row no client was given, none before the retention boundary.
    {
        int unknown = 0, too_old = 0;
        std::string first;
        for (const auto& [id, row] : ledger) {
            if (!told.count(id) && unknown++ == 0) first = "event " + std::to_string(id) + " of " + row.tenant;
            too_old += row.occurred < kept_from;
        }
        check(unknown == 0, label + "the ledger holds no event that no client was given",
              std::to_string(unknown) + " such rows; first: " + first);
        check(too_old == 0, label + "no event before the retention boundary is left",
              std::to_string(too_old) + " rows before it");
    }

    // A voided event costs nothing: its reversal is its exact negation (both NULL when unpriced), whatever was
    // repriced since.
    {
        Result r = run(db,
                       "SELECT count(*), (SELECT count(*) FROM usage_meter.events WHERE reverses_event_id IS NOT NULL),"
                       " string_agg(format('%s event %s: cost %s, reversal %s; billed %s, reversal %s',"
                       "                   tenant, event_id, oc, rc, ob, rb), '; ') FILTER (WHERE n <= 3)"
                       " FROM (SELECT o.tenant, o.event_id, o.cost AS oc, r.cost AS rc, o.billed_cost AS ob,"
                       "              r.billed_cost AS rb, row_number() OVER () AS n"
                       "         FROM usage_meter.events AS r"
                       "         LEFT JOIN usage_meter.events AS o"
                       "                ON o.tenant = r.tenant AND o.event_id = r.reverses_event_id"
                       "        WHERE r.reverses_event_id IS NOT NULL AND (o.event_id IS NULL"
                       "              OR r.cost IS DISTINCT FROM -o.cost OR r.billed_cost IS DISTINCT FROM -o.billed_cost)"
                       "      ) AS bad");
        check(r.num(0, 0) == 0,
              label + "each of the " + r.text(0, 1) + " voided events and its reversal sum to 0 (cost, billed cost)",
              r.text(0, 0) + " do not; " + r.text(0, 2));
    }

    // Reservations closed as the clients were told.
    {
        std::map<long long, std::pair<std::string, long long>> state;
        Result r = run(db, "SELECT reservation_id, state, COALESCE(event_id, -1) FROM usage_meter.reservations");
        for (int i = 0; i < r.rows(); ++i) state[r.num(i, 0)] = {r.text(i, 1), r.num(i, 2)};
        int wrong = 0;
        for (const auto& [rid, event] : logs.settled)
            wrong += state[rid] != std::make_pair(std::string("settled"), event);
        for (long long rid : logs.released) wrong += state[rid].first != "released";
        check(wrong == 0,
              label + "each of the " + std::to_string(logs.settled.size()) + " settled and " +
                  std::to_string(logs.released.size()) + " released reservations is closed as acknowledged",
              std::to_string(wrong) + " wrong");
    }

    // Summaries: nothing drifted during the round (rebuild repaired nothing) nor is left at its end (verify()).
    {
        std::string detail = std::to_string(logs.repairs.size()) + " rebuilds changed summaries";
        for (size_t i = 0; i < logs.repairs.size() && i < 5; ++i) detail += "\n      " + logs.repairs[i];
        check(logs.repairs.empty(), label + "no rebuild() during the round found anything to repair", detail);
        Result v = run(db,
                       "SELECT concat_ws(' ', summary, tenant, user_id, period, period_start, model, field, ledger,"
                       " recorded) FROM usage_meter.verify()");
        detail = std::to_string(v.rows()) + " differences";
        for (int i = 0; i < v.rows() && i < 8; ++i) detail += "\n      " + v.text(i, 0);
        check(v.rows() == 0, label + "usage_meter.verify() returns no rows", detail);
    }

    // The mix really ran: each kind of call was acknowledged at least once.
    {
        std::string missing;
        for (const char* name : {"usage_record", "record_response", "void_event", "correct_event", "reserve", "settle",
                                 "release", "reprice", "rebuild", "create_partitions", "drop_events_before",
                                 "set_price", "set_tenant", "set_limit", "remove_limit", "check_limit"})
            if (logs.tally[name].first == 0) missing += std::string(" ") + name;
        check(missing.empty(), label + "every kind of call succeeded at least once", "never:" + missing);
    }

    PQfinish(db);
    Result drop = exec(admin, "DROP DATABASE IF EXISTS " + db_name + " WITH (FORCE)");
    check(drop.ok(), label + "the round's database is dropped", PQresultErrorMessage(drop.res));
    PQfinish(admin);
}

}  // namespace

int main() {
    client::g_name = "chaos";
    auto env = [](const char* name, long fallback) {
        const char* v = std::getenv(name);
        return v && *v ? std::atol(v) : fallback;
    };
    int seconds = static_cast<int>(env("CHAOS_SECONDS", 40)),
        connections = static_cast<int>(env("CHAOS_CONNECTIONS", 14));
    uint64_t seed = static_cast<uint64_t>(env("CHAOS_SEED", std::time(nullptr) % 1000000));
    if (seconds < 5 || seconds > 120 || connections < 2 || connections > 64)
        fatal("CHAOS_SECONDS must be 5..120 and CHAOS_CONNECTIONS 2..64");
    std::printf("seed %llu (CHAOS_SEED=%llu repeats the random choices, not the timing)\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    char dir[] = "/tmp/usage_meter_chaos.XXXXXX";
    if (!mkdtemp(dir)) fatal("mkdtemp failed");
    time_t started = std::time(nullptr);
    int round = 0;
    for (int slots : {1, 16}) run_round(++round, slots, connections, seconds, mix(seed * 64 + slots), dir);
    rmdir(dir);
    std::printf("      total %ld s\n", static_cast<long>(std::time(nullptr) - started));
    std::printf("chaos: %d passed, %d failed\n", client::g_passed, client::g_failed);
    return client::g_failed == 0 ? 0 : 1;
}
