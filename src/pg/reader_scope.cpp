// reader_scope() -> text[]: the tenants the current user is bound to in reader_tenants, for the reader_bound
// row-level security policy of every tenant table (extension/src/access.sql).
//
// The policy was `tenant = ANY (ARRAY(SELECT ... FROM reader_tenants ...))`: a subquery, which Citus refuses in a
// policy of a distributed table (docs/scale-out.md). `tenant = ANY (usage_meter.reader_scope())` keeps its
// meaning and its cost: the function reads reader_tenants once and keeps the array in its caller's fn_extra, so
// each further row of the statement costs a call returning the same array; as a stable function it can still be
// an index condition on tenant. It runs as the caller (no SECURITY DEFINER): a reader reads its own rows of
// reader_tenants under that table's reader_own policy, as the subquery did.
//
// The array is kept for as long as the user and the snapshot stay those it was read with. In a policy the
// FmgrInfo lives for one execution of the statement anyway; an FmgrInfo that lives longer (a PL/pgSQL simple
// expression keeps its state for the whole transaction, and may be evaluated by several roles) reads again
// after a SET ROLE, under a SECURITY DEFINER function of another owner, or with a newer snapshot or command.

#include "statement.h"

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/snapmgr.h"
}

using namespace usage_meter::pg;

namespace {

// What fn_extra holds (plain data, in the FmgrInfo's memory).
struct Scope {
    Oid user;
    TransactionId xmin, xmax;
    CommandId curcid;
    uint64 completions;  // the snapshot's count of completed transactions: a newer snapshot has another
    ArrayType* tenants;
};

bool current(const Scope* s, Snapshot snapshot) {
    return s != nullptr && snapshot != nullptr && s->user == GetUserId() && s->xmin == snapshot->xmin &&
           s->xmax == snapshot->xmax && s->curcid == snapshot->curcid &&
           s->completions == snapshot->snapXactCompletionCount;
}

}  // namespace

UM_FUNCTION(reader_scope) {
    FmgrInfo* flinfo = fcinfo->flinfo;
    Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : nullptr;
    Scope* scope = static_cast<Scope*>(flinfo->fn_extra);
    if (current(scope, snapshot)) PG_RETURN_POINTER(scope->tenants);

    static Statement<0> bound = {
        "SELECT pg_catalog.array_agg(b.tenant ORDER BY b.tenant) FROM usage_meter.reader_tenants AS b"
        " WHERE b.role_name OPERATOR(pg_catalog.=) CURRENT_USER::text",
        {}};
    spi_connect();
    run(bound, Access::kReadOnly, 1);
    bool isnull = true;
    Datum tenants = SPI_processed == 1 ? result_value(0, 1, &isnull) : 0;
    // The array in the memory of the caller's FmgrInfo (it outlives SPI's), empty when no row binds the user.
    MemoryContext old = MemoryContextSwitchTo(flinfo->fn_mcxt);
    if (scope == nullptr) {
        scope = static_cast<Scope*>(palloc0(sizeof(Scope)));
        flinfo->fn_extra = scope;
    } else if (scope->tenants != nullptr) {
        pfree(scope->tenants);  // no caller holds it past the call that returned it with an older snapshot
        scope->tenants = nullptr;
    }
    scope->tenants = isnull ? construct_empty_array(TEXTOID) : DatumGetArrayTypePCopy(tenants);
    MemoryContextSwitchTo(old);
    SPI_finish();
    if (snapshot != nullptr) {
        scope->user = GetUserId();
        scope->xmin = snapshot->xmin;
        scope->xmax = snapshot->xmax;
        scope->curcid = snapshot->curcid;
        scope->completions = snapshot->snapXactCompletionCount;
    } else {
        scope->user = InvalidOid;  // never current: read again on the next call
    }
    PG_RETURN_POINTER(scope->tenants);
}
