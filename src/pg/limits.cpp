// Limits and periods: check_limit() and period_bounds(). Both read settings and live counters only, never
// the ledger, so they cost the same whatever the ledger's size.

#include <cstring>
#include <utility>

#include "args.h"
#include "limit_reads.h"
#include "key_scan.h"
#include "rollup.h"
#include "statement.h"
#include "tables/tenants.h"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

using namespace usage_meter;
using namespace usage_meter::pg;

namespace {

// The time zone of a tenant, or UTC for a tenant not seen yet.
pg_tz* tenant_zone(Datum tenant) {
    TenantRow row;
    return tenant_read(tenant, nullptr, &row) ? row.zone : zone_or_raise("UTC", "time_zone");
}

}  // namespace

// check_limit(tenant, user_id, estimated_cost, estimated_tokens)
//   -> (allowed, metric, period, used, max_value, remaining, resets_at, held)
UM_FUNCTION(check_limit) {
    Datum tenant = name_arg(fcinfo, 0, "tenant");
    bool user_null;
    Datum user_id;
    const Estimate estimate = request_args(fcinfo, &user_id, &user_null);
    TupleDesc result_desc;
    if (get_call_result_type(fcinfo, nullptr, &result_desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "check_limit must return a row");
    result_desc = BlessTupleDesc(result_desc);

    // Used and held, as committed when the statement started: the same snapshot for both, so a settled
    // reservation is counted once, as held or as used.
    // This transaction's own recordings count too: its pending roll-up is written first, and then read through a
    // copy of the statement's snapshot that sees this transaction's commands so far.
    const TimestampTz now = GetCurrentTransactionStartTimestamp();
    const bool applied = rollup_apply_pending();
    ApplicableLimits applicable;
    load_applicable_limits(tenant, user_id, user_null, now, &applicable);
    Snapshot snapshot = statement_snapshot();
    if (applied) {
        PushCopiedSnapshot(snapshot);
        UpdateActiveSnapshotCommandId();
        snapshot = GetActiveSnapshot();
    }
    read_used(&applicable, tenant, user_id, snapshot);
    read_held(&applicable, tenant, user_id, user_null, snapshot, GetCurrentTimestamp());
    if (applied) PopActiveSnapshot();
    const usage_meter::LimitState* limits = applicable.limits;
    const int count = applicable.count;

    Decision decision;
    core_or_raise([&] { decision = decide(limits, static_cast<size_t>(count), estimate); });
    // 1.0 declared 7 result columns; 1.1 adds held as an 8th.
    const int columns = result_desc->natts >= 8 ? 8 : 7;
    Datum values[8];
    bool result_nulls[8] = {false, true, true, true, true, true, true, true};
    values[0] = BoolGetDatum(decision.allowed);
    if (decision.limit >= 0) {
        const usage_meter::LimitState& l = limits[decision.limit];
        values[1] = CStringGetTextDatum(metric_name(l.metric));
        values[2] = CStringGetTextDatum(period_name(l.period));
        values[3] = numeric_from_decimal(l.used);
        values[4] = numeric_from_decimal(l.max_value);
        values[5] = numeric_from_decimal(decision.remaining);
        values[6] = TimestampTzGetDatum(pg_us_from_unix_seconds(bounds_of(&applicable, decision.limit).resets_at));
        values[7] = numeric_from_decimal(l.held);
        for (int i = 1; i < columns; ++i) result_nulls[i] = false;
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

    pg_tz* zone = tenant_zone(tenant);

    PeriodBounds bounds[2];
    core_or_raise([&] {
        PgZone rules(zone);
        int64_t at_s = floor_div(unix_us_from_pg(at), kUsecPerSec);
        bounds[0] = period_bounds(Period::Day, at_s, rules);
        bounds[1] = period_bounds(Period::Month, at_s, rules);
    });
    // The day and month containing `at` must themselves be representable and contain it: near either end of
    // PostgreSQL's timestamp range they are not (and past about the year 264000 the core's clock, microseconds
    // since 1970, saturates).
    const int64_t at_pg_s = at / USECS_PER_SEC - (at % USECS_PER_SEC < 0 ? 1 : 0);
    for (const PeriodBounds& b : bounds) {
        const int64_t first = b.starts_at - kPgEpochDays * 86400, last = b.resets_at - kPgEpochDays * 86400;
        if (first < MIN_TIMESTAMP / USECS_PER_SEC || last >= END_TIMESTAMP / USECS_PER_SEC ||
            !IS_VALID_DATE(pg_date_from_civil(b.start)) || at_pg_s < first || at_pg_s >= last)
            ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                            errmsg("invalid at: %s is outside the range of instants whose %s can be represented",
                                   timestamptz_to_str(at), &b == &bounds[0] ? "day" : "month"),
                            errhint("Days and months are bucketed from 4713 BC to about the year 264000.")));
    }
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
