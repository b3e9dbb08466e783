// libpq stress test of reservations: 32 connections (one process each) race reserve/settle cycles against
// limits that admit exactly K settled requests, and must admit exactly K: never one more (the guarantee),
// and not fewer (holds that are settled or released give their room back). Every refusal must be SQLSTATE
// UM001; afterwards no hold is left, the counters equal the ledger (verify() is empty) and the ledger has
// exactly the settled events.
//
//   phase tenant: one tenant, a tenant-wide limit of K requests a day; every 7th admitted reservation is
//                 released instead of settled, so room also comes back without usage.
//   phase users:  one tenant, a '*' limit of K_u tokens a day per user, 8 users with 4 connections each, and
//                 actual tokens equal to the estimate: each user gets exactly K_u / estimate settlements.
//
// Connection settings come from the environment (PGHOST, PGPORT, PGUSER). Exit status 0 only if every check
// passed; the last line is "reservation stress: N passed, M failed".

#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr const char* kTestDb = "usage_meter_reservation_stress";
constexpr int kConnections = 32;

int g_passed = 0, g_failed = 0;

bool check(bool ok, const std::string& name, const std::string& detail = "") {
    (ok ? g_passed : g_failed)++;
    std::printf("%s %s%s%s\n", ok ? "ok   " : "FAIL ", name.c_str(), detail.empty() ? "" : ": ", detail.c_str());
    std::fflush(stdout);
    return ok;
}

PGconn* connect_to(const char* db) {
    std::string info = std::string("dbname=") + db;
    PGconn* conn = PQconnectdb(info.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        std::printf("FATAL cannot connect to %s: %s", db, PQerrorMessage(conn));
        std::exit(1);
    }
    return conn;
}

// Runs sql; returns the first column of the first row ("" if none). Any error is fatal.
std::string scalar(PGconn* conn, const std::string& sql) {
    PGresult* r = PQexec(conn, sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        std::printf("FATAL %s\n  %s", sql.c_str(), PQresultErrorMessage(r));
        std::exit(1);
    }
    std::string out = (st == PGRES_TUPLES_OK && PQntuples(r) > 0) ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return out;
}

struct Tally {
    long settled = 0, released = 0, refused = 0, other_errors = 0;
};

// One worker process: `cycles` reserve attempts; an admitted one is settled (or every 7th released, when
// release_some). Writes its tally to fd.
void worker(int fd, const char* tenant, const std::string& user, int cycles, long tokens, bool release_some) {
    PGconn* conn = connect_to(kTestDb);
    Tally t;
    std::string tok = std::to_string(tokens);
    const char* reserve_params[3] = {tenant, user.c_str(), tok.c_str()};
    for (int i = 0; i < cycles; ++i) {
        PGresult* r = PQexecParams(conn, "SELECT usage_meter.reserve($1, $2, 0.001, $3::bigint)", 3, nullptr,
                                   reserve_params, nullptr, nullptr, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (state && std::strcmp(state, "UM001") == 0) {
                ++t.refused;
            } else {
                ++t.other_errors;
                std::printf("unexpected error from reserve: %s", PQresultErrorMessage(r));
            }
            PQclear(r);
            continue;
        }
        std::string id = PQgetvalue(r, 0, 0);
        PQclear(r);
        bool release = release_some && (t.settled + t.released) % 7 == 6;
        if (release) {
            const char* p[1] = {id.c_str()};
            r = PQexecParams(conn, "SELECT usage_meter.release($1::bigint)", 1, nullptr, p, nullptr, nullptr, 0);
        } else {
            const char* p[4] = {tenant, user.c_str(), tok.c_str(), id.c_str()};
            r = PQexecParams(conn,
                             "SELECT event_id FROM usage_meter.usage_record($1, $2, 'chat', input_tokens => $3::bigint,"
                             " cost => 0.001, reservation_id => $4::bigint)",
                             4, nullptr, p, nullptr, nullptr, 0);
        }
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            (release ? t.released : t.settled)++;
        } else {
            ++t.other_errors;
            std::printf("unexpected error from %s: %s", release ? "release" : "settle", PQresultErrorMessage(r));
        }
        PQclear(r);
    }
    PQfinish(conn);
    if (write(fd, &t, sizeof t) != static_cast<ssize_t>(sizeof t)) std::_Exit(2);
    std::_Exit(0);
}

// Starts one process per connection, user_of(i) naming connection i's user; returns the tallies summed per user.
template <typename UserOf>
std::vector<Tally> run(const char* tenant, int users, UserOf user_of, int cycles, long tokens, bool release_some) {
    std::vector<int> fds(kConnections);
    std::vector<pid_t> pids(kConnections);
    std::fflush(stdout);
    for (int i = 0; i < kConnections; ++i) {
        int p[2];
        if (pipe(p) != 0) std::exit(1);
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            worker(p[1], tenant, "user" + std::to_string(user_of(i)), cycles, tokens, release_some);
        }
        close(p[1]);
        fds[i] = p[0];
        pids[i] = pid;
    }
    std::vector<Tally> per_user(users);
    for (int i = 0; i < kConnections; ++i) {
        Tally t;
        ssize_t n = read(fds[i], &t, sizeof t);
        close(fds[i]);
        int status = 0;
        waitpid(pids[i], &status, 0);
        if (n != static_cast<ssize_t>(sizeof t) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            check(false, "worker " + std::to_string(i) + " finished");
            continue;
        }
        Tally& u = per_user[user_of(i)];
        u.settled += t.settled;
        u.released += t.released;
        u.refused += t.refused;
        u.other_errors += t.other_errors;
    }
    return per_user;
}

Tally total(const std::vector<Tally>& v) {
    Tally s;
    for (const Tally& t : v) {
        s.settled += t.settled;
        s.released += t.released;
        s.refused += t.refused;
        s.other_errors += t.other_errors;
    }
    return s;
}

void common_checks(PGconn* conn, const char* tenant, const Tally& t, long expected_settled) {
    std::string n = tenant;
    check(t.other_errors == 0, n + ": every refusal is UM001, nothing else failed",
          std::to_string(t.other_errors) + " other errors");
    check(t.settled == expected_settled, n + ": exactly K settled",
          "settled " + std::to_string(t.settled) + ", K " + std::to_string(expected_settled));
    check(t.refused > 0, n + ": the limit was reached (some reservations refused)");
    check(scalar(conn, "SELECT count(*) FROM usage_meter.events WHERE tenant = '" + n + "'") ==
              std::to_string(expected_settled),
          n + ": the ledger holds exactly the settled events");
    check(scalar(conn, "SELECT count(*) FROM usage_meter.reservations WHERE tenant = '" + n + "' AND state = 'held'") ==
              "0",
          n + ": no hold is left");
    check(scalar(conn, "SELECT count(*) FROM usage_meter.reservations WHERE tenant = '" + n +
                           "' AND state = 'settled'") == std::to_string(t.settled),
          n + ": one settled reservation per settled event");
}

}  // namespace

int main() {
    auto started = std::chrono::steady_clock::now();
    {
        PGconn* admin = connect_to("postgres");
        scalar(admin, std::string("DROP DATABASE IF EXISTS ") + kTestDb);
        scalar(admin, std::string("CREATE DATABASE ") + kTestDb);
        PQfinish(admin);
    }
    PGconn* conn = connect_to(kTestDb);
    scalar(conn, "CREATE EXTENSION usage_meter");

    // Phase tenant: K = 1500 requests; 32 x 400 attempts (12800) go far past it.
    const long k = 1500;
    scalar(conn, "SELECT usage_meter.set_limit('stress', NULL, 'requests', 'day', " + std::to_string(k) + ")");
    scalar(conn, "SELECT usage_meter.set_limit('stress', NULL, 'cost', 'day', 1000)");  // a second hard limit
    std::vector<Tally> a = run(
        "stress", 8, [](int i) { return i % 8; }, 400, 100, true);
    Tally ta = total(a);
    std::printf("phase tenant: settled %ld, released %ld, refused %ld\n", ta.settled, ta.released, ta.refused);
    common_checks(conn, "stress", ta, k);
    check(ta.released > 0, "stress: some admitted reservations were released and their room reused");
    check(scalar(conn, "SELECT used = max_value AND held = 0 FROM usage_meter.check_limit('stress')") == "t",
          "stress: check_limit reports the limit used up exactly, nothing held");

    // Phase users: '*' limit of 5000 tokens per user, 100 tokens per request: 50 per user, 8 users.
    scalar(conn, "SELECT usage_meter.set_limit('stress_users', '*', 'tokens', 'day', 5000)");
    std::vector<Tally> b = run(
        "stress_users", 8, [](int i) { return i % 8; }, 150, 100, false);
    Tally tb = total(b);
    std::printf("phase users: settled %ld, refused %ld\n", tb.settled, tb.refused);
    common_checks(conn, "stress_users", tb, 8 * 50);
    bool each = true;
    for (int u = 0; u < 8; ++u) each &= b[u].settled == 50;
    check(each, "stress_users: every user got exactly its own 50");

    check(scalar(conn, "SELECT count(*) FROM usage_meter.verify()") == "0", "verify() is empty");
    PQfinish(conn);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("reservation stress: %d passed, %d failed (%.1f s)\n", g_passed, g_failed, seconds);
    return g_failed == 0 ? 0 : 1;
}
