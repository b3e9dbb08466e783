// Input validation for everything that enters the ledger or the settings tables. Each check throws a
// CoreError whose message names the argument and the offending value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "decimal.h"

namespace usage_meter {

constexpr size_t kMaxNameLength = 200;            // characters, for every name and key
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

// A money or quantity amount given as decimal text (as PostgreSQL prints numeric): finite and >= 0.
Decimal parse_amount(std::string_view argument, std::string_view text);
// A percentage markup: finite and at least -100, so a billed cost never goes below zero.
Decimal parse_markup(std::string_view argument, std::string_view text);

// occurred_at: present, finite and at most a day after now (both in microseconds since the Unix epoch).
void check_occurred_at(std::string_view argument, bool is_null, bool is_infinite, int64_t at_us, int64_t now_us);

}  // namespace usage_meter
