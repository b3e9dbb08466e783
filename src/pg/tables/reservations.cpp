#include "reservations.h"

#include <cstring>

#include "../datum_convert.h"
#include "../extension_catalog.h"

extern "C" {
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
}

namespace usage_meter::pg {

namespace {

// The reservations indexes that find a tenant's and a user's open holds. From 1.2 they are hash indexes
// (reservations_open_tenant on tenant, reservations_open_user on tenant || E'\x1f' || user_id), which reclaim
// the entries of closed holds as new holds are inserted; at 1.1 they are btrees on (tenant[, user_id],
// expires_at), whose leaf pages keep the entries of every hold closed since the last VACUUM.
struct HoldIndexes {
    const char* tenant;
    const char* user;
    bool hashed;
};

HoldIndexes hold_indexes() {
    if (OidIsValid(extension_relation_oid("reservations_open_tenant")))
        return {"reservations_open_tenant", "reservations_open_user", true};
    return {"reservations_held_tenant", "reservations_held_user", false};
}

// The key of reservations_open_user: tenant || E'\x1f' || user_id (as in the index definition).
Datum hold_user_key(Datum tenant, Datum user_id) {
    TextView t = text_view(tenant, false), u = text_view(user_id, false);
    const size_t length = t.length + 1 + u.length;
    text* key = static_cast<text*>(palloc(VARHDRSZ + length));
    SET_VARSIZE(key, VARHDRSZ + length);
    std::memcpy(VARDATA(key), t.data, t.length);
    VARDATA(key)[t.length] = '\x1f';
    std::memcpy(VARDATA(key) + t.length + 1, u.data, u.length);
    return PointerGetDatum(key);
}

// Sums the rows `scan` finds for one scope's key: see sum_holds.
void sum_scan(KeyScan* scan, bool hashed, Datum tenant, Datum user_id, bool tenant_scope, TimestampTz now,
              HoldTotals* out) {
    ScanKeyData keys[3];
    int n = 0;
    if (hashed) {
        // A hash index returns every row whose key hashes alike: the loop below checks tenant and user itself.
        key_hash_text(scan, &keys[n++], 1, tenant_scope ? tenant : hold_user_key(tenant, user_id));
    } else {
        key_text(scan, &keys[n], n + 1, tenant);
        ++n;
        if (!tenant_scope) {
            key_text(scan, &keys[n], n + 1, user_id);
            ++n;
        }
        key_timestamptz_after(&keys[n], n + 1, TimestampTzGetDatum(now));
        ++n;
    }
    key_scan_rescan(scan, keys, n);
    const AttrNumber state = key_scan_column(scan, "state"), cost = key_scan_column(scan, "estimated_cost"),
                     tokens = key_scan_column(scan, "estimated_tokens"), expires = key_scan_column(scan, "expires_at"),
                     tenant_col = key_scan_column(scan, "tenant"), user_col = key_scan_column(scan, "user_id");
    Datum cost_sum = numeric_from_decimal(Decimal());
    out->requests = 0;
    out->tokens = 0;
    while (key_scan_next(scan)) {
        bool isnull;
        // The index is partial (state = 'held'); a row version it points to may have been closed since.
        TextView s = text_view(slot_getattr(scan->row, state, &isnull), false);
        if (s.length != 4 || std::memcmp(s.data, "held", 4) != 0) continue;
        if (DatumGetTimestampTz(slot_getattr(scan->row, expires, &isnull)) <= now) continue;
        if (hashed) {
            if (!text_equal(slot_getattr(scan->row, tenant_col, &isnull), tenant)) continue;
            if (!tenant_scope) {
                Datum user = slot_getattr(scan->row, user_col, &isnull);
                if (isnull || !text_equal(user, user_id)) continue;
            }
        }
        out->requests += 1;
        out->tokens += DatumGetInt64(slot_getattr(scan->row, tokens, &isnull));
        cost_sum = DirectFunctionCall2(numeric_add, cost_sum, slot_getattr(scan->row, cost, &isnull));
    }
    out->cost = limit_amount_from_numeric(cost_sum);
}

}  // namespace

bool reservations_table_exists() { return OidIsValid(extension_relation_oid("reservations")); }

void sum_holds(Datum tenant, Datum user_id, bool tenant_scope, Snapshot snapshot, TimestampTz now, HoldTotals* out) {
    const HoldIndexes indexes = hold_indexes();
    // The btrees' keys: (tenant, expires_at) and (tenant, user_id, expires_at); the hash indexes' one key.
    const int key_count = indexes.hashed ? 1 : (tenant_scope ? 2 : 3);
    KeyScan scan;
    key_scan_open_with(&scan, "reservations", tenant_scope ? indexes.tenant : indexes.user, key_count, snapshot);
    sum_scan(&scan, indexes.hashed, tenant, user_id, tenant_scope, now, out);
    key_scan_close(&scan);
}

}  // namespace usage_meter::pg
