// Live counter totals, read straight from the counters_key index.
#pragma once

#include "../key_scan.h"

extern "C" {
#include "utils/date.h"
}

namespace usage_meter::pg {

struct CounterTotals {
    int64 requests;
    int64 tokens;
    Datum cost;         // numeric, in the current memory context; summed only when asked for
    Datum billed_cost;  // numeric, likewise
};

// Sums the slot rows of one counter (tenant; user, or the tenant's total when user_null; period; period
// start) through `scan`, opened with key_scan_open(scan, "counters", "counters_key", 4): one index scan over at
// most usage_meter.counter_slots rows. The numeric sums are computed only when sum_cost / sum_billed_cost
// ask for them.
void sum_counters(KeyScan* scan, Datum tenant, Datum user_id, bool user_null, const char* period, DateADT period_start,
                  bool sum_cost, bool sum_billed_cost, CounterTotals* out);

}  // namespace usage_meter::pg
