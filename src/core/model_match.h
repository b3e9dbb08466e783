// Model matching: the ordered list of (model name, provider) keys under which a price is looked up for an
// event. The first key that has a price in force wins, so the order below is the whole precedence rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace usage_meter {

// Why a key was tried; price_for() reports it.
enum class MatchRule : uint8_t {
    Exact,                // the event's model as recorded
    ProviderPrefix,       // "openai/gpt-4o-mini": the part after the first '/', the prefix naming the provider
    DatedId,              // "claude-3-5-haiku-20241022": the model without its trailing release date
    ProviderPrefixDated,  // both: "anthropic/claude-3-5-haiku-20241022" -> "claude-3-5-haiku"
};
const char* match_rule_name(MatchRule rule);

// Which provider a key looks up.
enum class KeyProvider : uint8_t {
    Event,   // the event's provider (only when the event has one)
    Prefix,  // the provider named by the model's prefix (only when the event has none)
    None,    // provider-NULL prices
};

// One lookup key: the name is model.substr(name_begin, name_length); a Prefix provider is
// model.substr(0, prefix_length).
struct PriceKey {
    uint32_t name_begin;
    uint32_t name_length;
    KeyProvider provider;
    MatchRule rule;
};

constexpr size_t kMaxPriceKeys = 12;

struct PriceKeys {
    size_t count = 0;
    uint32_t prefix_length = 0;  // length of the provider prefix before the first '/', 0 when none
    PriceKey keys[kMaxPriceKeys];
};

// The keys to try, best first:
//   1. exact:   (model, event provider), (model, NULL)
//   2. prefix:  model "p/rest" -- when the event has no provider: (model, p); then (rest, provider or p),
//               (rest, NULL)
//   3. dated:   model ending in -YYYYMMDD, -YYYY-MM-DD, @YYYYMMDD or @YYYY-MM-DD, without it:
//               (undated, event provider), (undated, NULL)
//   4. prefix + dated: rest without its date: (undated rest, provider or p), (undated rest, NULL)
// A provider-specific key always precedes the provider-NULL key of the same name, so a price for the
// event's provider beats a provider-less one even when that one is newer.
PriceKeys price_lookup_keys(std::string_view model, bool event_has_provider);

// Length of `name` without a trailing release date (see above), or name.size() when it has none.
size_t undated_length(std::string_view name);

}  // namespace usage_meter
