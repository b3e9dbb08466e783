// Live counter totals, read straight from the counters_key index.
#pragma once

#include "boundary.h"

extern "C" {
#include "access/genam.h"
#include "executor/tuptable.h"
#include "utils/date.h"
#include "utils/relcache.h"
}

namespace usage_meter::pg {

struct CounterTotals {
    int64 requests;
    int64 tokens;
    Datum cost;         // numeric, in the current memory context; summed only when asked for
    Datum billed_cost;  // numeric, likewise
};

// An open scan of usage_meter.counters through counters_key, reused for every counter one call reads.
struct CounterReader {
    Relation heap;
    Relation index;
    IndexScanDesc scan;
    TupleTableSlot* row;
    AttrNumber requests, tokens, cost, billed_cost;
};

// check_limit runs before every request, so it reads counters without planning or executor set-up: one index
// scan over at most usage_meter.counter_slots rows per counter, under the active snapshot.
void open_counters(CounterReader* reader);
// Sums the slot rows of one counter (tenant; user, or the tenant's total when user_null; period; period
// start). The numeric sums are computed only when sum_cost / sum_billed_cost ask for them.
void sum_counters(CounterReader* reader, Datum tenant, Datum user_id, bool user_null, const char* period,
                  DateADT period_start, bool sum_cost, bool sum_billed_cost, CounterTotals* out);
void close_counters(CounterReader* reader);

}  // namespace usage_meter::pg
