// Input validation: each check's ErrorKind, and that its message names the argument.
#include <cstdint>
#include <limits>
#include <string>

#include "test_support.h"

namespace usage_meter {
namespace {

using test::dec;

std::string repeat(const std::string& s, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
}

// Calls check(argument, value, length) on a std::string.
template <typename Check>
void call(Check check, const char* argument, const std::string& value) {
    check(argument, value.data(), value.size());
}

// ---- utf8_length -------------------------------------------------------------------------------------

TEST(Utf8Length, CountsCodePointsNotBytes) {
    EXPECT_EQ(utf8_length(""), 0u);
    EXPECT_EQ(utf8_length("abc"), 3u);
    EXPECT_EQ(utf8_length("h\xC3\xA9llo"), 5u);                            // "héllo": 6 bytes
    EXPECT_EQ(utf8_length("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"), 3u);    // "日本語": 9 bytes
    EXPECT_EQ(utf8_length("\xF0\x9F\x99\x82"), 1u);                        // U+1F642: 4 bytes
    EXPECT_EQ(utf8_length("a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x99\x82z"), 5u);  // 1 + 2 + 3 + 4 + 1 bytes
    EXPECT_EQ(utf8_length(std::string_view("a\0b", 3)), 3u);               // NUL is a character like any other
}

// ---- names -------------------------------------------------------------------------------------------

TEST(RequiredName, NullAndEmpty) {
    EXPECT_CORE_ERROR(check_required_name("provider", nullptr, 0), ErrorKind::NullValue, "provider");
    EXPECT_CORE_ERROR(call(check_required_name, "provider", ""), ErrorKind::InvalidParameter, "provider");
    // The length is what counts, not a terminating NUL.
    EXPECT_CORE_ERROR(check_required_name("model", "abc", 0), ErrorKind::InvalidParameter, "model");
    EXPECT_NO_THROW(check_required_name("model", "abc", 1));
    EXPECT_NO_THROW(call(check_required_name, "provider", "a"));
}

TEST(RequiredName, TwoHundredCharactersIsTheLimit) {
    EXPECT_NO_THROW(call(check_required_name, "model", std::string(200, 'a')));
    EXPECT_CORE_ERROR(call(check_required_name, "model", std::string(201, 'a')), ErrorKind::StringTooLong, "model");
}

TEST(RequiredName, MultibyteCharactersCountOnce) {
    const std::string e_acute = "\xC3\xA9", nichi = "\xE6\x97\xA5", smile = "\xF0\x9F\x99\x82";
    EXPECT_NO_THROW(call(check_required_name, "model", repeat(e_acute, 200)));  // 400 bytes
    EXPECT_NO_THROW(call(check_required_name, "model", repeat(nichi, 200)));    // 600 bytes
    EXPECT_NO_THROW(call(check_required_name, "model", repeat(smile, 200)));    // 800 bytes
    EXPECT_NO_THROW(call(check_required_name, "model", std::string(199, 'a') + smile));
    EXPECT_CORE_ERROR(call(check_required_name, "model", repeat(e_acute, 201)), ErrorKind::StringTooLong, "model");
    EXPECT_CORE_ERROR(call(check_required_name, "model", repeat(smile, 201)), ErrorKind::StringTooLong, "model");
    EXPECT_CORE_ERROR(call(check_required_name, "model", std::string(200, 'a') + nichi), ErrorKind::StringTooLong,
                      "model");
}

TEST(OptionalName, NullIsFine) {
    EXPECT_NO_THROW(check_optional_name("feature", nullptr, 0));
    EXPECT_NO_THROW(call(check_optional_name, "feature", "search"));
    EXPECT_NO_THROW(call(check_optional_name, "feature", std::string(200, 'x')));
    EXPECT_CORE_ERROR(call(check_optional_name, "feature", ""), ErrorKind::InvalidParameter, "feature");
    EXPECT_CORE_ERROR(call(check_optional_name, "feature", std::string(201, 'x')), ErrorKind::StringTooLong, "feature");
}

TEST(UserId, StarIsReserved) {
    EXPECT_NO_THROW(check_user_id("user_id", nullptr, 0));
    EXPECT_NO_THROW(call(check_user_id, "user_id", "user-1"));
    EXPECT_NO_THROW(call(check_user_id, "user_id", "**"));
    EXPECT_NO_THROW(call(check_user_id, "user_id", "*a"));
    EXPECT_CORE_ERROR(call(check_user_id, "user_id", "*"), ErrorKind::InvalidParameter, "user_id", "'*'");
    EXPECT_CORE_ERROR(call(check_user_id, "user_id", ""), ErrorKind::InvalidParameter, "user_id");
    EXPECT_CORE_ERROR(call(check_user_id, "user_id", std::string(201, 'u')), ErrorKind::StringTooLong, "user_id");
    // A '*' followed by more bytes is a different id; one cut short by its length is '*'.
    EXPECT_CORE_ERROR(check_user_id("user_id", "*x", 1), ErrorKind::InvalidParameter, "user_id");
}

// ---- counts ------------------------------------------------------------------------------------------

TEST(TokenCount, Range) {
    EXPECT_NO_THROW(check_token_count("input_tokens", 0));
    EXPECT_NO_THROW(check_token_count("input_tokens", 1));
    EXPECT_NO_THROW(check_token_count("input_tokens", 1000000000000));
    EXPECT_CORE_ERROR(check_token_count("input_tokens", -1), ErrorKind::InvalidParameter, "input_tokens", "-1");
    EXPECT_CORE_ERROR(check_token_count("output_tokens", 1000000000001), ErrorKind::OutOfRange, "output_tokens",
                      "1000000000001");
    EXPECT_CORE_ERROR(check_token_count("cache_read_tokens", std::numeric_limits<int64_t>::min()),
                      ErrorKind::InvalidParameter, "cache_read_tokens");
    EXPECT_CORE_ERROR(check_token_count("cache_write_tokens", std::numeric_limits<int64_t>::max()),
                      ErrorKind::OutOfRange, "cache_write_tokens");
}

TEST(Reasoning, IsPartOfOutput) {
    EXPECT_NO_THROW(check_reasoning(0, 0));
    EXPECT_NO_THROW(check_reasoning(0, 10));
    EXPECT_NO_THROW(check_reasoning(5, 5));
    EXPECT_CORE_ERROR(check_reasoning(6, 5), ErrorKind::InvalidParameter, "reasoning_tokens", "output_tokens", "6", "5");
    EXPECT_CORE_ERROR(check_reasoning(1, 0), ErrorKind::InvalidParameter, "reasoning_tokens");
}

TEST(Latency, NotNegative) {
    EXPECT_NO_THROW(check_latency("latency_ms", 0));
    EXPECT_NO_THROW(check_latency("latency_ms", 1));
    EXPECT_NO_THROW(check_latency("latency_ms", std::numeric_limits<int64_t>::max()));
    EXPECT_CORE_ERROR(check_latency("latency_ms", -1), ErrorKind::InvalidParameter, "latency_ms", "-1");
    EXPECT_CORE_ERROR(check_latency("ttft_ms", std::numeric_limits<int64_t>::min()), ErrorKind::InvalidParameter,
                      "ttft_ms");
}

// ---- amounts -----------------------------------------------------------------------------------------

// The hint of the CoreError fn throws (empty when it throws none).
template <typename Fn>
std::string hint_of(Fn&& fn) {
    try {
        fn();
    } catch (const CoreError& e) {
        return e.hint();
    }
    return std::string();
}

TEST(Amount, NonFiniteValuesAreRejected) {
    for (const char* text : {"NaN", "Infinity", "-Infinity"}) {
        SCOPED_TRACE(text);
        EXPECT_CORE_ERROR(parse_amount("cost", text), ErrorKind::InvalidParameter, "cost", text);
        // Not just "not a number": the hint says why PostgreSQL's special values are refused.
        EXPECT_NE(hint_of([&] { parse_amount("cost", text); }).find("finite"), std::string::npos);
    }
}

TEST(Amount, NegativeValuesAreRejected) {
    EXPECT_CORE_ERROR(parse_amount("cost", "-0.01"), ErrorKind::InvalidParameter, "cost", "-0.01");
    EXPECT_CORE_ERROR(parse_amount("quantity", "-1"), ErrorKind::InvalidParameter, "quantity");
    EXPECT_CORE_ERROR(parse_amount("unit_price", "-1e-36"), ErrorKind::InvalidParameter, "unit_price");
}

TEST(Amount, ValidValues) {
    EXPECT_TRUE(parse_amount("cost", "0").is_zero());
    EXPECT_TRUE(parse_amount("cost", "-0").is_zero());  // zero is not negative, whatever its sign
    EXPECT_EQ(parse_amount("cost", "0.00326232"), dec("0.00326232"));
    EXPECT_EQ(parse_amount("cost", "12.50"), dec("12.5"));
    EXPECT_EQ(parse_amount("quantity", "1e3"), dec("1000"));
}

TEST(Amount, MalformedAndOutOfRangeNameTheArgument) {
    EXPECT_CORE_ERROR(parse_amount("unit_price", "abc"), ErrorKind::InvalidParameter, "unit_price");
    EXPECT_CORE_ERROR(parse_amount("unit_price", "nan"), ErrorKind::InvalidParameter, "unit_price");
    EXPECT_CORE_ERROR(parse_amount("unit_price", "1e-40"), ErrorKind::OutOfRange, "unit_price");
    EXPECT_CORE_ERROR(parse_amount("unit_price", std::string(39, '9')), ErrorKind::OutOfRange, "unit_price");
}

TEST(Markup, AtLeastMinusOneHundred) {
    EXPECT_EQ(parse_markup("markup_pct", "-100"), dec("-100"));
    EXPECT_EQ(parse_markup("markup_pct", "-100.000"), dec("-100"));
    EXPECT_EQ(parse_markup("markup_pct", "0"), Decimal());
    EXPECT_EQ(parse_markup("markup_pct", "12.5"), dec("12.5"));
    EXPECT_EQ(parse_markup("markup_pct", "-99.99"), dec("-99.99"));
    EXPECT_EQ(parse_markup("markup_pct", "1000"), dec("1000"));  // the upper bound
    EXPECT_EQ(parse_markup("markup_pct", "-33.333"), dec("-33.333"));
    EXPECT_CORE_ERROR(parse_markup("markup_pct", "-100.01"), ErrorKind::InvalidParameter, "markup_pct", "-100.01");
    EXPECT_CORE_ERROR(parse_markup("markup_pct", "-100.00000000000000000000000000000001"), ErrorKind::InvalidParameter,
                      "markup_pct");
    EXPECT_CORE_ERROR(parse_markup("markup_pct", "-101"), ErrorKind::InvalidParameter, "markup_pct");
    for (const char* text : {"NaN", "Infinity", "-Infinity"}) {
        SCOPED_TRACE(text);
        EXPECT_CORE_ERROR(parse_markup("markup_pct", text), ErrorKind::InvalidParameter, "markup_pct", text);
        EXPECT_NE(hint_of([&] { parse_markup("markup_pct", text); }).find("finite"), std::string::npos);
    }
    EXPECT_CORE_ERROR(parse_markup("markup_pct", "ten"), ErrorKind::InvalidParameter, "markup_pct");
}

TEST(Markup, BoundedSoEveryBilledCostIsExact) {
    EXPECT_CORE_ERROR(parse_markup("markup_pct", "1000.001"), ErrorKind::InvalidParameter, "markup_pct", "1000.001");
    EXPECT_CORE_ERROR(parse_markup("markup_pct", "1e35"), ErrorKind::InvalidParameter, "markup_pct");
    EXPECT_CORE_ERROR(parse_markup("markup_pct", "12.3456"), ErrorKind::InvalidParameter, "markup_pct", "12.3456");
    EXPECT_CORE_ERROR(parse_markup("markup_pct", "1e-34"), ErrorKind::InvalidParameter, "markup_pct");
    EXPECT_CORE_ERROR(parse_markup("markup_pct", std::string(39, '9')), ErrorKind::InvalidParameter, "markup_pct");
    // At every edge together (the largest cost, every decimal place, the largest and the finest markup), the
    // billed cost is still computed exactly.
    const Decimal largest_cost = parse_cost("cost", "99999999.999999999999999999999999");
    for (const char* markup : {"1000", "-100", "-33.333", "999.999", "0.001"}) {
        SCOPED_TRACE(markup);
        EXPECT_NO_THROW(billed_cost(largest_cost, parse_markup("markup_pct", markup)));
    }
}

// ---- bounded amounts ---------------------------------------------------------------------------------

TEST(Bounded, CostPriceQuantityAndLimit) {
    EXPECT_EQ(parse_cost("cost", "100000000"), dec("100000000"));
    EXPECT_EQ(parse_cost("cost", "0.000000000000000000000001"), dec("0.000000000000000000000001"));
    EXPECT_CORE_ERROR(parse_cost("cost", "100000000.000000000000000001"), ErrorKind::InvalidParameter, "cost");
    EXPECT_CORE_ERROR(parse_cost("cost", "0.0000000000000000000000001"), ErrorKind::InvalidParameter, "cost");
    EXPECT_CORE_ERROR(parse_cost("cost", std::string(39, '9')), ErrorKind::InvalidParameter, "cost");
    EXPECT_CORE_ERROR(parse_cost("cost", "-1"), ErrorKind::InvalidParameter, "cost");
    EXPECT_CORE_ERROR(parse_cost("cost", "NaN"), ErrorKind::InvalidParameter, "cost");
    EXPECT_EQ(parse_price("input_per_mtok", "0.45003000000000007"), dec("0.45003000000000007"));  // the price map's
    EXPECT_CORE_ERROR(parse_price("input_per_mtok", "1000000.1"), ErrorKind::InvalidParameter, "input_per_mtok");
    EXPECT_CORE_ERROR(parse_price("input_per_mtok", "0.0000000000000000001"), ErrorKind::InvalidParameter,
                      "input_per_mtok");
    EXPECT_CORE_ERROR(parse_quantity("quantity", "0.0000001"), ErrorKind::InvalidParameter, "quantity");
    EXPECT_CORE_ERROR(parse_limit("max_value", "100000000000000.1"), ErrorKind::InvalidParameter, "max_value");
    EXPECT_NE(hint_of([&] { parse_limit("max_value", "1e15"); }).find("100000000000000"), std::string::npos);
}

TEST(LimitAmount, ExactUpToEighteenPlacesAndEveryLimit) {
    EXPECT_EQ(limit_amount("0"), Decimal());
    EXPECT_EQ(limit_amount("12.5"), dec("12.5"));
    EXPECT_EQ(limit_amount("-3.25"), dec("-3.25"));
    EXPECT_EQ(limit_amount("100000000000000"), dec("100000000000000"));
    EXPECT_EQ(limit_amount("0.000000000000000001"), dec("0.000000000000000001"));
    EXPECT_EQ(limit_amount("0000012.000"), dec("12"));
}

TEST(LimitAmount, RoundsUpFinerPlacesAndSaturatesAboveEveryLimit) {
    // A billed cost total can have 29 decimal places: rounded up to 18, toward refusing.
    EXPECT_EQ(limit_amount("1.00000000000000000000000000001"), dec("1.000000000000000001"));
    EXPECT_EQ(limit_amount("1.00000000000000000000000000000"), dec("1"));
    EXPECT_EQ(limit_amount("-1.00000000000000000000000000001"), dec("-1"));  // toward +infinity
    const Decimal beyond = dec("100000000000001");
    EXPECT_EQ(limit_amount("100000000000000.000000000000000001"), beyond);
    EXPECT_EQ(limit_amount("99999999999999999999999999999999999999"), beyond);
    EXPECT_EQ(limit_amount(std::string(200, '9') + "." + std::string(200, '9')), beyond);
    EXPECT_EQ(limit_amount("-" + std::string(60, '9')), -beyond);
    // What a limit decision adds up stays in range: three saturated amounts at 18 places.
    const Decimal finest = limit_amount("99999999999999.999999999999999999");
    EXPECT_NO_THROW(finest + finest + finest);
}

// ---- time zone offsets ---------------------------------------------------------------------------------

TEST(UtcOffset, WithinWhatRealZonesUse) {
    EXPECT_NO_THROW(check_utc_offset("time_zone", "Pacific/Kiritimati", 14 * 3600));
    EXPECT_NO_THROW(check_utc_offset("time_zone", "Etc/GMT+12", -12 * 3600));
    EXPECT_NO_THROW(check_utc_offset("time_zone", "UTC", 0));
    EXPECT_CORE_ERROR(check_utc_offset("time_zone", "FOO-100", 100 * 3600), ErrorKind::InvalidParameter, "time_zone",
                      "FOO-100", "+100:00");
    EXPECT_CORE_ERROR(check_utc_offset("time_zone", "x", 14 * 3600 + 1), ErrorKind::InvalidParameter, "time_zone");
    EXPECT_CORE_ERROR(check_utc_offset("time_zone", "y", -12 * 3600 - 60), ErrorKind::InvalidParameter, "time_zone",
                      "-12:01");
}

// ---- occurred_at -------------------------------------------------------------------------------------

TEST(OccurredAt, Checks) {
    const int64_t now = int64_t{1772956800} * 1000000;  // microseconds
    const int64_t day = int64_t{86400} * 1000000;
    EXPECT_CORE_ERROR(check_occurred_at("occurred_at", true, false, 0, now), ErrorKind::NullValue, "occurred_at");
    EXPECT_CORE_ERROR(check_occurred_at("occurred_at", true, true, 0, now), ErrorKind::NullValue, "occurred_at");
    EXPECT_CORE_ERROR(check_occurred_at("occurred_at", false, true, 0, now), ErrorKind::InvalidDatetime, "occurred_at");
    EXPECT_NO_THROW(check_occurred_at("occurred_at", false, false, now, now));
    EXPECT_NO_THROW(check_occurred_at("occurred_at", false, false, now + day, now));  // exactly a day ahead
    EXPECT_CORE_ERROR(check_occurred_at("occurred_at", false, false, now + day + 1, now), ErrorKind::InvalidDatetime,
                      "occurred_at");
    EXPECT_CORE_ERROR(check_occurred_at("event_time", false, false, now + 30 * day, now), ErrorKind::InvalidDatetime,
                      "event_time");
    // The past is fine, however far: late-arriving usage is still usage.
    EXPECT_NO_THROW(check_occurred_at("occurred_at", false, false, now - 365 * day, now));
    EXPECT_NO_THROW(check_occurred_at("occurred_at", false, false, -day, now));  // before 1970
}

}  // namespace
}  // namespace usage_meter
