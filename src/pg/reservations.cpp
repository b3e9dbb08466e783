// reserve() and release(); settle_reservation() for usage_record.
//
// How reserve() keeps its promise (N concurrent reservers never admit more than max - used in total) without
// holding any lock until commit, so reservers never wait for each other's commits:
//   - holds are summed with a dirty snapshot, which also sees holds of transactions still in progress (an
//     uncommitted hold counts; a hold whose settle or release is in flight still counts until it commits),
//     and the used counters are read afterwards with a fresh snapshot (a settle committing in between is
//     counted twice, never not at all);
//   - fast path: under a share lock per limit scope, insert the hold, then check with it counted. Among
//     overlapping fast paths the last to check sees every other's hold, so they cannot together pass a limit.
//     A failed check withdraws the hold (subtransaction rollback) and takes the slow path;
//   - slow path: under an exclusive lock per scope (tenant, then user: one global order), check, then insert.
//     No fast path is between its insert and its check meanwhile, so near a limit the room left goes to one
//     of the contenders instead of every contender refusing because of the others' tentative holds.
// Locks are taken and released inside reserve(); a refusal's ERROR releases them. Expired holds are skipped
// by the scans (expires_at > now), so they stop counting without any job.

#include "reservations.h"

#include <cstring>

#include "limit_reads.h"
#include "args.h"
#include "direct_insert.h"
#include "key_scan.h"
#include "rollup.h"
#include "statement.h"
#include "tables/tenants.h"

extern "C" {
#include "access/xact.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

using namespace usage_meter;
using namespace usage_meter::pg;

namespace {

// Lock tags: advisory-lock space of this database, field4 marks ours (pg_advisory_* use only 1 and 2).
constexpr uint16 kTenantLockSpace = 0x554D;  // "UM"
constexpr uint16 kUserLockSpace = 0x554E;

void scope_lock_tag(LOCKTAG* tag, Datum tenant, Datum user_id, bool tenant_scope) {
    TextView t = text_view(tenant, false);
    uint64 h = hash_bytes_extended(reinterpret_cast<const unsigned char*>(t.data), static_cast<int>(t.length), 0);
    if (!tenant_scope) {
        TextView u = text_view(user_id, false);
        h = hash_bytes_extended(reinterpret_cast<const unsigned char*>(u.data), static_cast<int>(u.length), h);
    }
    SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, static_cast<uint32>(h >> 32), static_cast<uint32>(h),
                         tenant_scope ? kTenantLockSpace : kUserLockSpace);
}

// Lazy clean-up: marks expired holds of a tenant as such (they stopped counting when they expired; this only
// takes them out of the held indexes). Rows another transaction is settling or releasing are skipped.
Statement<2> expire_holds = {
    "UPDATE usage_meter.reservations SET state = 'expired', closed_at = pg_catalog.now()"
    " WHERE (reservation_id, tenant) IN (SELECT reservation_id, tenant FROM usage_meter.reservations"
    "   WHERE tenant = $1 AND state = 'held' AND expires_at <= $2 ORDER BY expires_at LIMIT 100"
    "   FOR UPDATE SKIP LOCKED)",
    {TEXTOID, TIMESTAMPTZOID}};
constexpr int kCleanEvery = 32;  // reserve() calls of a backend between two clean-ups

const char* scope_words(int scope) {
    switch (scope) {
        case kScopeTenant: return "tenant-wide";
        case kScopeNamedUser: return "named-user";
        default: return "per-user ('*')";
    }
}

// Why a reservation is refused: the limit, used, held, the estimate and max.
pg_attribute_noreturn() void raise_refused(const ApplicableLimits* a, int i, Datum tenant, Datum user_id,
                                           bool user_null, const Estimate& estimate) {
    const usage_meter::LimitState& l = a->limits[i];
    Decimal add;
    core_or_raise([&] { add = estimate_for(l.metric, estimate); });
    char used[96], held[96], est[96], max_value[96];
    l.used.write(used, sizeof used);
    l.held.write(held, sizeof held);
    add.write(est, sizeof est);
    l.max_value.write(max_value, sizeof max_value);
    const char* user = user_null ? nullptr : TextDatumGetCString(user_id);
    const char* resets = timestamptz_to_str(pg_us_from_unix_seconds(bounds_of(a, i).resets_at));
    ereport(ERROR,
            (errcode(ERRCODE_USAGE_LIMIT_REACHED),
             errmsg("usage limit reached: %s %s per %s limit of tenant \"%s\"%s%s%s: used %s + held %s + estimate "
                    "%s > max %s",
                    scope_words(a->scope[i]), metric_name(l.metric), period_name(l.period), TextDatumGetCString(tenant),
                    a->scope[i] == kScopeTenant ? "" : " for user \"", a->scope[i] == kScopeTenant ? "" : user,
                    a->scope[i] == kScopeTenant ? "" : "\"", used, held, est, max_value),
             errdetail("The limit resets at %s.", resets),
             errhint("Release reservations that are no longer needed, or wait for the reset.")));
    pg_unreachable();
}

// What is known about a reservation that could not be closed: raises the matching error.
pg_attribute_noreturn() void raise_not_closable(Datum reservation_id, const char* action, bool tenant_known,
                                                Datum tenant, Datum user_id, bool user_null) {
    static Statement<1> select = {
        "SELECT tenant, user_id, state, event_id FROM usage_meter.reservations WHERE reservation_id = $1", {INT8OID}};
    run(select, Access::kReadWrite, 0, sql_arg(reservation_id));
    int64 id = DatumGetInt64(reservation_id);
    bool isnull;
    if (SPI_processed == 0 ||
        (tenant_known && std::strcmp(TextDatumGetCString(result_value(0, 1, &isnull)), TextDatumGetCString(tenant)) != 0))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        tenant_known ? errmsg("unknown reservation_id %lld for tenant \"%s\"",
                                              static_cast<long long>(id), TextDatumGetCString(tenant))
                                     : errmsg("unknown reservation_id %lld", static_cast<long long>(id))));
    const char* state = TextDatumGetCString(result_value(0, 3, &isnull));
    if (std::strcmp(state, "settled") == 0) {
        Datum event = result_value(0, 4, &isnull);
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("cannot %s reservation %lld: it was already settled%s%s", action,
                               static_cast<long long>(id), isnull ? "" : " by event ",
                               isnull ? "" : psprintf("%lld", static_cast<long long>(DatumGetInt64(event))))));
    }
    if (std::strcmp(state, "released") == 0)
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("cannot %s reservation %lld: it was already released", action, static_cast<long long>(id))));
    Datum owner = result_value(0, 2, &isnull);
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
             errmsg("reservation %lld was made for user %s%s%s, not for user %s%s%s", static_cast<long long>(id),
                    isnull ? "" : "\"", isnull ? "NULL" : TextDatumGetCString(owner), isnull ? "" : "\"",
                    user_null ? "" : "\"", user_null ? "NULL" : TextDatumGetCString(user_id), user_null ? "" : "\"")));
    pg_unreachable();
}

// Inserts a hold (args: tenant, user_id, estimated_cost, estimated_tokens, created_at, expires_at; nulls as
// for SPI) and returns its reservation id. It writes the heap row and its index entries itself, as the
// executor would for this INSERT: on reserve()'s path the executor's set-up for a one-row INSERT cost more
// than the insert. Every column is set here; a column this code does not know is refused (the release that
// adds one must extend this function), so nothing is left to a default it would not apply. The table's
// NOT NULL and CHECK constraints are checked as the executor checks them; a trigger on INSERT, which this
// path would not fire, is refused likewise.
int64 insert_hold(const Datum* args, const char* nulls) {
    Relation rel = table_open(extension_relation("reservations"), RowExclusiveLock);
    const int64 id = nextval_internal(extension_relation("reservation_id_seq"), false);
    const NamedValue columns[10] = {{"tenant", args[0], nulls[0] == 'n', InvalidOid},
                                    {"user_id", args[1], nulls[1] == 'n', InvalidOid},
                                    {"estimated_cost", args[2], nulls[2] == 'n', InvalidOid},
                                    {"estimated_tokens", args[3], nulls[3] == 'n', InvalidOid},
                                    {"created_at", args[4], nulls[4] == 'n', InvalidOid},
                                    {"expires_at", args[5], nulls[5] == 'n', InvalidOid},
                                    {"reservation_id", Int64GetDatum(id), false, InvalidOid},
                                    {"state", CStringGetTextDatum("held"), false, InvalidOid},
                                    {"closed_at", 0, true, InvalidOid},
                                    {"event_id", 0, true, InvalidOid}};
    insert_row_direct(rel, columns, 10, "reserve()");
    table_close(rel, NoLock);   // the lock is kept until the end of the transaction, as for any INSERT
    CommandCounterIncrement();  // later statements of this transaction (a settle) see the hold
    return id;
}

// What is held and used now: the holds first, with a dirty snapshot (uncommitted ones count, and a hold
// whose settle is in flight still counts), then the counters with a snapshot taken after that scan, so a
// settle that commits in between is counted twice (held and used), never not at all.
void read_limits_state(ApplicableLimits* a, Datum tenant, Datum user_id, bool user_null) {
    SnapshotData dirty;
    InitDirtySnapshot(dirty);
    read_held(a, tenant, user_id, user_null, &dirty, GetCurrentTimestamp());
    Snapshot latest = RegisterSnapshot(GetLatestSnapshot());
    read_used(a, tenant, user_id, latest);
    UnregisterSnapshot(latest);
}

// The fast path's insert and check, in a subtransaction that is kept when the hold fits and rolled back
// (withdrawing the hold) when it does not. Any ERROR rolls the subtransaction back before it propagates, so a
// caller's own subtransaction (a PL/pgSQL exception block) is the current one again when it catches it.
Decision try_fast_path(ApplicableLimits* a, Datum tenant, Datum user_id, bool user_null, const Estimate& estimate,
                       Datum* insert_args, const char* insert_nulls, int64* reservation_id) {
    MemoryContext outer_context = CurrentMemoryContext;
    ResourceOwner outer_owner = CurrentResourceOwner;
    Decision decision;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(outer_context);
    PG_TRY();
    {
        *reservation_id = insert_hold(insert_args, insert_nulls);
        read_limits_state(a, tenant, user_id, user_null);
        for (int i = 0; i < a->count; ++i) {  // the scan counted this hold too: take it out of held
            usage_meter::LimitState& l = a->limits[i];
            core_or_raise([&] { l.held = l.held - estimate_for(l.metric, estimate); });
        }
        core_or_raise([&] { decision = decide(a->limits, static_cast<size_t>(a->count), estimate); });
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(outer_context);
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(outer_context);
        CurrentResourceOwner = outer_owner;
        PG_RE_THROW();
    }
    PG_END_TRY();
    if (decision.allowed)
        ReleaseCurrentSubTransaction();
    else
        RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(outer_context);
    CurrentResourceOwner = outer_owner;
    return decision;
}

}  // namespace

// reserve(tenant, user_id, estimated_cost, estimated_tokens, ttl) -> reservation_id, or ERROR UM001.
UM_FUNCTION(reserve) {
    Datum tenant = name_arg(fcinfo, 0, "tenant");
    require_arg(fcinfo, 2, "estimated_cost");
    require_arg(fcinfo, 3, "estimated_tokens");
    require_arg(fcinfo, 4, "ttl");
    bool user_null;
    Datum user_id;
    const Estimate estimate = request_args(fcinfo, &user_id, &user_null);
    Interval* ttl = PG_GETARG_INTERVAL_P(4);
    const TimestampTz created_at = GetCurrentTimestamp();
    TimestampTz expires_at = DatumGetTimestampTz(
        DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(created_at), PointerGetDatum(ttl)));
    if (TIMESTAMP_NOT_FINITE(expires_at) || expires_at <= created_at)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("invalid ttl: \"%s\"", DatumGetCString(DirectFunctionCall1(interval_out, PointerGetDatum(ttl)))),
                 errhint("The time to live must be a positive interval, such as '10 minutes'.")));

    rollup_apply_pending();  // this transaction's own recordings count (the counters are read with a later snapshot)
    ApplicableLimits applicable;
    load_applicable_limits(tenant, user_id, user_null, GetCurrentTransactionStartTimestamp(), &applicable);
    if (applicable.moving) raise_tenant_moving(tenant);

    spi_connect();
    static int calls = 0;
    if (applicable.zone == nullptr)
        tenant_ensure(tenant);
    else if (++calls % kCleanEvery == 0)
        run(expire_holds, Access::kReadWrite, 0, sql_arg(tenant), sql_arg(TimestampTzGetDatum(created_at)));

    // Only scopes with a hard limit are checked and locked; soft limits never refuse.
    LOCKTAG locks[2];
    int lock_count = 0;
    if (has_hard_limit(&applicable, true)) scope_lock_tag(&locks[lock_count++], tenant, user_id, true);
    if (!user_null && has_hard_limit(&applicable, false)) scope_lock_tag(&locks[lock_count++], tenant, user_id, false);
    const char* insert_nulls = user_null ? " n    " : "      ";
    Datum insert_args[6] = {tenant,
                            user_id,
                            numeric_from_decimal(estimate.cost),
                            Int64GetDatum(estimate.tokens),
                            TimestampTzGetDatum(created_at),
                            TimestampTzGetDatum(expires_at)};
    if (lock_count == 0) {
        int64 id = insert_hold(insert_args, insert_nulls);
        SPI_finish();
        PG_RETURN_INT64(id);
    }

    // Fast path, concurrent with other fast paths (share locks): insert the hold, then check with it counted.
    // Of any set of overlapping fast paths, the last to scan sees every other's hold, so together they never
    // pass a limit. If the check fails, the hold is withdrawn (its subtransaction rolls back, so no other
    // reserver counts it from then on) and the slow path decides.
    for (int i = 0; i < lock_count; ++i) LockAcquire(&locks[i], ShareLock, false, false);
    int64 reservation_id = 0;
    Decision decision =
        try_fast_path(&applicable, tenant, user_id, user_null, estimate, insert_args, insert_nulls, &reservation_id);
    for (int i = lock_count - 1; i >= 0; --i) LockRelease(&locks[i], ShareLock, false);
    if (decision.allowed) {
        SPI_finish();
        PG_RETURN_INT64(reservation_id);
    }

    // Slow path, near a limit: exclusive locks (tenant, then user: one global order), so no fast path is between
    // its insert and its check and no other slow path is deciding; check, then insert. Released on return, or
    // by the abort that the refusal causes, never held until commit.
    for (int i = 0; i < lock_count; ++i) LockAcquire(&locks[i], ExclusiveLock, false, false);
    read_limits_state(&applicable, tenant, user_id, user_null);
    core_or_raise([&] { decision = decide(applicable.limits, static_cast<size_t>(applicable.count), estimate); });
    if (!decision.allowed) raise_refused(&applicable, decision.limit, tenant, user_id, user_null, estimate);
    reservation_id = insert_hold(insert_args, insert_nulls);
    // The hold is in the table (uncommitted, visible to the next dirty scan): the next reserver may go.
    for (int i = lock_count - 1; i >= 0; --i) LockRelease(&locks[i], ExclusiveLock, false);
    SPI_finish();
    PG_RETURN_INT64(reservation_id);
}

// release(reservation_id) -> true when the hold was still live, false when it had expired already.
namespace {

// Releases reservation `id` (of `tenant` when tenant_known) and says whether its hold was still live.
bool release_reservation(bool tenant_known, Datum tenant, Datum id) {
    static Statement<3> release = {
        "UPDATE usage_meter.reservations SET state = 'released', closed_at = pg_catalog.now()"
        " WHERE reservation_id = $1 AND ($3::text IS NULL OR tenant = $3) AND state IN ('held', 'expired')"
        " RETURNING expires_at > $2",
        {INT8OID, TIMESTAMPTZOID, TEXTOID},
        nullptr,
        Planning::kWithValues};  // with a tenant, the planner folds the NULL test
    // import_tenant keeps a moved tenant's reservation ids, so an id alone may name holds of several tenants.
    static Statement<1> owners = {
        "SELECT count(DISTINCT tenant) > 1 FROM usage_meter.reservations WHERE reservation_id = $1", {INT8OID}};
    spi_connect();
    if (!tenant_known) {
        run(owners, Access::kReadOnly, 0, sql_arg(id));
        bool isnull;
        if (DatumGetBool(result_value(0, 1, &isnull)))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("invalid reservation_id: %lld names reservations of several tenants",
                                   static_cast<long long>(DatumGetInt64(id))),
                            errhint("A tenant moved in by import_tenant keeps its ids; call release(tenant, "
                                    "reservation_id).")));
    }
    run(release, Access::kReadWrite, 0, sql_arg(id), sql_arg(TimestampTzGetDatum(GetCurrentTimestamp())),
        sql_arg_or_null(tenant, !tenant_known));
    if (SPI_processed == 0) raise_not_closable(id, "release", tenant_known, tenant, 0, true);
    bool isnull;
    bool live = DatumGetBool(result_value(0, 1, &isnull));
    SPI_finish();
    return live;
}

}  // namespace

// release(reservation_id): the reservation found by its id alone (ids are unique per database, unless
// import_tenant moved a tenant in with its own: an id of several tenants is refused).
UM_FUNCTION(release) {
    require_arg(fcinfo, 0, "reservation_id");
    PG_RETURN_BOOL(release_reservation(false, 0, PG_GETARG_DATUM(0)));
}

// release(tenant, reservation_id): the tenant-first form, for a deployment where several databases hold
// tenants (an id is unique per database only); another tenant's reservation is unknown to it.
UM_FUNCTION(release_for_tenant) {
    Datum tenant = name_arg(fcinfo, 0, "tenant");
    require_arg(fcinfo, 1, "reservation_id");
    PG_RETURN_BOOL(release_reservation(true, tenant, PG_GETARG_DATUM(1)));
}

namespace usage_meter::pg {

void settle_reservation(Datum tenant, Datum user_id, bool user_null, Datum reservation_id, Datum event_id) {
    static Statement<4> settle = {
        "UPDATE usage_meter.reservations SET state = 'settled', event_id = $3,"
        "       closed_at = CASE WHEN state = 'settled' THEN closed_at ELSE pg_catalog.now() END"
        " WHERE reservation_id = $2 AND tenant = $1 AND user_id IS NOT DISTINCT FROM $4"
        "   AND (state IN ('held', 'expired') OR (state = 'settled' AND event_id = $3))",
        {TEXTOID, INT8OID, INT8OID, TEXTOID}};
    run(settle, Access::kReadWrite, 0, sql_arg(tenant), sql_arg(reservation_id), sql_arg(event_id),
        sql_arg_or_null(user_id, user_null));
    if (SPI_processed == 0) raise_not_closable(reservation_id, "settle", true, tenant, user_id, user_null);
}

}  // namespace usage_meter::pg
