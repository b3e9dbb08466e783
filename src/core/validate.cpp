#include "validate.h"

#include <string>

#include "error.h"

namespace usage_meter {

size_t utf8_length(std::string_view text) {
    size_t n = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

namespace {

std::string arg(std::string_view a) { return std::string(a); }

void check_present_name(std::string_view argument, std::string_view value) {
    if (value.empty())
        throw CoreError(ErrorKind::InvalidParameter, arg(argument) + " must not be empty");
    size_t chars = utf8_length(value);
    if (chars > kMaxNameLength)
        throw CoreError(ErrorKind::StringTooLong,
                        arg(argument) + " is too long (" + std::to_string(chars) + " characters)",
                        "names and keys are limited to 200 characters");
}

}  // namespace

void check_required_name(std::string_view argument, const char* value, size_t length) {
    if (value == nullptr) throw CoreError(ErrorKind::NullValue, arg(argument) + " must not be NULL");
    check_present_name(argument, std::string_view(value, length));
}

void check_optional_name(std::string_view argument, const char* value, size_t length) {
    if (value != nullptr) check_present_name(argument, std::string_view(value, length));
}

void check_user_id(std::string_view argument, const char* value, size_t length) {
    if (value == nullptr) return;
    check_present_name(argument, std::string_view(value, length));
    if (std::string_view(value, length) == "*")
        throw CoreError(ErrorKind::InvalidParameter, arg(argument) + " '*' is reserved",
                        "'*' means \"each user\" in set_limit; record usage under the real user id");
}

void check_token_count(std::string_view argument, int64_t value) {
    if (value < 0 || value > kMaxTokenCount)
        throw CoreError(value < 0 ? ErrorKind::InvalidParameter : ErrorKind::OutOfRange,
                        "invalid " + arg(argument) + ": " + std::to_string(value),
                        "token counts must be between 0 and 1000000000000");
}

void check_reasoning(int64_t reasoning_tokens, int64_t output_tokens) {
    if (reasoning_tokens > output_tokens)
        throw CoreError(ErrorKind::InvalidParameter,
                        "invalid reasoning_tokens: " + std::to_string(reasoning_tokens) +
                            " is more than output_tokens " + std::to_string(output_tokens),
                        "output_tokens include the reasoning tokens");
}

void check_latency(std::string_view argument, int64_t value) {
    if (value < 0)
        throw CoreError(ErrorKind::InvalidParameter, "invalid " + arg(argument) + ": " + std::to_string(value),
                        "latency is a duration in milliseconds and cannot be negative");
}

namespace {

Decimal parse_finite(std::string_view argument, std::string_view text, const char* hint) {
    if (text == "NaN" || text == "Infinity" || text == "-Infinity")
        throw CoreError(ErrorKind::InvalidParameter, "invalid " + arg(argument) + ": " + std::string(text), hint);
    return Decimal::parse_named(text, argument);
}

}  // namespace

Decimal parse_amount(std::string_view argument, std::string_view text) {
    static constexpr const char* hint = "amounts must be finite and not negative";
    Decimal value = parse_finite(argument, text, hint);
    if (value.is_negative())
        throw CoreError(ErrorKind::InvalidParameter, "invalid " + arg(argument) + ": " + std::string(text), hint);
    return value;
}

Decimal parse_markup(std::string_view argument, std::string_view text) {
    static constexpr const char* hint = "a markup is a finite percentage of at least -100";
    Decimal value = parse_finite(argument, text, hint);
    if (value < Decimal::from_int(-100))
        throw CoreError(ErrorKind::InvalidParameter, "invalid " + arg(argument) + ": " + std::string(text), hint);
    return value;
}

void check_occurred_at(std::string_view argument, bool is_null, bool is_infinite, int64_t at_us, int64_t now_us) {
    if (is_null) throw CoreError(ErrorKind::NullValue, arg(argument) + " must not be NULL");
    if (is_infinite)
        throw CoreError(ErrorKind::InvalidDatetime, "invalid " + arg(argument) + ": it must be a finite time");
    if (at_us > now_us + kMaxFutureSeconds * 1000000)
        throw CoreError(ErrorKind::InvalidDatetime, "invalid " + arg(argument) + ": it is more than a day in the future",
                        "usage is recorded when it happens; check the client's clock and time zone");
}

}  // namespace usage_meter
