#include "corrections.h"

#include <cstring>

#include "datum_convert.h"
#include "statement.h"
#include "tables/tenants.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}

namespace usage_meter::pg {
namespace {

constexpr int kMaxReasonLength = 1000;

// Figures a reversal carries negated, so every sum over the ledger (summaries, counters, verify) drops by
// exactly the reversed event. Numeric columns are negated with numeric_uminus, integers arithmetically.
const char* const kNegatedColumns[] = {
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
    "quantity",     "cost",          "billed_cost",       "latency_ms"};
// Columns a reversal keeps from its own INSERT (or sets itself) rather than copying from the reversed event.
const char* const kOwnColumns[] = {"event_id",          "reverses_event_id", "reason",
                                   "corrects_event_id", "recorded_at",       "idempotency_key"};

bool listed(const char* name, const char* const* list, size_t count) {
    for (size_t i = 0; i < count; ++i)
        if (std::strcmp(name, list[i]) == 0) return true;
    return false;
}

Datum negate(Datum value, Oid type) {
    switch (type) {
        case INT8OID: return Int64GetDatum(-DatumGetInt64(value));
        case INT4OID: return Int32GetDatum(-DatumGetInt32(value));
        case NUMERICOID: return DirectFunctionCall1(numeric_uminus, value);
        default: elog(ERROR, "usage_meter: cannot negate a column of type %u", type);
    }
    return value;
}

// FOR SHARE: a reprice holding the event (FOR UPDATE) is waited for, and the figures it committed are the ones
// negated; a reprice that starts later waits for this reversal and then reprices it with its event.
const char* const kOriginalSql = "SELECT * FROM usage_meter.events WHERE tenant = $1 AND event_id = $2 FOR SHARE";
const char* const kReversedSql =
    "SELECT event_id FROM usage_meter.events WHERE tenant = $1 AND reverses_event_id = $2 LIMIT 1";

}  // namespace

int reversal_attnum(TupleDesc events) {
    for (int i = 0; i < events->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(events, i);
        if (!a->attisdropped && std::strcmp(NameStr(a->attname), "reverses_event_id") == 0) return i + 1;
    }
    return 0;
}

const char* event_sign_sql(TupleDesc events) {
    return reversal_attnum(events) > 0 ? "CASE WHEN reverses_event_id IS NULL THEN 1 ELSE -1 END" : "1";
}

int event_sign(TupleDesc events, const Datum* values, const bool* nulls) {
    int attnum = reversal_attnum(events);
    return attnum > 0 && !nulls[attnum - 1] ? -1 : 1;
}

HeapTuple prepare_reversal(Relation events, HeapTuple row, const Datum* values, const bool* nulls) {
    TupleDesc desc = RelationGetDescr(events);
    auto column = [&](const char* name) {
        int attnum = SPI_fnumber(desc, name);
        if (attnum <= 0) elog(ERROR, "usage_meter.events has no column \"%s\"", name);
        return attnum - 1;
    };
    const int tenant = column("tenant"), reverses = column("reverses_event_id"), reason = column("reason");
    if (nulls[tenant]) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenant must not be NULL")));
    if (nulls[reason])
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("reason must not be NULL"),
                        errhint("Say why the event is reversed; the reason stays in the ledger.")));
    {
        TextView r = text_view(values[reason], false);
        if (r.length == 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid reason: it must not be empty")));
        if (pg_mbstrlen_with_len(r.data, static_cast<int>(r.length)) > kMaxReasonLength)
            ereport(ERROR, (errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
                            errmsg("invalid reason: it is longer than %d characters", kMaxReasonLength)));
    }
    tenant_refuse_if_moving(values[tenant]);  // a void of a tenant being moved: refused like a recording
    const int64 reversed_id = DatumGetInt64(values[reverses]);
    const char* tenant_name = TextDatumGetCString(values[tenant]);

    static Statement<2> original_event = {kOriginalSql, {TEXTOID, INT8OID}};
    static Statement<2> reversal = {kReversedSql, {TEXTOID, INT8OID}};
    MemoryContext caller = CurrentMemoryContext;
    const int path = pin_search_path();  // the ledger's row trigger runs with the caller's search_path
    spi_connect();
    run(original_event, Access::kReadWrite, 1, sql_arg(values[tenant]), sql_arg(values[reverses]));
    if (SPI_processed == 0)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid event_id: tenant \"%s\" has no event %lld",
                                                                  tenant_name, static_cast<long long>(reversed_id))));
    HeapTuple original = SPI_tuptable->vals[0];
    TupleDesc original_desc = SPI_tuptable->tupdesc;
    // Checked after the event is locked: a reversal committed while this one waited is seen.
    run(reversal, Access::kReadWrite, 1, sql_arg(values[tenant]), sql_arg(values[reverses]));
    if (SPI_processed > 0) {
        bool isnull;
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("event %lld of tenant \"%s\" is already reversed (by event %lld)",
                               static_cast<long long>(reversed_id), tenant_name,
                               static_cast<long long>(DatumGetInt64(result_value(0, 1, &isnull)))),
                        errhint("To change a correction, correct its replacement event.")));
    }
    {
        bool isnull;
        SPI_getbinval(original, original_desc, SPI_fnumber(original_desc, "reverses_event_id"), &isnull);
        if (!isnull)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("invalid event_id: event %lld of tenant \"%s\" is itself a reversal",
                                   static_cast<long long>(reversed_id), tenant_name),
                            errhint("A reversal cannot be reversed; record the usage again instead.")));
    }

    MemoryContext spi = MemoryContextSwitchTo(caller);
    Datum* out = static_cast<Datum*>(palloc(desc->natts * sizeof(Datum)));
    bool* out_nulls = static_cast<bool*>(palloc(desc->natts * sizeof(bool)));
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        out[i] = values[i];
        out_nulls[i] = nulls[i];
        const char* name = NameStr(a->attname);
        if (a->attisdropped || listed(name, kOwnColumns, sizeof kOwnColumns / sizeof *kOwnColumns)) continue;
        int source = SPI_fnumber(original_desc, name);
        if (source <= 0) elog(ERROR, "usage_meter: column \"%s\" missing from the reversed event", name);
        out[i] = SPI_getbinval(original, original_desc, source, &out_nulls[i]);
        if (!out_nulls[i] && listed(name, kNegatedColumns, sizeof kNegatedColumns / sizeof *kNegatedColumns))
            out[i] = negate(out[i], a->atttypid);
    }
    out[column("idempotency_key")] = 0;
    out_nulls[column("idempotency_key")] = true;
    out[column("recorded_at")] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
    out_nulls[column("recorded_at")] = false;
    HeapTuple prepared = heap_form_tuple(desc, out, out_nulls);  // copies the event's values out of SPI
    prepared->t_self = row->t_self;
    prepared->t_tableOid = row->t_tableOid;
    MemoryContextSwitchTo(spi);
    SPI_finish();
    unpin_search_path(path);
    return prepared;
}

}  // namespace usage_meter::pg
