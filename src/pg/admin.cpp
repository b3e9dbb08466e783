// Settings: tenants, prices, unit prices and limits. Each function validates every argument before it
// writes anything, and names the argument in its error.

#include "args.h"
#include "pricing.h"
#include "statement.h"
#include "tables/limits.h"
#include "tables/prices.h"
#include "tables/tenants.h"

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
    tenant_refuse_if_moving(tenant);

    spi_connect();
    tenant_set(tenant, canonical_zone, markup);
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
    Datum model = name_arg(fcinfo, at[0], "model");
    std::array<SqlArg, 9> p;
    bool isnull;
    p[0] = sql_arg(model);
    p[1] = sql_arg(amount_arg(fcinfo, at[1], "input_per_mtok", false, &isnull, parse_price));
    p[2] = sql_arg(amount_arg(fcinfo, at[2], "output_per_mtok", false, &isnull, parse_price));
    p[3].value = amount_arg(fcinfo, at[3], "cache_read_per_mtok", true, &p[3].isnull, parse_price);
    p[4].value = amount_arg(fcinfo, at[4], "cache_write_per_mtok", true, &p[4].isnull, parse_price);
    p[5] = sql_arg_or_null(PG_GETARG_DATUM(at[5]), PG_ARGISNULL(at[5]));
    if (!p[5].isnull) {
        TextView provider = text_view(p[5].value, false);
        core_or_raise([&] { check_optional_name("provider", provider.data, provider.length); });
    }
    require_arg(fcinfo, at[6], "effective_from");
    require_finite(PG_GETARG_TIMESTAMPTZ(at[6]), "effective_from", true);
    p[6] = sql_arg(PG_GETARG_DATUM(at[6]));
    p[7] = kSqlNull;
    if (at[7] >= 0) {
        require_arg(fcinfo, at[7], "tiers");
        PriceTier tiers[kMaxTiers];
        size_t count = tiers_from_jsonb(PG_GETARG_JSONB_P(at[7]), tiers, "tiers");
        if (count > 0) p[7] = sql_arg(tiers_jsonb(tiers, count));
    }
    p[8] = sql_arg(at[8] >= 0 ? amount_arg(fcinfo, at[8], "per_request", false, &isnull, parse_price)
                              : numeric_from_decimal(Decimal()));

    spi_connect();
    int64 price_id;
    const PriceAdded added = price_insert(p, &price_id);
    SPI_finish();
    if (added == PriceAdded::kDifferentExists)
        ereport(ERROR, (errcode(ERRCODE_UNIQUE_VIOLATION),
                        errmsg("a different price for model \"%s\" from %s already exists (price_id %lld)",
                               TextDatumGetCString(model), timestamptz_to_str(DatumGetTimestampTz(p[6].value)),
                               static_cast<long long>(price_id)),
                        errhint("Prices are never rewritten: add the new price with a later effective_from.")));
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
    bool isnull;
    Datum operation = name_arg(fcinfo, 0, "operation");
    Datum per_unit = amount_arg(fcinfo, 1, "per_unit", false, &isnull, parse_price);
    require_arg(fcinfo, 2, "effective_from");
    require_finite(PG_GETARG_TIMESTAMPTZ(2), "effective_from", true);

    spi_connect();
    int64 id;
    const PriceAdded added = unit_price_insert({sql_arg(operation), sql_arg(per_unit), sql_arg(PG_GETARG_DATUM(2))}, &id);
    SPI_finish();
    if (added == PriceAdded::kDifferentExists)
        ereport(ERROR, (errcode(ERRCODE_UNIQUE_VIOLATION),
                        errmsg("a different unit price for operation \"%s\" from %s already exists",
                               TextDatumGetCString(operation), timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(2))),
                        errhint("Prices are never rewritten: add the new price with a later effective_from.")));
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
    tenant_refuse_if_moving(tenant);
    spi_connect();
    tenant_ensure(tenant);
    limit_upsert({sql_arg(tenant), sql_arg_or_null(PG_GETARG_DATUM(1), PG_ARGISNULL(1)), sql_arg(PG_GETARG_DATUM(2)),
                  sql_arg(PG_GETARG_DATUM(3)), sql_arg(max_value), sql_arg(BoolGetDatum(hard)), sql_arg(alert)},
                 with_alert);
    SPI_finish();
    PG_RETURN_VOID();
}

// remove_limit(tenant, user_id, metric, period) -> whether a limit was removed.
UM_FUNCTION(remove_limit) {
    Datum tenant = name_arg(fcinfo, 0, "tenant");
    check_limit_user(fcinfo, 1);
    check_metric_period(fcinfo, 2, 3);
    tenant_refuse_if_moving(tenant);
    spi_connect();
    const bool removed = limit_remove({sql_arg(tenant), sql_arg_or_null(PG_GETARG_DATUM(1), PG_ARGISNULL(1)),
                                       sql_arg(PG_GETARG_DATUM(2)), sql_arg(PG_GETARG_DATUM(3))});
    SPI_finish();
    PG_RETURN_BOOL(removed);
}
