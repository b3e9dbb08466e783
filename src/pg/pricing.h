// Price lookup shared by the ledger trigger and price_for(): the price in force for a model and provider at a
// time, found by index scans through prices_model_provider_from under the keys the core's model matching
// lists, first hit wins.
#pragma once

#include "datum_convert.h"
#include "key_scan.h"

extern "C" {
#include "utils/jsonb.h"
}

namespace usage_meter::pg {

// The price that applies to an event. Plain data.
struct FoundPrice {
    int64 price_id;
    TimestampTz effective_from;
    TokenPrice price;
    size_t tier_count;
    PriceTier tiers[kMaxTiers];
    MatchRule rule;
    Datum matched_model;     // text
    Datum matched_provider;  // text, or 0 when provider_null
    bool matched_provider_null;
};

// Whether usage_meter.prices has the tiers column (1.1 and later).
bool prices_have_tiers();

// Opens the scan find_price uses.
void price_scan_open(KeyScan* scan);

// Looks the price up; false when no key has a price in force at `at`. model must not be NULL.
bool find_price(KeyScan* scan, Datum model, Datum provider, bool provider_null, Datum at, FoundPrice* out);

// The unit price in force at `at` for the operation, from unit_prices_operation_from (operation,
// effective_from); false when the operation has none.
bool find_unit_price(Datum operation, Datum at, int64* unit_price_id, Decimal* per_unit);

// A price's tiers from their JSON (an array of objects with above_input_tokens, input_per_mtok,
// output_per_mtok and optional cache_read_per_mtok / cache_write_per_mtok); validated, errors name `argument`.
size_t tiers_from_jsonb(Jsonb* tiers, PriceTier* out, const char* argument);

// The canonical jsonb of tiers (sorted by threshold).
Datum tiers_jsonb(const PriceTier* tiers, size_t count);

// Lets the next UPDATE of the ledger through its append-only guard; reprice() sets it around its own statement
// and resets it, also on error.
void allow_reprice_update(bool allowed);

}  // namespace usage_meter::pg
