#include "tenants.h"

#include "../datum_convert.h"
#include "../extension_catalog.h"
#include "../key_scan.h"
#include "../statement.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
}

namespace usage_meter::pg {

bool tenant_read(Datum tenant, Snapshot snapshot, TenantRow* out) {
    KeyScan scan;
    ScanKeyData key;
    key_scan_open_with(&scan, "tenants", "tenants_pkey", 1, snapshot != nullptr ? snapshot : statement_snapshot());
    key_text(&scan, &key, 1, tenant);
    key_scan_rescan(&scan, &key, 1);
    const bool found = key_scan_next(&scan);
    if (found) {
        bool isnull;
        Datum zone = slot_getattr(scan.row, key_scan_column(&scan, "time_zone"), &isnull);
        out->zone = zone_or_raise(TextDatumGetCString(zone), "time_zone");
        out->markup_pct =
            stored_decimal(slot_getattr(scan.row, key_scan_column(&scan, "markup_pct"), &isnull), "markup_pct");
        // alert_limits and markup_from are 1.1's: a 1.0 tenant has no alerts and no markup history.
        const Oid relid = RelationGetRelid(scan.heap);
        const AttrNumber alert_limits = extension_column(relid, "alert_limits");
        Datum flag = alert_limits > 0 ? slot_getattr(scan.row, alert_limits, &isnull) : BoolGetDatum(false);
        out->alert_limits = alert_limits > 0 && !isnull && DatumGetBool(flag);
        const AttrNumber markup_from = extension_column(relid, "markup_from");
        Datum from = markup_from > 0 ? slot_getattr(scan.row, markup_from, &isnull) : static_cast<Datum>(0);
        out->has_markup_from = markup_from > 0 && !isnull;
        out->markup_from = out->has_markup_from ? DatumGetTimestampTz(from) : 0;
        // moving is 1.5's: a tenant of an older version is never being moved.
        const AttrNumber moving = extension_column(relid, "moving");
        Datum flag_moving = moving > 0 ? slot_getattr(scan.row, moving, &isnull) : BoolGetDatum(false);
        out->moving = moving > 0 && !isnull && DatumGetBool(flag_moving);
    }
    key_scan_close(&scan);
    return found;
}

bool tenant_past_markup(Datum tenant, TimestampTz at, Decimal* markup_pct) {
    KeyScan scan;
    ScanKeyData keys[2];
    key_scan_open(&scan, "tenant_markups", "tenant_markups_pkey", 2);
    key_text(&scan, &keys[0], 1, tenant);
    key_timestamptz_at_most(&keys[1], 2, TimestampTzGetDatum(at));
    key_scan_rescan(&scan, keys, 2);
    const bool found = key_scan_previous(&scan);
    if (found) {
        bool isnull;
        *markup_pct = stored_decimal(slot_getattr(scan.row, key_scan_column(&scan, "markup_pct"), &isnull), "markup_pct");
    }
    key_scan_close(&scan);
    return found;
}

void raise_tenant_moving(Datum tenant) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("tenant \"%s\" is being moved to another database: its writes are refused",
                           TextDatumGetCString(tenant)),
                    errhint("Retry once the move is complete and calls for the tenant reach its new database "
                            "(set_tenant_moving(tenant, false) ends a move that was abandoned).")));
}

void tenant_refuse_if_moving(Datum tenant) {
    TenantRow row;
    if (tenant_read(tenant, nullptr, &row) && row.moving) raise_tenant_moving(tenant);
}

void tenant_ensure(Datum tenant) {
    static Statement<1> insert = {"INSERT INTO usage_meter.tenants (tenant) VALUES ($1) ON CONFLICT (tenant) DO NOTHING",
                                  {TEXTOID}};
    run(insert, Access::kReadWrite, 0, sql_arg(tenant));
}

void tenant_set(Datum tenant, Datum zone_name, Datum markup_pct) {
    static Statement<3> upsert = {
        "INSERT INTO usage_meter.tenants AS t (tenant, time_zone, markup_pct) VALUES ($1, $2, $3)"
        " ON CONFLICT (tenant) DO UPDATE SET time_zone = excluded.time_zone,"
        " markup_pct = excluded.markup_pct, updated_at = pg_catalog.now()",
        {TEXTOID, TEXTOID, NUMERICOID},
        nullptr,
        Planning::kWithValues};
    run(upsert, Access::kReadWrite, 0, sql_arg(tenant), sql_arg(zone_name), sql_arg(markup_pct));
}

}  // namespace usage_meter::pg
