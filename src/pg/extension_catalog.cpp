#include "extension_catalog.h"

#include <cstring>

extern "C" {
#include "catalog/namespace.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace usage_meter::pg {

namespace {

constexpr int kRelations = 32;  // more than the extension has relations; past it, names are looked up each time
constexpr int kColumns = 128;   // more than the columns the library asks for

struct RelationEntry {
    char name[NAMEDATALEN];
    Oid oid;  // InvalidOid: known not to exist
};

struct ColumnEntry {
    Oid relid;
    char name[NAMEDATALEN];
    AttrNumber attnum;  // InvalidAttrNumber: known not to exist
};

// Plain data only (no constructors or destructors run at load or exit).
struct Cache {
    uint64 generation;  // bumped by every invalidation, so a lookup an invalidation interrupted is not kept
    int relation_count;
    int column_count;
    RelationEntry relations[kRelations];
    ColumnEntry columns[kColumns];
};
Cache cache;

void on_invalidation(Datum, int, uint32) {
    cache.relation_count = 0;
    cache.column_count = 0;
    ++cache.generation;
}

}  // namespace

void extension_catalog_init() {
    CacheRegisterSyscacheCallback(RELNAMENSP, on_invalidation, static_cast<Datum>(0));
    CacheRegisterSyscacheCallback(NAMESPACENAME, on_invalidation, static_cast<Datum>(0));
    CacheRegisterSyscacheCallback(ATTNAME, on_invalidation, static_cast<Datum>(0));
}

Oid extension_relation_oid(const char* name) {
    for (int i = 0; i < cache.relation_count; ++i)
        if (std::strcmp(cache.relations[i].name, name) == 0) return cache.relations[i].oid;
    const uint64 generation = cache.generation;
    Oid schema = get_namespace_oid("usage_meter", true);
    Oid oid = OidIsValid(schema) ? get_relname_relid(name, schema) : InvalidOid;
    if (generation == cache.generation && cache.relation_count < kRelations && std::strlen(name) < NAMEDATALEN) {
        RelationEntry& e = cache.relations[cache.relation_count++];
        std::strcpy(e.name, name);
        e.oid = oid;
    }
    return oid;
}

AttrNumber extension_column(Oid relid, const char* column) {
    for (int i = 0; i < cache.column_count; ++i) {
        const ColumnEntry& e = cache.columns[i];
        if (e.relid == relid && std::strcmp(e.name, column) == 0) return e.attnum;
    }
    const uint64 generation = cache.generation;
    AttrNumber attnum = get_attnum(relid, column);  // InvalidAttrNumber for a dropped or missing column
    if (generation == cache.generation && cache.column_count < kColumns && std::strlen(column) < NAMEDATALEN) {
        ColumnEntry& e = cache.columns[cache.column_count++];
        e.relid = relid;
        std::strcpy(e.name, column);
        e.attnum = attnum;
    }
    return attnum;
}

}  // namespace usage_meter::pg
