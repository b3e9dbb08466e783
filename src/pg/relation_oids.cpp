#include "relation_oids.h"

#include <cstring>

extern "C" {
#include "catalog/namespace.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace usage_meter::pg {

namespace {

constexpr int kEntries = 32;  // more than the extension has relations; past it, names are looked up each time

struct Entry {
    char name[NAMEDATALEN];
    Oid oid;  // InvalidOid: known not to exist
};

// Plain data only (no constructors or destructors run at load or exit).
struct Cache {
    int count;
    uint64 generation;  // bumped by every invalidation, so a lookup an invalidation interrupted is not kept
    Entry entries[kEntries];
};
Cache cache;

void on_invalidation(Datum, int, uint32) {
    cache.count = 0;
    ++cache.generation;
}

}  // namespace

void relation_oids_init() {
    CacheRegisterSyscacheCallback(RELNAMENSP, on_invalidation, static_cast<Datum>(0));
    CacheRegisterSyscacheCallback(NAMESPACENAME, on_invalidation, static_cast<Datum>(0));
}

Oid extension_relation_oid(const char* name) {
    for (int i = 0; i < cache.count; ++i)
        if (std::strcmp(cache.entries[i].name, name) == 0) return cache.entries[i].oid;
    const uint64 generation = cache.generation;
    Oid schema = get_namespace_oid("usage_meter", true);
    Oid oid = OidIsValid(schema) ? get_relname_relid(name, schema) : InvalidOid;
    if (generation == cache.generation && cache.count < kEntries && std::strlen(name) < NAMEDATALEN) {
        Entry& e = cache.entries[cache.count];
        std::strcpy(e.name, name);
        e.oid = oid;
        ++cache.count;
    }
    return oid;
}

}  // namespace usage_meter::pg
