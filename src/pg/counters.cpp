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

void sum_counters(Datum tenant, Datum user_id, bool user_null, const char* period, DateADT period_start,
                  CounterTotals* out) {
    Relation heap = table_open(extension_relation("counters"), AccessShareLock);
    Relation index = index_open(extension_relation("counters_key"), AccessShareLock);
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

    AttrNumber requests = column(heap, "requests"), tokens = column(heap, "tokens"), cost = column(heap, "cost"),
               billed_cost = column(heap, "billed_cost");
    Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
    IndexScanDesc scan = index_beginscan(heap, index, snapshot, 4, 0);
    index_rescan(scan, keys, 4, nullptr, 0);
    TupleTableSlot* row = table_slot_create(heap, nullptr);

    out->requests = 0;
    out->tokens = 0;
    out->cost = numeric_from_decimal(Decimal());
    out->billed_cost = out->cost;
    while (index_getnext_slot(scan, ForwardScanDirection, row)) {
        bool isnull;
        out->requests += DatumGetInt64(slot_getattr(row, requests, &isnull));
        out->tokens += DatumGetInt64(slot_getattr(row, tokens, &isnull));
        out->cost = DirectFunctionCall2(numeric_add, out->cost, slot_getattr(row, cost, &isnull));
        out->billed_cost = DirectFunctionCall2(numeric_add, out->billed_cost, slot_getattr(row, billed_cost, &isnull));
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(row);
    index_close(index, AccessShareLock);
    table_close(heap, AccessShareLock);
}

}  // namespace usage_meter::pg
