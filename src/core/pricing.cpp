#include "pricing.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "error.h"
#include "validate.h"

namespace usage_meter {

int select_tier(const PriceTier* tiers, size_t count, const TokenUsage& usage) {
    const int64_t context = context_tokens(usage);
    int best = -1;
    for (size_t i = 0; i < count; ++i) {
        if (context > tiers[i].above_input_tokens &&
            (best < 0 || tiers[i].above_input_tokens > tiers[best].above_input_tokens))
            best = static_cast<int>(i);
    }
    return best;
}

void check_tiers(const PriceTier* tiers, size_t count, const char* argument) {
    if (count > kMaxTiers)
        throw CoreError(ErrorKind::InvalidParameter,
                        "invalid " + std::string(argument) + ": at most " + std::to_string(kMaxTiers) + " tiers");
    for (size_t i = 0; i < count; ++i) {
        int64_t t = tiers[i].above_input_tokens;
        if (t < 1 || t > kMaxTokenCount)
            throw CoreError(ErrorKind::InvalidParameter, "invalid " + std::string(argument) + ": threshold " +
                                                             std::to_string(t) +
                                                             " is not between 1 and 1000000000000 tokens");
        for (size_t j = 0; j < i; ++j)
            if (tiers[j].above_input_tokens == t)
                throw CoreError(ErrorKind::InvalidParameter, "invalid " + std::string(argument) + ": threshold " +
                                                                 std::to_string(t) + " appears twice");
    }
}

int64_t parse_threshold(std::string_view argument, std::string_view text) {
    Decimal value = Decimal::parse_named(text, argument);
    if (value.scale() != 0 || value.units() < 1 || value.units() > kMaxTokenCount)
        throw CoreError(ErrorKind::InvalidParameter,
                        "invalid " + std::string(argument) + ": threshold " + std::string(text) +
                            " is not a whole number of tokens between 1 and 1000000000000");
    return static_cast<int64_t>(value.units());
}

bool write_tiers_json(const PriceTier* tiers, size_t count, char* buf, size_t size) {
    size_t order[kMaxTiers];
    if (count > kMaxTiers) return false;
    for (size_t i = 0; i < count; ++i) order[i] = i;
    std::sort(order, order + count,
              [&](size_t a, size_t b) { return tiers[a].above_input_tokens < tiers[b].above_input_tokens; });
    std::string out = "[";
    for (size_t k = 0; k < count; ++k) {
        const PriceTier& t = tiers[order[k]];
        if (k > 0) out += ", ";
        out += "{\"above_input_tokens\": " + std::to_string(t.above_input_tokens);
        out += ", \"input_per_mtok\": " + t.price.input_per_mtok.to_string();
        out += ", \"output_per_mtok\": " + t.price.output_per_mtok.to_string();
        if (t.price.cache_read_per_mtok)
            out += ", \"cache_read_per_mtok\": " + t.price.cache_read_per_mtok->to_string();
        if (t.price.cache_write_per_mtok)
            out += ", \"cache_write_per_mtok\": " + t.price.cache_write_per_mtok->to_string();
        out += "}";
    }
    out += "]";
    if (out.size() + 1 > size) return false;
    std::memcpy(buf, out.c_str(), out.size() + 1);
    return true;
}

namespace {
bool same_token_price(const TokenPrice& a, const TokenPrice& b) {
    return a.input_per_mtok == b.input_per_mtok && a.output_per_mtok == b.output_per_mtok &&
           a.cache_read_per_mtok == b.cache_read_per_mtok && a.cache_write_per_mtok == b.cache_write_per_mtok &&
           a.per_request == b.per_request;
}
}  // namespace

bool same_price(const TokenPrice& a, const PriceTier* a_tiers, size_t a_count, const TokenPrice& b,
                const PriceTier* b_tiers, size_t b_count) {
    if (!same_token_price(a, b) || a_count != b_count) return false;
    for (size_t i = 0; i < a_count; ++i) {
        bool found = false;
        for (size_t j = 0; j < b_count && !found; ++j)
            found = a_tiers[i].above_input_tokens == b_tiers[j].above_input_tokens &&
                    same_token_price(a_tiers[i].price, b_tiers[j].price);
        if (!found) return false;
    }
    return true;
}

Decimal token_cost(const TokenUsage& usage, const TokenPrice& price) {
    const Decimal& cache_read = price.cache_read_per_mtok ? *price.cache_read_per_mtok : price.input_per_mtok;
    const Decimal& cache_write = price.cache_write_per_mtok ? *price.cache_write_per_mtok : price.input_per_mtok;
    Decimal per_million =
        Decimal::from_int(usage.input) * price.input_per_mtok + Decimal::from_int(usage.output) * price.output_per_mtok +
        Decimal::from_int(usage.cache_read) * cache_read + Decimal::from_int(usage.cache_write) * cache_write;
    return per_million.shifted_down(6);
}

namespace {
PricedCost price_event_unchecked(const PricingInputs& in);
}  // namespace

PricedCost price_event(const PricingInputs& in) {
    PricedCost out;
    try {
        out = price_event_unchecked(in);
    } catch (const CoreError& e) {
        if (e.kind() != ErrorKind::OutOfRange) throw;
        throw CoreError(ErrorKind::InvalidParameter, "invalid usage: its cost is too large to compute",
                        std::string("one event costs at most ") + kEventCostBounds.max + " USD");
    }
    if (out.priced && out.source == CostSource::PriceTable) {
        try {
            check_bounded("cost", out.cost, kEventCostBounds);
        } catch (const CoreError&) {
            throw CoreError(ErrorKind::InvalidParameter,
                            "invalid usage: its cost " + out.cost.to_string() + " is beyond what one event may cost",
                            std::string("one event costs at most ") + kEventCostBounds.max + " USD, with at most " +
                                std::to_string(kEventCostBounds.max_scale) + " decimal places");
        }
    }
    return out;
}

namespace {
PricedCost price_event_unchecked(const PricingInputs& in) {
    PricedCost out;
    if (in.reported_cost) {
        out.priced = true;
        out.source = CostSource::Reported;
        out.cost = *in.reported_cost;
        return out;
    }
    Decimal cost;
    if (in.tokens.any()) {
        if (!in.has_model || in.token_price == nullptr) return out;
        out.tier = select_tier(in.tiers, in.tier_count, in.tokens);
        cost = cost + token_cost(in.tokens, out.tier < 0 ? *in.token_price : in.tiers[out.tier].price);
        out.used_token_price = true;
    }
    // The price's fee, once per request, tier or not; a zero-token request of a priced model pays it too.
    if (in.has_model && in.token_price != nullptr && !in.token_price->per_request.is_zero()) {
        cost = cost + in.token_price->per_request;
        out.used_token_price = true;
    }
    if (in.quantity && !in.quantity->is_zero()) {
        if (!in.unit_price) return out;
        cost = cost + *in.quantity * *in.unit_price;
    }
    out.priced = true;
    out.source = CostSource::PriceTable;
    out.cost = cost;
    return out;
}
}  // namespace

Decimal billed_cost(const Decimal& cost, const Decimal& markup_pct) {
    if (markup_pct.is_zero()) return cost;
    return cost + (cost * markup_pct).shifted_down(2);
}

}  // namespace usage_meter
