// Which limits apply to a request of (tenant, user), and in what order they are considered: a named user's
// limit replaces the '*' (each user) limit of the same metric and period, and the applicable ones are ordered
// tenant-wide first, then by metric and period names. decide() breaks ties by this order.
#pragma once

#include <cstddef>

#include "limits.h"
#include "period.h"

namespace usage_meter {

// Whose limit it is: the tenant's total (user_id NULL), the named user's own, or every user's ('*').
// The values are also the order the rows are read in (the tenant's, then the named user's, then the '*' ones).
enum LimitScope : int { kScopeTenant = 0, kScopeNamedUser = 1, kScopeEachUser = 2 };

// One row of usage_meter.limits that may cover the request.
struct LimitCandidate {
    LimitScope scope = kScopeTenant;
    Metric metric = Metric::Requests;
    Period period = Period::Day;
};

// Writes into order[] the indexes of the candidates that apply, in the order decide() considers them, and
// returns how many apply (order must have room for `count`). A '*' candidate does not apply when a named-user
// candidate has the same metric and period; every other candidate applies. The order: tenant-wide limits
// first, then named-user and '*' limits together; within each, by metric name, then period name (byte order of
// metric_name and period_name); candidates equal in all of these keep their order in the input.
size_t applicable_limit_order(const LimitCandidate* candidates, size_t count, size_t* order);

}  // namespace usage_meter
