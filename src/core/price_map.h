// The public price map (LiteLLM's model_prices_and_context_window.json): JSON numbers in USD per token become
// our USD per million tokens exactly, and an entry's token prices and "_above_<N>k_tokens" tiers become one
// price with tiers. The adapter walks the JSON and hands each field of an entry to litellm_field().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "decimal.h"
#include "pricing.h"

namespace usage_meter {

// A JSON number (RFC 8259 grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?) in USD per token, as USD per
// million tokens, exactly: "7.5e-08" -> 0.075, "1.5E-06" -> 1.5, "3" -> 3000000. Negative prices, other
// text, and values outside the exact decimal range are refused with an error naming `field`.
Decimal per_million_from_json_number(std::string_view text, std::string_view field);

// The same JSON number as an exact non-negative amount, unscaled (USD per request stays USD per request).
Decimal amount_from_json_number(std::string_view text, std::string_view field);

// What one price-map entry says about token prices. Plain data.
struct LiteLlmPrice {
    uint8_t base_mask = 0;  // which base components were given (bit per component)
    TokenPrice base;
    size_t tier_count = 0;
    uint8_t tier_mask[kMaxTiers] = {};
    PriceTier tiers[kMaxTiers];
};

// Takes one field of an entry. Token price fields are input_cost_per_token, output_cost_per_token,
// cache_read_input_token_cost, cache_creation_input_token_cost, each optionally followed by
// _above_<N>k_tokens (a tier above N*1000 context tokens); input_cost_per_request (USD per request) is the
// price's per-request fee (base.per_request); every other field is ignored. Each of these
// must be a non-negative JSON number (is_number false: it is some other JSON value) or an error naming
// the model and the field is thrown.
void litellm_field(LiteLlmPrice& price, std::string_view model, std::string_view key, bool is_number,
                   std::string_view number_text);

// After every field: whether the entry has a token price (input and output per token). Tier components the
// entry leaves out are the base's (as LiteLLM computes them), so each tier is complete.
bool litellm_finish(LiteLlmPrice& price);

}  // namespace usage_meter
