// The public price map: every JSON number form to an exact per-million price, and entries to prices + tiers.
#include "test_support.h"

namespace usage_meter {
namespace {

using test::dec;

Decimal pm(std::string_view text) { return per_million_from_json_number(text, "f"); }

TEST(PerMillionFromJsonNumber, EveryJsonNumberForm) {
    EXPECT_EQ(pm("7.5e-08"), dec("0.075"));
    EXPECT_EQ(pm("1e-7"), dec("0.1"));
    EXPECT_EQ(pm("1E-7"), dec("0.1"));
    EXPECT_EQ(pm("1.5E-06"), dec("1.5"));
    EXPECT_EQ(pm("1.5e+0"), dec("1500000"));
    EXPECT_EQ(pm("0.000003"), dec("3"));
    EXPECT_EQ(pm("3e-6"), dec("3"));
    EXPECT_EQ(pm("3"), dec("3000000"));
    EXPECT_EQ(pm("0"), dec("0"));
    EXPECT_EQ(pm("0.0"), dec("0"));
    EXPECT_EQ(pm("-0"), dec("0"));
    EXPECT_EQ(pm("2.4414e-07"), dec("0.24414"));
    EXPECT_EQ(pm("1.25e-10"), dec("0.000125"));
    // No binary floating point on the way: 0.1 + 0.2 style values stay exact.
    EXPECT_EQ(pm("3.0000000000000004e-07"), dec("0.30000000000000004"));
    EXPECT_EQ(pm("0.000015").to_string(), "15");
}

TEST(PerMillionFromJsonNumber, RefusesWhatJsonDoesNotAllow) {
    for (const char* bad : {"", "+1", ".5", "5.", "01", "1e", "1e+", "0x10", "NaN", "Infinity", "1,5", " 1", "1 "})
        EXPECT_CORE_ERROR(pm(bad), ErrorKind::InvalidParameter, "not a JSON number");
}

TEST(PerMillionFromJsonNumber, RefusesNegativeAndOutOfRange) {
    EXPECT_CORE_ERROR(pm("-1e-6"), ErrorKind::InvalidParameter, "negative");
    EXPECT_CORE_ERROR(pm("1e-40"), ErrorKind::OutOfRange);
    EXPECT_CORE_ERROR(pm("1e40"), ErrorKind::OutOfRange);
}

void field(LiteLlmPrice& p, std::string_view key, std::string_view number) { litellm_field(p, "m", key, true, number); }

TEST(LiteLlm, BasePricesAndCache) {
    LiteLlmPrice p;
    field(p, "input_cost_per_token", "8e-07");
    field(p, "output_cost_per_token", "4e-06");
    field(p, "cache_read_input_token_cost", "8e-08");
    field(p, "cache_creation_input_token_cost", "1e-06");
    field(p, "input_cost_per_token_batches", "4e-07");  // other variants are ignored
    field(p, "cache_creation_input_token_cost_above_1hr", "1.6e-06");
    field(p, "max_tokens", "8192");
    ASSERT_TRUE(litellm_finish(p));
    EXPECT_EQ(p.base.input_per_mtok, dec("0.8"));
    EXPECT_EQ(p.base.output_per_mtok, dec("4"));
    EXPECT_EQ(*p.base.cache_read_per_mtok, dec("0.08"));
    EXPECT_EQ(*p.base.cache_write_per_mtok, dec("1"));
    EXPECT_EQ(p.tier_count, 0u);
}

TEST(LiteLlm, TiersAreCompletedFromTheBase) {
    LiteLlmPrice p;
    field(p, "input_cost_per_token", "1.25e-06");
    field(p, "output_cost_per_token", "1e-05");
    field(p, "cache_read_input_token_cost", "1.25e-07");
    field(p, "input_cost_per_token_above_200k_tokens", "2.5e-06");
    field(p, "output_cost_per_token_above_200k_tokens", "1.5e-05");
    field(p, "input_cost_per_token_above_128k_tokens", "2e-06");
    ASSERT_TRUE(litellm_finish(p));
    ASSERT_EQ(p.tier_count, 2u);
    EXPECT_EQ(p.tiers[0].above_input_tokens, 200000);
    EXPECT_EQ(p.tiers[0].price.input_per_mtok, dec("2.5"));
    EXPECT_EQ(p.tiers[0].price.output_per_mtok, dec("15"));
    EXPECT_EQ(*p.tiers[0].price.cache_read_per_mtok, dec("0.125"));  // the base's cache-read price
    EXPECT_EQ(*p.tiers[0].price.cache_write_per_mtok, dec("1.25"));  // base has none: the base input price
    EXPECT_EQ(p.tiers[1].above_input_tokens, 128000);
    EXPECT_EQ(p.tiers[1].price.output_per_mtok, dec("10"));  // output left out: the base's
}

TEST(LiteLlm, EntriesWithoutTokenPricesAreNotImported) {
    LiteLlmPrice image;
    field(image, "output_cost_per_image", "0.04");
    EXPECT_FALSE(litellm_finish(image));
    LiteLlmPrice input_only;
    field(input_only, "input_cost_per_token", "1e-07");
    EXPECT_FALSE(litellm_finish(input_only));
}

TEST(LiteLlm, InputCostPerRequestIsThePerRequestFeeUnscaled) {
    LiteLlmPrice p;
    field(p, "input_cost_per_request", "0.005");
    field(p, "input_cost_per_token", "0.0");
    field(p, "output_cost_per_token", "2.8e-06");
    ASSERT_TRUE(litellm_finish(p));
    EXPECT_EQ(p.base.per_request.to_string(), "0.005");  // USD per request, not per million
    EXPECT_EQ(p.base.output_per_mtok, dec("2.8"));
    LiteLlmPrice e;
    field(e, "input_cost_per_request", "5E-3");
    EXPECT_EQ(e.base.per_request, dec("0.005"));
    // A fee alone is not a token price: skipped like other non-token entries.
    EXPECT_FALSE(litellm_finish(e));
    EXPECT_CORE_ERROR(litellm_field(e, "m", "input_cost_per_request", true, "-0.001"), ErrorKind::InvalidParameter,
                      "input_cost_per_request", "negative");
    EXPECT_CORE_ERROR(litellm_field(e, "m", "input_cost_per_request", false, ""), ErrorKind::InvalidParameter,
                      "JSON number");
}

TEST(LiteLlm, MalformedTokenPricesAreErrors) {
    LiteLlmPrice p;
    EXPECT_CORE_ERROR(litellm_field(p, "gpt-x", "input_cost_per_token", false, ""), ErrorKind::InvalidParameter,
                      "gpt-x", "input_cost_per_token", "JSON number");
    EXPECT_CORE_ERROR(litellm_field(p, "gpt-x", "output_cost_per_token", true, "-1e-6"), ErrorKind::InvalidParameter,
                      "negative");
    EXPECT_CORE_ERROR(litellm_field(p, "gpt-x", "input_cost_per_token_above_0k_tokens", true, "1e-6"),
                      ErrorKind::InvalidParameter, "above 0 tokens");
    // A field that is not a token price may be anything.
    EXPECT_NO_THROW(litellm_field(p, "gpt-x", "search_context_cost_per_query", false, ""));
}

}  // namespace
}  // namespace usage_meter
