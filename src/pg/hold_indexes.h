// The index descriptions reserve() needs to insert a hold, built once per backend instead of on every call.
//
// ExecOpenIndices builds an IndexInfo for every index of the table on each call (copying the expressions and
// predicates from the relcache), and ExecInsertIndexTuples then runs the planner over the open-holds
// indexes' expression and predicate before evaluating them: together about an eighth of reserve()'s time at
// 16 clients. Here the IndexInfos, with their expression and predicate states ready, are kept in a memory
// context of their own and reused while no relcache invalidation names the table or one of its indexes
// (an index added, dropped, made ready or valid by CREATE INDEX CONCURRENTLY, REINDEX, ALTER TABLE) and the
// table's index list is the one they were built for. Only btree and hash indexes are kept: their insert
// functions hold no state between calls.
#pragma once

#include "boundary.h"

extern "C" {
#include "nodes/execnodes.h"
}

namespace usage_meter::pg {

// Registers the relcache callback; called once from _PG_init.
void hold_indexes_init();

// Opens the indexes of target's relation, as ExecOpenIndices(target, false) would, with IndexInfos kept from
// an earlier call when they are still current; close them with ExecCloseIndices.
void open_indices_cached(ResultRelInfo* target);

}  // namespace usage_meter::pg
