#include "direct_insert.h"

#include <cstring>

extern "C" {
#include "access/genam.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "nodes/makefuncs.h"
#include "parser/parsetree.h"
#include "optimizer/optimizer.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
}

namespace usage_meter::pg {

namespace {

// Plain data only (no constructors or destructors run at load or exit).
struct Cache {
    MemoryContext context;  // child of CacheMemoryContext, reset at each rebuild
    bool valid;
    bool building;      // build() is running
    uint64 generation;  // bumped by every invalidation, so a build an invalidation interrupted is not kept
    Oid heap;
    bool uncachable;  // heap has an index the cache does not keep: open its indexes afresh until it changes
    int count;
    Oid* indexes;  // in the table's index list order
    IndexInfo** infos;
};

// One entry per table inserted into directly (reservations, idempotency_keys); a third table would take the
// entry of the one used least recently.
constexpr int kCacheEntries = 2;
Cache caches[kCacheEntries];
uint64 uses[kCacheEntries];
uint64 use_clock;

void on_relcache_invalidation(Datum, Oid relid) {
    for (Cache& cache : caches) {
        if (cache.building) {  // reading the catalogs while building can accept invalidations: any one voids the build
            ++cache.generation;
            continue;
        }
        if (!cache.valid && !cache.uncachable) continue;
        bool ours = !OidIsValid(relid) || relid == cache.heap;
        for (int i = 0; !ours && i < cache.count; ++i) ours = relid == cache.indexes[i];
        if (ours) cache.uncachable = false;  // (an index's own invalidation also names its table)
        if (ours) {
            cache.valid = false;
            ++cache.generation;
        }
    }
}

// The entry for rel: the one that holds it (valid or not), else the least recently used one.
Cache& entry_for(Relation rel) {
    int pick = 0;
    for (int i = 0; i < kCacheEntries; ++i) {
        if (caches[i].heap == RelationGetRelid(rel)) {
            pick = i;
            break;
        }
        if (uses[i] < uses[pick]) pick = i;
    }
    uses[pick] = ++use_clock;
    return caches[pick];
}

// Whether the cache holds rel's current index list, in order.
bool matches(const Cache& cache, Relation rel, List* indexes) {
    if (!cache.valid || cache.heap != RelationGetRelid(rel) || cache.count != list_length(indexes)) return false;
    int i = 0;
    ListCell* lc;
    foreach (lc, indexes)
        if (cache.indexes[i++] != lfirst_oid(lc)) return false;
    return true;
}

// Builds the IndexInfos of the open indexes in target, with expression and predicate states prepared, in the
// cache's context; keeps them only if all are btree or hash and no invalidation arrived meanwhile.
void build(Cache& cache, ResultRelInfo* target, List* indexes) {
    if (cache.context == nullptr)
        cache.context = AllocSetContextCreate(CacheMemoryContext, "usage_meter index infos", ALLOCSET_SMALL_SIZES);
    cache.valid = false;
    MemoryContextReset(cache.context);
    const uint64 generation = cache.generation;
    cache.building = true;  // an ERROR before the end leaves it set until the next build; the cache is invalid meanwhile
    MemoryContext old = MemoryContextSwitchTo(cache.context);
    const int count = target->ri_NumIndices;
    Oid* oids = static_cast<Oid*>(palloc(sizeof(Oid) * (count > 0 ? count : 1)));
    IndexInfo** infos = static_cast<IndexInfo**>(palloc(sizeof(IndexInfo*) * (count > 0 ? count : 1)));
    bool cacheable = true;
    for (int i = 0; i < count; ++i) {
        Relation index = target->ri_IndexRelationDescs[i];
        oids[i] = RelationGetRelid(index);
        const Oid am = index->rd_rel->relam;
        if (am != BTREE_AM_OID && am != HASH_AM_OID) cacheable = false;
        IndexInfo* info = BuildIndexInfo(index);
        if (info->ii_Predicate != NIL)
            info->ii_PredicateState =
                ExecInitQual(reinterpret_cast<List*>(expression_planner(reinterpret_cast<Expr*>(info->ii_Predicate))),
                             nullptr);
        List* states = NIL;
        ListCell* lc;
        foreach (lc, info->ii_Expressions)
            states = lappend(states, ExecInitExpr(expression_planner(static_cast<Expr*>(lfirst(lc))), nullptr));
        info->ii_ExpressionsState = states;
        infos[i] = info;
    }
    MemoryContextSwitchTo(old);
    cache.building = false;
    cache.heap = RelationGetRelid(target->ri_RelationDesc);
    cache.count = 0;
    if (!cacheable && generation == cache.generation) cache.uncachable = true;
    if (!cacheable || generation != cache.generation || count != list_length(indexes)) return;
    cache.count = count;
    cache.indexes = oids;
    cache.infos = infos;
    cache.valid = true;
}

}  // namespace

void direct_insert_init() { CacheRegisterRelcacheCallback(on_relcache_invalidation, static_cast<Datum>(0)); }

void open_indices_cached(ResultRelInfo* target) {
    Relation rel = target->ri_RelationDesc;
    Cache& cache = entry_for(rel);
    if (cache.heap == RelationGetRelid(rel) && cache.uncachable) {
        ExecOpenIndices(target, false);
        return;
    }
    List* indexes = RelationGetIndexList(rel);
    if (!matches(cache, rel, indexes)) {
        ExecOpenIndices(target, false);
        build(cache, target, indexes);
        if (cache.valid)  // use the prepared copies from now on, this call included
            for (int i = 0; i < target->ri_NumIndices; ++i) target->ri_IndexRelationInfo[i] = cache.infos[i];
        list_free(indexes);
        return;
    }
    list_free(indexes);
    const int count = cache.count;
    if (count == 0) {
        target->ri_NumIndices = 0;
        return;
    }
    RelationPtr descs = static_cast<RelationPtr>(palloc(sizeof(Relation) * count));
    IndexInfo** infos = static_cast<IndexInfo**>(palloc(sizeof(IndexInfo*) * count));
    // Locking an index accepts pending invalidations; one that concerns these indexes makes the kept
    // IndexInfos suspect, so then they are dropped and the indexes opened afresh.
    const uint64 generation = cache.generation;
    for (int i = 0; i < count; ++i) {
        descs[i] = index_open(cache.indexes[i], RowExclusiveLock);
        infos[i] = cache.infos[i];
    }
    if (generation != cache.generation) {
        for (int i = 0; i < count; ++i) index_close(descs[i], RowExclusiveLock);
        open_indices_cached(target);
        return;
    }
    target->ri_NumIndices = count;
    target->ri_IndexRelationDescs = descs;
    target->ri_IndexRelationInfo = infos;
}

void insert_row_direct(Relation rel, const NamedValue* columns, int count, const char* who) {
    if (rel->rd_rel->relkind != RELKIND_RELATION)
        elog(ERROR, "usage_meter: %s is not a plain table, which %s writes directly", RelationGetRelationName(rel), who);
    TupleDesc desc = RelationGetDescr(rel);
    Datum* values = static_cast<Datum*>(palloc0(desc->natts * sizeof(Datum)));
    bool* isnull = static_cast<bool*>(palloc(desc->natts * sizeof(bool)));
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        isnull[i] = true;
        if (att->attisdropped) continue;
        int c = 0;
        while (c < count && std::strcmp(NameStr(att->attname), columns[c].name) != 0) ++c;
        if (c == count || (OidIsValid(columns[c].type) && att->atttypid != columns[c].type))
            elog(ERROR, "usage_meter: %s has a column \"%s\" %s does not set (or not of that type)",
                 RelationGetRelationName(rel), NameStr(att->attname), who);
        values[i] = columns[c].value;
        isnull[i] = columns[c].isnull;
    }
    const TriggerDesc* triggers = rel->trigdesc;
    if (triggers != nullptr && (triggers->trig_insert_before_row || triggers->trig_insert_after_row ||
                                triggers->trig_insert_instead_row || triggers->trig_insert_before_statement ||
                                triggers->trig_insert_after_statement || triggers->trig_insert_new_table))
        elog(ERROR, "usage_meter: %s has an INSERT trigger %s does not fire", RelationGetRelationName(rel), who);
    TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
    ExecStoreHeapTuple(heap_form_tuple(desc, values, isnull), slot, true);
    // A one-entry range table, as logical replication's apply worker builds for its inserts: a failed
    // constraint's message (which columns were inserted) reads it.
    EState* estate = CreateExecutorState();
    RangeTblEntry* rte = makeNode(RangeTblEntry);
    rte->rtekind = RTE_RELATION;
    rte->relid = RelationGetRelid(rel);
    rte->relkind = rel->rd_rel->relkind;
    rte->rellockmode = RowExclusiveLock;
    ExecInitRangeTable(estate, list_make1(rte));
    ResultRelInfo* target = makeNode(ResultRelInfo);
    InitResultRelInfo(target, rel, 1, nullptr, 0);
    open_indices_cached(target);  // ExecOpenIndices, without rebuilding the index descriptions each call
    if (desc->constr != nullptr) ExecConstraints(target, slot, estate);
    table_tuple_insert(rel, slot, GetCurrentCommandId(true), 0, nullptr);
    ExecInsertIndexTuples(target, slot, estate, false, false, nullptr, NIL);  // unique checks too
    ExecCloseIndices(target);
    FreeExecutorState(estate);
    ExecDropSingleTupleTableSlot(slot);
}

}  // namespace usage_meter::pg
