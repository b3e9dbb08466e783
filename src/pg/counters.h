// Live counter totals, read straight from the counters_key index.
#pragma once

#include "boundary.h"

extern "C" {
#include "utils/date.h"
}

namespace usage_meter::pg {

struct CounterTotals {
    int64 requests;
    int64 tokens;
    Datum cost;         // numeric, in the current memory context
    Datum billed_cost;  // numeric, in the current memory context
};

// Sums the slot rows of one counter (tenant; user, or the tenant's total when user_null; period; period
// start) as the active snapshot sees them. check_limit runs before every request, so this skips planning
// and executor set-up: one index scan over at most usage_meter.counter_slots rows.
void sum_counters(Datum tenant, Datum user_id, bool user_null, const char* period, DateADT period_start,
                  CounterTotals* out);

}  // namespace usage_meter::pg
