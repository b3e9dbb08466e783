#include "convert.h"

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

char* text_cstring_or_null(Datum value, bool isnull) {
    return isnull ? nullptr : text_to_cstring(DatumGetTextPP(value));
}

char* numeric_text(Datum numeric) { return DatumGetCString(DirectFunctionCall1(numeric_out, numeric)); }

Decimal amount_from_numeric(Datum numeric, const char* argument) {
    const char* text = numeric_text(numeric);
    Decimal out;
    core_or_raise([&] { out = parse_amount(argument, text); });
    return out;
}

Decimal markup_from_numeric(Datum numeric, const char* argument) {
    const char* text = numeric_text(numeric);
    Decimal out;
    core_or_raise([&] { out = parse_markup(argument, text); });
    return out;
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

}  // namespace usage_meter::pg
