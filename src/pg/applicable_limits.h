// The limits that cover a request of (tenant, user) as read from usage_meter.limits, with what has been used
// and what is held against each: plain data, filled by load_applicable_limits (limit_reads.h) and kept per
// backend by the limits cache (limits_cache.h).
#pragma once

#include "boundary.h"

extern "C" {
#include "pgtime.h"
}

namespace usage_meter::pg {

// Per metric and period (4 x 2): at most one tenant-wide limit, one named-user limit and one '*' limit.
constexpr int kMaxApplicableLimits = 24;

struct ApplicableLimits {
    pg_tz* zone;  // the tenant's time zone; nullptr for a tenant never seen (it has no limits)
    bool moving;  // the tenant is being moved to another database (tenants.moving): reserve() refuses it
    int count;
    usage_meter::LimitState limits[kMaxApplicableLimits];
    int scope[kMaxApplicableLimits];   // LimitScope (limit_precedence.h)
    bool alert[kMaxApplicableLimits];  // limits.alert (1.1): whether the limit sends alerts; false at 1.0
    PeriodBounds day;                  // the current day and month in the tenant's zone (set when count > 0)
    PeriodBounds month;
};

// The period bounds a limit is measured over.
inline const PeriodBounds& bounds_of(const ApplicableLimits* a, int i) {
    return a->limits[i].period == Period::Day ? a->day : a->month;
}

}  // namespace usage_meter::pg
