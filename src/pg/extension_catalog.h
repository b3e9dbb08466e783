// What the installed extension has, looked up once per backend: the OIDs of its relations (by name) and the
// numbers of their columns (by relation and name). Every probe of the installed SQL version goes through here:
// a database still at an older version lacks some columns (1.0: prices.tiers, tenants.alert_limits, ...), and
// the C code asks whether a column exists instead of comparing version strings, so a database in the middle of
// ALTER EXTENSION UPDATE is served by what it has at that moment.
//
// check_limit, reserve and usage_record open a handful of usage_meter's tables and indexes on every call, and
// finding each by name costs two catalog-cache searches (schema, then relation). What is found is kept here
// until any invalidation of pg_class's by-name cache, of the schemas' or of pg_attribute's (a relation created,
// dropped or renamed anywhere, a column added, dropped or renamed, which includes ALTER EXTENSION UPDATE and
// DROP/CREATE EXTENSION). A backend accepts invalidations at every transaction start, lock acquisition and
// command boundary, the same moments its catalog caches catch up, so a cached entry is never older than what
// the catalog lookup would have returned.
#pragma once

#include "boundary.h"

extern "C" {
#include "access/attnum.h"
}

namespace usage_meter::pg {

// Registers the catalog-cache callbacks; called once from _PG_init.
void extension_catalog_init();

// The OID of usage_meter.<name> (a table, index or sequence), or InvalidOid when there is none.
Oid extension_relation_oid(const char* name);

// The attribute number of the column of relation `relid`, or InvalidAttrNumber (0) when it has none.
AttrNumber extension_column(Oid relid, const char* column);

}  // namespace usage_meter::pg
