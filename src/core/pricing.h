// Pricing: which price applies to an event, and what the event costs. One place computes cost; the ledger
// trigger, repricing and the tests all call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

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

// USD per million tokens. A cache price that is absent means the input price. per_request is a fixed fee in
// USD charged once for every request the price prices (zero-token requests included); it is the price's, not a
// tier's: a tier changes the token rates only, and a tier's own per_request is always 0 and never charged.
struct TokenPrice {
    Decimal input_per_mtok;
    Decimal output_per_mtok;
    std::optional<Decimal> cache_read_per_mtok;
    std::optional<Decimal> cache_write_per_mtok;
    Decimal per_request;
};

// A tier of a price: from more than above_input_tokens context tokens in one request (input + cache read +
// cache write), the whole request is priced at the tier's rates. Absent cache prices mean the tier's input
// price, as for the base price.
struct PriceTier {
    int64_t above_input_tokens = 0;
    TokenPrice price;
};

constexpr size_t kMaxTiers = 8;

// Context tokens of one request, the quantity tier thresholds are compared with.
inline int64_t context_tokens(const TokenUsage& usage) { return usage.input + usage.cache_read + usage.cache_write; }

// The tier that prices a request: the one with the highest threshold strictly below the request's context
// tokens; -1 (the base price) when the request is at or under every threshold. Tiers may come in any order.
int select_tier(const PriceTier* tiers, size_t count, const TokenUsage& usage);

// Checks a price's tiers: at most kMaxTiers, thresholds between 1 and 10^12 tokens and distinct. Throws a
// CoreError naming `argument` otherwise. (Amounts are checked where they are parsed.)
void check_tiers(const PriceTier* tiers, size_t count, const char* argument);

// A tier threshold given as decimal text: a whole number of tokens (range checked by check_tiers).
int64_t parse_threshold(std::string_view argument, std::string_view text);

// The canonical JSON of a price's tiers, sorted by threshold, as stored in prices.tiers:
// [{"above_input_tokens": 200000, "input_per_mtok": 6, "output_per_mtok": 22.5, ...}]. Writes it NUL-terminated
// into buf; returns false when it does not fit.
bool write_tiers_json(const PriceTier* tiers, size_t count, char* buf, size_t size);

// Whether two prices (with their tiers, in any order, and their per-request fees) charge exactly the same.
bool same_price(const TokenPrice& a, const PriceTier* a_tiers, size_t a_count, const TokenPrice& b,
                const PriceTier* b_tiers, size_t b_count);

// Exact cost of the tokens at a price: sum of count x price / 10^6.
Decimal token_cost(const TokenUsage& usage, const TokenPrice& price);

struct PricingInputs {
    TokenUsage tokens;
    bool has_model = false;
    const TokenPrice* token_price = nullptr;  // null: no price for the model
    const PriceTier* tiers = nullptr;         // the token price's tiers, if any
    size_t tier_count = 0;
    std::optional<Decimal> quantity;       // non-token units of the operation
    std::optional<Decimal> unit_price;     // per unit of the operation
    std::optional<Decimal> reported_cost;  // what the provider charged; wins over the tables
};

enum class CostSource { None, Reported, PriceTable };

struct PricedCost {
    bool priced = false;  // cost is known
    CostSource source = CostSource::None;
    Decimal cost;                   // meaningful only when priced
    int tier = -1;                  // the tier of the token price that applied, -1 for the base price
    bool used_token_price = false;  // the model's price charged something: tokens or its per-request fee
};

// Prices one event. It is priced when a reported cost is given, or when every non-zero component (tokens,
// quantity) has a price; an event with nothing to price costs exactly 0. Tokens are priced at the tier
// select_tier picks (whole-request semantics), else at the base price. When the model has a price, its
// per-request fee is added once, whatever the tokens (also for a request with none):
// cost = token cost + per_request + quantity x unit price. A cost beyond one event's bounds (kEventCostBounds:
// at most 10^9, 18 decimal places; a reported cost is checked where it is parsed) is refused with
// ErrorKind::InvalidParameter, also when it is too large to compute at all.
PricedCost price_event(const PricingInputs& in);

// billed = cost x (1 + markup_pct / 100), exactly.
Decimal billed_cost(const Decimal& cost, const Decimal& markup_pct);

}  // namespace usage_meter
