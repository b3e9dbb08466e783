// Reads the limits that cover a request of (tenant, user), with what has been used and what is held against
// each. Shared by check_limit and reserve, so both decide on the same numbers the same way.
#pragma once

#include "applicable_limits.h"

extern "C" {
#include "datatype/timestamp.h"
#include "utils/snapshot.h"
}

namespace usage_meter::pg {

// Reads the tenant and the limits that cover (tenant, user) under the active snapshot: the tenant's own, the
// user's named ones, and the '*' ones the user has no named limit for; in the order applicable_limit_order
// (limit_precedence.h) gives them, which decide() breaks ties by. used and held are left at zero.
void load_applicable_limits(Datum tenant, Datum user_id, bool user_null, TimestampTz now, ApplicableLimits* out);

// Fills each limit's used from the live counters, read under `snapshot`.
void read_used(ApplicableLimits* limits, Datum tenant, Datum user_id, Snapshot snapshot);

// Fills each limit's held from the reservations still holding at `now` (state 'held', expires_at > now), read
// under `snapshot` (reserve passes a dirty snapshot, so uncommitted holds count too). Does nothing on a
// database whose extension has no reservations table yet (still at 1.0).
void read_held(ApplicableLimits* limits, Datum tenant, Datum user_id, bool user_null, Snapshot snapshot, TimestampTz now);

// Whether any hard limit of the given scope (tenant-wide, or the user's) applies.
bool has_hard_limit(const ApplicableLimits* limits, bool tenant_scope);

}  // namespace usage_meter::pg
