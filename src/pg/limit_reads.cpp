#include "limit_reads.h"
#include "tables/reservations.h"
#include "tables/tenants.h"

#include <cstring>

#include "datum_convert.h"
#include "tables/counters.h"
#include "key_scan.h"
#include "limits_cache.h"
#include "extension_catalog.h"

extern "C" {
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace usage_meter::pg {

namespace {

// What a counter adds up to in a limit's metric.
Decimal metric_total(const CounterTotals& totals, Metric metric) {
    switch (metric) {
        case Metric::Requests: return Decimal::from_int(totals.requests);
        case Metric::Tokens: return Decimal::from_int(totals.tokens);
        case Metric::Cost: return limit_amount_from_numeric(totals.cost);
        case Metric::BilledCost: return limit_amount_from_numeric(totals.billed_cost);
    }
    return Decimal();
}

Decimal held_in(const HoldTotals& totals, Metric metric) {
    switch (metric) {
        case Metric::Requests: return Decimal::from_int(totals.requests);
        case Metric::Tokens: return Decimal::from_int(totals.tokens);
        case Metric::Cost:
        case Metric::BilledCost: return totals.cost;
    }
    return Decimal();
}

// Reads the tenant's time zone and the limits covering (tenant, user) under `snapshot` into out.
void read_applicable_limits(Datum tenant, Datum user_id, bool user_null, Snapshot snapshot, ApplicableLimits* out) {
    ScanKeyData keys[2];

    // The tenant's time zone; a tenant never seen has no limits.
    TenantRow row;
    if (!tenant_read(tenant, snapshot, &row)) return;
    out->zone = row.zone;
    out->moving = row.moving;

    // Each group is one index scan on limits_scope (tenant, user_id, ...): the candidates, in the order read.
    // Amounts are converted only for the candidates that apply (a replaced '*' limit's never is).
    LimitCandidate candidates[kMaxApplicableLimits];
    Datum max_values[kMaxApplicableLimits];
    bool hard[kMaxApplicableLimits], alert[kMaxApplicableLimits];
    int read = 0;
    KeyScan scan;
    key_scan_open_with(&scan, "limits", "limits_scope", 2, snapshot);
    const AttrNumber metric_col = key_scan_column(&scan, "metric"), period_col = key_scan_column(&scan, "period"),
                     max_col = key_scan_column(&scan, "max_value"), hard_col = key_scan_column(&scan, "hard");
    const AttrNumber alert_col = extension_column(RelationGetRelid(scan.heap), "alert");  // absent at 1.0
    for (int g = 0; g < (user_null ? 1 : 3); ++g) {
        key_text(&scan, &keys[0], 1, tenant);
        if (g == kScopeTenant)
            key_is_null(&keys[1], 2);
        else
            key_text(&scan, &keys[1], 2, g == kScopeNamedUser ? user_id : CStringGetTextDatum("*"));
        key_scan_rescan(&scan, keys, 2);
        while (key_scan_next(&scan)) {
            if (read == kMaxApplicableLimits) elog(ERROR, "usage_meter: too many applicable limits");
            bool isnull;
            TextView metric_text = text_view(slot_getattr(scan.row, metric_col, &isnull), false);
            TextView period_text = text_view(slot_getattr(scan.row, period_col, &isnull), false);
            LimitCandidate& c = candidates[read];
            c = LimitCandidate();
            c.scope = static_cast<LimitScope>(g);
            core_or_raise([&] {
                c.metric = parse_metric(std::string_view(metric_text.data, metric_text.length));
                c.period = parse_period(std::string_view(period_text.data, period_text.length));
            });
            // A copy: the slot's next row replaces this one.
            max_values[read] = PointerGetDatum(PG_DETOAST_DATUM_COPY(slot_getattr(scan.row, max_col, &isnull)));
            hard[read] = DatumGetBool(slot_getattr(scan.row, hard_col, &isnull));
            alert[read] = alert_col > 0 && DatumGetBool(slot_getattr(scan.row, alert_col, &isnull)) && !isnull;
            ++read;
        }
    }
    key_scan_close(&scan);

    size_t order[kMaxApplicableLimits];
    size_t applicable = 0;
    core_or_raise([&] { applicable = applicable_limit_order(candidates, static_cast<size_t>(read), order); });
    for (size_t k = 0; k < applicable; ++k) {
        const size_t i = order[k];
        usage_meter::LimitState& l = out->limits[k];
        l = usage_meter::LimitState();
        l.metric = candidates[i].metric;
        l.period = candidates[i].period;
        l.max_value = limit_amount_from_numeric(max_values[i]);
        l.hard = hard[i];
        out->scope[k] = candidates[i].scope;
        out->alert[k] = alert[i];
    }
    out->count = static_cast<int>(applicable);
}

}  // namespace

void load_applicable_limits(Datum tenant, Datum user_id, bool user_null, TimestampTz now, ApplicableLimits* out) {
    out->count = 0;
    out->zone = nullptr;
    out->moving = false;
    if (!limits_cache_usable()) {
        read_applicable_limits(tenant, user_id, user_null, statement_snapshot(), out);
    } else if (!limits_cache_get(tenant, user_id, user_null, out)) {
        // Read under the statement's snapshot, as without the cache; kept only if that snapshot sees all a
        // snapshot taken now would see (see limits_cache.h).
        Snapshot active = statement_snapshot();
        read_applicable_limits(tenant, user_id, user_null, active, out);
        if (limits_cache_snapshot_is_current(active)) limits_cache_put(tenant, user_id, user_null, out);
    }

    if (out->count > 0) {
        pg_tz* zone = out->zone;
        core_or_raise([&] {
            PgZone rules(zone);
            int64_t now_s = floor_div(unix_us_from_pg(now), kUsecPerSec);
            out->day = period_bounds(Period::Day, now_s, rules);
            out->month = period_bounds(Period::Month, now_s, rules);
        });
    }
}

void read_used(ApplicableLimits* a, Datum tenant, Datum user_id, Snapshot snapshot) {
    if (a->count == 0) return;
    // Counters 0..3: tenant day, tenant month, user day, user month; each read once, only if a limit needs it,
    // with the money sums only a cost limit needs.
    auto key_of = [&](int i) {
        return (a->scope[i] == kScopeTenant ? 0 : 2) + (a->limits[i].period == Period::Day ? 0 : 1);
    };
    bool needed[4] = {false, false, false, false}, cost[4] = {false, false, false, false},
         billed[4] = {false, false, false, false};
    for (int i = 0; i < a->count; ++i) {
        needed[key_of(i)] = true;
        cost[key_of(i)] |= a->limits[i].metric == Metric::Cost;
        billed[key_of(i)] |= a->limits[i].metric == Metric::BilledCost;
    }
    CounterTotals totals[4];
    KeyScan counters;
    key_scan_open_with(&counters, "counters", "counters_key", 4, snapshot);
    for (int key = 0; key < 4; ++key) {
        if (!needed[key]) continue;
        bool day = key % 2 == 0;
        DateADT start = pg_date_from_civil(day ? a->day.start : a->month.start);
        sum_counters(&counters, tenant, user_id, key < 2, day ? "day" : "month", start, cost[key], billed[key],
                     &totals[key]);
    }
    key_scan_close(&counters);
    for (int i = 0; i < a->count; ++i) a->limits[i].used = metric_total(totals[key_of(i)], a->limits[i].metric);
}

void read_held(ApplicableLimits* a, Datum tenant, Datum user_id, bool user_null, Snapshot snapshot, TimestampTz now) {
    if (a->count == 0) return;
    if (!reservations_table_exists()) return;  // the extension is still at 1.0
    bool tenant_needed = false, user_needed = false;
    for (int i = 0; i < a->count; ++i) (a->scope[i] == kScopeTenant ? tenant_needed : user_needed) = true;
    HoldTotals tenant_holds{0, 0, Decimal()}, user_holds{0, 0, Decimal()};
    if (tenant_needed) sum_holds(tenant, 0, true, snapshot, now, &tenant_holds);
    if (user_needed && !user_null) sum_holds(tenant, user_id, false, snapshot, now, &user_holds);
    for (int i = 0; i < a->count; ++i)
        a->limits[i].held = held_in(a->scope[i] == kScopeTenant ? tenant_holds : user_holds, a->limits[i].metric);
}

bool has_hard_limit(const ApplicableLimits* a, bool tenant_scope) {
    for (int i = 0; i < a->count; ++i)
        if (a->limits[i].hard && (a->scope[i] == kScopeTenant) == tenant_scope) return true;
    return false;
}

}  // namespace usage_meter::pg
