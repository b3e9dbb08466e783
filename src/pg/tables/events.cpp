#include "events.h"

#include <cstring>

extern "C" {
#include "executor/spi.h"
}

namespace usage_meter::pg {

namespace {

const char* const kEventColumnNames[kEventColumnCount] = {
    "tenant", "user_id", "operation", "model", "provider",
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
    "quantity", "cost", "billed_cost", "priced", "cost_source", "price_id", "unit_price_id", "markup_pct",
    "occurred_at", "day", "recorded_at", "idempotency_key", "session_id", "latency_ms", "success", "metadata",
};

}  // namespace

const char* event_column_name(EventColumn column) { return kEventColumnNames[column]; }

const int* event_attnums(TupleDesc desc) {
    static int attnums[kEventColumnCount];
    static bool valid = false;
    if (valid) {
        bool same = true;
        for (int c = 0; c < kEventColumnCount && same; ++c) {
            if (attnums[c] > desc->natts) {
                same = false;
                break;
            }
            Form_pg_attribute a = TupleDescAttr(desc, attnums[c] - 1);
            same = !a->attisdropped && std::strcmp(NameStr(a->attname), kEventColumnNames[c]) == 0;
        }
        if (same) return attnums;
    }
    valid = false;
    for (int c = 0; c < kEventColumnCount; ++c) {
        int attnum = SPI_fnumber(desc, kEventColumnNames[c]);
        if (attnum <= 0)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("usage_meter.events has no column \"%s\"", kEventColumnNames[c])));
        attnums[c] = attnum;
    }
    valid = true;
    return attnums;
}

}  // namespace usage_meter::pg
