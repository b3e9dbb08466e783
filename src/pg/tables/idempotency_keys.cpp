#include "idempotency_keys.h"

#include "../direct_insert.h"
#include "../extension_catalog.h"
#include "../key_scan.h"

#include <cstring>

extern "C" {
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace usage_meter::pg {

bool keys_table_exists() { return OidIsValid(extension_relation_oid("idempotency_keys")); }

namespace {

// The event usage_record claimed the key for (key_claim) and is inserting now, in this (sub)transaction: its
// ledger row finds its key row already written. Plain data; a claim whose insert failed is left behind in a
// (sub)transaction that is aborted, and never matches again (local transaction and subtransaction ids).
struct Claimed {
    LocalTransactionId transaction;
    SubTransactionId subtransaction;
    int64 event_id;
};
Claimed claimed;

bool is_key_violation(const ErrorData* error) {
    return error->sqlerrcode == ERRCODE_UNIQUE_VIOLATION && error->constraint_name != nullptr &&
           error->table_name != nullptr && error->schema_name != nullptr &&
           std::strcmp(error->constraint_name, "idempotency_keys_pkey") == 0 &&
           std::strcmp(error->table_name, "idempotency_keys") == 0 &&
           std::strcmp(error->schema_name, "usage_meter") == 0;
}

// The unique index refused the key row: another event holds the key, committed, or written earlier by this
// transaction (a bulk load repeating a key). Refused by name, with the holder (a dirty snapshot: it also sees
// this statement's own earlier key rows).
void raise_duplicate(Datum tenant, Datum key, Datum event_id) {
    SnapshotData dirty;
    InitDirtySnapshot(dirty);
    int64 holder;
    const bool found = key_holder(tenant, key, &holder, &dirty);
    if (found && holder == DatumGetInt64(event_id))
        elog(ERROR, "usage_meter: event %lld holds its idempotency key already", static_cast<long long>(holder));
    if (!found)
        ereport(ERROR, (errcode(ERRCODE_UNIQUE_VIOLATION),
                        errmsg("duplicate idempotency_key \"%s\": tenant \"%s\" recorded it before",
                               TextDatumGetCString(key), TextDatumGetCString(tenant))));
    ereport(ERROR, (errcode(ERRCODE_UNIQUE_VIOLATION),
                    errmsg("duplicate idempotency_key \"%s\": tenant \"%s\" recorded it as event %lld",
                           TextDatumGetCString(key), TextDatumGetCString(tenant), static_cast<long long>(holder))));
}

}  // namespace

bool key_holder(Datum tenant, Datum key, int64* event_id, Snapshot snapshot) {
    KeyScan scan;
    ScanKeyData keys[2];
    key_scan_open_with(&scan, "idempotency_keys", "idempotency_keys_pkey", 2, snapshot);
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

void key_claimed_by(Datum event_id) {
    claimed.transaction = MyProc->lxid;
    claimed.subtransaction = GetCurrentSubTransactionId();
    claimed.event_id = DatumGetInt64(event_id);
}

bool key_claimed(Datum event_id) {
    if (claimed.event_id != DatumGetInt64(event_id) || claimed.transaction != MyProc->lxid ||
        claimed.subtransaction != GetCurrentSubTransactionId())
        return false;
    claimed.event_id = 0;  // one row
    return true;
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
    // The unique index is the only lookup: it waits for a concurrent holder, and refuses a key held. Its refusal
    // is caught only to be raised again, by name and with the holder (raise_duplicate: one index lookup, then the
    // ERROR); every other error goes on as it was. The btree releases its buffer locks and pins before it raises
    // (nbtinsert.c, _bt_check_unique), so that lookup finds the buffers free.
    MemoryContext context = CurrentMemoryContext;
    bool duplicate = false;
    PG_TRY();
    { insert_row_direct(rel, columns, 5, "the ledger trigger"); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData* error = CopyErrorData();
        if (!is_key_violation(error)) PG_RE_THROW();
        FlushErrorState();
        FreeErrorData(error);
        duplicate = true;
    }
    PG_END_TRY();
    if (duplicate) raise_duplicate(tenant, key, event_id);
    table_close(rel, NoLock);  // the lock is kept until the end of the transaction, as for any INSERT
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
