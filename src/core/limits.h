// Limit decisions: may a request go ahead, given every limit that covers it and what has been used.
// One function decides; check_limit (and later reservations) call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "decimal.h"
#include "period.h"

namespace usage_meter {

enum class Metric { Cost, BilledCost, Tokens, Requests };

// "cost", "billed_cost", "tokens" or "requests"; throws CoreError naming `argument` otherwise.
Metric parse_metric(std::string_view text, std::string_view argument = "metric");
const char* metric_name(Metric metric);

struct LimitState {
    Metric metric = Metric::Requests;
    Period period = Period::Day;
    Decimal max_value;
    bool hard = true;
    Decimal used;  // in the limit's metric, over the limit's current period and scope
    Decimal held;  // estimates of live reservations in the limit's scope, in the limit's metric
};

struct Estimate {
    Decimal cost;        // for cost and billed_cost limits
    int64_t tokens = 0;  // for token limits
};

// What this request adds to a limit's metric: the estimated cost or tokens, or 1 request.
Decimal estimate_for(Metric metric, const Estimate& estimate);

struct Decision {
    bool allowed = true;
    int limit = -1;     // index of the limit reported (the refusing one, else the tightest); -1 with no limits
    Decimal remaining;  // max_value - used - held, never below zero
};

// A hard limit refuses when used + held + estimate > max_value; soft limits never refuse. Reports the refusing
// limit with the smallest remaining share (max - used - held - estimate) / max, or, when allowed, the limit with
// the smallest remaining share (max - used - held) / max. Ties go to the earlier limit, so callers order limits
// deterministically. remaining = max - used - held, never below zero.
Decision decide(const LimitState* limits, size_t count, const Estimate& estimate);

// Alert levels (a bit set): a soft limit's max reached; 80 % and 100 % of a hard limit reached.
enum AlertLevel : unsigned { kAlertSoft = 1u, kAlertWarning = 2u, kAlertReached = 4u };
constexpr unsigned kAlertLevels[3] = {kAlertSoft, kAlertWarning, kAlertReached};

// "soft", "warning" or "reached".
const char* alert_level_name(unsigned level);

// Which levels a limit's usage has reached (used >= threshold, compared exactly): for a soft limit, kAlertSoft
// when used >= max_value; for a hard limit, kAlertWarning when used >= 80 % of max_value and kAlertReached when
// used >= max_value. Nothing is reached while used <= 0, so a limit of 0 alerts once something is used, not
// before. Whether this event or an earlier one crossed the threshold does not matter: callers fire each level
// once per period, the first time they see it reached.
unsigned alert_levels(const Decimal& used, const Decimal& max_value, bool hard);

// Whether the alert check after a roll-up looks at a limit: only a limit with alerts (limits.alert) and, when
// the roll-up was of events on one local day (event_day, in the tenant's zone), only if the limit's current
// period, which starts on current_period_start, contains that day: an event in another period changes nothing
// the limit measures. With no event day (nullptr: a set-based roll-up) every limit with alerts is looked at.
bool alert_check_includes(bool alert, Period period, const CivilDate* event_day, const CivilDate& current_period_start);

}  // namespace usage_meter
