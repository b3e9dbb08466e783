// reprice(): prices events again with the prices now in the table and corrects the daily summaries and live
// counters by the difference, in the same transaction. The ledger stays append-only for everyone else: the
// guard lets an UPDATE through only while reprice's own statements (which set the pricing columns and nothing
// else) run.
//
// A reversal is the exact negation of its event, always: reprice never prices one on its own. It selects
// original events only, and when it reprices one that was voided it writes the negated figures into the
// reversal too (the two changes cancel in every summary, so nothing is added there). A void waits for a
// reprice holding its event (void_event reads the event FOR SHARE) and copies the figures reprice committed;
// a reprice that waited for a void finds the committed reversal with its next statement's snapshot. That
// needs a new snapshot per statement, so reprice runs in READ COMMITTED only (like rebuild).
//
// The corrections are gathered first and applied at the end in one roll-up statement, in the global key order
// every writer uses (rollup.h): reprice never holds a summary row while it waits for another.

#include "args.h"
#include "init.h"
#include "pricing.h"
#include "rollup.h"
#include "statement.h"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

using namespace usage_meter;
using namespace usage_meter::pg;

namespace {

Statement<4> select_events = {
    "SELECT tenant, event_id, user_id, operation, model, provider, day, occurred_at, input_tokens, output_tokens,"
    "       cache_read_tokens, cache_write_tokens, quantity, markup_pct, cost, billed_cost, priced, price_id,"
    "       unit_price_id"
    "  FROM usage_meter.events"
    " WHERE ($1::text IS NULL OR tenant = $1) AND ($2::timestamptz IS NULL OR occurred_at >= $2)"
    "   AND ($3::timestamptz IS NULL OR occurred_at < $3) AND cost_source IS DISTINCT FROM 'reported'"
    "   AND (NOT $4 OR NOT priced) AND reverses_event_id IS NULL"
    " ORDER BY tenant, event_id FOR UPDATE",
    {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID}};

constexpr std::array<Oid, 9> kUpdateTypes = {TEXTOID, INT8OID, NUMERICOID, NUMERICOID,    BOOLOID,
                                             TEXTOID, INT8OID, INT8OID,    TIMESTAMPTZOID};

Statement<9> update_event = {
    "UPDATE usage_meter.events SET cost = $3, billed_cost = $4, priced = $5, cost_source = $6, price_id = $7,"
    "       unit_price_id = $8"
    " WHERE tenant = $1 AND event_id = $2 AND occurred_at = $9",  // occurred_at: the event's partition only
    kUpdateTypes};

// The reversal of a repriced event takes the event's new figures, negated.
Statement<9> update_reversal = {
    "UPDATE usage_meter.events SET cost = pg_catalog.numeric_uminus($3), billed_cost = pg_catalog.numeric_uminus($4),"
    "       priced = $5, cost_source = $6, price_id = $7, unit_price_id = $8"
    " WHERE tenant = $1 AND reverses_event_id = $2 AND occurred_at = $9",
    kUpdateTypes};

// The corrections as ledger-like rows for the roll-up: per changed event its old figures negated (sign -1)
// and its new ones (sign +1). Requests, errors and tokens cancel; unpriced, cost and billed cost add up to the
// difference.
const char* const kCorrectionRows =
    "(SELECT u.tenant, u.user_id, u.day, u.operation, u.provider, u.model, u.sign, true AS success, u.priced,"
    "        0::bigint AS input_tokens, 0::bigint AS output_tokens, 0::bigint AS cache_read_tokens,"
    "        0::bigint AS cache_write_tokens, 0::bigint AS reasoning_tokens, NULL::numeric AS quantity, u.cost,"
    "        u.billed_cost, NULL::integer AS latency_ms"
    "   FROM ROWS FROM (pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::date[]),"
    "                   pg_catalog.unnest($5::text[]), pg_catalog.unnest($6::text[]), pg_catalog.unnest($7::text[]),"
    "                   pg_catalog.unnest($8::int4[]), pg_catalog.unnest($9::bool[]), pg_catalog.unnest($10::numeric[]),"
    "                   pg_catalog.unnest($11::numeric[]))"
    "        AS u(tenant, user_id, day, operation, provider, model, sign, priced, cost, billed_cost)) AS new_events";

// The correction rows gathered so far, one array per column of kCorrectionRows.
struct Corrections {
    static constexpr int kColumns = 10;
    ArrayBuildState* columns[kColumns];
    int64 rows;
};

void corrections_init(Corrections* c) {
    static const Oid types[Corrections::kColumns] = {TEXTOID, TEXTOID, DATEOID, TEXTOID,    TEXTOID,
                                                     TEXTOID, INT4OID, BOOLOID, NUMERICOID, NUMERICOID};
    for (int i = 0; i < Corrections::kColumns; ++i)
        c->columns[i] = initArrayResult(types[i], CurrentMemoryContext, false);
    c->rows = 0;
}

void corrections_add(Corrections* c, const Datum* values, const bool* nulls) {
    for (int i = 0; i < Corrections::kColumns; ++i)
        accumArrayResult(c->columns[i], values[i], nulls[i], c->columns[i]->element_type, CurrentMemoryContext);
    ++c->rows;
}

// Adds every gathered correction to this backend's slot rows, in the roll-up's key order.
void corrections_apply(Corrections* c, int16 slot) {
    if (c->rows == 0) return;
    // The roll-up's SQL is built from its description on first use.
    static Statement<1 + Corrections::kColumns> roll_up = {nullptr,
                                                           {INT2OID, TEXTARRAYOID, TEXTARRAYOID, DATEARRAYOID,
                                                            TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID,
                                                            BOOLARRAYOID, NUMERICARRAYOID, NUMERICARRAYOID}};
    if (roll_up.sql == nullptr)
        roll_up.sql = MemoryContextStrdup(TopMemoryContext, rollup_batch_sql("sign", kCorrectionRows, ""));
    std::array<SqlArg, 1 + Corrections::kColumns> args;
    args[0] = sql_arg(Int16GetDatum(slot));
    for (int i = 0; i < Corrections::kColumns; ++i)
        args[1 + i] = sql_arg(makeArrayResult(c->columns[i], CurrentMemoryContext));
    run_with(roll_up, Access::kReadWrite, 0, args);
}

Decimal amount_or_zero(HeapTuple row, TupleDesc desc, int col, const char* name) {
    bool isnull;
    Datum d = SPI_getbinval(row, desc, col, &isnull);
    return isnull ? Decimal() : amount_from_numeric(d, name);
}

// Runs one of reprice's own UPDATEs of the ledger; returns the number of rows it changed.
uint64 update_events(Statement<9>& update, const std::array<SqlArg, 9>& args) {
    allow_reprice_update(true);
    PG_TRY();
    { run_with(update, Access::kReadWrite, 0, args); }
    PG_FINALLY();
    { allow_reprice_update(false); }
    PG_END_TRY();
    return SPI_processed;
}

}  // namespace

// reprice(tenant, since, until, only_unpriced) -> (events_changed, cost_difference, billed_cost_difference)
UM_FUNCTION(reprice) {
    std::array<SqlArg, 4> select_args = {kSqlNull, sql_arg_or_null(PG_GETARG_DATUM(1), PG_ARGISNULL(1)),
                                         sql_arg_or_null(PG_GETARG_DATUM(2), PG_ARGISNULL(2)), kSqlNull};
    if (!PG_ARGISNULL(0)) select_args[0] = sql_arg(name_arg(fcinfo, 0, "tenant"));
    require_arg(fcinfo, 3, "only_unpriced");
    select_args[3] = sql_arg(PG_GETARG_DATUM(3));
    if (IsolationUsesXactSnapshot())
        ereport(ERROR,
                (errcode(ERRCODE_ACTIVE_SQL_TRANSACTION), errmsg("reprice must run in a READ COMMITTED transaction"),
                 errhint("In REPEATABLE READ or SERIALIZABLE it could miss a reversal committed after its "
                         "snapshot and leave a voided event billed.")));
    TupleDesc result_desc;
    if (get_call_result_type(fcinfo, nullptr, &result_desc) != TYPEFUNC_COMPOSITE) elog(ERROR, "must return a record");
    result_desc = BlessTupleDesc(result_desc);

    MemoryContext caller = CurrentMemoryContext;
    spi_connect();
    run_with(select_events, Access::kReadWrite, 0, select_args);
    SPITupleTable* events = SPI_tuptable;
    uint64 count = SPI_processed;
    const int16 slot = static_cast<int16>(counter_slot());
    int64 changed = 0;
    Decimal total_cost, total_billed;
    Corrections corrections;
    corrections_init(&corrections);
    KeyScan prices;
    price_scan_open(&prices);
    FoundPrice found;
    for (uint64 r = 0; r < count; ++r) {
        HeapTuple row = events->vals[r];
        TupleDesc desc = events->tupdesc;
        bool isnull, model_null, provider_null, user_null;
        Datum tenant = SPI_getbinval(row, desc, 1, &isnull);
        Datum event_id = SPI_getbinval(row, desc, 2, &isnull);
        Datum user_id = SPI_getbinval(row, desc, 3, &user_null);
        Datum operation = SPI_getbinval(row, desc, 4, &isnull);
        Datum model = SPI_getbinval(row, desc, 5, &model_null);
        Datum provider = SPI_getbinval(row, desc, 6, &provider_null);
        Datum day = SPI_getbinval(row, desc, 7, &isnull);
        Datum at = SPI_getbinval(row, desc, 8, &isnull);
        TokenUsage usage;
        usage.input = DatumGetInt64(SPI_getbinval(row, desc, 9, &isnull));
        usage.output = DatumGetInt64(SPI_getbinval(row, desc, 10, &isnull));
        usage.cache_read = DatumGetInt64(SPI_getbinval(row, desc, 11, &isnull));
        usage.cache_write = DatumGetInt64(SPI_getbinval(row, desc, 12, &isnull));
        bool quantity_null;
        Datum quantity_datum = SPI_getbinval(row, desc, 13, &quantity_null);
        Decimal quantity = quantity_null ? Decimal() : amount_from_numeric(quantity_datum, "quantity");
        Datum markup_datum = SPI_getbinval(row, desc, 14, &isnull);
        Decimal markup = isnull ? Decimal() : stored_decimal(markup_datum, "markup_pct");
        EventPricing stored;
        stored.cost = amount_or_zero(row, desc, 15, "cost");
        stored.billed_cost = amount_or_zero(row, desc, 16, "billed_cost");
        stored.priced = DatumGetBool(SPI_getbinval(row, desc, 17, &isnull));
        bool price_null, unit_null;
        stored.price_id = DatumGetInt64(SPI_getbinval(row, desc, 18, &price_null));
        stored.unit_price_id = DatumGetInt64(SPI_getbinval(row, desc, 19, &unit_null));
        stored.has_price_id = !price_null;
        stored.has_unit_price_id = !unit_null;

        bool has_price = !model_null && find_price(&prices, model, provider, provider_null, at, &found);
        bool need_unit = !quantity_null && !quantity.is_zero();
        int64 unit_id = 0;
        Decimal per_unit;
        bool has_unit = need_unit && find_unit_price(operation, at, &unit_id, &per_unit);

        EventPricing repriced;
        bool same = false;
        core_or_raise([&] {
            PricingInputs in;
            in.tokens = usage;
            in.has_model = !model_null;
            in.token_price = has_price ? &found.price : nullptr;
            in.tiers = found.tiers;
            in.tier_count = has_price ? found.tier_count : 0;
            if (!quantity_null) in.quantity = quantity;
            if (has_unit) in.unit_price = per_unit;
            PricedCost priced = price_event(in);
            Decimal billed;
            if (priced.priced) billed = billed_cost(priced.cost, markup);
            repriced =
                repriced_event_pricing(priced, billed, has_price ? found.price_id : 0, need_unit && has_unit, unit_id);
            same = same_event_pricing(stored, repriced);
        });
        if (same) continue;

        const SqlArg unpriced = kSqlNull;
        const std::array<SqlArg, 9> update_args = {
            sql_arg(tenant),
            sql_arg(event_id),
            repriced.priced ? sql_arg(numeric_from_decimal(repriced.cost)) : unpriced,
            repriced.priced ? sql_arg(numeric_from_decimal(repriced.billed_cost)) : unpriced,
            sql_arg(BoolGetDatum(repriced.priced)),
            repriced.priced ? sql_arg(CStringGetTextDatum("price_table")) : unpriced,
            sql_arg_or_null(Int64GetDatum(repriced.price_id), !repriced.has_price_id),
            sql_arg_or_null(Int64GetDatum(repriced.unit_price_id), !repriced.has_unit_price_id),
            sql_arg(at)};
        update_events(update_event, update_args);
        ++changed;
        // A voided event: its reversal follows it, and the two changes cancel in every summary.
        if (update_events(update_reversal, update_args) > 0) continue;

        core_or_raise([&] {
            total_cost = total_cost + (repriced.cost - stored.cost);
            total_billed = total_billed + (repriced.billed_cost - stored.billed_cost);
        });
        const Datum zero = numeric_from_decimal(Decimal());
        Datum before[Corrections::kColumns] = {tenant,
                                               user_id,
                                               day,
                                               operation,
                                               provider,
                                               model,
                                               Int32GetDatum(-1),
                                               BoolGetDatum(stored.priced),
                                               numeric_from_decimal(-stored.cost),
                                               numeric_from_decimal(-stored.billed_cost)};
        Datum after[Corrections::kColumns] = {tenant,
                                              user_id,
                                              day,
                                              operation,
                                              provider,
                                              model,
                                              Int32GetDatum(1),
                                              BoolGetDatum(repriced.priced),
                                              repriced.priced ? numeric_from_decimal(repriced.cost) : zero,
                                              repriced.priced ? numeric_from_decimal(repriced.billed_cost) : zero};
        bool key_nulls[Corrections::kColumns] = {false,      user_null, false, false, provider_null,
                                                 model_null, false,     false, false, false};
        corrections_add(&corrections, before, key_nulls);
        corrections_add(&corrections, after, key_nulls);
    }
    key_scan_close(&prices);
    corrections_apply(&corrections, slot);
    Datum values[3];
    bool nulls[3] = {false, false, false};
    MemoryContext spi = MemoryContextSwitchTo(caller);
    values[0] = Int64GetDatum(changed);
    values[1] = numeric_from_decimal(total_cost);
    values[2] = numeric_from_decimal(total_billed);
    HeapTuple result = heap_form_tuple(result_desc, values, nulls);
    MemoryContextSwitchTo(spi);
    SPI_finish();
    return HeapTupleGetDatum(result);
}
