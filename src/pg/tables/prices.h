// Writes to usage_meter.prices and usage_meter.unit_prices. A price is never rewritten: a second write of the
// same (model, provider, effective_from) or (operation, effective_from) is either the same price or refused.
// (Reads: the price lookups of pricing.h.)
#pragma once

#include <array>

#include "../statement.h"

namespace usage_meter::pg {

enum class PriceAdded { kAdded, kSameExists, kDifferentExists };

// Adds a price unless one exists for its (model, provider, effective_from); *price_id is the new or the
// existing price's id. Params, in order: model, input_per_mtok, output_per_mtok, cache_read_per_mtok,
// cache_write_per_mtok, provider, effective_from, tiers (jsonb), per_request (a 1.0 database has neither
// tiers nor per_request; they are ignored there). Runs inside SPI.
PriceAdded price_insert(const std::array<SqlArg, 9>& price, int64* price_id);

// Adds a price (same params); one that exists for its key is refused by the table's unique constraint.
// Runs inside SPI.
void price_add(const std::array<SqlArg, 9>& price);

// The same as price_insert for a unit price: operation, per_unit, effective_from. Runs inside SPI.
PriceAdded unit_price_insert(const std::array<SqlArg, 3>& unit_price, int64* unit_price_id);

}  // namespace usage_meter::pg
