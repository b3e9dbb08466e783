// Period bucketing: which local day and month an instant belongs to in a tenant's time zone, and when the
// current period ends. One function decides the day of an event; the trigger, check_limit and tests use it.
#pragma once

#include <cstdint>
#include <string_view>

namespace usage_meter {

struct CivilDate {
    int year = 1970;
    int month = 1;  // 1..12
    int day = 1;    // 1..31
    bool operator==(const CivilDate& o) const { return year == o.year && month == o.month && day == o.day; }
    bool operator!=(const CivilDate& o) const { return !(*this == o); }
    bool operator<(const CivilDate& o) const {
        if (year != o.year) return year < o.year;
        if (month != o.month) return month < o.month;
        return day < o.day;
    }
};

// Days since 1970-01-01 in the proleptic Gregorian calendar, and back.
int64_t days_from_civil(const CivilDate& date);
CivilDate civil_from_days(int64_t days);

// A time zone's rules: the offset from UTC (seconds east) in force at an instant. The PostgreSQL adapter
// implements it with the server's tz database; tests use fixed rules or the system's zoneinfo.
class ZoneRules {
public:
    virtual int64_t utc_offset(int64_t unix_seconds) const = 0;

protected:
    ~ZoneRules() = default;
};

enum class Period { Day, Month };

// "day" or "month"; throws CoreError naming `argument` otherwise.
Period parse_period(std::string_view text, std::string_view argument = "period");
const char* period_name(Period period);

// Floor division that works for instants before 1970.
int64_t floor_div(int64_t value, int64_t divisor);

// The local calendar date of an instant (Unix seconds, any sign).
CivilDate local_date(int64_t unix_seconds, const ZoneRules& zone);

// The first day of the period that contains `date`, and of the period after it.
CivilDate period_start(Period period, const CivilDate& date);
CivilDate next_period_start(Period period, const CivilDate& date);

// The first instant (Unix seconds) whose local date is `date` or later: local midnight, or the end of a
// DST gap when midnight does not exist that day, or the start of the next existing day when the whole date
// was skipped (as Samoa skipped 2011-12-30).
int64_t start_of_local_date(const CivilDate& date, const ZoneRules& zone);

struct PeriodBounds {
    CivilDate start;    // first local day of the period
    int64_t starts_at;  // Unix seconds
    int64_t resets_at;  // Unix seconds: start of the next period
};

PeriodBounds period_bounds(Period period, int64_t unix_seconds, const ZoneRules& zone);

}  // namespace usage_meter
