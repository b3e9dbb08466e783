// The open holds of the reservations table, read straight from its open-holds indexes.
#pragma once

#include "../key_scan.h"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/snapshot.h"
}

namespace usage_meter::pg {

// What a scope's live holds add up to.
struct HoldTotals {
    int64 requests;
    int64 tokens;
    Decimal cost;
};

// Whether the reservations table exists (it does from 1.1 on).
bool reservations_table_exists();

// Sums the live holds of one scope under `snapshot`: the tenant's (tenant_scope) or user_id's, rows still
// 'held' that expire after `now`. One index scan of the tenant's or the user's open-holds index.
void sum_holds(Datum tenant, Datum user_id, bool tenant_scope, Snapshot snapshot, TimestampTz now, HoldTotals* out);

}  // namespace usage_meter::pg
