// OIDs of the extension's relations, looked up by name once per backend instead of on every call.
//
// check_limit, reserve and usage_record open a handful of usage_meter's tables and indexes on every call, and
// finding each by name costs two catalog-cache searches (schema, then relation). The OIDs found are kept here
// until any invalidation of pg_class's by-name cache or of the schemas' (a relation created, dropped or
// renamed anywhere, which includes ALTER EXTENSION UPDATE and DROP/CREATE EXTENSION). A backend accepts
// invalidations at every transaction start and lock acquisition, the same moments its catalog caches catch up,
// so a cached OID is never older than what the by-name lookup would have returned.
#pragma once

#include "boundary.h"

namespace usage_meter::pg {

// Registers the catalog-cache callbacks; called once from _PG_init.
void relation_oids_init();

// The OID of usage_meter.<name> (a table, index or sequence), or InvalidOid when there is none.
Oid extension_relation_oid(const char* name);

}  // namespace usage_meter::pg
