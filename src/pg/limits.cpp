// Limits and periods: check_limit() and period_bounds(). Both read settings and live counters only, never
// the ledger, so they cost the same whatever the ledger's size.

#include "args.h"
#include "counters.h"
#include "spi.h"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

using namespace usage_meter;
using namespace usage_meter::pg;

namespace {

// Per metric and period (4 x 2): at most one tenant-wide limit, one named-user limit and one '*' limit.
constexpr int kMaxApplicableLimits = 24;

// The tenant's time zone and every limit that may cover (tenant, user): the tenant's own, the user's, and
// the '*' ones (dropped below where the user has a named limit for the same metric and period).
const char* const kLimitsSql =
    "SELECT t.time_zone, l.metric, l.period, l.max_value, l.hard, l.user_id"
    "  FROM usage_meter.tenants AS t"
    "  LEFT JOIN usage_meter.limits AS l ON l.tenant = t.tenant"
    "       AND (l.user_id IS NULL OR l.user_id = $2 OR (l.user_id = '*' AND $2 IS NOT NULL))"
    " WHERE t.tenant = $1"
    " ORDER BY l.user_id IS NOT NULL, l.metric, l.period, l.user_id = '*'";

// What a counter adds up to in a limit's metric.
Decimal metric_total(const CounterTotals& totals, Metric metric) {
    switch (metric) {
        case Metric::Requests: return Decimal::from_int(totals.requests);
        case Metric::Tokens: return Decimal::from_int(totals.tokens);
        case Metric::Cost: return amount_from_numeric(totals.cost, "cost");
        case Metric::BilledCost: return amount_from_numeric(totals.billed_cost, "billed_cost");
    }
    return Decimal();
}

// The time zone of a tenant, or UTC for a tenant not seen yet. Runs inside SPI.
pg_tz* tenant_zone(Datum tenant) {
    static SPIPlanPtr plan = nullptr;
    static const Oid types[1] = {TEXTOID};
    execute_plan(kept_plan(&plan, "SELECT time_zone FROM usage_meter.tenants WHERE tenant = $1", 1, types), &tenant,
                 " ", true, 1);
    if (SPI_processed == 0) return zone_or_raise("UTC", "time_zone");
    bool isnull;
    return zone_or_raise(TextDatumGetCString(result_value(0, 1, &isnull)), "time_zone");
}

}  // namespace

// check_limit(tenant, user_id, estimated_cost, estimated_tokens)
//   -> (allowed, metric, period, used, max_value, remaining, resets_at)
UM_FUNCTION(check_limit) {
    Datum tenant = name_arg(fcinfo, 0, "tenant");
    bool user_null = PG_ARGISNULL(1);
    Datum user_id = user_null ? 0 : PG_GETARG_DATUM(1);
    TextView user = text_view(user_id, user_null);
    Estimate estimate;
    if (!PG_ARGISNULL(2)) estimate.cost = amount_from_numeric(PG_GETARG_DATUM(2), "estimated_cost");
    estimate.tokens = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3);
    core_or_raise([&] {
        check_user_id("user_id", user.data, user.length);
        check_token_count("estimated_tokens", estimate.tokens);
    });
    TupleDesc result_desc;
    if (get_call_result_type(fcinfo, nullptr, &result_desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "check_limit must return a row");
    result_desc = BlessTupleDesc(result_desc);

    usage_meter::LimitState limits[kMaxApplicableLimits];
    bool tenant_wide[kMaxApplicableLimits];
    int count = 0;
    PeriodBounds day_bounds, month_bounds;
    const TimestampTz now = GetCurrentTransactionStartTimestamp();

    static SPIPlanPtr limits_plan = nullptr;
    static const Oid limit_types[2] = {TEXTOID, TEXTOID};
    Datum args[2] = {tenant, user_id};
    const char* nulls = user_null ? " n" : "  ";
    pg_tz* zone = nullptr;
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "usage_meter: SPI_connect failed");
    execute_plan(kept_plan(&limits_plan, kLimitsSql, 2, limit_types), args, nulls, true, 0);
    if (SPI_processed > 0) {
        bool isnull;
        zone = zone_or_raise(TextDatumGetCString(result_value(0, 1, &isnull)), "time_zone");
        uint64 rows = SPI_processed;
        if (rows > kMaxApplicableLimits) elog(ERROR, "usage_meter: too many applicable limits");
        for (uint64 row = 0; row < rows; ++row) {
            Datum metric = result_value(row, 2, &isnull);
            if (isnull) continue;  // the tenant has no limits (LEFT JOIN)
            TextView metric_text = text_view(metric, false);
            TextView period_text = text_view(result_value(row, 3, &isnull), false);
            result_value(row, 6, &isnull);
            bool limit_tenant_wide = isnull;
            bool each_user = false;
            if (!limit_tenant_wide) {
                TextView limit_user = text_view(result_value(row, 6, &isnull), false);
                each_user = limit_user.length == 1 && limit_user.data[0] == '*';
            }
            usage_meter::LimitState& l = limits[count];
            core_or_raise([&] {
                l.metric = parse_metric(std::string_view(metric_text.data, metric_text.length));
                l.period = parse_period(std::string_view(period_text.data, period_text.length));
            });
            // Rows come ordered so that a user's named limit precedes the '*' one it replaces.
            if (each_user && count > 0 && !tenant_wide[count - 1] && limits[count - 1].metric == l.metric &&
                limits[count - 1].period == l.period)
                continue;
            l.max_value = amount_from_numeric(result_value(row, 4, &isnull), "max_value");
            l.hard = DatumGetBool(result_value(row, 5, &isnull));
            tenant_wide[count] = limit_tenant_wide;
            ++count;
        }
    }
    SPI_finish();

    if (count > 0) {
        core_or_raise([&] {
            PgZone rules(zone);
            int64_t now_s = floor_div(unix_us_from_pg(now), kUsecPerSec);
            day_bounds = period_bounds(Period::Day, now_s, rules);
            month_bounds = period_bounds(Period::Month, now_s, rules);
        });
        // Counters 0..3: tenant day, tenant month, user day, user month; each read once, only if a limit needs
        // it, with the money sums only a cost limit needs.
        auto key_of = [&](int i) { return (tenant_wide[i] ? 0 : 2) + (limits[i].period == Period::Day ? 0 : 1); };
        bool needed[4] = {false, false, false, false}, cost[4] = {false, false, false, false},
             billed[4] = {false, false, false, false};
        for (int i = 0; i < count; ++i) {
            needed[key_of(i)] = true;
            cost[key_of(i)] |= limits[i].metric == Metric::Cost;
            billed[key_of(i)] |= limits[i].metric == Metric::BilledCost;
        }
        CounterTotals totals[4];
        CounterReader reader;
        open_counters(&reader);
        for (int key = 0; key < 4; ++key) {
            if (!needed[key]) continue;
            bool day = key % 2 == 0;
            DateADT start = pg_date_from_civil(day ? day_bounds.start : month_bounds.start);
            sum_counters(&reader, tenant, user_id, key < 2, day ? "day" : "month", start, cost[key], billed[key],
                         &totals[key]);
        }
        close_counters(&reader);
        for (int i = 0; i < count; ++i) limits[i].used = metric_total(totals[key_of(i)], limits[i].metric);
    }

    Decision decision;
    core_or_raise([&] { decision = decide(limits, static_cast<size_t>(count), estimate); });
    Datum values[7];
    bool result_nulls[7] = {false, true, true, true, true, true, true};
    values[0] = BoolGetDatum(decision.allowed);
    if (decision.limit >= 0) {
        const usage_meter::LimitState& l = limits[decision.limit];
        values[1] = CStringGetTextDatum(metric_name(l.metric));
        values[2] = CStringGetTextDatum(period_name(l.period));
        values[3] = numeric_from_decimal(l.used);
        values[4] = numeric_from_decimal(l.max_value);
        values[5] = numeric_from_decimal(decision.remaining);
        const PeriodBounds& b = l.period == Period::Day ? day_bounds : month_bounds;
        values[6] = TimestampTzGetDatum(pg_us_from_unix_seconds(b.resets_at));
        for (int i = 1; i < 7; ++i) result_nulls[i] = false;
    }
    return HeapTupleGetDatum(heap_form_tuple(result_desc, values, result_nulls));
}

// period_bounds(tenant, at) -> rows (period, period_start, starts_at, resets_at) for the day and the month
// that contain `at` in the tenant's time zone (UTC for a tenant not seen yet).
UM_FUNCTION(period_bounds) {
    Datum tenant = name_arg(fcinfo, 0, "tenant");
    require_arg(fcinfo, 1, "at");
    TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);
    require_finite(at, "at", false);

    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "usage_meter: SPI_connect failed");
    pg_tz* zone = tenant_zone(tenant);
    SPI_finish();

    PeriodBounds bounds[2];
    core_or_raise([&] {
        PgZone rules(zone);
        int64_t at_s = floor_div(unix_us_from_pg(at), kUsecPerSec);
        bounds[0] = period_bounds(Period::Day, at_s, rules);
        bounds[1] = period_bounds(Period::Month, at_s, rules);
    });
    InitMaterializedSRF(fcinfo, 0);
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (int i = 0; i < 2; ++i) {
        Datum values[4] = {CStringGetTextDatum(i == 0 ? "day" : "month"),
                           DateADTGetDatum(pg_date_from_civil(bounds[i].start)),
                           TimestampTzGetDatum(pg_us_from_unix_seconds(bounds[i].starts_at)),
                           TimestampTzGetDatum(pg_us_from_unix_seconds(bounds[i].resets_at))};
        bool nulls[4] = {false, false, false, false};
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return static_cast<Datum>(0);
}
