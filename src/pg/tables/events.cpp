#include "events.h"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
}

namespace usage_meter::pg {

namespace {

const char* const kEventColumnNames[kEventColumnCount] = {
    "tenant",
    "user_id",
    "operation",
    "model",
    "provider",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "quantity",
    "cost",
    "billed_cost",
    "priced",
    "cost_source",
    "price_id",
    "unit_price_id",
    "markup_pct",
    "occurred_at",
    "day",
    "recorded_at",
    "idempotency_key",
    "session_id",
    "latency_ms",
    "success",
    "metadata",
};

#define UM_EVENT_INSERT                                                                                      \
    "INSERT INTO usage_meter.events (tenant, user_id, operation, model, input_tokens, output_tokens,"        \
    "       cache_read_tokens, cache_write_tokens, reasoning_tokens, quantity, cost, provider, occurred_at," \
    "       idempotency_key, session_id, latency_ms, success, metadata"
#define UM_EVENT_VALUES " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18"
#define UM_EVENT_RETURNING " RETURNING event_id, cost, billed_cost, priced"

constexpr std::array<Oid, kEventInsertArgs + 1> kInsertTypes = {TEXTOID,        TEXTOID,    TEXTOID,    TEXTOID,
                                                                INT8OID,        INT8OID,    INT8OID,    INT8OID,
                                                                INT8OID,        NUMERICOID, NUMERICOID, TEXTOID,
                                                                TIMESTAMPTZOID, TEXTOID,    TEXTOID,    INT4OID,
                                                                BOOLOID,        JSONBOID,   INT8OID};
constexpr std::array<Oid, kEventInsertArgs> kInsertTypes18 = {TEXTOID,    TEXTOID, TEXTOID,        TEXTOID, INT8OID,
                                                              INT8OID,    INT8OID, INT8OID,        INT8OID, NUMERICOID,
                                                              NUMERICOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
                                                              INT4OID,    BOOLOID, JSONBOID};

}  // namespace

void event_insert(const SqlArg* args, EventInsert kind) {
    static Statement<kEventInsertArgs> insert = {UM_EVENT_INSERT ")" UM_EVENT_VALUES ")" UM_EVENT_RETURNING,
                                                 kInsertTypes18};
    static Statement<kEventInsertArgs + 1> insert_claimed = {UM_EVENT_INSERT ", event_id)" UM_EVENT_VALUES
                                                                             ", $19)" UM_EVENT_RETURNING,
                                                             kInsertTypes};
    static Statement<kEventInsertArgs> insert10 = {
        UM_EVENT_INSERT
        ")" UM_EVENT_VALUES
        ")"
        " ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING" UM_EVENT_RETURNING,
        kInsertTypes18};
    switch (kind) {
        case EventInsert::kNewId: run_from(insert, Access::kReadWrite, 0, args); break;
        case EventInsert::kClaimedId: run_from(insert_claimed, Access::kReadWrite, 0, args); break;
        case EventInsert::kKeyedByIndex: run_from(insert10, Access::kReadWrite, 0, args); break;
    }
}

void event_by_key(Datum tenant, Datum key) {
    static Statement<2> select = {
        "SELECT event_id, cost, billed_cost, priced FROM usage_meter.events WHERE tenant = $1 AND idempotency_key = $2",
        {TEXTOID, TEXTOID}};
    run(select, Access::kReadWrite, 1, sql_arg(tenant), sql_arg(key));
}

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
