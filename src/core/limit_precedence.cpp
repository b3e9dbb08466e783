#include "limit_precedence.h"

#include <cstring>

namespace usage_meter {

namespace {

bool replaced_by_named_user(const LimitCandidate* candidates, size_t count, const LimitCandidate& c) {
    if (c.scope != kScopeEachUser) return false;
    for (size_t i = 0; i < count; ++i)
        if (candidates[i].scope == kScopeNamedUser && candidates[i].metric == c.metric && candidates[i].period == c.period)
            return true;
    return false;
}

// Whether a goes strictly before b: the tenant's limits first, then by metric and period names.
bool considered_before(const LimitCandidate& a, const LimitCandidate& b) {
    const bool ta = a.scope == kScopeTenant, tb = b.scope == kScopeTenant;
    if (ta != tb) return ta;
    const int c = std::strcmp(metric_name(a.metric), metric_name(b.metric));
    if (c != 0) return c < 0;
    return std::strcmp(period_name(a.period), period_name(b.period)) < 0;
}

}  // namespace

size_t applicable_limit_order(const LimitCandidate* candidates, size_t count, size_t* order) {
    size_t kept = 0;
    for (size_t i = 0; i < count; ++i)
        if (!replaced_by_named_user(candidates, count, candidates[i])) order[kept++] = i;
    // Insertion sort: stable, so equal candidates keep their input order.
    for (size_t i = 1; i < kept; ++i)
        for (size_t j = i; j > 0 && considered_before(candidates[order[j]], candidates[order[j - 1]]); --j) {
            const size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    return kept;
}

}  // namespace usage_meter
