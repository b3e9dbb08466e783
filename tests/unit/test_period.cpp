// Period bucketing: civil dates, local dates in a time zone, and period bounds.
//
// Every expected instant below is a literal Unix time derived outside the code under test, with GNU date and
// the system tz database, e.g.
//     TZ=America/Los_Angeles date -d '2026-03-08 00:00' +%s   -> 1772956800
//     date -u -d @1772956800                                   -> 2026-03-08T08:00:00Z
// and checked against the transitions zdump lists (zdump -v -c 2025,2027 America/Los_Angeles). Where local
// midnight does not exist, `date -d` rejects it ("invalid date"), and the expected value is the transition
// instant zdump shows.
#include <time.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace usage_meter {

inline void PrintTo(const CivilDate& d, std::ostream* os) { *os << d.year << '-' << d.month << '-' << d.day; }

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kHour = 3600;

// ---- zone rules used by the tests --------------------------------------------------------------------

class FixedZone final : public ZoneRules {
public:
    explicit FixedZone(int64_t offset_seconds) : offset_(offset_seconds) {}
    int64_t utc_offset(int64_t) const override { return offset_; }

private:
    int64_t offset_;
};

std::string zoneinfo_dir() {
    const char* dir = std::getenv("TZDIR");
    return dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo";
}

// The C library's rules for a named zone, read from the system tz database (Debian package tzdata).
class SystemZone final : public ZoneRules {
public:
    explicit SystemZone(std::string name) : name_(std::move(name)) {}

    int64_t utc_offset(int64_t unix_seconds) const override { return local_tm(unix_seconds).tm_gmtoff; }

    // The local date according to the C library: an oracle independent of local_date().
    CivilDate libc_date(int64_t unix_seconds) const {
        struct tm tm = local_tm(unix_seconds);
        return CivilDate{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
    }

    const std::string& name() const { return name_; }

private:
    struct tm local_tm(int64_t unix_seconds) const {
        const char* current = std::getenv("TZ");
        if (current == nullptr || name_ != current) {
            setenv("TZ", name_.c_str(), 1);
            tzset();
        }
        time_t t = static_cast<time_t>(unix_seconds);
        struct tm tm {};
        if (localtime_r(&t, &tm) == nullptr) ADD_FAILURE() << "localtime_r failed for " << unix_seconds;
        return tm;
    }

    std::string name_;
};

// Saves and restores TZ, and insists that the zones exist: glibc silently falls back to UTC for an unknown
// zone, which would make every expectation below fail for a confusing reason.
class SystemZoneTest : public ::testing::Test {
protected:
    void SetUp() override {
        const char* tz = std::getenv("TZ");
        had_tz_ = tz != nullptr;
        if (had_tz_) saved_tz_ = tz;
    }
    void TearDown() override {
        if (had_tz_)
            setenv("TZ", saved_tz_.c_str(), 1);
        else
            unsetenv("TZ");
        tzset();
    }
    static SystemZone zone(const std::string& name) {
        std::ifstream file(zoneinfo_dir() + "/" + name, std::ios::binary);
        char magic[4] = {};
        file.read(magic, 4);
        EXPECT_TRUE(file && std::string(magic, 4) == "TZif")
            << "time zone " << name << " is not in " << zoneinfo_dir() << " (install tzdata)";
        return SystemZone(name);
    }

private:
    bool had_tz_ = false;
    std::string saved_tz_;
};

// An independent calendar for the round-trip test: step one day at a time.
bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }
int days_in_month(int year, int month) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}
CivilDate next_day(CivilDate d) {
    if (d.day < days_in_month(d.year, d.month)) return {d.year, d.month, d.day + 1};
    if (d.month < 12) return {d.year, d.month + 1, 1};
    return {d.year + 1, 1, 1};
}
CivilDate previous_day(CivilDate d) {
    if (d.day > 1) return {d.year, d.month, d.day - 1};
    if (d.month > 1) return {d.year, d.month - 1, days_in_month(d.year, d.month - 1)};
    return {d.year - 1, 12, 31};
}

// ---- civil dates -------------------------------------------------------------------------------------

TEST(CivilDays, KnownDates) {
    // Values from `date -u -d YYYY-MM-DD +%s` / 86400.
    EXPECT_EQ(days_from_civil({1970, 1, 1}), 0);
    EXPECT_EQ(days_from_civil({1969, 12, 31}), -1);
    EXPECT_EQ(days_from_civil({2000, 2, 29}), 11016);
    EXPECT_EQ(days_from_civil({2000, 3, 1}), 11017);
    EXPECT_EQ(days_from_civil({1900, 2, 28}), -25509);
    EXPECT_EQ(days_from_civil({1900, 3, 1}), -25508);  // 1900 is not a leap year: no 1900-02-29
    EXPECT_EQ(days_from_civil({1600, 3, 1}), -135080);
    EXPECT_EQ(days_from_civil({1000, 1, 1}), -354285);
    EXPECT_EQ(days_from_civil({2026, 1, 16}), 20469);
    EXPECT_EQ(days_from_civil({2100, 2, 1}), 47513);
    EXPECT_EQ(days_from_civil({2100, 3, 1}), 47541);  // 2100 is not a leap year: February has 28 days
    EXPECT_EQ(days_from_civil({2400, 2, 29}), 157113);

    EXPECT_EQ(civil_from_days(0), (CivilDate{1970, 1, 1}));
    EXPECT_EQ(civil_from_days(-1), (CivilDate{1969, 12, 31}));
    EXPECT_EQ(civil_from_days(11016), (CivilDate{2000, 2, 29}));
    EXPECT_EQ(civil_from_days(-25508), (CivilDate{1900, 3, 1}));
    EXPECT_EQ(civil_from_days(-25509), (CivilDate{1900, 2, 28}));
    EXPECT_EQ(civil_from_days(-135080), (CivilDate{1600, 3, 1}));
    EXPECT_EQ(civil_from_days(157113), (CivilDate{2400, 2, 29}));
}

TEST(CivilDays, DayByDayAgainstAnIndependentCalendar) {
    // Forward from 1970 to 2401, backward from 1970 to 1000: every single day, both directions of conversion.
    CivilDate d{1970, 1, 1};
    for (int64_t n = 0; d.year <= 2400; ++n, d = next_day(d)) {
        ASSERT_EQ(days_from_civil(d), n) << d.year << '-' << d.month << '-' << d.day;
        ASSERT_EQ(civil_from_days(n), d) << n;
    }
    d = CivilDate{1970, 1, 1};
    for (int64_t n = 0; d.year >= 1000; --n, d = previous_day(d)) {
        ASSERT_EQ(days_from_civil(d), n) << d.year << '-' << d.month << '-' << d.day;
        ASSERT_EQ(civil_from_days(n), d) << n;
    }
}

TEST(CivilDays, RoundTripFarFromTheEpoch) {
    // About +-8000 years, including negative years, in prime-sized steps so every day of the year is hit.
    for (int64_t n = -3000000; n <= 3000000; n += 97) {
        CivilDate d = civil_from_days(n);
        ASSERT_GE(d.month, 1);
        ASSERT_LE(d.month, 12);
        ASSERT_GE(d.day, 1);
        ASSERT_LE(d.day, 31);
        ASSERT_EQ(days_from_civil(d), n);
        ASSERT_EQ(civil_from_days(n + 1), next_day(d)) << n;
    }
}

TEST(FloorDiv, RoundsTowardMinusInfinity) {
    EXPECT_EQ(floor_div(0, 86400), 0);
    EXPECT_EQ(floor_div(86399, 86400), 0);
    EXPECT_EQ(floor_div(86400, 86400), 1);
    EXPECT_EQ(floor_div(-1, 86400), -1);
    EXPECT_EQ(floor_div(-86400, 86400), -1);
    EXPECT_EQ(floor_div(-86401, 86400), -2);
    EXPECT_EQ(floor_div(7, 2), 3);
    EXPECT_EQ(floor_div(-7, 2), -4);
    EXPECT_EQ(floor_div(7, -2), -4);
    EXPECT_EQ(floor_div(-7, -2), 3);
    EXPECT_EQ(floor_div(-8, 2), -4);
}

// ---- periods -----------------------------------------------------------------------------------------

TEST(PeriodNames, ParseAndName) {
    EXPECT_EQ(parse_period("day"), Period::Day);
    EXPECT_EQ(parse_period("month"), Period::Month);
    EXPECT_STREQ(period_name(Period::Day), "day");
    EXPECT_STREQ(period_name(Period::Month), "month");
    EXPECT_EQ(parse_period(period_name(Period::Month)), Period::Month);
}

TEST(PeriodNames, ParseErrorsNameTheArgumentAndValue) {
    for (const char* bad : {"", "Day", "DAY", "days", "week", "year", " day", "day ", "monthly"}) {
        SCOPED_TRACE(bad);
        EXPECT_CORE_ERROR(parse_period(bad), ErrorKind::InvalidParameter, "period");
        EXPECT_CORE_ERROR(parse_period(bad, "reset_period"), ErrorKind::InvalidParameter, "reset_period",
                          std::string("\"") + bad + "\"");
    }
}

TEST(PeriodStart, DayAndMonth) {
    EXPECT_EQ(period_start(Period::Day, {2026, 3, 8}), (CivilDate{2026, 3, 8}));
    EXPECT_EQ(period_start(Period::Month, {2026, 3, 8}), (CivilDate{2026, 3, 1}));
    EXPECT_EQ(next_period_start(Period::Day, {2026, 3, 8}), (CivilDate{2026, 3, 9}));
    EXPECT_EQ(next_period_start(Period::Day, {2026, 12, 31}), (CivilDate{2027, 1, 1}));
    EXPECT_EQ(next_period_start(Period::Day, {2028, 2, 28}), (CivilDate{2028, 2, 29}));
    EXPECT_EQ(next_period_start(Period::Day, {2027, 2, 28}), (CivilDate{2027, 3, 1}));
    EXPECT_EQ(next_period_start(Period::Day, {2100, 2, 28}), (CivilDate{2100, 3, 1}));
    EXPECT_EQ(next_period_start(Period::Month, {2026, 12, 1}), (CivilDate{2027, 1, 1}));
    EXPECT_EQ(next_period_start(Period::Month, {2026, 1, 1}), (CivilDate{2026, 2, 1}));
    EXPECT_EQ(period_start(Period::Month, {2028, 2, 29}), (CivilDate{2028, 2, 1}));
    EXPECT_EQ(next_period_start(Period::Month, {2028, 2, 1}), (CivilDate{2028, 3, 1}));
}

// ---- fixed offsets -----------------------------------------------------------------------------------

TEST(FixedOffset, Utc) {
    const FixedZone utc(0);
    EXPECT_EQ(local_date(0, utc), (CivilDate{1970, 1, 1}));
    EXPECT_EQ(local_date(86399, utc), (CivilDate{1970, 1, 1}));
    EXPECT_EQ(local_date(86400, utc), (CivilDate{1970, 1, 2}));
    EXPECT_EQ(local_date(-1, utc), (CivilDate{1969, 12, 31}));
    EXPECT_EQ(local_date(-86400, utc), (CivilDate{1969, 12, 31}));
    EXPECT_EQ(local_date(-86401, utc), (CivilDate{1969, 12, 30}));
    EXPECT_EQ(start_of_local_date({1970, 1, 1}, utc), 0);
    EXPECT_EQ(start_of_local_date({1969, 12, 31}, utc), -86400);
    EXPECT_EQ(start_of_local_date({2026, 1, 16}, utc), 1768521600);  // date -u -d 2026-01-16 +%s
}

TEST(FixedOffset, PlusFiveFortyFive) {
    const FixedZone kathmandu(5 * kHour + 45 * 60);
    // 2026-01-16 00:00 +05:45 = 2026-01-15T18:15:00Z = 1768500900 (date -u -d '2026-01-15 18:15' +%s)
    EXPECT_EQ(start_of_local_date({2026, 1, 16}, kathmandu), 1768500900);
    EXPECT_EQ(local_date(1768500899, kathmandu), (CivilDate{2026, 1, 15}));
    EXPECT_EQ(local_date(1768500900, kathmandu), (CivilDate{2026, 1, 16}));
    // Before the epoch: 1970-01-01 00:00 +05:45 = 1969-12-31T18:15:00Z = -20700.
    EXPECT_EQ(start_of_local_date({1970, 1, 1}, kathmandu), -20700);
    EXPECT_EQ(local_date(-20701, kathmandu), (CivilDate{1969, 12, 31}));
    EXPECT_EQ(local_date(-20700, kathmandu), (CivilDate{1970, 1, 1}));

    // The month of 2026-01-16: 2026-01-01 00:00 +05:45 = 1767225600 - 20700; 2026-02-01 = 1769904000 - 20700.
    PeriodBounds b = period_bounds(Period::Month, 1768500900, kathmandu);
    EXPECT_EQ(b.start, (CivilDate{2026, 1, 1}));
    EXPECT_EQ(b.starts_at, 1767204900);
    EXPECT_EQ(b.resets_at, 1769883300);
}

TEST(FixedOffset, MinusTen) {
    const FixedZone hawaii(-10 * kHour);
    // 2026-01-16 00:00 -10:00 = 2026-01-16T10:00:00Z = 1768557600 (date -u -d '2026-01-16 10:00' +%s)
    EXPECT_EQ(start_of_local_date({2026, 1, 16}, hawaii), 1768557600);
    EXPECT_EQ(local_date(1768557599, hawaii), (CivilDate{2026, 1, 15}));
    EXPECT_EQ(local_date(1768557600, hawaii), (CivilDate{2026, 1, 16}));
    // Around the epoch: 1970-01-01 00:00 -10:00 = 36000.
    EXPECT_EQ(local_date(-1, hawaii), (CivilDate{1969, 12, 31}));
    EXPECT_EQ(local_date(35999, hawaii), (CivilDate{1969, 12, 31}));
    EXPECT_EQ(local_date(36000, hawaii), (CivilDate{1970, 1, 1}));
    EXPECT_EQ(start_of_local_date({1969, 12, 31}, hawaii), 36000 - kDay);

    PeriodBounds b = period_bounds(Period::Day, 0, hawaii);  // 1969-12-31 14:00 local
    EXPECT_EQ(b.start, (CivilDate{1969, 12, 31}));
    EXPECT_EQ(b.starts_at, -50400);
    EXPECT_EQ(b.resets_at, 36000);
}

TEST(FixedOffset, ExtremeOffsets) {
    const FixedZone plus14(14 * kHour), minus12(-12 * kHour);
    EXPECT_EQ(start_of_local_date({1970, 1, 1}, plus14), -14 * kHour);
    EXPECT_EQ(start_of_local_date({1970, 1, 1}, minus12), 12 * kHour);
    EXPECT_EQ(local_date(0, plus14), (CivilDate{1970, 1, 1}));
    EXPECT_EQ(local_date(0, minus12), (CivilDate{1969, 12, 31}));
}

TEST(FixedOffset, MonthBoundsAcrossYearEndAndLeapFebruary) {
    const FixedZone utc(0);
    // 2026-12-31T23:59:59Z = 1798761599; 2026-12-01 = 1796083200; 2027-01-01 = 1798761600.
    PeriodBounds dec = period_bounds(Period::Month, 1798761599, utc);
    EXPECT_EQ(dec.start, (CivilDate{2026, 12, 1}));
    EXPECT_EQ(dec.starts_at, 1796083200);
    EXPECT_EQ(dec.resets_at, 1798761600);
    PeriodBounds jan = period_bounds(Period::Month, 1798761600, utc);
    EXPECT_EQ(jan.start, (CivilDate{2027, 1, 1}));
    EXPECT_EQ(jan.starts_at, 1798761600);
    // 2024-02-29T12:00Z: February 2024 runs from 1706745600 (2024-02-01) to 1709251200 (2024-03-01): 29 days.
    PeriodBounds feb = period_bounds(Period::Month, 1706745600 + 28 * kDay + 12 * kHour, utc);
    EXPECT_EQ(feb.start, (CivilDate{2024, 2, 1}));
    EXPECT_EQ(feb.starts_at, 1706745600);
    EXPECT_EQ(feb.resets_at, 1709251200);
    EXPECT_EQ(feb.resets_at - feb.starts_at, 29 * kDay);
    // February 2026 has 28 days: 1769904000 (2026-02-01) to 1772323200 (2026-03-01).
    PeriodBounds feb26 = period_bounds(Period::Month, 1769904000, utc);
    EXPECT_EQ(feb26.starts_at, 1769904000);
    EXPECT_EQ(feb26.resets_at, 1772323200);
}

// A zone whose offset jumps from `before` to `after` at instant `at`.
class SwitchZone final : public ZoneRules {
public:
    SwitchZone(int64_t at, int64_t before, int64_t after) : at_(at), before_(before), after_(after) {}
    int64_t utc_offset(int64_t unix_seconds) const override { return unix_seconds < at_ ? before_ : after_; }

private:
    int64_t at_, before_, after_;
};

TEST(SyntheticZone, GapStraddlingMidnight) {
    // -01:00 until 2026-01-16T00:30:00Z (1768521600 + 1800), +01:00 from then on: local time jumps from
    // 2026-01-15 23:30 to 2026-01-16 01:30, so local midnight never happens and the day starts at the jump.
    const int64_t jump = 1768523400;
    const SwitchZone z(jump, -kHour, kHour);
    EXPECT_EQ(local_date(jump - 1, z), (CivilDate{2026, 1, 15}));
    EXPECT_EQ(local_date(jump, z), (CivilDate{2026, 1, 16}));
    EXPECT_EQ(start_of_local_date({2026, 1, 16}, z), jump);
    EXPECT_EQ(start_of_local_date({2026, 1, 15}, z), 1768521600 - kDay + kHour);  // 00:00 -01:00
    EXPECT_EQ(start_of_local_date({2026, 1, 17}, z), 1768521600 + kDay - kHour);  // 00:00 +01:00
    PeriodBounds b = period_bounds(Period::Day, jump - 1, z);
    EXPECT_EQ(b.starts_at, 1768521600 - kDay + kHour);
    EXPECT_EQ(b.resets_at, jump);
}

TEST(SyntheticZone, GapLongerThanADay) {
    // -11:00 until 2026-01-16T05:00:00Z, +14:00 from then on: local time jumps from 2026-01-15 18:00 to
    // 2026-01-16 19:00, so the 16th exists only from the jump on.
    const int64_t jump = 1768521600 + 5 * kHour;
    const SwitchZone z(jump, -11 * kHour, 14 * kHour);
    EXPECT_EQ(start_of_local_date({2026, 1, 16}, z), jump);
    EXPECT_EQ(start_of_local_date({2026, 1, 17}, z), 1768521600 + kDay - 14 * kHour);  // 00:00 +14:00
}

TEST(SyntheticZone, WholeDaySkippedAcrossMidnight) {
    // Like Samoa, but the jump is not at midnight: at 2026-01-16T10:30:00Z local time goes from
    // 2026-01-15 23:30 (-11:00) to 2026-01-17 00:30 (+14:00). The 16th never happens, and neither does the 17th's
    // midnight: both start at the jump.
    const int64_t jump = 1768521600 + 10 * kHour + 30 * 60;
    const SwitchZone z(jump, -11 * kHour, 14 * kHour);
    EXPECT_EQ(local_date(jump - 1, z), (CivilDate{2026, 1, 15}));
    EXPECT_EQ(local_date(jump, z), (CivilDate{2026, 1, 17}));
    EXPECT_EQ(start_of_local_date({2026, 1, 16}, z), jump);
    EXPECT_EQ(start_of_local_date({2026, 1, 17}, z), jump);
    EXPECT_EQ(start_of_local_date({2026, 1, 18}, z), 1768521600 + 2 * kDay - 14 * kHour);
    PeriodBounds b = period_bounds(Period::Day, jump - 1, z);
    EXPECT_EQ(b.start, (CivilDate{2026, 1, 15}));
    EXPECT_EQ(b.starts_at, 1768521600 - kDay + 11 * kHour);  // 2026-01-15 00:00 -11:00
    EXPECT_EQ(b.resets_at, jump);
}

// ---- the system tz database --------------------------------------------------------------------------

TEST_F(SystemZoneTest, TheTestZoneReadsTheDatabase) {
    // zdump -v -c 2025,2027 America/Los_Angeles: 2026-03-08T10:00:00Z (1772964000) switches PST -> PDT.
    const SystemZone la = zone("America/Los_Angeles");
    EXPECT_EQ(la.utc_offset(1772963999), -8 * kHour);
    EXPECT_EQ(la.utc_offset(1772964000), -7 * kHour);
    // zdump -v -c 2011,2012 Pacific/Apia: 2011-12-30T10:00:00Z (1325239200) switches -10 -> +14.
    const SystemZone apia = zone("Pacific/Apia");
    EXPECT_EQ(apia.utc_offset(1325239199), -10 * kHour);
    EXPECT_EQ(apia.utc_offset(1325239200), 14 * kHour);
    EXPECT_EQ(la.utc_offset(1772964000), -7 * kHour);  // switching back and forth between zones works
}

TEST_F(SystemZoneTest, LosAngelesSpringForwardDayHas23Hours) {
    const SystemZone la = zone("America/Los_Angeles");
    // 2026-03-08 12:00 PDT = 1772996400 (2026-03-08T19:00:00Z).
    PeriodBounds b = period_bounds(Period::Day, 1772996400, la);
    EXPECT_EQ(b.start, (CivilDate{2026, 3, 8}));
    EXPECT_EQ(b.starts_at, 1772956800);  // 2026-03-08 00:00 PST = 2026-03-08T08:00:00Z
    EXPECT_EQ(b.resets_at, 1773039600);  // 2026-03-09 00:00 PDT = 2026-03-09T07:00:00Z
    EXPECT_EQ(b.resets_at - b.starts_at, 23 * kHour);
    // The first and last seconds of the day give the same bounds.
    EXPECT_EQ(period_bounds(Period::Day, 1772956800, la).starts_at, 1772956800);
    EXPECT_EQ(period_bounds(Period::Day, 1773039599, la).resets_at, 1773039600);
    EXPECT_EQ(period_bounds(Period::Day, 1773039600, la).start, (CivilDate{2026, 3, 9}));
    // Around the change at 1772964000: 01:59:59 PST, then 03:00:00 PDT, the same date.
    EXPECT_EQ(local_date(1772963999, la), (CivilDate{2026, 3, 8}));
    EXPECT_EQ(local_date(1772964000, la), (CivilDate{2026, 3, 8}));
    EXPECT_EQ(local_date(1772956799, la), (CivilDate{2026, 3, 7}));
    // The day before is 24 hours: 2026-03-07 00:00 PST = 1772870400.
    PeriodBounds before = period_bounds(Period::Day, 1772956799, la);
    EXPECT_EQ(before.start, (CivilDate{2026, 3, 7}));
    EXPECT_EQ(before.starts_at, 1772870400);
    EXPECT_EQ(before.resets_at, 1772956800);
}

TEST_F(SystemZoneTest, LosAngelesFallBackDayHas25Hours) {
    const SystemZone la = zone("America/Los_Angeles");
    // 01:30 happens twice on 2026-11-01: 01:30 PDT = 1793521800 and 01:30 PST = 1793525400.
    for (int64_t instant : {int64_t{1793521800}, int64_t{1793525400}}) {
        SCOPED_TRACE(instant);
        PeriodBounds b = period_bounds(Period::Day, instant, la);
        EXPECT_EQ(b.start, (CivilDate{2026, 11, 1}));
        EXPECT_EQ(b.starts_at, 1793516400);  // 2026-11-01 00:00 PDT = 2026-11-01T07:00:00Z
        EXPECT_EQ(b.resets_at, 1793606400);  // 2026-11-02 00:00 PST = 2026-11-02T08:00:00Z
        EXPECT_EQ(b.resets_at - b.starts_at, 25 * kHour);
    }
    EXPECT_EQ(start_of_local_date({2026, 10, 31}, la), 1793430000);  // 2026-10-31 00:00 PDT
}

TEST_F(SystemZoneTest, LosAngelesMonths) {
    const SystemZone la = zone("America/Los_Angeles");
    // March 2026 starts in PST (1772352000 = 03-01T08:00Z) and ends in PDT (1775026800 = 04-01T07:00Z).
    PeriodBounds march = period_bounds(Period::Month, 1772996400, la);
    EXPECT_EQ(march.start, (CivilDate{2026, 3, 1}));
    EXPECT_EQ(march.starts_at, 1772352000);
    EXPECT_EQ(march.resets_at, 1775026800);
    EXPECT_EQ(march.resets_at - march.starts_at, 31 * kDay - kHour);
    // Across the year end: 2026-12-31 23:59:59 PST = 1798790399 is still December...
    PeriodBounds dec = period_bounds(Period::Month, 1798790399, la);
    EXPECT_EQ(dec.start, (CivilDate{2026, 12, 1}));
    EXPECT_EQ(dec.starts_at, 1796112000);  // 2026-12-01 00:00 PST
    EXPECT_EQ(dec.resets_at, 1798790400);  // 2027-01-01 00:00 PST
    // ...one second later is January 2027 (in UTC it has been 2027-01-01 for 8 hours already).
    PeriodBounds jan = period_bounds(Period::Month, 1798790400, la);
    EXPECT_EQ(jan.start, (CivilDate{2027, 1, 1}));
    EXPECT_EQ(jan.starts_at, 1798790400);
    EXPECT_EQ(jan.resets_at, 1801468800);                              // 2027-02-01 00:00 PST
    EXPECT_EQ(local_date(1798761600, la), (CivilDate{2026, 12, 31}));  // 2027-01-01T00:00Z
    // Leap February: 2028-02-29 12:00 PST = 1835467200; February 2028 = 1833004800 .. 1835510400 = 29 days.
    PeriodBounds feb = period_bounds(Period::Month, 1835467200, la);
    EXPECT_EQ(feb.start, (CivilDate{2028, 2, 1}));
    EXPECT_EQ(feb.starts_at, 1833004800);
    EXPECT_EQ(feb.resets_at, 1835510400);
    EXPECT_EQ(feb.resets_at - feb.starts_at, 29 * kDay);
}

TEST_F(SystemZoneTest, London) {
    const SystemZone london = zone("Europe/London");
    // 2026-03-29: GMT -> BST at 01:00 GMT; 23 hours from 1774742400 (00:00 GMT) to 1774825200 (00:00 BST).
    PeriodBounds spring = period_bounds(Period::Day, 1774782000, london);  // 12:00 BST
    EXPECT_EQ(spring.start, (CivilDate{2026, 3, 29}));
    EXPECT_EQ(spring.starts_at, 1774742400);
    EXPECT_EQ(spring.resets_at, 1774825200);
    // 2026-10-25: BST -> GMT; 25 hours from 1792882800 (00:00 BST) to 1792972800 (00:00 GMT).
    PeriodBounds autumn = period_bounds(Period::Day, 1792882800, london);
    EXPECT_EQ(autumn.start, (CivilDate{2026, 10, 25}));
    EXPECT_EQ(autumn.starts_at, 1792882800);
    EXPECT_EQ(autumn.resets_at, 1792972800);
    // In summer, 2026-07-01T23:30Z (1782948600) is already 2026-07-02 00:30 BST.
    EXPECT_EQ(local_date(1782948600, london), (CivilDate{2026, 7, 2}));
    EXPECT_EQ(local_date(1782946799, london), (CivilDate{2026, 7, 1}));
    EXPECT_EQ(start_of_local_date({2026, 7, 2}, london), 1782946800);
}

TEST_F(SystemZoneTest, Kathmandu) {
    const SystemZone ktm = zone("Asia/Kathmandu");
    // +05:45 today: 2026-01-16 00:00 = 1768500900, 2026-01-17 00:00 = 1768587300.
    PeriodBounds b = period_bounds(Period::Day, 1768500900 + 12 * kHour, ktm);
    EXPECT_EQ(b.start, (CivilDate{2026, 1, 16}));
    EXPECT_EQ(b.starts_at, 1768500900);
    EXPECT_EQ(b.resets_at, 1768587300);
    // zdump: 1985-12-31T18:30:00Z (504901800) goes from 23:59:59 +0530 straight to 1986-01-01 00:15 +0545,
    // so 1986-01-01 00:00 never happened there and the day starts at 00:15 local.
    EXPECT_EQ(start_of_local_date({1986, 1, 1}, ktm), 504901800);
    EXPECT_EQ(start_of_local_date({1985, 12, 31}, ktm), 504815400);  // 00:00 +0530
    EXPECT_EQ(start_of_local_date({1986, 1, 2}, ktm), 504987300);    // 00:00 +0545
    PeriodBounds last = period_bounds(Period::Day, 504901799, ktm);
    EXPECT_EQ(last.start, (CivilDate{1985, 12, 31}));
    EXPECT_EQ(last.resets_at, 504901800);
    PeriodBounds first = period_bounds(Period::Day, 504901800, ktm);
    EXPECT_EQ(first.start, (CivilDate{1986, 1, 1}));
    EXPECT_EQ(first.starts_at, 504901800);
    EXPECT_EQ(first.resets_at - first.starts_at, 23 * kHour + 45 * 60);
}

TEST_F(SystemZoneTest, SamoaSkippedTheThirtiethOfDecember2011) {
    const SystemZone apia = zone("Pacific/Apia");
    // zdump: 2011-12-29 23:59:59 -10 (1325239199) is followed by 2011-12-31 00:00:00 +14 (1325239200).
    const int64_t jump = 1325239200;
    EXPECT_EQ(start_of_local_date({2011, 12, 30}, apia), jump);
    EXPECT_EQ(start_of_local_date({2011, 12, 31}, apia), jump);
    EXPECT_EQ(local_date(jump - 1, apia), (CivilDate{2011, 12, 29}));
    EXPECT_EQ(local_date(jump, apia), (CivilDate{2011, 12, 31}));
    // 2011-12-29 12:00 -10 = 1325196000: the day began at 1325152800 (00:00 -10) and the next began at the jump.
    PeriodBounds b = period_bounds(Period::Day, 1325196000, apia);
    EXPECT_EQ(b.start, (CivilDate{2011, 12, 29}));
    EXPECT_EQ(b.starts_at, 1325152800);
    EXPECT_EQ(b.resets_at, jump);
    PeriodBounds after = period_bounds(Period::Day, jump, apia);
    EXPECT_EQ(after.start, (CivilDate{2011, 12, 31}));
    EXPECT_EQ(after.starts_at, jump);
    EXPECT_EQ(after.resets_at, 1325325600);  // 2012-01-01 00:00 +14
    // December 2011 in Samoa ended at 2012-01-01 00:00 +14 too.
    PeriodBounds month = period_bounds(Period::Month, 1325196000, apia);
    EXPECT_EQ(month.start, (CivilDate{2011, 12, 1}));
    EXPECT_EQ(month.resets_at, 1325325600);
}

TEST_F(SystemZoneTest, SantiagoMidnightDoesNotExistWhenDstStarts) {
    const SystemZone scl = zone("America/Santiago");
    // zdump: 2026-09-05 23:59:59 -04 (1788667199) is followed by 2026-09-06 01:00:00 -03 (1788667200);
    // `TZ=America/Santiago date -d '2026-09-06 00:00'` reports an invalid date.
    EXPECT_EQ(start_of_local_date({2026, 9, 6}, scl), 1788667200);
    EXPECT_EQ(start_of_local_date({2026, 9, 5}, scl), 1788580800);  // 00:00 -04
    PeriodBounds sat = period_bounds(Period::Day, 1788667199, scl);
    EXPECT_EQ(sat.start, (CivilDate{2026, 9, 5}));
    EXPECT_EQ(sat.starts_at, 1788580800);
    EXPECT_EQ(sat.resets_at, 1788667200);
    PeriodBounds sun = period_bounds(Period::Day, 1788667200, scl);
    EXPECT_EQ(sun.start, (CivilDate{2026, 9, 6}));
    EXPECT_EQ(sun.starts_at, 1788667200);
    EXPECT_EQ(sun.resets_at, 1788750000);  // 2026-09-07 00:00 -03
    EXPECT_EQ(sun.resets_at - sun.starts_at, 23 * kHour);
    // DST ends at 24:00 on Saturday 2026-04-04, which lasts 25 hours: 1775271600 (00:00 -03) to
    // 1775361600 (2026-04-05 00:00 -04).
    PeriodBounds autumn = period_bounds(Period::Day, 1775271600 + 24 * kHour, scl);  // the repeated 23:xx
    EXPECT_EQ(autumn.start, (CivilDate{2026, 4, 4}));
    EXPECT_EQ(autumn.starts_at, 1775271600);
    EXPECT_EQ(autumn.resets_at, 1775361600);
}

TEST_F(SystemZoneTest, HavanaMidnightDoesNotExistWhenDstStarts) {
    const SystemZone hav = zone("America/Havana");
    // zdump: 2026-03-07 23:59:59 CST (1772945999) is followed by 2026-03-08 01:00:00 CDT (1772946000).
    EXPECT_EQ(start_of_local_date({2026, 3, 8}, hav), 1772946000);
    PeriodBounds sat = period_bounds(Period::Day, 1772945999, hav);
    EXPECT_EQ(sat.start, (CivilDate{2026, 3, 7}));
    EXPECT_EQ(sat.starts_at, 1772859600);  // 2026-03-07 00:00 CST
    EXPECT_EQ(sat.resets_at, 1772946000);
    PeriodBounds sun = period_bounds(Period::Day, 1772946000, hav);
    EXPECT_EQ(sun.start, (CivilDate{2026, 3, 8}));
    EXPECT_EQ(sun.starts_at, 1772946000);
    EXPECT_EQ(sun.resets_at, 1773028800);  // 2026-03-09 00:00 CDT
    PeriodBounds march = period_bounds(Period::Month, 1772946000, hav);
    EXPECT_EQ(march.starts_at, 1772341200);  // 2026-03-01 00:00 CST
    EXPECT_EQ(march.resets_at, 1775016000);  // 2026-04-01 00:00 CDT
}

// Every day from 1970 to 2037 in zones with unusual rules (30-minute DST, skipped days, DST changes at
// midnight, and St. John's 00:01 fall-backs until 2010, where the local date briefly goes back a day): the start
// of each local date is a second whose local date (according to the C library, not local_date) is that date
// or later while the second before it is earlier, and local_date agrees with the C library on both.
TEST_F(SystemZoneTest, StartOfEveryDayMatchesTheCLibrary) {
    for (const char* name : {"America/Los_Angeles", "Europe/London", "Asia/Kathmandu", "Pacific/Apia",
                             "America/Santiago", "America/Havana", "Australia/Lord_Howe", "America/Sao_Paulo",
                             "Asia/Tehran", "Pacific/Kiritimati", "America/St_Johns"}) {
        SCOPED_TRACE(name);
        const SystemZone z = zone(name);
        int failures = 0;
        for (int64_t day = days_from_civil({1970, 1, 1}); day <= days_from_civil({2037, 12, 31}); ++day) {
            const CivilDate date = civil_from_days(day);
            const int64_t s = start_of_local_date(date, z);
            const CivilDate at = z.libc_date(s), before = z.libc_date(s - 1);
            const bool ok = !(at < date) && before < date && local_date(s, z) == at && local_date(s - 1, z) == before;
            if (!ok && ++failures <= 5)
                ADD_FAILURE() << date.year << '-' << date.month << '-' << date.day << ": start " << s;
        }
        EXPECT_EQ(failures, 0);
    }
}

}  // namespace
}  // namespace usage_meter
