#include "reprice.h"

namespace usage_meter {

EventPricing repriced_event_pricing(const PricedCost& priced, const Decimal& billed, int64_t price_id,
                                    bool unit_price_applies, int64_t unit_price_id) {
    EventPricing out;
    out.priced = priced.priced;
    if (priced.priced) {
        out.cost = priced.cost;
        out.billed_cost = billed;
    }
    out.has_price_id = priced.priced && priced.source == CostSource::PriceTable && priced.used_token_price;
    if (out.has_price_id) out.price_id = price_id;
    out.has_unit_price_id = priced.priced && unit_price_applies;
    if (out.has_unit_price_id) out.unit_price_id = unit_price_id;
    return out;
}

bool same_event_pricing(const EventPricing& stored, const EventPricing& repriced) {
    return stored.priced == repriced.priced && stored.cost == repriced.cost &&
           stored.billed_cost == repriced.billed_cost && stored.has_price_id == repriced.has_price_id &&
           (!stored.has_price_id || stored.price_id == repriced.price_id) &&
           stored.has_unit_price_id == repriced.has_unit_price_id &&
           (!stored.has_unit_price_id || stored.unit_price_id == repriced.unit_price_id);
}

}  // namespace usage_meter
