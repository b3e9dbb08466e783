// Limit decisions. Shares (max - used) / max are worked out by hand in the comments.
#include <string>
#include <vector>

#include "test_support.h"

namespace usage_meter {
namespace {

using test::dec;

LimitState limit(Metric metric, const char* max_value, const char* used, bool hard = true) {
    LimitState l;
    l.metric = metric;
    l.period = Period::Day;
    l.max_value = dec(max_value);
    l.used = dec(used);
    l.hard = hard;
    return l;
}

Estimate estimate(const char* cost = "0", int64_t tokens = 0) {
    Estimate e;
    e.cost = dec(cost);
    e.tokens = tokens;
    return e;
}

Decision decide_all(const std::vector<LimitState>& limits, const Estimate& e) {
    return decide(limits.data(), limits.size(), e);
}

// ---- metric names ------------------------------------------------------------------------------------

TEST(Metrics, ParseAndName) {
    EXPECT_EQ(parse_metric("cost"), Metric::Cost);
    EXPECT_EQ(parse_metric("billed_cost"), Metric::BilledCost);
    EXPECT_EQ(parse_metric("tokens"), Metric::Tokens);
    EXPECT_EQ(parse_metric("requests"), Metric::Requests);
    EXPECT_STREQ(metric_name(Metric::Cost), "cost");
    EXPECT_STREQ(metric_name(Metric::BilledCost), "billed_cost");
    EXPECT_STREQ(metric_name(Metric::Tokens), "tokens");
    EXPECT_STREQ(metric_name(Metric::Requests), "requests");
    for (Metric m : {Metric::Cost, Metric::BilledCost, Metric::Tokens, Metric::Requests})
        EXPECT_EQ(parse_metric(metric_name(m)), m);
}

TEST(Metrics, ParseErrorsNameTheArgumentAndValue) {
    for (const char* bad : {"", "Cost", "COST", "token", "request", "billed-cost", "billedcost", " cost", "cost "}) {
        SCOPED_TRACE(bad);
        EXPECT_CORE_ERROR(parse_metric(bad), ErrorKind::InvalidParameter, "metric");
        EXPECT_CORE_ERROR(parse_metric(bad, "limit_metric"), ErrorKind::InvalidParameter, "limit_metric",
                          std::string("\"") + bad + "\"");
    }
}

// ---- estimates ---------------------------------------------------------------------------------------

TEST(Estimates, WhatARequestAdds) {
    const Estimate e = estimate("0.25", 1500);
    EXPECT_EQ(estimate_for(Metric::Cost, e), dec("0.25"));
    EXPECT_EQ(estimate_for(Metric::BilledCost, e), dec("0.25"));
    EXPECT_EQ(estimate_for(Metric::Tokens, e), dec("1500"));
    EXPECT_EQ(estimate_for(Metric::Requests, e), dec("1"));
    EXPECT_EQ(estimate_for(Metric::Requests, estimate()), dec("1"));  // a request is one request regardless
}

// ---- decide ------------------------------------------------------------------------------------------

TEST(Decide, NoLimitsAllows) {
    Decision d = decide(nullptr, 0, estimate("1000", 1000000));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, -1);
    EXPECT_TRUE(d.remaining.is_zero());
}

TEST(Decide, HardRequestLimitAllowsReachingTheMaximumButNotPassingIt) {
    // The request estimate is 1: used 9 + 1 = 10 = max is allowed; used 10 + 1 = 11 > 10 is refused.
    Decision ok = decide_all({limit(Metric::Requests, "10", "9")}, estimate());
    EXPECT_TRUE(ok.allowed);
    EXPECT_EQ(ok.limit, 0);
    EXPECT_EQ(ok.remaining, dec("1"));

    Decision refused = decide_all({limit(Metric::Requests, "10", "10")}, estimate());
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.limit, 0);
    EXPECT_TRUE(refused.remaining.is_zero());
}

TEST(Decide, TokenEstimate) {
    // 900 + 100 = 1000 = max: allowed. 900 + 101 = 1001: refused.
    EXPECT_TRUE(decide_all({limit(Metric::Tokens, "1000", "900")}, estimate("0", 100)).allowed);
    Decision refused = decide_all({limit(Metric::Tokens, "1000", "900")}, estimate("0", 101));
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.limit, 0);
    EXPECT_EQ(refused.remaining, dec("100"));  // max - used; the estimate is not subtracted
    // The cost estimate does not count against a token limit.
    EXPECT_TRUE(decide_all({limit(Metric::Tokens, "1000", "900")}, estimate("1000000", 0)).allowed);
}

TEST(Decide, CostEstimateIsExact) {
    // 0.99999999 + 0.00000001 = 1.00000000 = max: allowed; + 0.00000002 exceeds it by 10^-8.
    EXPECT_TRUE(decide_all({limit(Metric::Cost, "1", "0.99999999")}, estimate("0.00000001")).allowed);
    Decision refused = decide_all({limit(Metric::Cost, "1", "0.99999999")}, estimate("0.00000002"));
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, dec("0.00000001"));
    // Billed-cost limits use the same cost estimate.
    EXPECT_TRUE(decide_all({limit(Metric::BilledCost, "0.3", "0.1")}, estimate("0.2")).allowed);  // 0.1+0.2 = 0.3
    EXPECT_FALSE(decide_all({limit(Metric::BilledCost, "0.3", "0.1")}, estimate("0.2000001")).allowed);
    // Token counts do not count against a cost limit.
    EXPECT_TRUE(decide_all({limit(Metric::Cost, "1", "0.5")}, estimate("0", 1000000000)).allowed);
}

TEST(Decide, SoftLimitsNeverRefuse) {
    Decision d = decide_all({limit(Metric::Requests, "1", "5", /*hard=*/false)}, estimate());
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 0);
    EXPECT_TRUE(d.remaining.is_zero());  // max - used = -4, clamped
    EXPECT_TRUE(decide_all({limit(Metric::Tokens, "100", "0", false)}, estimate("0", 1000)).allowed);
    EXPECT_TRUE(decide_all({limit(Metric::Cost, "0", "0", false)}, estimate("5")).allowed);
}

TEST(Decide, AllowedReportsTheSmallestRemainingShare) {
    // Shares (max - used) / max: requests 50/100 = 0.5, tokens 100/1000 = 0.1, cost 7/10 = 0.7.
    std::vector<LimitState> limits = {limit(Metric::Requests, "100", "50"), limit(Metric::Tokens, "1000", "900"),
                                      limit(Metric::Cost, "10", "3")};
    Decision d = decide_all(limits, estimate("0.01", 10));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 1);
    EXPECT_EQ(d.remaining, dec("100"));
    // A soft limit can be the tightest one: share 1/20 = 0.05.
    limits.push_back(limit(Metric::Requests, "20", "19", false));
    d = decide_all(limits, estimate("0.01", 10));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 3);
    EXPECT_EQ(d.remaining, dec("1"));
}

TEST(Decide, TheShareIsComparedNotTheAbsoluteRemainder) {
    // 9 of 10 requests left (0.9) against 500 of 1000 tokens left (0.5): the token limit is tighter although
    // far more of it is left in absolute terms. The order of the limits does not matter.
    EXPECT_EQ(decide_all({limit(Metric::Requests, "10", "1"), limit(Metric::Tokens, "1000", "500")}, estimate()).limit,
              1);
    EXPECT_EQ(decide_all({limit(Metric::Tokens, "1000", "500"), limit(Metric::Requests, "10", "1")}, estimate()).limit,
              0);
}

TEST(Decide, SharesAreComparedExactly) {
    // 2/3 = 0.6666... against 666666/1000000 = 0.666666: the latter is smaller.
    EXPECT_EQ(decide_all({limit(Metric::Requests, "3", "1"), limit(Metric::Tokens, "1000000", "333334")}, estimate()).limit,
              1);
    // 2/3 against 2000000000001/3000000000000 (slightly more than 2/3): the former is smaller.
    EXPECT_EQ(decide_all({limit(Metric::Tokens, "3000000000000", "999999999999"), limit(Metric::Requests, "3", "1")},
                         estimate())
                  .limit,
              1);
    // Shares whose naive cross products need ~10^40 (beyond 2^127): 99999999999999999998/99999999999999999998 = 1
    // against (10^20 - 2)/(10^20 - 1) < 1.
    EXPECT_EQ(decide_all({limit(Metric::Cost, "99999999999999999998", "0"),
                          limit(Metric::Cost, "99999999999999999999", "1")},
                         estimate())
                  .limit,
              1);
}

TEST(Decide, TiesGoToTheEarlierLimit) {
    // 5/10 and 50/100 are both 0.5.
    EXPECT_EQ(decide_all({limit(Metric::Requests, "10", "5"), limit(Metric::Tokens, "100", "50")}, estimate()).limit, 0);
    EXPECT_EQ(decide_all({limit(Metric::Tokens, "100", "50"), limit(Metric::Requests, "10", "5")}, estimate()).limit, 0);
}

TEST(Decide, RefusalReportsTheMostExceededLimit) {
    // After the request: requests (10 - 11)/10 = -0.1, tokens (100 - 150)/100 = -0.5, cost (1 - 1.05)/1 = -0.05.
    std::vector<LimitState> limits = {limit(Metric::Requests, "10", "10"), limit(Metric::Tokens, "100", "100"),
                                      limit(Metric::Cost, "1", "0.95")};
    Decision d = decide_all(limits, estimate("0.1", 50));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 1);
    EXPECT_TRUE(d.remaining.is_zero());
    // The share after the request decides, not the share before it: tokens used 60 of 100 (0.4 left) but the
    // estimate of 200 takes it to -1.6, beyond the requests limit's -0.1.
    limits = {limit(Metric::Requests, "10", "10"), limit(Metric::Tokens, "100", "60")};
    d = decide_all(limits, estimate("0", 200));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 1);
    EXPECT_EQ(d.remaining, dec("40"));
}

TEST(Decide, RefusalTiesGoToTheEarlierLimit) {
    // Both exceeded by the same share after the request: (10 - 11)/10 = (100 - 110)/100 = -0.1.
    std::vector<LimitState> limits = {limit(Metric::Requests, "10", "10"), limit(Metric::Tokens, "100", "100")};
    Decision d = decide_all(limits, estimate("0", 10));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 0);
    limits = {limit(Metric::Tokens, "100", "100"), limit(Metric::Requests, "10", "10")};
    d = decide_all(limits, estimate("0", 10));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 0);
}

TEST(Decide, RefusalBeatsAnyAllowedOrSoftLimit) {
    // A soft limit far over budget (share (10 - 100)/10 = -9) is tighter, but only a hard limit can refuse.
    std::vector<LimitState> limits = {limit(Metric::Tokens, "10", "100", false), limit(Metric::Cost, "1", "0.5"),
                                      limit(Metric::Requests, "10", "10")};
    Decision d = decide_all(limits, estimate("0.1", 1));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 2);
    // Without the refusing limit the soft one is reported as the tightest.
    limits.pop_back();
    d = decide_all(limits, estimate("0.1", 1));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 0);
    EXPECT_TRUE(d.remaining.is_zero());  // 10 - 100 clamps at 0
}

TEST(Decide, ZeroMaximum) {
    // A request always adds 1, so a hard request limit of 0 always refuses.
    Decision d = decide_all({limit(Metric::Requests, "0", "0")}, estimate());
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 0);
    EXPECT_TRUE(d.remaining.is_zero());
    // Nothing to add to a cost or token limit of 0: 0 + 0 is not more than 0.
    EXPECT_TRUE(decide_all({limit(Metric::Cost, "0", "0")}, estimate("0")).allowed);
    EXPECT_TRUE(decide_all({limit(Metric::Tokens, "0", "0")}, estimate("0", 0)).allowed);
    EXPECT_FALSE(decide_all({limit(Metric::Cost, "0", "0")}, estimate("0.000001")).allowed);
    EXPECT_FALSE(decide_all({limit(Metric::Tokens, "0", "0")}, estimate("0", 1)).allowed);
}

TEST(Decide, ZeroMaximumIsTheMostExceededOnceAnythingIsAdded) {
    // Exceeding a limit of 0 is infinitely exceeded: it beats tokens at (100 - 1000)/100 = -9, in either order.
    std::vector<LimitState> limits = {limit(Metric::Tokens, "100", "0"), limit(Metric::Requests, "0", "0")};
    EXPECT_EQ(decide_all(limits, estimate("0", 1000)).limit, 1);
    limits = {limit(Metric::Requests, "0", "0"), limit(Metric::Tokens, "100", "0")};
    EXPECT_EQ(decide_all(limits, estimate("0", 1000)).limit, 0);
}

TEST(Decide, ZeroMaximumWhenAllowed) {
    // Unused, a limit of 0 has a share of 0: tighter than 0.5 left...
    std::vector<LimitState> limits = {limit(Metric::Requests, "10", "5"), limit(Metric::Cost, "0", "0")};
    Decision d = decide_all(limits, estimate("0"));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 1);
    EXPECT_TRUE(d.remaining.is_zero());
    // ...and tied with a limit that is exactly used up (share 0), where the earlier one wins.
    limits = {limit(Metric::Tokens, "100", "100"), limit(Metric::Cost, "0", "0")};
    EXPECT_EQ(decide_all(limits, estimate("0")).limit, 0);
    limits = {limit(Metric::Cost, "0", "0"), limit(Metric::Tokens, "100", "100")};
    EXPECT_EQ(decide_all(limits, estimate("0")).limit, 0);
    // Used past 0 (a soft limit), it is infinitely exceeded: tighter than a soft limit at share -9.
    limits = {limit(Metric::Tokens, "10", "100", false), limit(Metric::Cost, "0", "0.01", false)};
    d = decide_all(limits, estimate("0"));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 1);
    EXPECT_TRUE(d.remaining.is_zero());
}

TEST(Decide, RemainingClampsAtZero) {
    Decision d = decide_all({limit(Metric::Tokens, "100", "150", false)}, estimate());
    EXPECT_EQ(d.limit, 0);
    EXPECT_TRUE(d.remaining.is_zero());
    EXPECT_FALSE(d.remaining.is_negative());
    d = decide_all({limit(Metric::Cost, "2.5", "0.75")}, estimate("0.5"));
    EXPECT_EQ(d.remaining, dec("1.75"));
}

// ---- held amounts (live reservations) ------------------------------------------------------------------

LimitState held_limit(Metric metric, const char* max_value, const char* used, const char* held) {
    LimitState l = limit(metric, max_value, used);
    l.held = dec(held);
    return l;
}

TEST(Decide, HeldAmountsCountLikeUsage) {
    // max 10, used 3, held 4: an estimate of 3 fits exactly (3 + 4 + 3 = 10), 3.01 does not.
    Decision d = decide_all({held_limit(Metric::Cost, "10", "3", "4")}, estimate("3"));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, dec("3"));
    d = decide_all({held_limit(Metric::Cost, "10", "3", "4")}, estimate("3.01"));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.limit, 0);
    EXPECT_EQ(d.remaining, dec("3"));
}

TEST(Decide, HeldAmountsChooseTheTightestLimit) {
    // tokens: (100 - 10 - 80) / 100 = 0.10 left; requests: (10 - 5 - 0) / 10 = 0.5 left.
    Decision d = decide_all({held_limit(Metric::Requests, "10", "5", "0"), held_limit(Metric::Tokens, "100", "10", "80")},
                            estimate("0", 5));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 1);
    EXPECT_EQ(d.remaining, dec("10"));
    // Holds alone can exhaust a limit: nothing used, everything held.
    d = decide_all({held_limit(Metric::Requests, "2", "0", "2")}, estimate());
    EXPECT_FALSE(d.allowed);
    EXPECT_TRUE(d.remaining.is_zero());
}

TEST(Decide, HeldAmountsDoNotMakeSoftLimitsRefuse) {
    LimitState soft = held_limit(Metric::Requests, "1", "0", "5");
    soft.hard = false;
    Decision d = decide_all({soft}, estimate());
    EXPECT_TRUE(d.allowed);
    EXPECT_TRUE(d.remaining.is_zero());
}

// ---- alert levels --------------------------------------------------------------------------------------

TEST(AlertLevels, HardLimitWarnsAtEightyPercentExactly) {
    // 79.999 / 100 is below 4/5; 80 / 100 is exactly 4/5.
    EXPECT_EQ(alert_levels(dec("79.999"), dec("100"), true), 0u);
    EXPECT_EQ(alert_levels(dec("80"), dec("100"), true), static_cast<unsigned>(kAlertWarning));
    EXPECT_EQ(alert_levels(dec("99.9999999"), dec("100"), true), static_cast<unsigned>(kAlertWarning));
    // 0.000008 / 0.00001 = 4/5 at a small scale.
    EXPECT_EQ(alert_levels(dec("0.000008"), dec("0.00001"), true), static_cast<unsigned>(kAlertWarning));
    EXPECT_EQ(alert_levels(dec("0.0000079"), dec("0.00001"), true), 0u);
    // 4 of 5 requests is 80 %; 3 of 5 is 60 %.
    EXPECT_EQ(alert_levels(dec("4"), dec("5"), true), static_cast<unsigned>(kAlertWarning));
    EXPECT_EQ(alert_levels(dec("3"), dec("5"), true), 0u);
}

TEST(AlertLevels, HardLimitReachedAtMaxAndAbove) {
    const unsigned both = kAlertWarning | kAlertReached;
    EXPECT_EQ(alert_levels(dec("100"), dec("100"), true), both);
    EXPECT_EQ(alert_levels(dec("250.5"), dec("100"), true), both);
    // One event can jump from below 80 % past 100 %: both levels at once.
    EXPECT_EQ(alert_levels(dec("7"), dec("5"), true), both);
}

TEST(AlertLevels, SoftLimitOnlyAtMax) {
    EXPECT_EQ(alert_levels(dec("80"), dec("100"), false), 0u);
    EXPECT_EQ(alert_levels(dec("99.99"), dec("100"), false), 0u);
    EXPECT_EQ(alert_levels(dec("100"), dec("100"), false), static_cast<unsigned>(kAlertSoft));
    EXPECT_EQ(alert_levels(dec("1000"), dec("100"), false), static_cast<unsigned>(kAlertSoft));
}

TEST(AlertLevels, NothingBeforeAnythingIsUsed) {
    EXPECT_EQ(alert_levels(dec("0"), dec("0"), true), 0u);
    EXPECT_EQ(alert_levels(dec("0"), dec("0"), false), 0u);
    EXPECT_EQ(alert_levels(dec("-3"), dec("10"), true), 0u);  // reversals can leave a counter below zero
    // A limit of 0: anything used reaches it.
    EXPECT_EQ(alert_levels(dec("0.01"), dec("0"), true), static_cast<unsigned>(kAlertWarning | kAlertReached));
    EXPECT_EQ(alert_levels(dec("1"), dec("0"), false), static_cast<unsigned>(kAlertSoft));
}

TEST(AlertLevels, Names) {
    EXPECT_STREQ(alert_level_name(kAlertSoft), "soft");
    EXPECT_STREQ(alert_level_name(kAlertWarning), "warning");
    EXPECT_STREQ(alert_level_name(kAlertReached), "reached");
    EXPECT_THROW(alert_level_name(3u), CoreError);
}

// ---- which limits the alert check looks at -----------------------------------------------------------

TEST(AlertCheck, OnlyLimitsWithAlerts) {
    const CivilDate today{2024, 3, 15}, month{2024, 3, 1};
    EXPECT_FALSE(alert_check_includes(false, Period::Day, nullptr, today));
    EXPECT_FALSE(alert_check_includes(false, Period::Day, &today, today));
    EXPECT_FALSE(alert_check_includes(false, Period::Month, &today, month));
    EXPECT_TRUE(alert_check_includes(true, Period::Day, &today, today));
    EXPECT_TRUE(alert_check_includes(true, Period::Month, &today, month));
}

TEST(AlertCheck, WithoutAnEventDayEveryLimitWithAlerts) {
    // The set-based roll-up: whatever the current periods.
    EXPECT_TRUE(alert_check_includes(true, Period::Day, nullptr, CivilDate{2024, 3, 15}));
    EXPECT_TRUE(alert_check_includes(true, Period::Month, nullptr, CivilDate{1999, 12, 1}));
}

TEST(AlertCheck, DayLimitOnlyForAnEventOfToday) {
    const CivilDate today{2024, 3, 15};
    const CivilDate yesterday{2024, 3, 14}, tomorrow{2024, 3, 16}, same_day_last_month{2024, 2, 15},
        same_day_last_year{2023, 3, 15};
    EXPECT_TRUE(alert_check_includes(true, Period::Day, &today, today));
    for (const CivilDate& d : {yesterday, tomorrow, same_day_last_month, same_day_last_year}) {
        SCOPED_TRACE(std::to_string(d.year) + "-" + std::to_string(d.month) + "-" + std::to_string(d.day));
        EXPECT_FALSE(alert_check_includes(true, Period::Day, &d, today));
    }
}

TEST(AlertCheck, MonthLimitForAnyDayOfTheCurrentMonth) {
    const CivilDate march{2024, 3, 1};
    for (int day : {1, 14, 15, 31}) {
        const CivilDate d{2024, 3, day};
        EXPECT_TRUE(alert_check_includes(true, Period::Month, &d, march)) << day;
    }
    const CivilDate feb_last{2024, 2, 29}, april_first{2024, 4, 1}, march_last_year{2023, 3, 15};
    EXPECT_FALSE(alert_check_includes(true, Period::Month, &feb_last, march));
    EXPECT_FALSE(alert_check_includes(true, Period::Month, &april_first, march));
    EXPECT_FALSE(alert_check_includes(true, Period::Month, &march_last_year, march));
}

TEST(AlertCheck, YesterdaysEventStillCountsForTheMonth) {
    // An event late for yesterday (same month): the day limit is skipped, the month limit is looked at.
    const CivilDate today{2024, 3, 15}, month{2024, 3, 1}, yesterday{2024, 3, 14};
    EXPECT_FALSE(alert_check_includes(true, Period::Day, &yesterday, today));
    EXPECT_TRUE(alert_check_includes(true, Period::Month, &yesterday, month));
    // Across a month boundary: neither.
    const CivilDate first{2024, 4, 1}, april{2024, 4, 1}, march_last{2024, 3, 31};
    EXPECT_FALSE(alert_check_includes(true, Period::Day, &march_last, first));
    EXPECT_FALSE(alert_check_includes(true, Period::Month, &march_last, april));
}

}  // namespace
}  // namespace usage_meter
