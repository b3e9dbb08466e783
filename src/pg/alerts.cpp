#include "alerts.h"

#include <cstring>

#include "limit_reads.h"
#include "datum_convert.h"
#include "key_scan.h"
#include "statement.h"
#include "tables/tenants.h"

extern "C" {
#include "access/xact.h"
#include "utils/elog.h"
#include "utils/resowner.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace usage_meter::pg {

namespace {

// What events_prepare last read from a tenants row: plain data, valid only for the same transaction and
// command (a later command may have changed the limits).
struct NotedTenant {
    LocalTransactionId lxid;
    CommandId command;
    bool valid;
    bool alert_limits;
    int length;
    char tenant[128];
};
NotedTenant noted = {InvalidLocalTransactionId, InvalidCommandId, false, false, 0, {0}};

const char* const kInsertAlertSql =
    "INSERT INTO usage_meter.alerts AS a (tenant, user_id, limit_user_id, metric, period, period_start, level,"
    "       used, max_value, hard)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    " ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING"
    " RETURNING pg_catalog.json_build_object('tenant', a.tenant, 'user', a.user_id, 'limit_user', a.limit_user_id,"
    "       'metric', a.metric, 'period', a.period, 'period_start', a.period_start, 'used', a.used,"
    "       'max', a.max_value, 'hard', a.hard, 'level', a.level, 'alert_id', a.alert_id)::text";

// Whether an alert row (tenant, user, limit user, metric, period, period start, level) exists, through
// alerts_once.
bool alert_exists(KeyScan* scan, Datum tenant, Datum user_id, bool user_null, Datum limit_user, bool limit_user_null,
                  Datum metric, Datum period, Datum period_start, Datum level) {
    ScanKeyData keys[7];
    key_text(scan, &keys[0], 1, tenant);
    if (user_null)
        key_is_null(&keys[1], 2);
    else
        key_text(scan, &keys[1], 2, user_id);
    if (limit_user_null)
        key_is_null(&keys[2], 3);
    else
        key_text(scan, &keys[2], 3, limit_user);
    key_text(scan, &keys[3], 4, metric);
    key_text(scan, &keys[4], 5, period);
    key_date(&keys[5], 6, period_start);
    key_text(scan, &keys[6], 7, level);
    key_scan_rescan(scan, keys, 7);
    return key_scan_next(scan);
}

// Inserts one alert row; true if this transaction inserted it (its payload is the result). Under READ
// COMMITTED a conflicting row makes it wait for its writer and do nothing once that commits. Under
// REPEATABLE READ or SERIALIZABLE, a conflicting row committed after the snapshot raises a serialization
// failure: here that only means another transaction sent the alert, so it is caught (in a subtransaction)
// instead of failing the recording.
bool insert_alert(const std::array<SqlArg, 10>& alert) {
    static Statement<10> insert = {kInsertAlertSql,
                                   {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, DATEOID, TEXTOID, NUMERICOID,
                                    NUMERICOID, BOOLOID}};
    if (!IsolationUsesXactSnapshot()) {
        run_with(insert, Access::kReadWrite, 0, alert);
        return SPI_processed == 1;
    }
    MemoryContext outer_context = CurrentMemoryContext;
    ResourceOwner outer_owner = CurrentResourceOwner;
    volatile bool inserted = false, conflicted = false;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(outer_context);
    PG_TRY();
    {
        run_with(insert, Access::kReadWrite, 0, alert);
        inserted = SPI_processed == 1;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(outer_context);
        ErrorData* error = CopyErrorData();
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(outer_context);
        CurrentResourceOwner = outer_owner;
        if (error->sqlerrcode != ERRCODE_T_R_SERIALIZATION_FAILURE) {
            ReThrowError(error);
        }
        FlushErrorState();
        conflicted = true;
    }
    PG_END_TRY();
    if (!conflicted) {
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(outer_context);
        CurrentResourceOwner = outer_owner;
    }
    return inserted;
}

}  // namespace

void note_tenant_alerts(Datum tenant, bool alert_limits) {
    text* t = DatumGetTextPP(tenant);
    int length = VARSIZE_ANY_EXHDR(t);
    noted.valid = length <= static_cast<int>(sizeof noted.tenant);
    if (!noted.valid) return;
    std::memcpy(noted.tenant, VARDATA_ANY(t), length);
    noted.length = length;
    noted.alert_limits = alert_limits;
    noted.lxid = MyProc->lxid;
    noted.command = GetCurrentCommandId(false);
}

bool tenant_has_alerts(Datum tenant) {
    text* t = DatumGetTextPP(tenant);
    int length = VARSIZE_ANY_EXHDR(t);
    if (noted.valid && noted.lxid == MyProc->lxid && noted.command == GetCurrentCommandId(false) &&
        noted.length == length && std::memcmp(noted.tenant, VARDATA_ANY(t), length) == 0)
        return noted.alert_limits;
    TenantRow row;
    return tenant_read(tenant, nullptr, &row) && row.alert_limits;
}

namespace {

// An alert the event makes due: limit index into the ApplicableLimits, and the level.
struct Due {
    int limit;
    unsigned level;
};

// The user column of the limit a[i] in the alerts table: NULL for a tenant-wide limit, '*' for a per-user one.
Datum limit_user_of(const ApplicableLimits& a, int i, Datum user_id, bool* null) {
    *null = a.scope[i] == kScopeTenant;
    return a.scope[i] == kScopeEachUser ? CStringGetTextDatum("*") : user_id;
}

// Under `snapshot`: the limits of (tenant, user) with alerts (with event_day, only those whose current period
// contains it) are left in a, with their used amounts; each (limit, level) reached that has no alert row yet
// is put in due. Returns how many are due.
int due_alerts(Datum tenant, Datum user_id, bool user_null, const DateADT* event_day, Snapshot snapshot,
               ApplicableLimits* out, Due* due) {
    ApplicableLimits& a = *out;
    load_applicable_limits(tenant, user_id, user_null, GetCurrentTransactionStartTimestamp(), &a);
    if (a.count == 0) return 0;
    int kept = 0;
    core_or_raise([&] {
        CivilDate event_date;
        if (event_day != nullptr) event_date = civil_from_pg_date(*event_day);
        for (int i = 0; i < a.count; ++i) {
            if (!alert_check_includes(a.alert[i], a.limits[i].period, event_day != nullptr ? &event_date : nullptr,
                                      bounds_of(&a, i).start))
                continue;
            a.limits[kept] = a.limits[i];
            a.scope[kept] = a.scope[i];
            a.alert[kept] = true;
            ++kept;
        }
    });
    a.count = kept;
    if (a.count == 0) return 0;
    read_used(&a, tenant, user_id, snapshot);
    unsigned levels[kMaxApplicableLimits];
    bool any = false;
    for (int i = 0; i < a.count; ++i) {
        const usage_meter::LimitState& l = a.limits[i];
        core_or_raise([&] { levels[i] = alert_levels(l.used, l.max_value, l.hard); });
        any |= levels[i] != 0;
    }
    if (!any) return 0;

    // Which of them have no alert yet: an index probe each, so a period past 80 % pays no INSERT per event.
    int due_count = 0;
    KeyScan scan;
    key_scan_open_with(&scan, "alerts", "alerts_once", 7, snapshot);
    for (int i = 0; i < a.count; ++i) {
        for (unsigned level : kAlertLevels) {
            if ((levels[i] & level) == 0) continue;
            bool limit_user_null;
            Datum limit_user = limit_user_of(a, i, user_id, &limit_user_null);
            bool exists = alert_exists(&scan, tenant, user_id, a.scope[i] == kScopeTenant || user_null, limit_user,
                                       limit_user_null, CStringGetTextDatum(metric_name(a.limits[i].metric)),
                                       CStringGetTextDatum(period_name(a.limits[i].period)),
                                       DateADTGetDatum(pg_date_from_civil(bounds_of(&a, i).start)),
                                       CStringGetTextDatum(alert_level_name(level)));
            if (!exists) due[due_count++] = Due{i, level};
        }
    }
    key_scan_close(&scan);
    return due_count;
}

}  // namespace

void fire_alerts(Datum tenant, Datum user_id, bool user_null, const DateADT* event_day) {
    // Committed usage (as of this statement's snapshot) plus this transaction's, including the roll-up just
    // written: the statement's snapshot with the command counter advanced past that roll-up. The limits are
    // read under it too (and, being current, may be kept in the limits cache). An ERROR pops it with the rest.
    CommandCounterIncrement();
    PushCopiedSnapshot(statement_snapshot());
    UpdateActiveSnapshotCommandId();
    ApplicableLimits a;
    Due due[kMaxApplicableLimits * 3];
    const int due_count = due_alerts(tenant, user_id, user_null, event_day, GetActiveSnapshot(), &a, due);
    PopActiveSnapshot();

    // Insert each; the one transaction that inserts a row notifies. A concurrent writer inserting the same
    // row makes this one wait for it here, and do nothing if it commits.
    for (int d = 0; d < due_count; ++d) {
        const int i = due[d].limit;
        const usage_meter::LimitState& l = a.limits[i];
        bool limit_user_null;
        Datum limit_user = limit_user_of(a, i, user_id, &limit_user_null);
        const bool row_user_null = a.scope[i] == kScopeTenant || user_null;
        if (insert_alert(
                {sql_arg(tenant), sql_arg_or_null(user_id, row_user_null), sql_arg_or_null(limit_user, limit_user_null),
                 sql_arg(CStringGetTextDatum(metric_name(l.metric))), sql_arg(CStringGetTextDatum(period_name(l.period))),
                 sql_arg(DateADTGetDatum(pg_date_from_civil(bounds_of(&a, i).start))),
                 sql_arg(CStringGetTextDatum(alert_level_name(due[d].level))), sql_arg(numeric_from_decimal(l.used)),
                 sql_arg(numeric_from_decimal(l.max_value)), sql_arg(BoolGetDatum(l.hard))})) {
            bool isnull;
            Datum payload = result_value(0, 1, &isnull);
            Async_Notify("usage_meter_alerts", TextDatumGetCString(payload));
        }
    }
}

void fire_batch_alerts(const char* source, const char* where, int nargs, const Oid* types, const Datum* args,
                       const char* nulls) {
    const char* sql = psprintf("SELECT DISTINCT tenant, user_id FROM %s %s", source, where);
    if (SPI_execute_with_args(sql, nargs, const_cast<Oid*>(types), const_cast<Datum*>(args), nulls, true, 0) !=
        SPI_OK_SELECT)
        elog(ERROR, "usage_meter: could not list the batch's tenants and users");
    // Copy the pairs out before firing (which runs SPI statements of its own).
    const uint64 count = SPI_processed;
    Datum* tenants = static_cast<Datum*>(palloc(sizeof(Datum) * (count + 1)));
    Datum* users = static_cast<Datum*>(palloc(sizeof(Datum) * (count + 1)));
    bool* user_nulls = static_cast<bool*>(palloc(sizeof(bool) * (count + 1)));
    for (uint64 r = 0; r < count; ++r) {
        bool isnull;
        tenants[r] = datumCopy(result_value(r, 1, &isnull), false, -1);
        Datum user = result_value(r, 2, &user_nulls[r]);
        users[r] = user_nulls[r] ? static_cast<Datum>(0) : datumCopy(user, false, -1);
    }
    for (uint64 r = 0; r < count; ++r)
        if (tenant_has_alerts(tenants[r])) fire_alerts(tenants[r], users[r], user_nulls[r], nullptr);
}

}  // namespace usage_meter::pg
