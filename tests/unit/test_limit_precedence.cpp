// Which limits apply to a request and in what order: a named user's limit replaces the '*' limit of the same
// metric and period; the tenant's limits come first, then by metric name (billed_cost < cost < requests <
// tokens), then period name (day < month); equal candidates keep their input order.
#include <vector>

#include "test_support.h"

namespace usage_meter {
namespace {

LimitCandidate candidate(LimitScope scope, Metric metric, Period period) {
    LimitCandidate c;
    c.scope = scope;
    c.metric = metric;
    c.period = period;
    return c;
}

// The indexes applicable_limit_order returns, as a vector.
std::vector<size_t> order_of(const std::vector<LimitCandidate>& candidates) {
    std::vector<size_t> order(candidates.size() + 1, 999);
    const size_t n = applicable_limit_order(candidates.data(), candidates.size(), order.data());
    EXPECT_EQ(order[candidates.size()], 999u) << "wrote past count";
    order.resize(n);
    return order;
}

using V = std::vector<size_t>;

TEST(LimitPrecedence, NoCandidates) {
    size_t order[1] = {999};
    EXPECT_EQ(applicable_limit_order(nullptr, 0, order), 0u);
    EXPECT_EQ(order[0], 999u);
}

TEST(LimitPrecedence, SingleCandidateOfEachScopeApplies) {
    for (LimitScope s : {kScopeTenant, kScopeNamedUser, kScopeEachUser}) {
        SCOPED_TRACE(static_cast<int>(s));
        EXPECT_EQ(order_of({candidate(s, Metric::Cost, Period::Day)}), V({0}));
    }
}

TEST(LimitPrecedence, NamedUserReplacesEachUserOfSameMetricAndPeriod) {
    // Read order: the named user's limits before the '*' ones.
    EXPECT_EQ(order_of({candidate(kScopeNamedUser, Metric::Tokens, Period::Day),
                        candidate(kScopeEachUser, Metric::Tokens, Period::Day)}),
              V({0}));
    // Whatever the input order.
    EXPECT_EQ(order_of({candidate(kScopeEachUser, Metric::Tokens, Period::Day),
                        candidate(kScopeNamedUser, Metric::Tokens, Period::Day)}),
              V({1}));
}

TEST(LimitPrecedence, NamedUserDoesNotReplaceEachUserOnAnotherPeriodOrMetric) {
    // Same metric, other period: both apply; day sorts before month whatever the scope.
    EXPECT_EQ(order_of({candidate(kScopeNamedUser, Metric::Tokens, Period::Month),
                        candidate(kScopeEachUser, Metric::Tokens, Period::Day)}),
              V({1, 0}));
    // Same period, other metric: both apply; cost sorts before tokens.
    EXPECT_EQ(order_of({candidate(kScopeNamedUser, Metric::Tokens, Period::Day),
                        candidate(kScopeEachUser, Metric::Cost, Period::Day)}),
              V({1, 0}));
    // cost and billed_cost are different metrics.
    EXPECT_EQ(order_of({candidate(kScopeNamedUser, Metric::Cost, Period::Day),
                        candidate(kScopeEachUser, Metric::BilledCost, Period::Day)}),
              V({1, 0}));
}

TEST(LimitPrecedence, TenantLimitsAreNeverReplaced) {
    // A tenant-wide limit of the same metric and period as a named-user or '*' limit applies alongside them.
    EXPECT_EQ(order_of({candidate(kScopeTenant, Metric::Cost, Period::Day),
                        candidate(kScopeNamedUser, Metric::Cost, Period::Day)}),
              V({0, 1}));
    EXPECT_EQ(order_of({candidate(kScopeTenant, Metric::Cost, Period::Day),
                        candidate(kScopeEachUser, Metric::Cost, Period::Day)}),
              V({0, 1}));
    // And a tenant-wide limit does not replace a '*' one.
    EXPECT_EQ(order_of({candidate(kScopeTenant, Metric::Requests, Period::Month),
                        candidate(kScopeEachUser, Metric::Requests, Period::Month)}),
              V({0, 1}));
}

TEST(LimitPrecedence, EachUserDoesNotReplaceNamedUser) {
    // Only '*' candidates are ever dropped; two limits of the user's own both stay (ties keep input order).
    EXPECT_EQ(order_of({candidate(kScopeEachUser, Metric::Cost, Period::Month),
                        candidate(kScopeNamedUser, Metric::Cost, Period::Month),
                        candidate(kScopeNamedUser, Metric::Cost, Period::Month)}),
              V({1, 2}));
}

TEST(LimitPrecedence, TenantFirstThenMetricNameThenPeriodName) {
    // Input in the reverse of the expected order.
    const std::vector<LimitCandidate> in = {
        candidate(kScopeEachUser, Metric::Tokens, Period::Month),     // 0
        candidate(kScopeNamedUser, Metric::Requests, Period::Day),    // 1
        candidate(kScopeEachUser, Metric::Cost, Period::Month),       // 2
        candidate(kScopeNamedUser, Metric::BilledCost, Period::Day),  // 3
        candidate(kScopeTenant, Metric::Tokens, Period::Day),         // 4
        candidate(kScopeTenant, Metric::Cost, Period::Month),         // 5
        candidate(kScopeTenant, Metric::Cost, Period::Day),           // 6
        candidate(kScopeTenant, Metric::BilledCost, Period::Month),   // 7
    };
    // Tenant: billed_cost/month, cost/day, cost/month, tokens/day; then users: billed_cost/day, cost/month,
    // requests/day, tokens/month (named and '*' interleaved by name, not by scope).
    EXPECT_EQ(order_of(in), V({7, 6, 5, 4, 3, 2, 1, 0}));
}

TEST(LimitPrecedence, MetricOrderIsByNameNotByEnumValue) {
    // The enum lists Cost before BilledCost; the names sort billed_cost first. Requests before tokens.
    EXPECT_EQ(order_of({candidate(kScopeTenant, Metric::Tokens, Period::Day),
                        candidate(kScopeTenant, Metric::Requests, Period::Day),
                        candidate(kScopeTenant, Metric::Cost, Period::Day),
                        candidate(kScopeTenant, Metric::BilledCost, Period::Day)}),
              V({3, 2, 1, 0}));
}

TEST(LimitPrecedence, MetricComesBeforePeriod) {
    // cost/month before tokens/day: the metric decides before the period.
    EXPECT_EQ(order_of({candidate(kScopeNamedUser, Metric::Tokens, Period::Day),
                        candidate(kScopeNamedUser, Metric::Cost, Period::Month)}),
              V({1, 0}));
}

TEST(LimitPrecedence, TiesKeepInputOrder) {
    // Named and '*' limits are not ordered by scope: equal metric and period (here on different users' scopes
    // kept because neither is replaced) keep the order given. Tenant duplicates too.
    EXPECT_EQ(order_of({candidate(kScopeTenant, Metric::Cost, Period::Day),
                        candidate(kScopeTenant, Metric::Cost, Period::Day),
                        candidate(kScopeTenant, Metric::Cost, Period::Day)}),
              V({0, 1, 2}));
    EXPECT_EQ(order_of({candidate(kScopeEachUser, Metric::Cost, Period::Day),
                        candidate(kScopeEachUser, Metric::Cost, Period::Day)}),
              V({0, 1}));
    EXPECT_EQ(order_of({candidate(kScopeNamedUser, Metric::Cost, Period::Day),
                        candidate(kScopeTenant, Metric::Tokens, Period::Month),
                        candidate(kScopeNamedUser, Metric::Cost, Period::Day)}),
              V({1, 0, 2}));
}

TEST(LimitPrecedence, FullSetOfTwentyFour) {
    // Every metric and period in every scope: the 8 '*' limits are all replaced by the user's own 8.
    std::vector<LimitCandidate> in;
    for (LimitScope s : {kScopeTenant, kScopeNamedUser, kScopeEachUser})
        for (Metric m : {Metric::Cost, Metric::BilledCost, Metric::Tokens, Metric::Requests})
            for (Period p : {Period::Day, Period::Month}) in.push_back(candidate(s, m, p));
    const std::vector<size_t> order = order_of(in);
    ASSERT_EQ(order.size(), 16u);
    // Tenant: billed_cost day/month (2, 3), cost day/month (0, 1), requests (6, 7), tokens (4, 5); then the
    // named user's in the same pattern, offset by 8.
    EXPECT_EQ(order, V({2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13}));
    for (size_t i : order) EXPECT_NE(in[i].scope, kScopeEachUser);
}

TEST(LimitPrecedence, PartialOverrideKeepsOtherEachUserLimits) {
    // The user has its own cost/day only: the '*' cost/month and tokens/day still apply.
    EXPECT_EQ(order_of({candidate(kScopeNamedUser, Metric::Cost, Period::Day),
                        candidate(kScopeEachUser, Metric::Cost, Period::Day),
                        candidate(kScopeEachUser, Metric::Cost, Period::Month),
                        candidate(kScopeEachUser, Metric::Tokens, Period::Day)}),
              V({0, 2, 3}));
}

}  // namespace
}  // namespace usage_meter
