// Rows the extension inserts itself (a reservation's hold, an event's idempotency key), writing the heap row and
// its index entries as the executor would for a one-row INSERT, without the executor's set-up: on reserve()'s
// path and on a bulk load's row trigger that set-up cost more than the insert.
//
// ExecOpenIndices builds an IndexInfo for every index of the table on each call (copying the expressions and
// predicates from the relcache), and ExecInsertIndexTuples then runs the planner over the indexes' expressions
// and predicates before evaluating them. Here the IndexInfos, with their expression and predicate states ready,
// are kept per table (a few tables: one entry each) in a memory context of their own and reused while no
// relcache invalidation names the table or one of its indexes (an index added, dropped, made ready or valid by
// CREATE INDEX CONCURRENTLY, REINDEX, ALTER TABLE) and the table's index list is the one they were built for.
// Only btree and hash indexes are kept: their insert functions hold no state between calls.
#pragma once

#include "boundary.h"

extern "C" {
#include "nodes/execnodes.h"
#include "utils/rel.h"
}

namespace usage_meter::pg {

// Registers the relcache callback; called once from _PG_init.
void direct_insert_init();

// Opens the indexes of target's relation, as ExecOpenIndices(target, false) would, with IndexInfos kept from
// an earlier call when they are still current; close them with ExecCloseIndices.
void open_indices_cached(ResultRelInfo* target);

// One column of a row inserted directly: its name, its value (or NULL), and its type when the caller checks it
// (InvalidOid: not checked).
struct NamedValue {
    const char* name;
    Datum value;
    bool isnull;
    Oid type;
};

// Inserts a row into rel, opened with RowExclusiveLock by the caller, as an INSERT naming every column would:
// each of rel's columns must be one of `columns` (of its type when one is given), so nothing is left to a
// default this code would not apply; its NOT NULL and CHECK constraints are checked, the heap row written with
// the current command id, and its index entries inserted with their unique checks. A trigger on INSERT, which
// this path would not fire, is refused, as a table that is not a plain one is (`who` names the caller in
// these errors).
void insert_row_direct(Relation rel, const NamedValue* columns, int count, const char* who);

}  // namespace usage_meter::pg
