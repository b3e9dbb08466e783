#include "period.h"

#include <string>

#include "error.h"

namespace usage_meter {

int64_t floor_div(int64_t value, int64_t divisor) {
    int64_t q = value / divisor;
    if ((value % divisor != 0) && ((value < 0) != (divisor < 0))) --q;
    return q;
}

// Howard Hinnant's civil-date algorithms.
int64_t days_from_civil(const CivilDate& date) {
    int64_t y = date.year - (date.month <= 2 ? 1 : 0);
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = (date.month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t days) {
    days += 719468;
    int64_t era = floor_div(days, 146097);
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    CivilDate out;
    out.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    out.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    out.year = static_cast<int>(yoe + era * 400 + (out.month <= 2 ? 1 : 0));
    return out;
}

Period parse_period(std::string_view text, std::string_view argument) {
    if (text == "day") return Period::Day;
    if (text == "month") return Period::Month;
    throw CoreError(ErrorKind::InvalidParameter, "invalid " + std::string(argument) + ": \"" + std::string(text) + "\"",
                    "valid periods are day and month");
}

const char* period_name(Period period) { return period == Period::Day ? "day" : "month"; }

namespace {
constexpr int64_t kSecondsPerDay = 86400;

int64_t local_day_number(int64_t unix_seconds, const ZoneRules& zone) {
    return floor_div(unix_seconds + zone.utc_offset(unix_seconds), kSecondsPerDay);
}
}  // namespace

CivilDate local_date(int64_t unix_seconds, const ZoneRules& zone) {
    return civil_from_days(local_day_number(unix_seconds, zone));
}

CivilDate period_start(Period period, const CivilDate& date) {
    if (period == Period::Day) return date;
    return CivilDate{date.year, date.month, 1};
}

CivilDate next_period_start(Period period, const CivilDate& date) {
    if (period == Period::Day) return civil_from_days(days_from_civil(date) + 1);
    return date.month == 12 ? CivilDate{date.year + 1, 1, 1} : CivilDate{date.year, date.month + 1, 1};
}

int64_t start_of_local_date(const CivilDate& date, const ZoneRules& zone) {
    const int64_t target = days_from_civil(date);
    const int64_t local_midnight = target * kSecondsPerDay;  // as if the zone were UTC
    // Fast path: local midnight exists; try the offsets in force around it (before and after a change).
    for (int64_t near : {local_midnight - kSecondsPerDay, local_midnight, local_midnight + kSecondsPerDay}) {
        int64_t u = local_midnight - zone.utc_offset(near - zone.utc_offset(near));
        if (local_day_number(u, zone) >= target && local_day_number(u - 1, zone) < target) return u;
    }
    // Midnight does not exist (a DST gap or a skipped day): the local date is non-decreasing in time, so
    // search for the first instant that reaches it. Offsets stay within +-26 hours of UTC.
    int64_t lo = local_midnight - 26 * 3600;  // local date still before target
    int64_t hi = local_midnight + 26 * 3600;  // local date already at or after target
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (local_day_number(mid, zone) >= target)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

PeriodBounds period_bounds(Period period, int64_t unix_seconds, const ZoneRules& zone) {
    PeriodBounds out;
    out.start = period_start(period, local_date(unix_seconds, zone));
    out.starts_at = start_of_local_date(out.start, zone);
    out.resets_at = start_of_local_date(next_period_start(period, out.start), zone);
    return out;
}

}  // namespace usage_meter
