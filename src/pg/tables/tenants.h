// usage_meter.tenants (and its markup history, usage_meter.tenant_markups): every statement and index scan
// on them. A tenant row is created on first use with the defaults (UTC, no markup).
#pragma once

#include "../boundary.h"

extern "C" {
#include "datatype/timestamp.h"
#include "pgtime.h"
#include "utils/snapshot.h"
}

namespace usage_meter::pg {

// What the extension reads of one tenant. Plain data only.
struct TenantRow {
    pg_tz* zone;
    Decimal markup_pct;  // the current markup
    bool alert_limits;   // whether one of its limits has alerts on
    bool has_markup_from;
    TimestampTz markup_from;  // the current markup applies from here on; earlier events use tenant_markups
    bool moving;              // being moved to another database (set_tenant_moving, 1.5): writes are refused
};

// Reads the tenant under `snapshot` (nullptr: the statement's); false when it does not exist.
bool tenant_read(Datum tenant, Snapshot snapshot, TenantRow* out);

// The markup in force at `at`, an instant before the current markup's markup_from: the latest tenant_markups
// row starting at or before `at`; false when there is none.
bool tenant_past_markup(Datum tenant, TimestampTz at, Decimal* markup_pct);

// Refuses a write for a tenant being moved to another database (SQLSTATE 55000, naming the tenant).
pg_attribute_noreturn() void raise_tenant_moving(Datum tenant);

// raise_tenant_moving when the tenant exists and is being moved; nothing for an unknown tenant.
void tenant_refuse_if_moving(Datum tenant);

// Creates the tenant with the defaults unless it exists. Runs inside SPI.
void tenant_ensure(Datum tenant);

// Creates or updates the tenant's time zone (canonical name) and markup. Runs inside SPI.
void tenant_set(Datum tenant, Datum zone_name, Datum markup_pct);

}  // namespace usage_meter::pg
