// Pricing: which price applies to an event, and what the event costs. One place computes cost; the ledger
// trigger, repricing and the tests all call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "decimal.h"

namespace usage_meter {

// Token counts in usage_meter's meanings: input excludes cached tokens, output includes reasoning.
struct TokenUsage {
    int64_t input = 0;
    int64_t output = 0;
    int64_t cache_read = 0;
    int64_t cache_write = 0;
    int64_t reasoning = 0;  // part of output; reported, never priced again

    // What counters and limits call "tokens".
    int64_t billable_total() const { return input + output + cache_read + cache_write; }
    bool any() const { return billable_total() != 0; }
};

// USD per million tokens. A cache price that is absent means the input price.
struct TokenPrice {
    Decimal input_per_mtok;
    Decimal output_per_mtok;
    std::optional<Decimal> cache_read_per_mtok;
    std::optional<Decimal> cache_write_per_mtok;
};

// One price row that could apply to an event: already filtered to the event's model and to
// effective_from <= occurred_at.
struct PriceCandidate {
    int64_t price_id = 0;
    bool provider_specific = false;  // the row names the event's provider (not provider NULL)
    int64_t effective_from = 0;      // any monotonic clock; only the order matters
    TokenPrice price;
};

// The price that applies: a row for the event's provider beats a provider-NULL row; among equals the latest
// effective_from wins. Returns the index into candidates, or -1 when there is none.
int choose_price(const PriceCandidate* candidates, size_t count);

// Exact cost of the tokens at a price: sum of count x price / 10^6.
Decimal token_cost(const TokenUsage& usage, const TokenPrice& price);

struct PricingInputs {
    TokenUsage tokens;
    bool has_model = false;
    const TokenPrice* token_price = nullptr;     // null: no price for the model
    std::optional<Decimal> quantity;             // non-token units of the operation
    std::optional<Decimal> unit_price;           // per unit of the operation
    std::optional<Decimal> reported_cost;        // what the provider charged; wins over the tables
};

enum class CostSource { None, Reported, PriceTable };

struct PricedCost {
    bool priced = false;      // cost is known
    CostSource source = CostSource::None;
    Decimal cost;             // meaningful only when priced
};

// Prices one event. It is priced when a reported cost is given, or when every non-zero component (tokens,
// quantity) has a price; an event with nothing to price costs exactly 0.
PricedCost price_event(const PricingInputs& in);

// billed = cost x (1 + markup_pct / 100), exactly.
Decimal billed_cost(const Decimal& cost, const Decimal& markup_pct);

}  // namespace usage_meter
