#include "aliases.h"

#include "../extension_catalog.h"

extern "C" {
#include "utils/builtins.h"
#include "utils/datum.h"
}

namespace usage_meter::pg {

void provider_family(Datum provider, ProviderFamily* family) {
    family->count = 1;
    family->names[0] = provider;
    if (!OidIsValid(extension_relation_oid("provider_aliases"))) return;  // before 1.5
    KeyScan scan;
    key_scan_open(&scan, "provider_aliases", "provider_aliases_pkey", 1);
    ScanKeyData key;
    key_text(&scan, &key, 1, provider);
    key_scan_rescan(&scan, &key, 1);
    const AttrNumber alias_column = key_scan_column(&scan, "alias"), position_column = key_scan_column(&scan, "position");
    int32 positions[kMaxProviderSpellings];
    size_t count = 0;
    while (key_scan_next(&scan)) {
        bool isnull;
        Datum alias = slot_getattr(scan.row, alias_column, &isnull);
        int32 position = DatumGetInt32(slot_getattr(scan.row, position_column, &isnull));
        // Keep the kMaxProviderSpellings - 1 first by position: insert in order, dropping the last when full.
        size_t at = count;
        while (at > 0 && positions[at - 1] > position) --at;
        if (at == kMaxProviderSpellings - 1) continue;
        if (count == kMaxProviderSpellings - 1) --count;
        for (size_t i = count; i > at; --i) {
            positions[i] = positions[i - 1];
            family->names[1 + i] = family->names[i];
        }
        positions[at] = position;
        family->names[1 + at] = datumCopy(alias, false, -1);
        ++count;
    }
    key_scan_close(&scan);
    family->count = 1 + count;
}

bool model_alias(Datum alias, Datum* model, Datum* provider, bool* provider_null) {
    if (!OidIsValid(extension_relation_oid("model_aliases"))) return false;  // before 1.5
    KeyScan scan;
    key_scan_open(&scan, "model_aliases", "model_aliases_pkey", 1);
    ScanKeyData key;
    key_text(&scan, &key, 1, alias);
    key_scan_rescan(&scan, &key, 1);
    const bool found = key_scan_next(&scan);
    if (found) {
        bool isnull;
        *model = datumCopy(slot_getattr(scan.row, key_scan_column(&scan, "model"), &isnull), false, -1);
        Datum p = slot_getattr(scan.row, key_scan_column(&scan, "provider"), provider_null);
        *provider = *provider_null ? 0 : datumCopy(p, false, -1);
    }
    key_scan_close(&scan);
    return found;
}

}  // namespace usage_meter::pg
