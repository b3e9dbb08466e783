// The C++/PostgreSQL boundary. C++ headers come first, PostgreSQL's inside extern "C".
//
// Rules every adapter follows:
// - Core (C++) code runs only inside core_call(), which catches every exception into a plain struct; the
//   ERROR is raised by raise_failure() after the catch block has finished.
// - Frames that call PostgreSQL (and so may longjmp) hold only trivially destructible values.
// - Every SQL-callable entry point is declared with UM_FUNCTION, which adds a last-resort catch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>

#include "../core/core.h"

extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

namespace usage_meter::pg {

// What a failed core call left behind: plain data, safe to carry across a longjmp-prone frame.
struct Failure {
    bool failed;
    ErrorKind kind;
    char message[1024];
    char hint[512];
};
static_assert(std::is_trivially_destructible_v<Failure>);
static_assert(std::is_trivially_destructible_v<Decimal>);
static_assert(std::is_trivially_destructible_v<PricedCost>);

void capture_exception(Failure& failure) noexcept;  // call only from inside a catch block

// Runs fn (pure C++, never calling PostgreSQL) and reports whether it finished without throwing.
template <typename Fn>
inline bool core_call(Failure& failure, Fn&& fn) noexcept {
    try {
        fn();
        return true;
    } catch (...) {
        capture_exception(failure);
        return false;
    }
}

// ereport(ERROR) for a captured failure, with the SQLSTATE of its kind.
pg_attribute_noreturn() void raise_failure(const Failure& failure);

// Runs fn; on any C++ exception raises the matching ERROR after the catch block.
template <typename Fn>
inline void core_or_raise(Fn&& fn) {
    Failure failure;
    failure.failed = false;
    if (!core_call(failure, fn)) raise_failure(failure);
}

// Time conversions between PostgreSQL (microseconds and days since 2000-01-01) and the core (Unix epoch).
constexpr int64_t kPgEpochDays = 10957;  // 2000-01-01 - 1970-01-01
constexpr int64_t kUsecPerSec = 1000000;
// Saturates instead of overflowing: the last ~30000 years of PostgreSQL's timestamp range do not fit in
// microseconds since 1970 (they stay "far in the future", which is what every caller needs to know).
inline int64_t unix_us_from_pg(int64_t pg_us) {
    constexpr int64_t offset = kPgEpochDays * 86400 * kUsecPerSec;
    return pg_us > INT64_MAX - offset ? INT64_MAX : pg_us + offset;
}
inline int64_t pg_us_from_unix_seconds(int64_t unix_s) { return (unix_s - kPgEpochDays * 86400) * kUsecPerSec; }
inline int32_t pg_date_from_civil(const CivilDate& date) {
    return static_cast<int32_t>(days_from_civil(date) - kPgEpochDays);
}
inline CivilDate civil_from_pg_date(int32_t pg_date) { return civil_from_days(pg_date + kPgEpochDays); }

}  // namespace usage_meter::pg

// Declares a V1 SQL-callable function whose body is NAME##_body; any C++ exception escaping the body
// (which should never happen: core work goes through core_call) becomes an ERROR after the catch block.
#define UM_FUNCTION(NAME)                                                \
    static Datum NAME##_body(FunctionCallInfo fcinfo);                   \
    extern "C" {                                                         \
    PG_FUNCTION_INFO_V1(NAME);                                           \
    Datum NAME(PG_FUNCTION_ARGS) {                                       \
        ::usage_meter::pg::Failure failure_;                             \
        failure_.failed = false;                                         \
        Datum result_ = 0;                                               \
        try {                                                            \
            result_ = NAME##_body(fcinfo);                               \
        } catch (...) {                                                  \
            ::usage_meter::pg::capture_exception(failure_);              \
        }                                                                \
        if (failure_.failed) ::usage_meter::pg::raise_failure(failure_); \
        return result_;                                                  \
    }                                                                    \
    }                                                                    \
    static Datum NAME##_body(FunctionCallInfo fcinfo)
