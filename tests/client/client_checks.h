// What the libpq test clients share: "ok"/"FAIL" check lines with their counts, a fatal stop that still prints
// the closing "<name>: N passed, M failed" line, and a PGresult owner. Header-only; each client is one .cpp.
#pragma once

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace client {

inline int g_passed = 0;
inline int g_failed = 0;
inline const char* g_name = "client";  // the closing line's label; a client sets it first

inline bool check(bool ok, const std::string& name, const std::string& detail = "") {
    if (ok) {
        ++g_passed;
        std::printf("ok    %s\n", name.c_str());
    } else {
        ++g_failed;
        std::printf("FAIL  %s%s%s\n", name.c_str(), detail.empty() ? "" : ": ", detail.c_str());
    }
    std::fflush(stdout);
    return ok;
}

[[noreturn]] inline void fatal(const std::string& message) {
    std::printf("FATAL %s\n", message.c_str());
    ++g_failed;
    std::printf("%s: %d passed, %d failed\n", g_name, g_passed, g_failed);
    std::fflush(stdout);
    std::exit(1);
}

// Owns one PGresult.
struct Result {
    PGresult* res = nullptr;
    explicit Result(PGresult* r) : res(r) {}
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    Result(Result&& o) noexcept : res(o.res) { o.res = nullptr; }
    ~Result() {
        if (res) PQclear(res);
    }
    bool ok() const { return PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK; }
    int rows() const { return PQntuples(res); }
    bool null(int row, int col) const { return PQgetisnull(res, row, col); }
    std::string text(int row, int col) const { return PQgetvalue(res, row, col); }
    long long num(int row, int col) const { return std::strtoll(PQgetvalue(res, row, col), nullptr, 10); }
};

}  // namespace client
