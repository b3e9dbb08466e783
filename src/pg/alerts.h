// Alerts: a threshold of a limit reached (a soft limit's max, 80 % or 100 % of a hard limit) in the current
// period is recorded once in usage_meter.alerts and announced with NOTIFY usage_meter_alerts, by the recording
// transaction that first finds it reached. Called from the roll-up paths.
#pragma once

#include "boundary.h"

extern "C" {
#include "utils/date.h"
}

namespace usage_meter::pg {

// events_prepare notes what it read from the tenants row (alert_limits: whether any limit of the tenant has
// alerts; false on a database still at 1.0), so the roll-up of the same statement does not read it again.
void note_tenant_alerts(Datum tenant, bool alert_limits);

// Whether the tenant has a limit with alerts: the flag noted by events_prepare for this tenant in the current
// command, else the tenants row (index scan). False on a database still at 1.0.
bool tenant_has_alerts(Datum tenant);

// Fires the alerts due for (tenant, user) in the current periods: for each applicable limit with alerts, each level its
// current total (committed usage plus this transaction's, read now) reaches and that has no alert row yet is
// inserted (ON CONFLICT DO NOTHING) and, if this transaction inserted it, notified. With event_day given, only
// limits whose current period contains that day are looked at (an event in another period changes nothing
// they measure). Runs inside SPI, after the roll-up wrote the counters.
void fire_alerts(Datum tenant, Datum user_id, bool user_null, const DateADT* event_day);

// The set-based roll-up: fires alerts for every (tenant, user) of the batch whose tenant has alerting limits. `source`
// and `where` select the batch as in the roll-up statement; `args` are its parameters. Runs inside SPI.
void fire_batch_alerts(const char* source, const char* where, int nargs, const Oid* types, const Datum* args,
                       const char* nulls);

}  // namespace usage_meter::pg
