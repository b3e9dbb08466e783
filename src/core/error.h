// Errors raised by the pure C++ core. The PostgreSQL adapter turns each one into an ereport with the
// SQLSTATE that matches its kind; the core itself never sees PostgreSQL.
#pragma once

#include <stdexcept>
#include <string>

namespace usage_meter {

enum class ErrorKind {
    InvalidParameter,  // 22023
    NullValue,         // 22004
    StringTooLong,     // 22001
    OutOfRange,        // 22003
    InvalidDatetime,   // 22008
    InvalidTimeZone,   // 22023 with a time-zone hint
    Internal,          // XX000
};

class CoreError : public std::runtime_error {
public:
    CoreError(ErrorKind kind, const std::string& message, const std::string& hint = std::string())
        : std::runtime_error(message), kind_(kind), hint_(hint) {}
    ErrorKind kind() const noexcept { return kind_; }
    const std::string& hint() const noexcept { return hint_; }

private:
    ErrorKind kind_;
    std::string hint_;
};

}  // namespace usage_meter
