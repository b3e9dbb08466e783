// Repricing: what reprice() writes into an event's pricing columns, and when an event priced again counts as
// unchanged (no update and no correction is written for it).
#pragma once

#include <cstdint>

#include "decimal.h"
#include "pricing.h"

namespace usage_meter {

// The pricing columns of a ledger event as reprice compares them: priced, cost, billed_cost, price_id and
// unit_price_id. A NULL cost or billed cost reads as 0; an id is meaningful only when its has_ flag is set.
struct EventPricing {
    bool priced = false;
    Decimal cost;
    Decimal billed_cost;
    bool has_price_id = false;
    int64_t price_id = 0;
    bool has_unit_price_id = false;
    int64_t unit_price_id = 0;
};

// What reprice writes for an event priced again as `priced` (billed = its billed cost when priced): cost and
// billed cost when priced, else 0 (written as NULL); the token price's id when the event was priced from the
// price table and that price charged something (tokens or its per-request fee); the unit price's id when
// priced and the event's quantity needed a unit price that was found (unit_price_applies).
EventPricing repriced_event_pricing(const PricedCost& priced, const Decimal& billed, int64_t price_id,
                                    bool unit_price_applies, int64_t unit_price_id);

// Whether reprice leaves an event alone: the same priced flag, cost and billed cost (compared as numbers, so
// 1.50 equals 1.5), the same presence of a price id and of a unit price id, and the same ids where present.
bool same_event_pricing(const EventPricing& stored, const EventPricing& repriced);

}  // namespace usage_meter
