// Recording from C++ with libpq: check before the provider call, record its response after it.
// Build and run from the repository root:
//   g++ -std=c++17 -o record examples/cpp/record.cpp -I"$(pg_config --includedir)" -lpq && ./record alice
// (connection from the PG* environment variables; the provider call is simulated with a saved response)
#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace {

const char* const kTenant = "demo-cpp";

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Stands in for the HTTP call to the provider; returns the response body (JSON text).
std::string call_provider(const std::string& /*prompt*/) {
    const char* saved = std::getenv("EXAMPLE_RESPONSE");
    std::ifstream in(saved ? saved : "examples/responses/gemini_generate_content.json");
    std::stringstream body;
    body << in.rdbuf();
    return body.str();
}

Result query(PGconn* db, const char* sql, std::initializer_list<const char*> params) {
    return Result(PQexecParams(db, sql, static_cast<int>(params.size()), nullptr, params.begin(), nullptr, nullptr, 0),
                  &PQclear);
}

// Returns false when the request was refused or could not be recorded.
bool answer(PGconn* db, const char* user, const std::string& prompt) {
    // 1. Before the call: may this user go ahead?
    Result limit = query(db,
                         "SELECT allowed, metric, period FROM usage_meter.check_limit($1, $2, estimated_cost => 0.01)",
                         {kTenant, user});
    if (PQresultStatus(limit.get()) != PGRES_TUPLES_OK) {
        std::fprintf(stderr, "check_limit failed: %s", PQerrorMessage(db));
        return false;
    }
    if (std::strcmp(PQgetvalue(limit.get(), 0, 0), "t") != 0) {
        std::printf("refused: %s has reached the %s %s limit\n", user, PQgetvalue(limit.get(), 0, 2),
                    PQgetvalue(limit.get(), 0, 1));
        return false;
    }

    // 2. Call the provider.
    std::string response = call_provider(prompt);

    // 3. Record what it reported: normalized, priced and counted once per response id.
    Result event =
        query(db, "SELECT event_id, cost, duplicate FROM usage_meter.record_response($1, $2, 'chat', 'gemini', $3)",
              {kTenant, user, response.c_str()});
    if (PQresultStatus(event.get()) != PGRES_TUPLES_OK) {
        const char* state = PQresultErrorField(event.get(), PG_DIAG_SQLSTATE);
        // 22023: the response could not be read (no usage block, bad counts); nothing was recorded.
        std::printf("not recorded (%s): %s", state ? state : "?", PQerrorMessage(db));
        return false;
    }
    std::printf("recorded event %s: cost %s USD%s\n", PQgetvalue(event.get(), 0, 0), PQgetvalue(event.get(), 0, 1),
                std::strcmp(PQgetvalue(event.get(), 0, 2), "t") == 0 ? " (already recorded)" : "");
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Connection db(PQconnectdb(""), &PQfinish);
    if (PQstatus(db.get()) != CONNECTION_OK) {
        std::fprintf(stderr, "connection failed: %s", PQerrorMessage(db.get()));
        return 1;
    }
    answer(db.get(), argc > 1 ? argv[1] : "alice", "Hello");
    return 0;
}
