#include "pricing.h"

namespace usage_meter {

int choose_price(const PriceCandidate* candidates, size_t count) {
    int best = -1;
    for (size_t i = 0; i < count; ++i) {
        const PriceCandidate& c = candidates[i];
        if (best < 0) {
            best = static_cast<int>(i);
            continue;
        }
        const PriceCandidate& b = candidates[best];
        if (c.provider_specific != b.provider_specific) {
            if (c.provider_specific) best = static_cast<int>(i);
        } else if (c.effective_from > b.effective_from ||
                   (c.effective_from == b.effective_from && c.price_id > b.price_id)) {
            best = static_cast<int>(i);
        }
    }
    return best;
}

Decimal token_cost(const TokenUsage& usage, const TokenPrice& price) {
    const Decimal& cache_read = price.cache_read_per_mtok ? *price.cache_read_per_mtok : price.input_per_mtok;
    const Decimal& cache_write = price.cache_write_per_mtok ? *price.cache_write_per_mtok : price.input_per_mtok;
    Decimal per_million = Decimal::from_int(usage.input) * price.input_per_mtok +
                          Decimal::from_int(usage.output) * price.output_per_mtok +
                          Decimal::from_int(usage.cache_read) * cache_read +
                          Decimal::from_int(usage.cache_write) * cache_write;
    return per_million.shifted_down(6);
}

PricedCost price_event(const PricingInputs& in) {
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
        cost = cost + token_cost(in.tokens, *in.token_price);
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

Decimal billed_cost(const Decimal& cost, const Decimal& markup_pct) {
    if (markup_pct.is_zero()) return cost;
    return cost + (cost * markup_pct).shifted_down(2);
}

}  // namespace usage_meter
