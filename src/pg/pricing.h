// Price lookup shared by the ledger trigger, reprice and price_for(): the price in force for a model and
// provider at a time. The core's model matching lists the names to try and chooses among the providers that
// price a name; the lookup reads them through prices_model_provider_from. In the common case (the exact name
// priced for the event's provider, or for none when the event has no provider) it is one index probe.
#pragma once

#include "datum_convert.h"
#include "key_scan.h"

extern "C" {
#include "nodes/pg_list.h"
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
    ProviderChoiceKind choice;  // how the provider was chosen among those pricing matched_model
    Datum matched_model;        // text
    Datum matched_provider;     // text, or 0 when provider_null
    bool matched_provider_null;
    bool via_alias;     // the model is a model alias (rule ModelAlias) of alias_model
    Datum alias_model;  // text
    // When no price applies because several providers (or keys) price a name and none is the event's (or
    // NULL): the name and up to kMaxListed of the keys, as model and provider (0: NULL). ambiguous_count 0
    // otherwise.
    static constexpr size_t kMaxListed = 8;
    size_t ambiguous_count;
    Datum ambiguous_name;
    Datum ambiguous_model[kMaxListed];
    Datum ambiguous[kMaxListed];
};

// Whether usage_meter.prices has the tiers column (1.1 and later).
bool prices_have_tiers();

// Opens the scan find_price uses.
void price_scan_open(KeyScan* scan);

// Looks the price up; false when no name yields one at `at` (or a name is ambiguous: out->ambiguous_count).
// model must not be NULL. `trace`, when given, receives one line (a palloc'd C string) per name considered.
bool find_price(KeyScan* scan, Datum model, Datum provider, bool provider_null, Datum at, FoundPrice* out,
                List** trace = nullptr);

// When the price of exactly (model, provider) that took effect at `from` stops applying: the effective_from of
// the key's next price, or DT_NOEND when it has none. Rows a statement prices at times in [from, that) find
// the same row by the exact rule (the statement reads prices under one snapshot).
TimestampTz price_superseded_at(KeyScan* scan, Datum model, Datum provider, bool provider_null, TimestampTz from);

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
// Lets the ledger's append-only trigger pass DELETE while set: only purge_tenant_events() sets it, around its
// own statement, and always resets it (record.cpp).
void allow_purge_delete(bool allowed);

}  // namespace usage_meter::pg
