// Settings: tenants, prices, unit prices and limits. Each function validates every argument before it
// writes anything, and names the argument in its error.

#include "args.h"
#include "pricing.h"
#include "spi.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

using namespace usage_meter;
using namespace usage_meter::pg;

namespace {

// Amount argument i within its bounds (parse_price, parse_limit): NULL allowed only when optional; returns the
// canonical numeric datum.
Datum amount_arg(FunctionCallInfo fcinfo, int i, const char* name, bool optional, bool* isnull,
                 Decimal (*parse)(std::string_view argument, std::string_view text)) {
    *isnull = PG_ARGISNULL(i);
    if (*isnull) {
        if (!optional) require_arg(fcinfo, i, name);
        return 0;
    }
    return numeric_from_decimal(bounded_from_numeric(PG_GETARG_DATUM(i), name, parse));
}

void ensure_tenant(Datum tenant) {
    static SPIPlanPtr plan = nullptr;
    static const Oid types[1] = {TEXTOID};
    execute_plan(kept_plan(&plan, "INSERT INTO usage_meter.tenants (tenant) VALUES ($1) ON CONFLICT (tenant) DO NOTHING",
                           1, types),
                 &tenant, " ", false, 0);
}

// A limit's user_id: NULL (the tenant), '*' (each user) or a user id.
void check_limit_user(FunctionCallInfo fcinfo, int i) {
    if (PG_ARGISNULL(i)) return;
    TextView v = text_view(PG_GETARG_DATUM(i), false);
    if (v.length == 1 && v.data[0] == '*') return;
    core_or_raise([&] { check_optional_name("user_id", v.data, v.length); });
}

void check_metric_period(FunctionCallInfo fcinfo, int metric_arg, int period_arg) {
    require_arg(fcinfo, metric_arg, "metric");
    require_arg(fcinfo, period_arg, "period");
    TextView metric = text_view(PG_GETARG_DATUM(metric_arg), false);
    TextView period = text_view(PG_GETARG_DATUM(period_arg), false);
    core_or_raise([&] {
        parse_metric(std::string_view(metric.data, metric.length));
        parse_period(std::string_view(period.data, period.length));
    });
}

}  // namespace

// set_tenant(tenant, time_zone DEFAULT 'UTC', markup_pct DEFAULT 0): creates or updates a tenant.
UM_FUNCTION(set_tenant) {
    Datum tenant = name_arg(fcinfo, 0, "tenant");
    require_arg(fcinfo, 1, "time_zone");
    require_arg(fcinfo, 2, "markup_pct");
    char* zone_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
    pg_tz* zone = tenant_zone_or_raise(zone_name, "time_zone");
    Datum canonical_zone = CStringGetTextDatum(pg_get_timezone_name(zone));
    Datum markup = numeric_from_decimal(markup_from_numeric(PG_GETARG_DATUM(2), "markup_pct"));

    static SPIPlanPtr plan = nullptr;
    static const Oid types[3] = {TEXTOID, TEXTOID, NUMERICOID};
    Datum args[3] = {tenant, canonical_zone, markup};
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "usage_meter: SPI_connect failed");
    execute_plan(kept_plan(&plan,
                           "INSERT INTO usage_meter.tenants AS t (tenant, time_zone, markup_pct) VALUES ($1, $2, $3)"
                           " ON CONFLICT (tenant) DO UPDATE SET time_zone = excluded.time_zone,"
                           " markup_pct = excluded.markup_pct, updated_at = pg_catalog.now()",
                           3, types),
                 args, "   ", false, 0);
    SPI_finish();
    PG_RETURN_VOID();
}

// set_price(model, input_per_mtok, output_per_mtok, cache_read_per_mtok, cache_write_per_mtok, provider,
//           effective_from) and set_tiered_price(model, input_per_mtok, output_per_mtok, tiers, cache_read_per_mtok,
// cache_write_per_mtok, provider, effective_from, per_request) -> price_id. A price is never rewritten: setting
// the same price again (tiers and fee included) returns it, a different price for the same model, provider and
// time is refused. `at` maps (model, input, output, cache read, cache write, provider, effective_from, tiers,
// per_request) to argument numbers; -1 when the function has no such argument (set_price: no tiers, fee 0).
// A 1.0 database has neither the tiers nor the per_request column.
static Datum set_price_impl(FunctionCallInfo fcinfo, const int* at) {
    const bool v11 = prices_have_tiers();
    const int nargs = v11 ? 9 : 7;
    Datum model = name_arg(fcinfo, at[0], "model");
    Datum args[9];
    bool nulls[9] = {false, false, false, false, false, false, false, true, false};
    args[0] = model;
    args[1] = amount_arg(fcinfo, at[1], "input_per_mtok", false, &nulls[1], parse_price);
    args[2] = amount_arg(fcinfo, at[2], "output_per_mtok", false, &nulls[2], parse_price);
    args[3] = amount_arg(fcinfo, at[3], "cache_read_per_mtok", true, &nulls[3], parse_price);
    args[4] = amount_arg(fcinfo, at[4], "cache_write_per_mtok", true, &nulls[4], parse_price);
    nulls[5] = PG_ARGISNULL(at[5]);
    args[5] = nulls[5] ? 0 : PG_GETARG_DATUM(at[5]);
    if (!nulls[5]) {
        TextView provider = text_view(args[5], false);
        core_or_raise([&] { check_optional_name("provider", provider.data, provider.length); });
    }
    require_arg(fcinfo, at[6], "effective_from");
    require_finite(PG_GETARG_TIMESTAMPTZ(at[6]), "effective_from", true);
    args[6] = PG_GETARG_DATUM(at[6]);
    args[7] = 0;
    if (at[7] >= 0) {
        require_arg(fcinfo, at[7], "tiers");
        PriceTier tiers[kMaxTiers];
        size_t count = tiers_from_jsonb(PG_GETARG_JSONB_P(at[7]), tiers, "tiers");
        if (count > 0) {
            args[7] = tiers_jsonb(tiers, count);
            nulls[7] = false;
        }
    }
    args[8] = at[8] >= 0 ? amount_arg(fcinfo, at[8], "per_request", false, &nulls[8], parse_price)
                         : numeric_from_decimal(Decimal());
    char spi_nulls[10];
    for (int i = 0; i < nargs; ++i) spi_nulls[i] = nulls[i] ? 'n' : ' ';
    spi_nulls[nargs] = '\0';

    static SPIPlanPtr insert_plans[2] = {nullptr, nullptr}, existing_plans[2] = {nullptr, nullptr};
    static const Oid types[9] = {TEXTOID, NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, TEXTOID, TIMESTAMPTZOID,
                                 JSONBOID, NUMERICOID};
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "usage_meter: SPI_connect failed");
    execute_plan(kept_plan(&insert_plans[v11],
                           v11 ? "INSERT INTO usage_meter.prices (model, input_per_mtok, output_per_mtok,"
                                 " cache_read_per_mtok, cache_write_per_mtok, provider, effective_from, tiers, per_request)"
                                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                                 " ON CONFLICT ON CONSTRAINT prices_model_provider_from DO NOTHING RETURNING price_id"
                               : "INSERT INTO usage_meter.prices (model, input_per_mtok, output_per_mtok,"
                                 " cache_read_per_mtok, cache_write_per_mtok, provider, effective_from)"
                                 " VALUES ($1, $2, $3, $4, $5, $6, $7)"
                                 " ON CONFLICT ON CONSTRAINT prices_model_provider_from DO NOTHING RETURNING price_id",
                           nargs, types),
                 args, spi_nulls, false, 0);
    bool isnull;
    int64 price_id;
    if (SPI_processed == 1) {
        price_id = DatumGetInt64(result_value(0, 1, &isnull));
    } else {
        execute_plan(kept_plan(&existing_plans[v11],
                               v11 ? "SELECT price_id, input_per_mtok = $2 AND output_per_mtok = $3"
                                     "   AND cache_read_per_mtok IS NOT DISTINCT FROM $4"
                                     "   AND cache_write_per_mtok IS NOT DISTINCT FROM $5"
                                     "   AND tiers IS NOT DISTINCT FROM $8 AND per_request = $9"
                                     "  FROM usage_meter.prices WHERE model = $1 AND provider IS NOT DISTINCT FROM $6"
                                     "   AND effective_from = $7"
                                   : "SELECT price_id, input_per_mtok = $2 AND output_per_mtok = $3"
                                     "   AND cache_read_per_mtok IS NOT DISTINCT FROM $4"
                                     "   AND cache_write_per_mtok IS NOT DISTINCT FROM $5"
                                     "  FROM usage_meter.prices WHERE model = $1 AND provider IS NOT DISTINCT FROM $6"
                                     "   AND effective_from = $7",
                               nargs, types),
                     args, spi_nulls, false, 1);
        if (SPI_processed != 1) elog(ERROR, "usage_meter: conflicting price not found");
        price_id = DatumGetInt64(result_value(0, 1, &isnull));
        if (!DatumGetBool(result_value(0, 2, &isnull)))
            ereport(ERROR, (errcode(ERRCODE_UNIQUE_VIOLATION),
                            errmsg("a different price for model \"%s\" from %s already exists (price_id %lld)",
                                   TextDatumGetCString(model), timestamptz_to_str(DatumGetTimestampTz(args[6])),
                                   static_cast<long long>(price_id)),
                            errhint("Prices are never rewritten: add the new price with a later effective_from.")));
    }
    SPI_finish();
    PG_RETURN_INT64(price_id);
}

UM_FUNCTION(set_price) {
    static const int at[9] = {0, 1, 2, 3, 4, 5, 6, -1, -1};
    return set_price_impl(fcinfo, at);
}

// 8 arguments before per_request existed; the SQL signature has 9 (DEFAULT 0).
UM_FUNCTION(set_tiered_price) {
    static const int at[9] = {0, 1, 2, 4, 5, 6, 7, 3, 8};
    static const int at_without_fee[9] = {0, 1, 2, 4, 5, 6, 7, 3, -1};
    return set_price_impl(fcinfo, PG_NARGS() > 8 ? at : at_without_fee);
}

// set_unit_price(operation, per_unit, effective_from) -> unit_price_id, with the same rule as set_price.
UM_FUNCTION(set_unit_price) {
    Datum args[3];
    bool isnull;
    args[0] = name_arg(fcinfo, 0, "operation");
    args[1] = amount_arg(fcinfo, 1, "per_unit", false, &isnull, parse_price);
    require_arg(fcinfo, 2, "effective_from");
    require_finite(PG_GETARG_TIMESTAMPTZ(2), "effective_from", true);
    args[2] = PG_GETARG_DATUM(2);

    static SPIPlanPtr insert_plan = nullptr, existing_plan = nullptr;
    static const Oid types[3] = {TEXTOID, NUMERICOID, TIMESTAMPTZOID};
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "usage_meter: SPI_connect failed");
    execute_plan(kept_plan(&insert_plan,
                           "INSERT INTO usage_meter.unit_prices (operation, per_unit, effective_from)"
                           " VALUES ($1, $2, $3) ON CONFLICT ON CONSTRAINT unit_prices_operation_from DO NOTHING"
                           " RETURNING unit_price_id",
                           3, types),
                 args, "   ", false, 0);
    int64 id;
    if (SPI_processed == 1) {
        id = DatumGetInt64(result_value(0, 1, &isnull));
    } else {
        execute_plan(kept_plan(&existing_plan,
                               "SELECT unit_price_id, per_unit = $2 FROM usage_meter.unit_prices"
                               " WHERE operation = $1 AND effective_from = $3",
                               3, types),
                     args, "   ", false, 1);
        if (SPI_processed != 1) elog(ERROR, "usage_meter: conflicting unit price not found");
        id = DatumGetInt64(result_value(0, 1, &isnull));
        if (!DatumGetBool(result_value(0, 2, &isnull)))
            ereport(ERROR, (errcode(ERRCODE_UNIQUE_VIOLATION),
                            errmsg("a different unit price for operation \"%s\" from %s already exists",
                                   TextDatumGetCString(args[0]), timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(2))),
                            errhint("Prices are never rewritten: add the new price with a later effective_from.")));
    }
    SPI_finish();
    PG_RETURN_INT64(id);
}

// set_limit(tenant, user_id, metric, period, max_value, hard DEFAULT true, alert DEFAULT NULL): upsert on
// (tenant, user_id, metric, period). alert is 1.1's (a database still at 1.0 calls with 6 arguments); NULL
// (1.3's default; 1.1 and 1.2 default to false) means a soft limit alerts and a hard one does not.
UM_FUNCTION(set_limit) {
    Datum tenant = name_arg(fcinfo, 0, "tenant");
    check_limit_user(fcinfo, 1);
    check_metric_period(fcinfo, 2, 3);
    bool isnull;
    Datum max_value = amount_arg(fcinfo, 4, "max_value", false, &isnull, parse_limit);
    require_arg(fcinfo, 5, "hard");
    const bool with_alert = PG_NARGS() > 6;
    const bool hard = PG_GETARG_BOOL(5);
    Datum alert = BoolGetDatum(false);
    if (with_alert) alert = PG_ARGISNULL(6) ? BoolGetDatum(!hard) : PG_GETARG_DATUM(6);
    Datum args[7] = {tenant, PG_ARGISNULL(1) ? 0 : PG_GETARG_DATUM(1), PG_GETARG_DATUM(2), PG_GETARG_DATUM(3),
                     max_value, BoolGetDatum(hard), alert};
    const char* nulls = PG_ARGISNULL(1) ? " n     " : "       ";

    static SPIPlanPtr plan = nullptr, alert_plan = nullptr;
    static const Oid types[7] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, NUMERICOID, BOOLOID, BOOLOID};
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "usage_meter: SPI_connect failed");
    ensure_tenant(tenant);
    if (with_alert)
        execute_plan(kept_plan(&alert_plan,
                               "INSERT INTO usage_meter.limits AS l (tenant, user_id, metric, period, max_value, hard,"
                               " alert) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ON CONSTRAINT limits_scope"
                               " DO UPDATE SET max_value = excluded.max_value, hard = excluded.hard,"
                               " alert = excluded.alert, updated_at = pg_catalog.now()",
                               7, types),
                     args, nulls, false, 0);
    else
        execute_plan(kept_plan(&plan,
                               "INSERT INTO usage_meter.limits AS l (tenant, user_id, metric, period, max_value, hard)"
                               " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT ON CONSTRAINT limits_scope DO UPDATE"
                               " SET max_value = excluded.max_value, hard = excluded.hard, updated_at = pg_catalog.now()",
                               6, types),
                     args, nulls, false, 0);
    SPI_finish();
    PG_RETURN_VOID();
}

// remove_limit(tenant, user_id, metric, period) -> whether a limit was removed.
UM_FUNCTION(remove_limit) {
    Datum tenant = name_arg(fcinfo, 0, "tenant");
    check_limit_user(fcinfo, 1);
    check_metric_period(fcinfo, 2, 3);
    Datum args[4] = {tenant, PG_ARGISNULL(1) ? 0 : PG_GETARG_DATUM(1), PG_GETARG_DATUM(2), PG_GETARG_DATUM(3)};
    const char* nulls = PG_ARGISNULL(1) ? " n  " : "    ";
    static SPIPlanPtr plan = nullptr;
    static const Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "usage_meter: SPI_connect failed");
    execute_plan(kept_plan(&plan,
                           "DELETE FROM usage_meter.limits WHERE tenant = $1 AND user_id IS NOT DISTINCT FROM $2"
                           " AND metric = $3 AND period = $4",
                           4, types),
                 args, nulls, false, 0);
    bool removed = SPI_processed > 0;
    SPI_finish();
    PG_RETURN_BOOL(removed);
}
