// reprice(): prices events again with the prices now in the table and corrects the daily summaries and live
// counters by the difference, in the same transaction. The ledger stays append-only for everyone else: the
// guard lets an UPDATE through only while reprice's own statement (which sets the pricing columns and nothing
// else) runs.

#include "args.h"
#include "module.h"
#include "pricing.h"
#include "summary_sql.h"
#include "spi.h"

extern "C" {
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"
}

using namespace usage_meter;
using namespace usage_meter::pg;

namespace {

const char* const kSelectSql =
    "SELECT tenant, event_id, user_id, operation, model, provider, day, occurred_at, input_tokens, output_tokens,"
    "       cache_read_tokens, cache_write_tokens, quantity, markup_pct, cost, billed_cost, priced, price_id,"
    "       unit_price_id"
    "  FROM usage_meter.events"
    " WHERE ($1::text IS NULL OR tenant = $1) AND ($2::timestamptz IS NULL OR occurred_at >= $2)"
    "   AND ($3::timestamptz IS NULL OR occurred_at < $3) AND cost_source IS DISTINCT FROM 'reported'"
    "   AND (NOT $4 OR NOT priced)"
    " ORDER BY tenant, event_id FOR UPDATE";

const char* const kUpdateSql =
    "UPDATE usage_meter.events SET cost = $3, billed_cost = $4, priced = $5, cost_source = $6, price_id = $7,"
    "       unit_price_id = $8"
    " WHERE tenant = $1 AND event_id = $2 AND occurred_at = $9";  // occurred_at: the event's partition only

// The difference, added to this backend's slot rows: nothing but unpriced, cost and billed_cost changes (every
// other column of the change is 0).
const char* const kCorrectSql =
    "WITH daily AS ("
    "  INSERT INTO usage_meter.daily_rollup AS r (tenant, user_id, day, operation, provider, model, slot,"
    "         requests, errors, unpriced, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,"
    "         reasoning_tokens, quantity, cost, billed_cost, latency_ms_total)"
    "  VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8, 0, 0, 0, 0, 0, 0, $9, $10, 0)"
    UM_DAILY_ROLLUP_ADD ")"
    " INSERT INTO usage_meter.counters AS c (tenant, user_id, period, period_start, slot, requests, tokens, cost,"
    "        billed_cost)"
    " SELECT $1, v.user_id, v.period, v.period_start, $7, 0, 0, $9, $10"
    "   FROM (VALUES (NULL::text, 'day', $3::date, true), (NULL, 'month', $11::date, true),"
    "                ($2, 'day', $3, false), ($2, 'month', $11, false)) AS v(user_id, period, period_start, total)"
    "  WHERE v.total OR $2 IS NOT NULL"
    UM_COUNTERS_ADD;

Decimal amount_or_zero(HeapTuple row, TupleDesc desc, int col, const char* name) {
    bool isnull;
    Datum d = SPI_getbinval(row, desc, col, &isnull);
    return isnull ? Decimal() : amount_from_numeric(d, name);
}

void update_event(SPIPlanPtr plan, Datum* args, const char* nulls) {
    allow_reprice_update(true);
    PG_TRY();
    {
        execute_plan(plan, args, nulls, false, 0);
    }
    PG_FINALLY();
    {
        allow_reprice_update(false);
    }
    PG_END_TRY();
}

}  // namespace

// reprice(tenant, since, until, only_unpriced) -> (events_changed, cost_difference, billed_cost_difference)
UM_FUNCTION(reprice) {
    static SPIPlanPtr select_plan = nullptr, update_plan = nullptr, correct_plan = nullptr;
    static const Oid select_types[4] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, BOOLOID};
    static const Oid update_types[9] = {TEXTOID, INT8OID, NUMERICOID, NUMERICOID, BOOLOID, TEXTOID, INT8OID, INT8OID,
                                        TIMESTAMPTZOID};
    static const Oid correct_types[11] = {TEXTOID, TEXTOID, DATEOID, TEXTOID, TEXTOID, TEXTOID, INT2OID, INT8OID,
                                          NUMERICOID, NUMERICOID, DATEOID};
    Datum select_args[4];
    char select_nulls[5] = "    ";
    if (!PG_ARGISNULL(0)) {
        select_args[0] = name_arg(fcinfo, 0, "tenant");
    } else {
        select_nulls[0] = 'n';
    }
    for (int i = 1; i <= 2; ++i) {
        if (PG_ARGISNULL(i)) {
            select_nulls[i] = 'n';
        } else {
            select_args[i] = PG_GETARG_DATUM(i);
        }
    }
    require_arg(fcinfo, 3, "only_unpriced");
    select_args[3] = PG_GETARG_DATUM(3);
    TupleDesc result_desc;
    if (get_call_result_type(fcinfo, nullptr, &result_desc) != TYPEFUNC_COMPOSITE) elog(ERROR, "must return a record");
    result_desc = BlessTupleDesc(result_desc);

    MemoryContext caller = CurrentMemoryContext;
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "usage_meter: SPI_connect failed");
    execute_plan(kept_plan(&select_plan, kSelectSql, 4, select_types), select_args, select_nulls, false, 0);
    SPITupleTable* events = SPI_tuptable;
    uint64 count = SPI_processed;
    const int16 slot = static_cast<int16>(counter_slot());
    int64 changed = 0;
    Decimal total_cost, total_billed;
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
        Decimal markup = isnull ? Decimal() : markup_from_numeric(markup_datum, "markup_pct");
        Decimal old_cost = amount_or_zero(row, desc, 15, "cost");
        Decimal old_billed = amount_or_zero(row, desc, 16, "billed_cost");
        bool old_priced = DatumGetBool(SPI_getbinval(row, desc, 17, &isnull));
        bool old_price_null, old_unit_null;
        int64 old_price_id = DatumGetInt64(SPI_getbinval(row, desc, 18, &old_price_null));
        int64 old_unit_id = DatumGetInt64(SPI_getbinval(row, desc, 19, &old_unit_null));

        bool has_price = !model_null && find_price(&prices, model, provider, provider_null, at, &found);
        bool need_unit = !quantity_null && !quantity.is_zero();
        int64 unit_id = 0;
        Decimal per_unit;
        bool has_unit = need_unit && find_unit_price(operation, at, &unit_id, &per_unit);

        PricedCost priced;
        Decimal billed;
        core_or_raise([&] {
            PricingInputs in;
            in.tokens = usage;
            in.has_model = !model_null;
            in.token_price = has_price ? &found.price : nullptr;
            in.tiers = found.tiers;
            in.tier_count = has_price ? found.tier_count : 0;
            if (!quantity_null) in.quantity = quantity;
            if (has_unit) in.unit_price = per_unit;
            priced = price_event(in);
            if (priced.priced) billed = billed_cost(priced.cost, markup);
        });
        bool token_priced = priced.priced && priced.source == CostSource::PriceTable && priced.used_token_price;
        bool unit_priced = priced.priced && need_unit && has_unit;
        Decimal new_cost = priced.priced ? priced.cost : Decimal();
        Decimal new_billed = priced.priced ? billed : Decimal();
        bool same = priced.priced == old_priced && new_cost == old_cost && new_billed == old_billed &&
                    token_priced == !old_price_null && (!token_priced || found.price_id == old_price_id) &&
                    unit_priced == !old_unit_null && (!unit_priced || unit_id == old_unit_id);
        if (same) continue;

        Datum update_args[9] = {tenant, event_id,
                                priced.priced ? numeric_from_decimal(new_cost) : 0,
                                priced.priced ? numeric_from_decimal(new_billed) : 0, BoolGetDatum(priced.priced),
                                priced.priced ? CStringGetTextDatum("price_table") : 0,
                                token_priced ? Int64GetDatum(found.price_id) : 0,
                                unit_priced ? Int64GetDatum(unit_id) : 0, at};
        char update_nulls[10] = "         ";
        if (!priced.priced) update_nulls[2] = update_nulls[3] = update_nulls[5] = 'n';
        if (!token_priced) update_nulls[6] = 'n';
        if (!unit_priced) update_nulls[7] = 'n';
        update_event(kept_plan(&update_plan, kUpdateSql, 9, update_types), update_args, update_nulls);

        Decimal cost_difference, billed_difference;
        core_or_raise([&] {
            cost_difference = new_cost - old_cost;
            billed_difference = new_billed - old_billed;
            total_cost = total_cost + cost_difference;
            total_billed = total_billed + billed_difference;
        });
        DateADT month = pg_date_from_civil(period_start(Period::Month, civil_from_pg_date(DatumGetDateADT(day))));
        int64 unpriced_difference = (priced.priced ? 0 : 1) - (old_priced ? 0 : 1);
        Datum correct_args[11] = {tenant, user_id, day, operation, provider, model, Int16GetDatum(slot),
                                  Int64GetDatum(unpriced_difference), numeric_from_decimal(cost_difference),
                                  numeric_from_decimal(billed_difference), DateADTGetDatum(month)};
        char correct_nulls[12] = "           ";
        if (user_null) correct_nulls[1] = 'n';
        if (provider_null) correct_nulls[4] = 'n';
        if (model_null) correct_nulls[5] = 'n';
        execute_plan(kept_plan(&correct_plan, kCorrectSql, 11, correct_types), correct_args, correct_nulls, false, 0);
        ++changed;
    }
    key_scan_close(&prices);
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
