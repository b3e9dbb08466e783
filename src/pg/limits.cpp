// Limits and periods: check_limit() and period_bounds(). Both read settings and live counters only, never
// the ledger, so they cost the same whatever the ledger's size.

#include <cstring>
#include <utility>

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

    // The tenant's time zone; a tenant never seen has no limits.
    pg_tz* zone = nullptr;
    KeyScan tenants;
    ScanKeyData keys[2];
    key_scan_open(&tenants, "tenants", "tenants_pkey", 1);
    key_text(&tenants, &keys[0], 1, tenant);
    key_scan_rescan(&tenants, keys, 1);
    if (key_scan_next(&tenants)) {
        bool isnull;
        Datum name = slot_getattr(tenants.row, key_scan_column(&tenants, "time_zone"), &isnull);
        zone = zone_or_raise(TextDatumGetCString(name), "time_zone");
    }
    key_scan_close(&tenants);

    // The limits that may cover (tenant, user): the tenant's own, the user's named ones, and the '*' ones the
    // user has no named limit for. Each group is one index scan on limits_scope (tenant, user_id, ...).
    int group[kMaxApplicableLimits];  // 0 tenant, 1 named user, 2 each user ('*')
    if (zone != nullptr) {
        KeyScan scan;
        key_scan_open(&scan, "limits", "limits_scope", 2);
        const AttrNumber metric_col = key_scan_column(&scan, "metric"), period_col = key_scan_column(&scan, "period"),
                         max_col = key_scan_column(&scan, "max_value"), hard_col = key_scan_column(&scan, "hard");
        for (int g = 0; g < (user_null ? 1 : 3); ++g) {
            key_text(&scan, &keys[0], 1, tenant);
            if (g == 0)
                key_is_null(&keys[1], 2);
            else
                key_text(&scan, &keys[1], 2, g == 1 ? user_id : CStringGetTextDatum("*"));
            key_scan_rescan(&scan, keys, 2);
            while (key_scan_next(&scan)) {
                if (count == kMaxApplicableLimits) elog(ERROR, "usage_meter: too many applicable limits");
                bool isnull;
                TextView metric_text = text_view(slot_getattr(scan.row, metric_col, &isnull), false);
                TextView period_text = text_view(slot_getattr(scan.row, period_col, &isnull), false);
                usage_meter::LimitState& l = limits[count];
                core_or_raise([&] {
                    l.metric = parse_metric(std::string_view(metric_text.data, metric_text.length));
                    l.period = parse_period(std::string_view(period_text.data, period_text.length));
                });
                bool replaced = false;
                for (int i = 0; g == 2 && i < count; ++i)
                    replaced |= group[i] == 1 && limits[i].metric == l.metric && limits[i].period == l.period;
                if (replaced) continue;
                l.max_value = amount_from_numeric(slot_getattr(scan.row, max_col, &isnull), "max_value");
                l.hard = DatumGetBool(slot_getattr(scan.row, hard_col, &isnull));
                group[count] = g;
                tenant_wide[count] = g == 0;
                ++count;
            }
        }
        key_scan_close(&scan);
    }
    // A stable order for ties in decide(): the tenant's limits first, then by metric and period names.
    auto before = [&](int a, int b) {
        if (tenant_wide[a] != tenant_wide[b]) return tenant_wide[a];
        int c = std::strcmp(metric_name(limits[a].metric), metric_name(limits[b].metric));
        if (c != 0) return c < 0;
        return std::strcmp(period_name(limits[a].period), period_name(limits[b].period)) < 0;
    };
    for (int i = 1; i < count; ++i)
        for (int j = i; j > 0 && before(j, j - 1); --j) {
            std::swap(limits[j], limits[j - 1]);
            std::swap(tenant_wide[j], tenant_wide[j - 1]);
            std::swap(group[j], group[j - 1]);
        }

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
        KeyScan counters;
        key_scan_open(&counters, "counters", "counters_key", 4);
        for (int key = 0; key < 4; ++key) {
            if (!needed[key]) continue;
            bool day = key % 2 == 0;
            DateADT start = pg_date_from_civil(day ? day_bounds.start : month_bounds.start);
            sum_counters(&counters, tenant, user_id, key < 2, day ? "day" : "month", start, cost[key], billed[key],
                         &totals[key]);
        }
        key_scan_close(&counters);
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
