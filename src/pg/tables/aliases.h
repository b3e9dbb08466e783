// Reads of usage_meter.provider_aliases and usage_meter.model_aliases (1.5 and later), for model matching.
// Both are looked up only when a model's exact name has no price for the event's provider.
#pragma once

#include "../key_scan.h"

namespace usage_meter::pg {

// A provider and its aliases (the spellings of the same provider in the price map), in their order: text
// datums in the current memory context. names[0] is the provider itself.
struct ProviderFamily {
    size_t count;
    Datum names[kMaxProviderSpellings];
};

// Fills `family` with provider and its aliases (at most kMaxProviderSpellings - 1 of them, by position). A
// database before 1.5 has none.
void provider_family(Datum provider, ProviderFamily* family);

// The model (and provider, when the alias names one) that `alias` stands for; false when it is no alias.
bool model_alias(Datum alias, Datum* model, Datum* provider, bool* provider_null);

}  // namespace usage_meter::pg
