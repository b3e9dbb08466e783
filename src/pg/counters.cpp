#include "counters.h"

#include "convert.h"

extern "C" {
#include "access/genam.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace usage_meter::pg {

namespace {

Oid extension_relation(const char* name) {
    Oid relation = get_relname_relid(name, get_namespace_oid("usage_meter", false));
    if (!OidIsValid(relation))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("usage_meter.%s does not exist", name)));
    return relation;
}

AttrNumber column(Relation relation, const char* name) {
    int attnum = SPI_fnumber(RelationGetDescr(relation), name);
    if (attnum <= 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN), errmsg("usage_meter.counters has no column \"%s\"", name)));
    return static_cast<AttrNumber>(attnum);
}

void text_key(ScanKey key, AttrNumber index_column, Relation index, Datum value) {
    ScanKeyEntryInitialize(key, 0, index_column, BTEqualStrategyNumber, InvalidOid,
                           index->rd_indcollation[index_column - 1], F_TEXTEQ, value);
}

}  // namespace

void open_counters(CounterReader* reader) {
    reader->heap = table_open(extension_relation("counters"), AccessShareLock);
    reader->index = index_open(extension_relation("counters_key"), AccessShareLock);
    reader->requests = column(reader->heap, "requests");
    reader->tokens = column(reader->heap, "tokens");
    reader->cost = column(reader->heap, "cost");
    reader->billed_cost = column(reader->heap, "billed_cost");
    Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
    reader->scan = index_beginscan(reader->heap, reader->index, snapshot, 4, 0);
    reader->row = table_slot_create(reader->heap, nullptr);
}

void sum_counters(CounterReader* reader, Datum tenant, Datum user_id, bool user_null, const char* period,
                  DateADT period_start, bool sum_cost, bool sum_billed_cost, CounterTotals* out) {
    Relation index = reader->index;
    // counters_key is (tenant, user_id, period, period_start, slot): an equality prefix of four columns.
    ScanKeyData keys[4];
    text_key(&keys[0], 1, index, tenant);
    if (user_null)
        ScanKeyEntryInitialize(&keys[1], SK_ISNULL | SK_SEARCHNULL, 2, InvalidStrategy, InvalidOid, InvalidOid,
                               InvalidOid, static_cast<Datum>(0));
    else
        text_key(&keys[1], 2, index, user_id);
    text_key(&keys[2], 3, index, CStringGetTextDatum(period));
    ScanKeyEntryInitialize(&keys[3], 0, 4, BTEqualStrategyNumber, InvalidOid, InvalidOid, F_DATE_EQ,
                           DateADTGetDatum(period_start));
    index_rescan(reader->scan, keys, 4, nullptr, 0);

    out->requests = 0;
    out->tokens = 0;
    out->cost = numeric_from_decimal(Decimal());
    out->billed_cost = out->cost;
    TupleTableSlot* row = reader->row;
    while (index_getnext_slot(reader->scan, ForwardScanDirection, row)) {
        bool isnull;
        out->requests += DatumGetInt64(slot_getattr(row, reader->requests, &isnull));
        out->tokens += DatumGetInt64(slot_getattr(row, reader->tokens, &isnull));
        if (sum_cost) out->cost = DirectFunctionCall2(numeric_add, out->cost, slot_getattr(row, reader->cost, &isnull));
        if (sum_billed_cost)
            out->billed_cost =
                DirectFunctionCall2(numeric_add, out->billed_cost, slot_getattr(row, reader->billed_cost, &isnull));
    }
}

void close_counters(CounterReader* reader) {
    index_endscan(reader->scan);
    ExecDropSingleTupleTableSlot(reader->row);
    index_close(reader->index, AccessShareLock);
    table_close(reader->heap, AccessShareLock);
}

}  // namespace usage_meter::pg
