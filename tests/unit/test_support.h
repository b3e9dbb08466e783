// Helpers shared by the core unit tests.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "core.h"

namespace usage_meter {

// Lets GoogleTest print a Decimal in failure messages.
inline void PrintTo(const Decimal& value, std::ostream* os) { *os << value.to_string(); }

inline const char* kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::InvalidParameter: return "InvalidParameter";
        case ErrorKind::NullValue: return "NullValue";
        case ErrorKind::StringTooLong: return "StringTooLong";
        case ErrorKind::OutOfRange: return "OutOfRange";
        case ErrorKind::InvalidDatetime: return "InvalidDatetime";
        case ErrorKind::InvalidTimeZone: return "InvalidTimeZone";
        case ErrorKind::Internal: return "Internal";
    }
    return "?";
}

inline void PrintTo(ErrorKind kind, std::ostream* os) { *os << kind_name(kind); }

}  // namespace usage_meter

namespace usage_meter::test {

// Decimal text of a 128-bit integer, computed here rather than by the code under test.
inline std::string i128_text(__int128 value) {
    if (value == 0) return "0";
    unsigned __int128 m = value < 0 ? -static_cast<unsigned __int128>(value) : static_cast<unsigned __int128>(value);
    std::string out;
    while (m != 0) {
        out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
        m /= 10;
    }
    if (value < 0) out.insert(out.begin(), '-');
    return out;
}

inline Decimal dec(std::string_view text) { return Decimal::parse(text); }

// Succeeds when fn throws a CoreError of `kind` whose message contains every one of `needles`.
template <typename Fn>
::testing::AssertionResult throws_core(Fn&& fn, ErrorKind kind, std::initializer_list<std::string_view> needles = {}) {
    try {
        std::forward<Fn>(fn)();
    } catch (const CoreError& e) {
        if (e.kind() != kind)
            return ::testing::AssertionFailure()
                   << "threw " << kind_name(e.kind()) << " (\"" << e.what() << "\"), expected " << kind_name(kind);
        std::string message = e.what();
        for (std::string_view needle : needles)
            if (message.find(needle) == std::string::npos)
                return ::testing::AssertionFailure()
                       << "message \"" << message << "\" does not contain \"" << needle << "\"";
        return ::testing::AssertionSuccess();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "threw a non-CoreError: " << e.what();
    }
    return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace usage_meter::test

#define EXPECT_CORE_ERROR(stmt, kind, ...) \
    EXPECT_TRUE(::usage_meter::test::throws_core([&] { (void)(stmt); }, (kind), {__VA_ARGS__}))
