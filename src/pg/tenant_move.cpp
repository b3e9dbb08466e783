// Moving a tenant between databases (tenants_move.sql): the one statement that deletes ledger rows.

#include "args.h"
#include "pricing.h"
#include "statement.h"

extern "C" {
#include "catalog/pg_type.h"
}

using namespace usage_meter;
using namespace usage_meter::pg;

// purge_tenant_events(tenant) -> the number of ledger rows deleted. Internal to purge_tenant(), which checks
// that the tenant is being moved: the ledger's append-only guard lets this statement through, and only it.
UM_FUNCTION(purge_tenant_events) {
    Datum tenant = name_arg(fcinfo, 0, "tenant");
    static Statement<1> purge = {"DELETE FROM usage_meter.events WHERE tenant = $1", {TEXTOID}};
    spi_connect();
    allow_purge_delete(true);
    PG_TRY();
    { run(purge, Access::kReadWrite, 0, sql_arg(tenant)); }
    PG_FINALLY();
    { allow_purge_delete(false); }
    PG_END_TRY();
    const uint64 deleted = SPI_processed;
    SPI_finish();
    PG_RETURN_INT64(static_cast<int64>(deleted));
}
