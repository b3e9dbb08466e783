#include "counters.h"

#include "../datum_convert.h"

extern "C" {
#include "utils/builtins.h"
#include "utils/numeric.h"
}

namespace usage_meter::pg {

void sum_counters(KeyScan* scan, Datum tenant, Datum user_id, bool user_null, const char* period, DateADT period_start,
                  bool sum_cost, bool sum_billed_cost, CounterTotals* out) {
    // counters_key is (tenant, user_id, period, period_start, slot): an equality prefix of four columns.
    ScanKeyData keys[4];
    key_text(scan, &keys[0], 1, tenant);
    if (user_null)
        key_is_null(&keys[1], 2);
    else
        key_text(scan, &keys[1], 2, user_id);
    key_text(scan, &keys[2], 3, CStringGetTextDatum(period));
    key_date(&keys[3], 4, DateADTGetDatum(period_start));
    key_scan_rescan(scan, keys, 4);

    const AttrNumber requests = key_scan_column(scan, "requests"), tokens = key_scan_column(scan, "tokens"),
                     cost = key_scan_column(scan, "cost"), billed_cost = key_scan_column(scan, "billed_cost");
    out->requests = 0;
    out->tokens = 0;
    out->cost = numeric_from_decimal(Decimal());
    out->billed_cost = out->cost;
    while (key_scan_next(scan)) {
        bool isnull;
        out->requests += DatumGetInt64(slot_getattr(scan->row, requests, &isnull));
        out->tokens += DatumGetInt64(slot_getattr(scan->row, tokens, &isnull));
        if (sum_cost) out->cost = DirectFunctionCall2(numeric_add, out->cost, slot_getattr(scan->row, cost, &isnull));
        if (sum_billed_cost)
            out->billed_cost =
                DirectFunctionCall2(numeric_add, out->billed_cost, slot_getattr(scan->row, billed_cost, &isnull));
    }
}

}  // namespace usage_meter::pg
