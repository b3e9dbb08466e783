// Equality lookups through one of the extension's btree indexes, without planning or executor set-up. Used by
// check_limit, which runs before every request and reads a handful of rows.
#pragma once

#include "boundary.h"

extern "C" {
#include "access/genam.h"
#include "access/skey.h"
#include "executor/tuptable.h"
#include "utils/relcache.h"
}

namespace usage_meter::pg {

// An open index scan on usage_meter.<table> through usage_meter.<index>, under the active snapshot; rescan it
// with new keys as often as needed.
struct KeyScan {
    Relation heap;
    Relation index;
    IndexScanDesc scan;
    TupleTableSlot* row;
};

// The OID of usage_meter.<name> (a table, index or sequence); raises an ERROR when it does not exist.
Oid extension_relation(const char* name);

// The snapshot a statement reads under: the active one, or the transaction's when none is active.
Snapshot statement_snapshot();

void key_scan_open(KeyScan* scan, const char* table, const char* index, int key_count);
// The same under a given snapshot (a fresh MVCC snapshot, or a dirty one that also sees uncommitted rows).
void key_scan_open_with(KeyScan* scan, const char* table, const char* index, int key_count, Snapshot snapshot);
void key_scan_close(KeyScan* scan);

// Keys on the index's leading columns (1-based): text equality, date equality, or IS NULL.
void key_text(const KeyScan* scan, ScanKey key, AttrNumber index_column, Datum value);
// Text equality on a hash index's column.
void key_hash_text(const KeyScan* scan, ScanKey key, AttrNumber index_column, Datum value);
void key_date(ScanKey key, AttrNumber index_column, Datum value);
void key_is_null(ScanKey key, AttrNumber index_column);
// timestamptz <= value: with key_scan_previous, the latest row at or before a time.
void key_timestamptz_at_most(ScanKey key, AttrNumber index_column, Datum value);
// timestamptz > value.
void key_timestamptz_after(ScanKey key, AttrNumber index_column, Datum value);

void key_scan_rescan(KeyScan* scan, ScanKey keys, int key_count);
// The next matching row (in scan->row), or false at the end.
inline bool key_scan_next(KeyScan* scan) { return index_getnext_slot(scan->scan, ForwardScanDirection, scan->row); }
// The previous matching row, scanning the index backwards.
inline bool key_scan_previous(KeyScan* scan) {
    return index_getnext_slot(scan->scan, BackwardScanDirection, scan->row);
}

// Attribute number of a column of the scanned table; raises an ERROR when it is missing.
AttrNumber key_scan_column(const KeyScan* scan, const char* name);

}  // namespace usage_meter::pg
