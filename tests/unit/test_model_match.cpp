// Model matching: the lookup keys, in precedence order, for every shape of model name.
#include <string>
#include <vector>

#include "test_support.h"

namespace usage_meter {
namespace {

// Each key as "rule: name @provider" where provider is "event", the prefix itself, or "NULL".
std::vector<std::string> keys(std::string_view model, bool has_provider) {
    PriceKeys k = price_lookup_keys(model, has_provider);
    std::vector<std::string> out;
    for (size_t i = 0; i < k.count; ++i) {
        const PriceKey& key = k.keys[i];
        std::string provider = key.provider == KeyProvider::Event    ? "event"
                               : key.provider == KeyProvider::Prefix ? std::string(model.substr(0, k.prefix_length))
                                                                     : "NULL";
        out.push_back(std::string(match_rule_name(key.rule)) + ": " +
                      std::string(model.substr(key.name_begin, key.name_length)) + " @" + provider);
    }
    return out;
}

using V = std::vector<std::string>;

TEST(PriceLookupKeys, PlainModelIsExactOnly) {
    EXPECT_EQ(keys("gpt-4o", true), (V{"exact: gpt-4o @event", "exact: gpt-4o @NULL"}));
    EXPECT_EQ(keys("gpt-4o", false), (V{"exact: gpt-4o @NULL"}));
}

TEST(PriceLookupKeys, DatedIdFallsBackToTheUndatedName) {
    EXPECT_EQ(keys("claude-3-5-haiku-20241022", true),
              (V{"exact: claude-3-5-haiku-20241022 @event", "exact: claude-3-5-haiku-20241022 @NULL",
                 "dated id: claude-3-5-haiku @event", "dated id: claude-3-5-haiku @NULL"}));
    EXPECT_EQ(keys("gpt-4o-2024-08-06", false), (V{"exact: gpt-4o-2024-08-06 @NULL", "dated id: gpt-4o @NULL"}));
    EXPECT_EQ(keys("claude-3-5-sonnet-v2@20241022", false),
              (V{"exact: claude-3-5-sonnet-v2@20241022 @NULL", "dated id: claude-3-5-sonnet-v2 @NULL"}));
}

TEST(PriceLookupKeys, ProviderPrefixNamesTheProviderWhenTheEventHasNone) {
    EXPECT_EQ(keys("openai/gpt-4o-mini", false),
              (V{"exact: openai/gpt-4o-mini @NULL", "provider prefix: openai/gpt-4o-mini @openai",
                 "provider prefix: gpt-4o-mini @openai", "provider prefix: gpt-4o-mini @NULL"}));
    // With a provider on the event, the event's provider is used for the rest of the name.
    EXPECT_EQ(keys("openai/gpt-4o-mini", true),
              (V{"exact: openai/gpt-4o-mini @event", "exact: openai/gpt-4o-mini @NULL",
                 "provider prefix: gpt-4o-mini @event", "provider prefix: gpt-4o-mini @NULL"}));
}

TEST(PriceLookupKeys, PrefixAndDateTogether) {
    EXPECT_EQ(keys("anthropic/claude-3-5-haiku-20241022", false),
              (V{"exact: anthropic/claude-3-5-haiku-20241022 @NULL",
                 "provider prefix: anthropic/claude-3-5-haiku-20241022 @anthropic",
                 "provider prefix: claude-3-5-haiku-20241022 @anthropic",
                 "provider prefix: claude-3-5-haiku-20241022 @NULL", "dated id: anthropic/claude-3-5-haiku @NULL",
                 "provider prefix + dated id: claude-3-5-haiku @anthropic",
                 "provider prefix + dated id: claude-3-5-haiku @NULL"}));
}

TEST(PriceLookupKeys, OnlyPlausibleDatesAreStripped) {
    EXPECT_EQ(undated_length("gpt-4-0613"), 10u);       // MMDD alone is not a date we strip
    EXPECT_EQ(undated_length("model-12345678"), 14u);   // not a year 20xx
    EXPECT_EQ(undated_length("model-20241322"), 14u);   // month 13
    EXPECT_EQ(undated_length("model-20241200"), 14u);   // day 0
    EXPECT_EQ(undated_length("model-2024-1-05"), 15u);  // not YYYY-MM-DD
    EXPECT_EQ(undated_length("model-20241231"), 5u);
    EXPECT_EQ(undated_length("-20241231"), 9u);  // nothing would be left
    EXPECT_EQ(undated_length("20241231"), 8u);
    EXPECT_EQ(keys("-20241231", false), (V{"exact: -20241231 @NULL"}));
}

TEST(PriceLookupKeys, DegenerateSlashes) {
    EXPECT_EQ(keys("/gpt", false), (V{"exact: /gpt @NULL"}));
    EXPECT_EQ(keys("gpt/", false), (V{"exact: gpt/ @NULL"}));
    // Only the first '/' separates the provider: the rest keeps its own slashes.
    EXPECT_EQ(keys("openrouter/meta/llama", false),
              (V{"exact: openrouter/meta/llama @NULL", "provider prefix: openrouter/meta/llama @openrouter",
                 "provider prefix: meta/llama @openrouter", "provider prefix: meta/llama @NULL"}));
}

TEST(PriceLookupKeys, NeverMoreThanTheCapacity) {
    for (bool p : {false, true}) EXPECT_LE(price_lookup_keys("a/b-2024-01-01", p).count, kMaxPriceKeys);
}

}  // namespace
}  // namespace usage_meter
