// reader_scope() -> text[]: the tenants the current user is bound to in reader_tenants, for the reader_bound
// row-level security policy of every tenant table (extension/src/access.sql).
//
// The policy was `tenant = ANY (ARRAY(SELECT ... FROM reader_tenants ...))`: a subquery, which Citus refuses in a
// policy of a distributed table (docs/scale-out.md). `tenant = ANY (usage_meter.reader_scope())` keeps its
// meaning and its cost: the function reads reader_tenants once per execution of the statement (as the subquery's
// init plan did) and keeps the array in its caller's fn_extra, which lives exactly as long as that execution, so
// each further row costs a call returning the same array; as a stable function it can still be an index
// condition on tenant. It runs as the caller (no SECURITY DEFINER): a reader reads its own rows of reader_tenants
// under that table's reader_own policy, as the subquery did.

#include "statement.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
}

using namespace usage_meter::pg;

UM_FUNCTION(reader_scope) {
    FmgrInfo* flinfo = fcinfo->flinfo;
    if (flinfo->fn_extra == nullptr) {
        static Statement<0> bound = {
            "SELECT pg_catalog.array_agg(b.tenant ORDER BY b.tenant) FROM usage_meter.reader_tenants AS b"
            " WHERE b.role_name OPERATOR(pg_catalog.=) CURRENT_USER::text",
            {},
            nullptr};
        spi_connect();
        run(bound, Access::kReadOnly, 1);
        bool isnull = true;
        Datum tenants = SPI_processed == 1 ? result_value(0, 1, &isnull) : 0;
        // The array in the memory of the caller's FmgrInfo (it outlives SPI's), empty when no row binds the user.
        MemoryContext old = MemoryContextSwitchTo(flinfo->fn_mcxt);
        flinfo->fn_extra = isnull ? static_cast<void*>(construct_empty_array(TEXTOID))
                                  : DatumGetPointer(datumCopy(tenants, false, -1));
        MemoryContextSwitchTo(old);
        SPI_finish();
    }
    PG_RETURN_POINTER(flinfo->fn_extra);
}
