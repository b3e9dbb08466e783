#include "idempotency_keys.h"

#include "../direct_insert.h"
#include "../extension_catalog.h"
#include "../key_scan.h"

extern "C" {
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace usage_meter::pg {

bool keys_table_exists() { return OidIsValid(extension_relation_oid("idempotency_keys")); }

bool key_holder(Datum tenant, Datum key, int64* event_id) {
    KeyScan scan;
    ScanKeyData keys[2];
    key_scan_open_with(&scan, "idempotency_keys", "idempotency_keys_pkey", 2, GetLatestSnapshot());
    key_text(&scan, &keys[0], 1, tenant);
    key_text(&scan, &keys[1], 2, key);
    key_scan_rescan(&scan, keys, 2);
    const bool found = key_scan_next(&scan);
    if (found) {
        bool isnull;
        *event_id = DatumGetInt64(slot_getattr(scan.row, key_scan_column(&scan, "event_id"), &isnull));
    }
    key_scan_close(&scan);
    return found;
}

void key_insert(Datum tenant, Datum key, Datum event_id, Datum occurred_at) {
    Relation rel = table_open(extension_relation("idempotency_keys"), RowExclusiveLock);
    const NamedValue columns[5] = {{"tenant", tenant, false, TEXTOID},
                                   {"idempotency_key", key, false, TEXTOID},
                                   {"event_id", event_id, false, INT8OID},
                                   {"occurred_at", occurred_at, false, TIMESTAMPTZOID},
                                   {"recorded_at", TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
                                    false,  // its default, now()
                                    TIMESTAMPTZOID}};
    insert_row_direct(rel, columns, 5, "the ledger trigger");
    table_close(rel, NoLock);  // the lock is kept until the end of the transaction, as for any INSERT
    // As after the INSERT through SPI this replaces: a later row of the same statement that repeats the key
    // finds this one (key_holder) and is refused as a duplicate by name.
    CommandCounterIncrement();
}

bool key_claim(Datum tenant, Datum key, Datum occurred_at, Datum* event_id) {
    static Statement<3> claim = {
        "INSERT INTO usage_meter.idempotency_keys AS k (tenant, idempotency_key, event_id, occurred_at)"
        " VALUES ($1, $2, pg_catalog.nextval('usage_meter.event_id_seq'), $3)"
        " ON CONFLICT (tenant, idempotency_key) DO NOTHING RETURNING k.event_id",
        {TEXTOID, TEXTOID, TIMESTAMPTZOID}};
    run(claim, Access::kReadWrite, 0, sql_arg(tenant), sql_arg(key), sql_arg(occurred_at));
    if (SPI_processed != 1) return false;
    bool isnull;
    *event_id = result_value(0, 1, &isnull);
    return true;
}

void key_event(Datum tenant, Datum key) {
    static Statement<2> select = {
        "SELECT e.event_id, e.cost, e.billed_cost, e.priced, k.event_id, k.occurred_at"
        "  FROM usage_meter.idempotency_keys AS k"
        "  LEFT JOIN usage_meter.events AS e"
        "         ON e.tenant = k.tenant AND e.event_id = k.event_id AND e.occurred_at = k.occurred_at"
        " WHERE k.tenant = $1 AND k.idempotency_key = $2",
        {TEXTOID, TEXTOID}};
    run(select, Access::kReadWrite, 1, sql_arg(tenant), sql_arg(key));  // read-write: a new snapshot each time
}

}  // namespace usage_meter::pg
