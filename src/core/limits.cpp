#include "limits.h"

#include <string>

#include "error.h"

namespace usage_meter {

Metric parse_metric(std::string_view text, std::string_view argument) {
    if (text == "cost") return Metric::Cost;
    if (text == "billed_cost") return Metric::BilledCost;
    if (text == "tokens") return Metric::Tokens;
    if (text == "requests") return Metric::Requests;
    throw CoreError(ErrorKind::InvalidParameter, "invalid " + std::string(argument) + ": \"" + std::string(text) + "\"",
                    "valid metrics are cost, billed_cost, tokens and requests");
}

const char* metric_name(Metric metric) {
    switch (metric) {
        case Metric::Cost: return "cost";
        case Metric::BilledCost: return "billed_cost";
        case Metric::Tokens: return "tokens";
        case Metric::Requests: return "requests";
    }
    return "requests";
}

Decimal estimate_for(Metric metric, const Estimate& estimate) {
    switch (metric) {
        case Metric::Cost:
        case Metric::BilledCost: return estimate.cost;
        case Metric::Tokens: return Decimal::from_int(estimate.tokens);
        case Metric::Requests: return Decimal::from_int(1);
    }
    return Decimal();
}

namespace {

// The share of a limit left after `consumed`, (max - consumed) / max, compared exactly. A limit of 0 has a
// share of 0 while nothing is consumed and of minus infinity once anything is.
int compare_share(const LimitState& a, const Decimal& consumed_a, const LimitState& b, const Decimal& consumed_b) {
    Decimal left_a = a.max_value - consumed_a, left_b = b.max_value - consumed_b;
    bool minus_infinity_a = a.max_value.is_zero() && left_a.is_negative();
    bool minus_infinity_b = b.max_value.is_zero() && left_b.is_negative();
    if (minus_infinity_a || minus_infinity_b)
        return minus_infinity_a == minus_infinity_b ? 0 : (minus_infinity_a ? -1 : 1);
    const Decimal one = Decimal::from_int(1);
    return compare_ratios(left_a, a.max_value.is_zero() ? one : a.max_value, left_b,
                          b.max_value.is_zero() ? one : b.max_value);
}

}  // namespace

Decision decide(const LimitState* limits, size_t count, const Estimate& estimate) {
    Decision out;
    int refusing = -1, tightest = -1;
    for (size_t i = 0; i < count; ++i) {
        const LimitState& l = limits[i];
        Decimal after = l.used + l.held + estimate_for(l.metric, estimate);
        if (l.hard && after > l.max_value) {
            if (refusing < 0) {
                refusing = static_cast<int>(i);
            } else {
                const LimitState& r = limits[refusing];
                if (compare_share(l, after, r, r.used + r.held + estimate_for(r.metric, estimate)) < 0)
                    refusing = static_cast<int>(i);
            }
        }
        if (tightest < 0 ||
            compare_share(l, l.used + l.held, limits[tightest], limits[tightest].used + limits[tightest].held) < 0)
            tightest = static_cast<int>(i);
    }
    out.allowed = refusing < 0;
    out.limit = refusing >= 0 ? refusing : tightest;
    if (out.limit >= 0) {
        const LimitState& r = limits[out.limit];
        Decimal left = r.max_value - r.used - r.held;
        out.remaining = left.is_negative() ? Decimal() : left;
    }
    return out;
}

const char* alert_level_name(unsigned level) {
    switch (level) {
        case kAlertSoft: return "soft";
        case kAlertWarning: return "warning";
        case kAlertReached: return "reached";
    }
    throw CoreError(ErrorKind::Internal, "unknown alert level");
}

unsigned alert_levels(const Decimal& used, const Decimal& max_value, bool hard) {
    if (used.is_negative() || used.is_zero()) return 0;
    if (max_value.is_negative()) throw CoreError(ErrorKind::Internal, "a limit's max_value is negative");
    const bool at_max = used >= max_value;
    if (!hard) return at_max ? kAlertSoft : 0u;
    unsigned levels = at_max ? kAlertReached : 0u;
    // used / max >= 4 / 5, exactly (a limit of 0 is reached, and so past 80 %, by anything used).
    if (at_max || compare_ratios(used, max_value, Decimal::from_int(4), Decimal::from_int(5)) >= 0)
        levels |= kAlertWarning;
    return levels;
}

bool alert_check_includes(bool alert, Period period, const CivilDate* event_day, const CivilDate& current_period_start) {
    if (!alert) return false;
    return event_day == nullptr || period_start(period, *event_day) == current_period_start;
}

}  // namespace usage_meter
