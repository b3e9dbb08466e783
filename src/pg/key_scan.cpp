#include "key_scan.h"

#include "extension_catalog.h"

extern "C" {
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/spi.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace usage_meter::pg {

Oid extension_relation(const char* name) {
    Oid relation = extension_relation_oid(name);
    if (!OidIsValid(relation))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("usage_meter.%s does not exist", name)));
    return relation;
}

Snapshot statement_snapshot() { return ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot(); }

void key_scan_open(KeyScan* scan, const char* table, const char* index, int key_count) {
    key_scan_open_with(scan, table, index, key_count, statement_snapshot());
}

void key_scan_open_with(KeyScan* scan, const char* table, const char* index, int key_count, Snapshot snapshot) {
    scan->heap = table_open(extension_relation(table), AccessShareLock);
    scan->index = index_open(extension_relation(index), AccessShareLock);
    scan->scan = index_beginscan(scan->heap, scan->index, snapshot, key_count, 0);
    scan->row = table_slot_create(scan->heap, nullptr);
}

void key_scan_close(KeyScan* scan) {
    index_endscan(scan->scan);
    ExecDropSingleTupleTableSlot(scan->row);
    index_close(scan->index, AccessShareLock);
    table_close(scan->heap, AccessShareLock);
}

void key_text(const KeyScan* scan, ScanKey key, AttrNumber index_column, Datum value) {
    ScanKeyEntryInitialize(key, 0, index_column, BTEqualStrategyNumber, InvalidOid,
                           scan->index->rd_indcollation[index_column - 1], F_TEXTEQ, value);
}

void key_hash_text(const KeyScan* scan, ScanKey key, AttrNumber index_column, Datum value) {
    ScanKeyEntryInitialize(key, 0, index_column, HTEqualStrategyNumber, InvalidOid,
                           scan->index->rd_indcollation[index_column - 1], F_TEXTEQ, value);
}

void key_date(ScanKey key, AttrNumber index_column, Datum value) {
    ScanKeyEntryInitialize(key, 0, index_column, BTEqualStrategyNumber, InvalidOid, InvalidOid, F_DATE_EQ, value);
}

void key_is_null(ScanKey key, AttrNumber index_column) {
    ScanKeyEntryInitialize(key, SK_ISNULL | SK_SEARCHNULL, index_column, InvalidStrategy, InvalidOid, InvalidOid,
                           InvalidOid, static_cast<Datum>(0));
}

void key_timestamptz_at_most(ScanKey key, AttrNumber index_column, Datum value) {
    ScanKeyEntryInitialize(key, 0, index_column, BTLessEqualStrategyNumber, InvalidOid, InvalidOid, F_TIMESTAMPTZ_LE,
                           value);
}

void key_timestamptz_after(ScanKey key, AttrNumber index_column, Datum value) {
    ScanKeyEntryInitialize(key, 0, index_column, BTGreaterStrategyNumber, InvalidOid, InvalidOid, F_TIMESTAMPTZ_GT,
                           value);
}

void key_scan_rescan(KeyScan* scan, ScanKey keys, int key_count) {
    index_rescan(scan->scan, keys, key_count, nullptr, 0);
}

AttrNumber key_scan_column(const KeyScan* scan, const char* name) {
    AttrNumber attnum = extension_column(RelationGetRelid(scan->heap), name);
    if (attnum <= 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("%s has no column \"%s\"", RelationGetRelationName(scan->heap), name)));
    return attnum;
}

}  // namespace usage_meter::pg
