#include "validate.h"

#include <cstdio>
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
    if (value.empty()) throw CoreError(ErrorKind::InvalidParameter, arg(argument) + " must not be empty");
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

void check_bounded(std::string_view argument, const Decimal& value, const AmountBounds& bounds) {
    const std::string hint = std::string(bounds.what) + " is at least 0 and at most " + bounds.max + ", with at most " +
                             std::to_string(bounds.max_scale) + " decimal places";
    if (value.is_negative() || value > Decimal::parse(bounds.max) || value.scale() > bounds.max_scale)
        throw CoreError(ErrorKind::InvalidParameter, "invalid " + arg(argument) + ": " + value.to_string(), hint);
}

Decimal parse_bounded(std::string_view argument, std::string_view text, const AmountBounds& bounds) {
    Decimal value;
    try {
        value = parse_amount(argument, text);
    } catch (const CoreError& e) {
        // Too many digits for the core at all: refused as out of bounds, like any other value beyond them.
        if (e.kind() != ErrorKind::OutOfRange) throw;
        throw CoreError(ErrorKind::InvalidParameter, "invalid " + arg(argument) + ": " + std::string(text),
                        std::string(bounds.what) + " is at most " + bounds.max + ", with at most " +
                            std::to_string(bounds.max_scale) + " decimal places");
    }
    check_bounded(argument, value, bounds);
    return value;
}

Decimal parse_markup(std::string_view argument, std::string_view text) {
    static const std::string hint = std::string("a markup is a finite percentage from -100 to ") + kMaxMarkup +
                                    ", with at most " + std::to_string(kMaxMarkupScale) + " decimal places";
    Decimal value;
    try {
        value = parse_finite(argument, text, hint.c_str());
    } catch (const CoreError& e) {
        if (e.kind() != ErrorKind::OutOfRange) throw;
        throw CoreError(ErrorKind::InvalidParameter, "invalid " + arg(argument) + ": " + std::string(text), hint);
    }
    if (value < Decimal::from_int(-100) || value > Decimal::parse(kMaxMarkup) || value.scale() > kMaxMarkupScale)
        throw CoreError(ErrorKind::InvalidParameter, "invalid " + arg(argument) + ": " + std::string(text), hint);
    return value;
}

Decimal limit_amount(std::string_view text) {
    static const Decimal largest = Decimal::parse(kLimitBounds.max);
    static const Decimal beyond = largest + Decimal::from_int(1);
    static const Decimal finest = Decimal::parse("0.000000000000000001");  // 10^-18
    const bool negative = !text.empty() && text[0] == '-';
    std::string_view digits = negative ? text.substr(1) : text;
    const size_t point = digits.find('.');
    std::string_view whole = digits.substr(0, point);
    std::string_view fraction = point == std::string_view::npos ? std::string_view() : digits.substr(point + 1);
    while (whole.size() > 1 && whole[0] == '0') whole.remove_prefix(1);
    if (whole.size() > 15) return negative ? -beyond : beyond;  // at least 10^15: beyond every limit
    bool dropped = false;
    if (fraction.size() > 18) {
        for (char c : fraction.substr(18)) dropped = dropped || c != '0';
        fraction = fraction.substr(0, 18);
    }
    std::string kept = (negative ? "-" : "") + std::string(whole.empty() ? "0" : whole);
    if (!fraction.empty()) kept += "." + std::string(fraction);
    Decimal value = Decimal::parse(kept);
    if (dropped && !negative) value = value + finest;  // rounded up, toward refusing
    if (value > largest) return beyond;
    return value;
}

void check_utc_offset(std::string_view argument, std::string_view zone, int64_t offset_seconds) {
    if (offset_seconds >= kMinUtcOffsetSeconds && offset_seconds <= kMaxUtcOffsetSeconds) return;
    const int64_t magnitude = offset_seconds < 0 ? -offset_seconds : offset_seconds;
    char offset[32];
    std::snprintf(offset, sizeof offset, "%c%02lld:%02lld", offset_seconds < 0 ? '-' : '+',
                  static_cast<long long>(magnitude / 3600), static_cast<long long>(magnitude / 60 % 60));
    throw CoreError(ErrorKind::InvalidParameter,
                    "invalid " + arg(argument) + ": \"" + std::string(zone) + "\" is " + offset + " from UTC",
                    "a time zone's offset from UTC must lie between -12:00 and +14:00, as every zone of the tz "
                    "database does since 1900");
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
