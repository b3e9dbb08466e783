// Input validation for everything that enters the ledger or the settings tables. Each check throws a
// CoreError whose message names the argument and the offending value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "decimal.h"

namespace usage_meter {

constexpr size_t kMaxNameLength = 200;             // characters, for every name and key
constexpr int64_t kMaxTokenCount = 1000000000000;  // 10^12 per event and counter
constexpr int64_t kMaxFutureSeconds = 86400;       // occurred_at may be at most a day ahead

// Number of characters (code points) in UTF-8 text.
size_t utf8_length(std::string_view text);

// A name that must be present: not NULL, not empty, at most 200 characters.
void check_required_name(std::string_view argument, const char* value, size_t length);
// A name that may be NULL; when present, not empty and at most 200 characters.
void check_optional_name(std::string_view argument, const char* value, size_t length);
// A user id: optional, and never the reserved '*' (which means "each user" in limits).
void check_user_id(std::string_view argument, const char* value, size_t length);

void check_token_count(std::string_view argument, int64_t value);
// reasoning tokens are part of the output tokens.
void check_reasoning(int64_t reasoning_tokens, int64_t output_tokens);
void check_latency(std::string_view argument, int64_t value);

// A money or quantity amount given as decimal text (as PostgreSQL prints numeric): finite and >= 0. For values
// read back from the tables; values entering them go through the bounded parsers below.
Decimal parse_amount(std::string_view argument, std::string_view text);

// Bounds on what enters the ledger and the settings, so that every product and sum the core makes of money
// fits its exact 128-bit decimals (38 digits) and nothing valid today fails later when it is used:
//   - a price (per million tokens, per request, per unit) at most 10^6 with at most 18 decimal places (the
//     public price map has per-token prices such as 4.5003000000000007e-07, i.e. 17 places per million);
//   - a cost of one event (reported, computed or estimated) at most 10^8 USD with at most 24 decimal places
//     (a token count times a price per million has 18 + 6);
//   - a markup from -100 % to 1000 % with at most 3 decimal places (-33.333 %), so a billed cost's product
//     cost x markup has at most 38 digits and 27 places, and the billed cost (cost + that / 100) 29 places;
//   - a limit's max_value at most 10^14 with at most 18 decimal places.
// A value outside them is refused where it enters (SQLSTATE 22023), never later when it is used.
struct AmountBounds {
    const char* max;  // the largest value, as decimal text
    int max_scale;    // the most decimal places
    const char* what;
};
inline constexpr AmountBounds kEventCostBounds = {"100000000", 24, "the cost of one event"};
inline constexpr AmountBounds kPriceBounds = {"1000000", 18, "a price"};
inline constexpr AmountBounds kQuantityBounds = {"1000000000000", 6, "a quantity"};
inline constexpr AmountBounds kLimitBounds = {"100000000000000", 18, "a limit"};
inline constexpr int kMaxMarkupScale = 3;
inline constexpr const char* kMaxMarkup = "1000";  // percent: a billed cost is at most 11 times the cost

// An amount within bounds: finite, >= 0, at most bounds.max and bounds.max_scale decimal places.
Decimal parse_bounded(std::string_view argument, std::string_view text, const AmountBounds& bounds);
inline Decimal parse_cost(std::string_view argument, std::string_view text) {
    return parse_bounded(argument, text, kEventCostBounds);
}
inline Decimal parse_price(std::string_view argument, std::string_view text) {
    return parse_bounded(argument, text, kPriceBounds);
}
inline Decimal parse_quantity(std::string_view argument, std::string_view text) {
    return parse_bounded(argument, text, kQuantityBounds);
}
inline Decimal parse_limit(std::string_view argument, std::string_view text) {
    return parse_bounded(argument, text, kLimitBounds);
}
// A value already parsed, within bounds (a tier's price, a computed cost).
void check_bounded(std::string_view argument, const Decimal& value, const AmountBounds& bounds);

// A percentage markup: finite, from -100 (a billed cost never goes below zero) to 1000, at most 3 decimal places.
Decimal parse_markup(std::string_view argument, std::string_view text);

// An amount as a limit decision sees it (a counter total, the open holds, an estimate), from its decimal text:
// rounded up to 18 decimal places (the finest a limit has, so "used + held + estimate > max_value" is decided
// as exactly as it can be, and never lets a request through that the exact sum would refuse), and anything
// above the largest limit (10^14) counts as 10^14 + 1. So a limit path never fails on what the tables hold.
Decimal limit_amount(std::string_view text);

// A time zone's offset from UTC, in seconds: every offset a tenant's zone uses must lie within what real zones
// use today, -12 h to +14 h, so a tenant's day starts at most 14 hours before and ends at most 12 hours after
// the UTC day of the same date (what retention's verifiable_since() relies on). Throws naming the zone.
constexpr int64_t kMinUtcOffsetSeconds = -12 * 3600;
constexpr int64_t kMaxUtcOffsetSeconds = 14 * 3600;
void check_utc_offset(std::string_view argument, std::string_view zone, int64_t offset_seconds);

// occurred_at: present, finite and at most a day after now (both in microseconds since the Unix epoch).
void check_occurred_at(std::string_view argument, bool is_null, bool is_infinite, int64_t at_us, int64_t now_us);

}  // namespace usage_meter
