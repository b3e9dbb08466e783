#include "limits_cache.h"
#include "datum_convert.h"
#include "extension_catalog.h"

#include <cstring>
#include <type_traits>

extern "C" {
#include "access/table.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace usage_meter::pg {

namespace {

// The cached limits of one (tenant, user): plain data, copied into an ApplicableLimits on a hit.
struct CachedLimit {
    usage_meter::LimitState limit;
    int scope;
    bool alert;
};
static_assert(std::is_trivially_copyable_v<CachedLimit>);

struct Entry {
    bool used;
    bool user_null;
    uint32 hash;
    int tenant_length;
    int user_length;
    char* key;  // tenant bytes, then user bytes (in the cache's memory context)
    pg_tz* zone;
    bool moving;
    int count;
    void* limits_memory;  // what was allocated for limits (palloc aligns to 8 bytes only)
    CachedLimit* limits;  // inside limits_memory, aligned for the 128-bit integers of Decimal
};

// Direct-mapped: a key replaces whatever entry its hash maps to, so the cache never grows past this.
constexpr int kEntries = 512;

// Plain data only (no constructors or destructors run at load or exit).
struct Cache {
    MemoryContext context;  // child of CacheMemoryContext; reset when the cache is emptied
    Entry* entries;         // kEntries of them, allocated on first use
    Oid limits;             // the relations watched (InvalidOid until looked up)
    Oid tenants;
    int usable;  // -1: not checked since the last reset; 0: no (no triggers); 1: yes
    bool stale;  // an invalidation for limits or tenants arrived: empty before the next use
};
Cache cache = {nullptr, nullptr, InvalidOid, InvalidOid, -1, false};

void on_relcache_invalidation(Datum, Oid relid) {
    // Called while invalidations are processed: no catalog access here, only note it.
    if (relid == InvalidOid || relid == cache.limits || relid == cache.tenants) cache.stale = true;
}

// Whether the table has the named trigger and it fires always (also under session_replication_role = replica,
// as for logical replication's apply worker), so no change to the table can skip the invalidation.
bool fires_always(Oid table, const char* name) {
    Relation rel = table_open(table, AccessShareLock);
    bool found = false;
    for (int i = 0; rel->trigdesc != nullptr && i < rel->trigdesc->numtriggers; ++i) {
        const Trigger& t = rel->trigdesc->triggers[i];
        if (std::strcmp(t.tgname, name) == 0) found = t.tgenabled == TRIGGER_FIRES_ALWAYS;
    }
    table_close(rel, AccessShareLock);
    return found;
}

void empty_cache() {
    if (cache.context != nullptr) MemoryContextReset(cache.context);
    cache.entries = nullptr;
    cache.limits = InvalidOid;
    cache.tenants = InvalidOid;
    cache.usable = -1;
    cache.stale = false;
}

uint32 key_hash(const TextView& tenant, const TextView& user, bool user_null) {
    uint32 h = hash_bytes(reinterpret_cast<const unsigned char*>(tenant.data), static_cast<int>(tenant.length));
    uint32 u = user_null ? 0x9e3779b9u
                         : hash_bytes(reinterpret_cast<const unsigned char*>(user.data), static_cast<int>(user.length));
    return hash_combine(h, u);
}

bool same_key(const Entry& e, uint32 hash, const TextView& tenant, const TextView& user, bool user_null) {
    if (!e.used || e.hash != hash || e.user_null != user_null) return false;
    if (e.tenant_length != static_cast<int>(tenant.length)) return false;
    if (!user_null && e.user_length != static_cast<int>(user.length)) return false;
    if (std::memcmp(e.key, tenant.data, tenant.length) != 0) return false;
    return user_null || std::memcmp(e.key + tenant.length, user.data, user.length) == 0;
}

}  // namespace

void limits_cache_init() { CacheRegisterRelcacheCallback(on_relcache_invalidation, static_cast<Datum>(0)); }

bool limits_cache_usable() {
    if (IsolationUsesXactSnapshot() || IsInParallelMode()) return false;
    AcceptInvalidationMessages();
    if (cache.stale) empty_cache();
    if (cache.usable < 0) {
        Oid limits = extension_relation_oid("limits"), tenants = extension_relation_oid("tenants");
        if (!OidIsValid(limits) || !OidIsValid(tenants)) return false;
        // Watch them first: an invalidation arriving while the triggers are looked up marks the result stale.
        cache.limits = limits;
        cache.tenants = tenants;
        bool usable = fires_always(limits, "limits_cache_invalidate") &&
                      fires_always(tenants, "tenants_cache_invalidate");
        if (cache.stale) {
            empty_cache();
            return false;
        }
        cache.usable = usable ? 1 : 0;
    }
    return cache.usable == 1;
}

bool limits_cache_snapshot_is_current(Snapshot snapshot) {
    Snapshot now = GetLatestSnapshot();
    // On a standby the running transactions are not listed in xip: nothing read there is stored.
    if (snapshot->snapshot_type != SNAPSHOT_MVCC || snapshot->takenDuringRecovery || now->takenDuringRecovery ||
        snapshot->xmax != now->xmax || snapshot->xcnt != now->xcnt || snapshot->curcid != now->curcid)
        return false;
    if (snapshot->xcnt == 0) return true;
    // The same running transactions, in whatever order each snapshot listed them.
    const size_t bytes = sizeof(TransactionId) * snapshot->xcnt;
    TransactionId* a = static_cast<TransactionId*>(palloc(bytes));
    TransactionId* b = static_cast<TransactionId*>(palloc(bytes));
    std::memcpy(a, snapshot->xip, bytes);
    std::memcpy(b, now->xip, bytes);
    qsort(a, snapshot->xcnt, sizeof(TransactionId), xidComparator);
    qsort(b, snapshot->xcnt, sizeof(TransactionId), xidComparator);
    const bool same = std::memcmp(a, b, bytes) == 0;
    pfree(a);
    pfree(b);
    return same;
}

bool limits_cache_get(Datum tenant, Datum user_id, bool user_null, ApplicableLimits* out) {
    if (cache.entries == nullptr) return false;
    TextView t = text_view(tenant, false), u = text_view(user_id, user_null);
    const uint32 hash = key_hash(t, u, user_null);
    const Entry& e = cache.entries[hash % kEntries];
    if (!same_key(e, hash, t, u, user_null)) return false;
    out->zone = e.zone;
    out->moving = e.moving;
    out->count = e.count;
    for (int i = 0; i < e.count; ++i) {
        out->limits[i] = e.limits[i].limit;
        out->scope[i] = e.limits[i].scope;
        out->alert[i] = e.limits[i].alert;
    }
    return true;
}

void limits_cache_put(Datum tenant, Datum user_id, bool user_null, const ApplicableLimits* in) {
    if (cache.stale || cache.usable != 1) return;  // an invalidation arrived while the entry was read
    if (cache.context == nullptr)
        cache.context = AllocSetContextCreate(CacheMemoryContext, "usage_meter limits cache", ALLOCSET_SMALL_SIZES);
    if (cache.entries == nullptr)
        cache.entries = static_cast<Entry*>(MemoryContextAllocZero(cache.context, sizeof(Entry) * kEntries));
    TextView t = text_view(tenant, false), u = text_view(user_id, user_null);
    const uint32 hash = key_hash(t, u, user_null);
    Entry& e = cache.entries[hash % kEntries];
    if (e.used) {
        pfree(e.key);
        if (e.limits_memory != nullptr) pfree(e.limits_memory);
        e.used = false;
    }
    const size_t user_length = user_null ? 0 : u.length;
    char* key = static_cast<char*>(MemoryContextAlloc(cache.context, t.length + user_length + 1));
    std::memcpy(key, t.data, t.length);
    if (user_length > 0) std::memcpy(key + t.length, u.data, user_length);
    void* limits_memory = nullptr;
    CachedLimit* limits = nullptr;
    if (in->count > 0) {
        limits_memory = MemoryContextAlloc(cache.context, sizeof(CachedLimit) * in->count + alignof(CachedLimit));
        limits = static_cast<CachedLimit*>(reinterpret_cast<void*>(TYPEALIGN(alignof(CachedLimit), limits_memory)));
        for (int i = 0; i < in->count; ++i) {
            limits[i].limit = in->limits[i];
            limits[i].scope = in->scope[i];
            limits[i].alert = in->alert[i];
        }
    }
    e.key = key;
    e.limits_memory = limits_memory;
    e.limits = limits;
    e.hash = hash;
    e.user_null = user_null;
    e.tenant_length = static_cast<int>(t.length);
    e.user_length = static_cast<int>(user_length);
    e.zone = in->zone;
    e.moving = in->moving;
    e.count = in->count;
    e.used = true;
}

}  // namespace usage_meter::pg

// limits_cache_invalidate(): BEFORE INSERT OR UPDATE OR DELETE ... FOR EACH ROW on usage_meter.limits and
// usage_meter.tenants (1.3). Queues a relcache invalidation of the table written: this backend's cache is
// emptied at its next command boundary (and again if the transaction aborts after one), every other
// backend's when the transaction commits. Returns the row unchanged, so the write goes ahead.
UM_FUNCTION(limits_cache_invalidate) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("limits_cache_invalidate must be called as a trigger")));
    TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    CacheInvalidateRelcache(trigger->tg_relation);
    if (!TRIGGER_FIRED_FOR_ROW(trigger->tg_event)) return PointerGetDatum(nullptr);
    return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple);
}
