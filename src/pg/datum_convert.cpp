#include "datum_convert.h"

#include <cstring>

extern "C" {
#include "utils/builtins.h"
#include "utils/numeric.h"
}

namespace usage_meter::pg {

TextView text_view(Datum value, bool isnull) {
    if (isnull) return TextView{nullptr, 0};
    text* t = DatumGetTextPP(value);
    return TextView{VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)};
}

bool text_equal(Datum a, Datum b) {
    TextView x = text_view(a, false), y = text_view(b, false);
    return x.length == y.length && std::memcmp(x.data, y.data, x.length) == 0;
}

char* text_cstring_or_null(Datum value, bool isnull) {
    return isnull ? nullptr : text_to_cstring(DatumGetTextPP(value));
}

char* numeric_text(Datum numeric) { return DatumGetCString(DirectFunctionCall1(numeric_out, numeric)); }

// Every numeric -> Decimal conversion: the numeric's exact text through one core parser, whose error (naming
// the argument) is raised after the core call.
Decimal bounded_from_numeric(Datum numeric, const char* argument,
                             Decimal (*parse)(std::string_view argument, std::string_view text)) {
    const char* text = numeric_text(numeric);
    Decimal out;
    core_or_raise([&] { out = parse(argument, text); });
    return out;
}

Decimal amount_from_numeric(Datum numeric, const char* argument) {
    return bounded_from_numeric(numeric, argument, parse_amount);
}

Decimal markup_from_numeric(Datum numeric, const char* argument) {
    return bounded_from_numeric(numeric, argument, parse_markup);
}

Decimal stored_decimal(Datum numeric, const char* argument) {
    return bounded_from_numeric(numeric, argument, [](std::string_view argument, std::string_view text) {
        return Decimal::parse_named(text, argument);
    });
}

Decimal limit_amount_from_numeric(Datum numeric) {
    return bounded_from_numeric(numeric, "", [](std::string_view, std::string_view text) { return limit_amount(text); });
}

Decimal estimate_from_numeric(Datum numeric, const char* argument) {
    return bounded_from_numeric(numeric, argument, [](std::string_view argument, std::string_view text) {
        parse_cost(argument, text);
        return limit_amount(text);
    });
}

Datum numeric_from_decimal(const Decimal& value) {
    char buf[96];
    if (!value.write(buf, sizeof buf)) ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("decimal too long")));
    return DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

int64_t PgZone::utc_offset(int64_t unix_seconds) const {
    pg_time_t t = static_cast<pg_time_t>(unix_seconds);
    struct pg_tm* tm = pg_localtime(&t, zone_);
    return tm != nullptr ? tm->tm_gmtoff : 0;
}

pg_tz* zone_or_raise(const char* name, const char* argument) {
    pg_tz* zone = name != nullptr ? pg_tzset(name) : nullptr;
    if (zone == nullptr || !pg_tz_acceptable(zone))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid %s: \"%s\" is not a known time zone", argument, name ? name : "NULL"),
                        errhint("use a name from the tz database, such as UTC or Europe/Berlin")));
    return zone;
}

pg_tz* tenant_zone_or_raise(const char* name, const char* argument) {
    pg_tz* zone = zone_or_raise(name, argument);
    // Every offset in force from 1900 on: the one at the start, then the one after each transition (DST rules
    // included) up to 2200.
    constexpr pg_time_t kFrom = -2208988800;  // 1900-01-01 UTC
    constexpr pg_time_t kUntil = 7258118400;  // 2200-01-01 UTC
    pg_time_t t = kFrom;
    struct pg_tm* tm = pg_localtime(&t, zone);
    const int64_t first = tm != nullptr ? tm->tm_gmtoff : 0;
    core_or_raise([&] { check_utc_offset(argument, name, first); });
    for (int transitions = 0; transitions < 4096 && t < kUntil; ++transitions) {
        long int before_offset, after_offset;
        int before_dst, after_dst;
        pg_time_t boundary;
        if (pg_next_dst_boundary(&t, &before_offset, &before_dst, &boundary, &after_offset, &after_dst, zone) != 1)
            break;
        core_or_raise([&] {
            check_utc_offset(argument, name, before_offset);
            check_utc_offset(argument, name, after_offset);
        });
        if (boundary <= t) break;
        t = boundary;
    }
    return zone;
}

}  // namespace usage_meter::pg
