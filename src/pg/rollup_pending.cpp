// A transaction's pending roll-up: the summary deltas of the ledger rows it recorded one at a time, added up
// per daily key in backend memory and written once per key (rollup_write) before the transaction commits.
//
// Without it every usage_record updated the same daily row and counter rows again; each update made a new row
// version, and each next ON CONFLICT check walked all the versions this transaction had made for the key, so a
// transaction recording N events cost O(N^2). With it the cost per event is flat.
//
// The rules that keep the summaries exact and the deltas invisible from outside:
// - Written before commit (XACT_EVENT_PRE_COMMIT, PRE_PREPARE), in the global key order (one statement), so
//   two transactions whose keys overlap lock them in the same order and never deadlock.
// - Every reader in the transaction sees them: a query that reads daily_rollup, counters or alerts gets them
//   written first by the ExecutorStart hook (its snapshot then advanced past them), and the readers that scan
//   the counters directly (check_limit, reserve) call rollup_apply_pending() first.
// - A rolled-back subtransaction drops what it added: deltas are kept per subtransaction level and merged into
//   the parent's when a subtransaction commits, dropped when it aborts. When deltas of outer levels are written
//   inside a subtransaction, they are kept (marked as written by that level) until it ends: if it commits they
//   are gone for good, if it aborts (undoing the writes) they are pending again.
// - They are written as the user who recorded them (the extension's owner, inside usage_record) with
//   search_path pinned, whoever commits; alerts are checked once per (tenant, user, day) after the write.
// - A crash loses only uncommitted work, as before: nothing here outlives the transaction.

#include <cstring>

#include "alerts.h"
#include "extension_catalog.h"
#include "rollup.h"
#include "statement.h"
#include "tables/events.h"

extern "C" {
#include "access/xact.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
}

namespace usage_meter::pg {
namespace {

// A daily key serialized (tenant, user_id, day, operation, provider, model; each text as a NULL flag, then
// its length and bytes): the hash table's key.
struct KeyBytes {
    const char* data;
    uint32 length;
};

struct Entry {
    KeyBytes key;       // first: the hash key
    uint32 user_day;    // bytes of key through the day: (tenant, user_id, day), what alerts are checked per
    bool alerts;        // the tenant had limits that alert
    RollupDelta delta;  // texts and numerics in the level's memory
};

// The deltas one subtransaction level added (nest_level), pending (applied_at 0) or already written by the
// subtransaction at level applied_at, which has not ended yet.
struct Level {
    int nest_level;
    int applied_at;
    MemoryContext memory;
    HTAB* entries;
};

constexpr int kMaxLevels = 64;  // deeper nesting writes what is pending first (see level_for_add)

struct Pending {
    Level levels[kMaxLevels];  // by nest_level, innermost last
    int count;
    Oid user;  // who recorded them
};

Pending* pending = nullptr;  // in TopTransactionContext; reset at every transaction end
int applying = 0;  // the nest level rollup_apply_pending runs at, 0 when it does not (its queries must not re-enter it)
ExecutorStart_hook_type previous_executor_start = nullptr;

uint32 key_hash(const void* key, Size) {
    const KeyBytes* k = static_cast<const KeyBytes*>(key);
    return hash_bytes(reinterpret_cast<const unsigned char*>(k->data), static_cast<int>(k->length));
}

int key_match(const void* a, const void* b, Size) {
    const KeyBytes* x = static_cast<const KeyBytes*>(a);
    const KeyBytes* y = static_cast<const KeyBytes*>(b);
    return x->length == y->length && std::memcmp(x->data, y->data, x->length) == 0 ? 0 : 1;
}

void append_text(StringInfo s, Datum value, bool null) {
    appendStringInfoChar(s, null ? 0 : 1);
    if (null) return;
    text* t = DatumGetTextPP(value);
    uint32 length = VARSIZE_ANY_EXHDR(t);
    appendBinaryStringInfo(s, reinterpret_cast<const char*>(&length), sizeof length);
    appendBinaryStringInfo(s, VARDATA_ANY(t), static_cast<int>(length));
}

text* copy_text(Datum value, bool null) {
    if (null) return nullptr;
    text* t = DatumGetTextPP(value);
    return cstring_to_text_with_len(VARDATA_ANY(t), static_cast<int>(VARSIZE_ANY_EXHDR(t)));
}

// to += from, measure by measure; numerics allocated in the current memory context.
void add_measures(RollupDelta* to, const RollupDelta& from) {
    for (int m = 0; m < kRollupMeasures; ++m) {
        if (!rollup_measure_is_numeric(m)) {
            if (pg_add_s64_overflow(to->ints[m], from.ints[m], &to->ints[m]))
                ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                                errmsg("usage_meter: a daily summary total is out of the bigint range")));
            continue;
        }
        if (from.numerics[m] == nullptr) continue;
        if (to->numerics[m] == nullptr) {
            to->numerics[m] = DatumGetNumeric(datumCopy(NumericGetDatum(from.numerics[m]), false, -1));
            continue;
        }
        Numeric old = to->numerics[m];
        to->numerics[m] =
            DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(old), NumericGetDatum(from.numerics[m])));
        pfree(old);
    }
}

HTAB* new_entries(MemoryContext memory) {
    HASHCTL ctl;
    ctl.keysize = sizeof(KeyBytes);
    ctl.entrysize = sizeof(Entry);
    ctl.hash = key_hash;
    ctl.match = key_match;
    ctl.hcxt = memory;
    return hash_create("usage_meter pending roll-up", 64, &ctl, HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

void drop_level(int i) {
    MemoryContextDelete(pending->levels[i].memory);
    for (int j = i + 1; j < pending->count; ++j) pending->levels[j - 1] = pending->levels[j];
    --pending->count;
}

Level* push_level(int nest_level) {
    Level* level = &pending->levels[pending->count++];
    level->nest_level = nest_level;
    level->applied_at = 0;
    level->memory =
        AllocSetContextCreate(TopTransactionContext, "usage_meter pending roll-up level", ALLOCSET_DEFAULT_SIZES);
    level->entries = new_entries(level->memory);
    return level;
}

// Adds an entry (its key and delta) into level `to`, copying it into that level's memory.
void merge_entry(Level* to, const Entry& from) {
    bool found;
    Entry* e = static_cast<Entry*>(hash_search(to->entries, &from.key, HASH_FIND, nullptr));
    MemoryContext old = MemoryContextSwitchTo(to->memory);
    if (e == nullptr) {
        char* data = static_cast<char*>(palloc(from.key.length));
        std::memcpy(data, from.key.data, from.key.length);
        KeyBytes key = {data, from.key.length};
        e = static_cast<Entry*>(hash_search(to->entries, &key, HASH_ENTER, &found));
        e->user_day = from.user_day;
        e->alerts = false;
        RollupDelta& d = e->delta;
        auto copy = [](text* t) { return t == nullptr ? nullptr : copy_text(PointerGetDatum(t), false); };
        d.tenant = copy(from.delta.tenant);
        d.user_id = copy(from.delta.user_id);
        d.day = from.delta.day;
        d.operation = copy(from.delta.operation);
        d.provider = copy(from.delta.provider);
        d.model = copy(from.delta.model);
        for (int m = 0; m < kRollupMeasures; ++m) {
            d.ints[m] = 0;
            d.numerics[m] = nullptr;
        }
    }
    e->alerts |= from.alerts;
    add_measures(&e->delta, from.delta);
    MemoryContextSwitchTo(old);
}

// The level new deltas go to: the current subtransaction's, pending.
Level* level_for_add() {
    const int nest_level = GetCurrentTransactionNestLevel();
    if (pending == nullptr) {
        pending = static_cast<Pending*>(MemoryContextAllocZero(TopTransactionContext, sizeof(Pending)));
        pending->user = InvalidOid;
    }
    if (pending->count > 0) {
        Level* top = &pending->levels[pending->count - 1];
        if (top->nest_level == nest_level && top->applied_at == 0) return top;
    }
    if (pending->count == kMaxLevels) {
        rollup_apply_pending();  // writes every pending level; frees those of this level
        if (pending->count == kMaxLevels)
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("usage_meter: too many nested subtransactions with pending usage")));
    }
    return push_level(nest_level);
}

// A subtransaction commits: what its writes held now belongs to its parent's writes, and what it added is
// added to its parent's pending deltas.
void subtransaction_commits(int nest_level) {
    for (int i = pending->count - 1; i >= 0; --i) {
        Level& l = pending->levels[i];
        if (l.applied_at == nest_level && --l.applied_at == l.nest_level) drop_level(i);
    }
    for (int i = pending->count - 1; i >= 0; --i) {
        if (pending->levels[i].nest_level != nest_level || pending->levels[i].applied_at != 0) continue;
        Level* parent = nullptr;
        for (int j = 0; j < pending->count; ++j)
            if (pending->levels[j].nest_level == nest_level - 1 && pending->levels[j].applied_at == 0)
                parent = &pending->levels[j];
        if (parent == nullptr) {
            pending->levels[i].nest_level = nest_level - 1;
            continue;
        }
        HASH_SEQ_STATUS scan;
        hash_seq_init(&scan, pending->levels[i].entries);
        while (Entry* e = static_cast<Entry*>(hash_seq_search(&scan))) merge_entry(parent, *e);
        drop_level(i);
    }
}

// A subtransaction aborts: what it added is dropped; what its writes held (rolled back) is pending again.
void subtransaction_aborts(int nest_level) {
    for (int i = pending->count - 1; i >= 0; --i) {
        Level& l = pending->levels[i];
        if (l.nest_level >= nest_level)
            drop_level(i);
        else if (l.applied_at >= nest_level)
            l.applied_at = 0;
    }
}

void on_transaction(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE: rollup_apply_pending(); break;
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PREPARE:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PARALLEL_ABORT:
            pending = nullptr;  // its memory goes with TopTransactionContext
            applying = 0;
            break;
        default: break;
    }
}

void on_subtransaction(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
    const int nest_level = GetCurrentTransactionNestLevel();
    // An ERROR in rollup_apply_pending ends the subtransaction it ran in (not one its own alert insert opened).
    if (event == SUBXACT_EVENT_ABORT_SUB && applying >= nest_level) applying = 0;
    if (pending == nullptr) return;
    switch (event) {
        case SUBXACT_EVENT_PRE_COMMIT_SUB: subtransaction_commits(nest_level); break;
        case SUBXACT_EVENT_ABORT_SUB: subtransaction_aborts(nest_level); break;
        default: break;
    }
}

// Whether the query reads (or writes) one of the tables the pending deltas go to or alerts come from.
bool touches_summaries(const QueryDesc* query) {
    if (query->plannedstmt == nullptr) return false;
    const Oid daily = extension_relation_oid("daily_rollup");
    if (daily == InvalidOid) return false;
    const Oid counters = extension_relation_oid("counters");
    const Oid alerts = extension_relation_oid("alerts");
    ListCell* cell;
    foreach (cell, query->plannedstmt->rtable) {
        const RangeTblEntry* rte = static_cast<const RangeTblEntry*>(lfirst(cell));
        if (rte->rtekind == RTE_RELATION && (rte->relid == daily || rte->relid == counters || rte->relid == alerts))
            return true;
    }
    return false;
}

bool has_pending() {
    if (pending == nullptr) return false;
    for (int i = 0; i < pending->count; ++i)
        if (pending->levels[i].applied_at == 0) return true;
    return false;
}

int compare_user_day(const void* a, const void* b) {
    const Entry* x = *static_cast<const Entry* const*>(a);
    const Entry* y = *static_cast<const Entry* const*>(b);
    const uint32 n = Min(x->user_day, y->user_day);
    int c = std::memcmp(x->key.data, y->key.data, n);
    if (c != 0) return c;
    return x->user_day < y->user_day ? -1 : x->user_day > y->user_day ? 1 : 0;
}

// Alerts once per (tenant, user, day) among the written entries of alerting tenants.
void fire_written_alerts(Entry** entries, int count) {
    int n = 0;
    for (int i = 0; i < count; ++i)
        if (entries[i]->alerts) entries[n++] = entries[i];
    if (n == 0) return;
    qsort(entries, n, sizeof(Entry*), compare_user_day);
    for (int i = 0; i < n; ++i) {
        if (i > 0 && compare_user_day(&entries[i - 1], &entries[i]) == 0) continue;
        const RollupDelta& d = entries[i]->delta;
        fire_alerts(PointerGetDatum(d.tenant), PointerGetDatum(d.user_id), d.user_id == nullptr, &d.day);
    }
}

void executor_start(QueryDesc* query, int eflags) {
    if (applying == 0 && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 && has_pending() && touches_summaries(query) &&
        rollup_apply_pending() && query->snapshot != nullptr && IsMVCCSnapshot(query->snapshot)) {
        // The query's snapshot was taken before the write: a copy of it that sees this transaction's commands so far.
        PushCopiedSnapshot(query->snapshot);
        UpdateActiveSnapshotCommandId();
        Snapshot advanced = RegisterSnapshot(GetActiveSnapshot());
        PopActiveSnapshot();
        UnregisterSnapshot(query->snapshot);
        query->snapshot = advanced;
    }
    if (previous_executor_start != nullptr)
        previous_executor_start(query, eflags);
    else
        standard_ExecutorStart(query, eflags);
}

}  // namespace

void rollup_event(const Datum* values, const bool* nulls, const int* att, int sign, bool alerts) {
    Oid user;
    int security;
    GetUserIdAndSecContext(&user, &security);
    if (has_pending() && pending->user != user) rollup_apply_pending();  // deltas are written as who recorded them
    Level* level = level_for_add();
    pending->user = user;

    auto value = [&](EventColumn c) { return values[att[c] - 1]; };
    auto is_null = [&](EventColumn c) { return nulls[att[c] - 1]; };
    StringInfoData key;
    initStringInfo(&key);
    append_text(&key, value(kTenant), is_null(kTenant));
    append_text(&key, value(kUserId), is_null(kUserId));
    const DateADT day = DatumGetDateADT(value(kDay));
    appendBinaryStringInfo(&key, reinterpret_cast<const char*>(&day), sizeof day);
    const uint32 user_day = static_cast<uint32>(key.len);
    append_text(&key, value(kOperation), is_null(kOperation));
    append_text(&key, value(kProvider), is_null(kProvider));
    append_text(&key, value(kModel), is_null(kModel));

    Entry event;
    event.key = {key.data, static_cast<uint32>(key.len)};
    event.user_day = user_day;
    event.alerts = alerts;
    auto text_of = [&](EventColumn c) { return is_null(c) ? nullptr : DatumGetTextPP(value(c)); };
    event.delta.tenant = text_of(kTenant);  // copied into the level's memory by merge_entry
    event.delta.user_id = text_of(kUserId);
    event.delta.day = day;
    event.delta.operation = text_of(kOperation);
    event.delta.provider = text_of(kProvider);
    event.delta.model = text_of(kModel);
    rollup_event_measures(values, nulls, att, sign, &event.delta);
    merge_entry(level, event);
}

bool rollup_apply_pending() {
    if (applying != 0 || !has_pending()) return false;
    if (extension_relation_oid("daily_rollup") == InvalidOid) {  // the extension was dropped since: nothing to add to
        while (pending->count > 0) drop_level(pending->count - 1);
        return false;
    }
    const int nest_level = GetCurrentTransactionNestLevel();
    int total = 0;
    for (int i = 0; i < pending->count; ++i)
        if (pending->levels[i].applied_at == 0)
            total += static_cast<int>(hash_get_num_entries(pending->levels[i].entries));
    Entry** entries = static_cast<Entry**>(palloc(sizeof(Entry*) * Max(total, 1)));
    RollupDelta** deltas = static_cast<RollupDelta**>(palloc(sizeof(RollupDelta*) * Max(total, 1)));
    int n = 0;
    for (int i = 0; i < pending->count; ++i) {
        if (pending->levels[i].applied_at != 0) continue;
        HASH_SEQ_STATUS scan;
        hash_seq_init(&scan, pending->levels[i].entries);
        while (Entry* e = static_cast<Entry*>(hash_seq_search(&scan))) {
            entries[n] = e;
            deltas[n] = &e->delta;
            ++n;
        }
    }

    applying = nest_level;  // reset here, or by the (sub)transaction abort an ERROR leads to
    Oid saved_user;
    int saved_security;
    GetUserIdAndSecContext(&saved_user, &saved_security);
    SetUserIdAndSecContext(pending->user, saved_security | SECURITY_LOCAL_USERID_CHANGE);
    const int guc_level = pin_search_path();
    const bool push_snapshot = !ActiveSnapshotSet();  // at commit there is no statement (nor its snapshot)
    if (push_snapshot) PushActiveSnapshot(GetTransactionSnapshot());
    spi_connect();
    rollup_write(deltas, n);
    fire_written_alerts(entries, n);
    SPI_finish();
    if (push_snapshot) PopActiveSnapshot();
    unpin_search_path(guc_level);
    SetUserIdAndSecContext(saved_user, saved_security);
    CommandCounterIncrement();  // what follows in this transaction sees the write
    applying = 0;

    // This level's deltas are written for good; outer levels' wait for this subtransaction's end.
    for (int i = pending->count - 1; i >= 0; --i) {
        Level& l = pending->levels[i];
        if (l.applied_at != 0) continue;
        if (l.nest_level == nest_level)
            drop_level(i);
        else
            l.applied_at = nest_level;
    }
    return true;
}

void rollup_pending_init() {
    RegisterXactCallback(on_transaction, nullptr);
    RegisterSubXactCallback(on_subtransaction, nullptr);
    previous_executor_start = ExecutorStart_hook;
    ExecutorStart_hook = executor_start;
}

}  // namespace usage_meter::pg
