// A per-backend cache of what load_applicable_limits reads (the tenant's time zone and the limits that cover a
// tenant and user), so check_limit, reserve and the alert check stop reading usage_meter.tenants and
// usage_meter.limits on every call (a quarter of reserve's time in a profile).
//
// Correctness rests on relcache invalidation, the mechanism PostgreSQL uses for its own caches:
//   - row triggers on limits and tenants (1.3, BEFORE, ENABLE ALWAYS) call CacheInvalidateRelcache for the
//     table written, so every change reaches every backend when it commits, and this backend at its next
//     command boundary (and again at an abort after one); TRUNCATE invalidates the table by itself;
//   - a relcache callback marks the cache stale for those two tables (or a full reset); the next lookup
//     accepts pending invalidations first and drops everything if stale;
//   - a miss reads under the statement's snapshot (so one statement sees one state of the limits, as STABLE
//     promises) and stores the result only if no transaction has committed since that snapshot was taken
//     (compared with a snapshot taken after accepting invalidations): any later commit's invalidation is
//     still to arrive and will empty the cache. A commit becomes visible a moment before it sends its
//     invalidations, so a statement starting in that moment can still be served the entry from before it;
//     once the writer's COMMIT has returned, every backend's next call sees the change.
// The cache is used only under READ COMMITTED (REPEATABLE READ and SERIALIZABLE read at the transaction's
// snapshot, as before), outside parallel mode, and only while both triggers exist and fire always; otherwise
// every call reads the tables, as the library did before 1.3.
#pragma once

#include "applicable_limits.h"

extern "C" {
#include "utils/snapshot.h"
}

namespace usage_meter::pg {

// Registers the relcache callback; called once from _PG_init.
void limits_cache_init();

// Whether lookups may use the cache now (see above). Accepts pending invalidations, and empties the cache if
// one concerned it.
bool limits_cache_usable();

// Copies a cached entry for (tenant, user) into out (zone, count, limits, scope, alert); false on a miss.
bool limits_cache_get(Datum tenant, Datum user_id, bool user_null, ApplicableLimits* out);

// Whether `snapshot` sees everything a snapshot taken now would: the same running transactions, the same next
// transaction id and the same command; only then may what was read under it be stored.
bool limits_cache_snapshot_is_current(Snapshot snapshot);

// Stores what load_applicable_limits read for (tenant, user), replacing the entry it maps to.
void limits_cache_put(Datum tenant, Datum user_id, bool user_null, const ApplicableLimits* in);

}  // namespace usage_meter::pg
