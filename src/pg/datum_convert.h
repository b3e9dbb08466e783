// Conversions between PostgreSQL datums and core values, and the time-zone rules the core uses.
#pragma once

#include "boundary.h"

extern "C" {
#include "pgtime.h"
}

namespace usage_meter::pg {

// A text argument as a view; data is nullptr for SQL NULL. The bytes belong to the (detoasted) datum.
struct TextView {
    const char* data;
    size_t length;
};
TextView text_view(Datum value, bool isnull);
// Whether two (non-NULL) text datums hold the same bytes.
bool text_equal(Datum a, Datum b);
// NUL-terminated copy in the current memory context, or nullptr for SQL NULL.
char* text_cstring_or_null(Datum value, bool isnull);

// numeric -> its exact text ("NaN", "Infinity" included), palloc'd.
char* numeric_text(Datum numeric);
// Validated non-negative finite amount from a numeric datum; raises a clear ERROR naming the argument.
Decimal amount_from_numeric(Datum numeric, const char* argument);
// An amount entering the ledger or the settings, within its bounds (validate.h), e.g. parse_price.
Decimal bounded_from_numeric(Datum numeric, const char* argument,
                             Decimal (*parse)(std::string_view argument, std::string_view text));
// A markup argument, within the markup bounds.
Decimal markup_from_numeric(Datum numeric, const char* argument);
// A markup or any other value stored by an earlier check (a table's column): read exactly, not checked again.
Decimal stored_decimal(Datum numeric, const char* argument);
// An amount as a limit decision sees it (limit_amount: rounded up to 18 places, saturated above every limit).
Decimal limit_amount_from_numeric(Datum numeric);
// An estimated cost argument: within a cost's bounds, then as a limit decision sees it.
Decimal estimate_from_numeric(Datum numeric, const char* argument);
// Decimal -> numeric datum in the current memory context.
Datum numeric_from_decimal(const Decimal& value);

// The server's rules for a time zone; pg_localtime never raises an ERROR, so the core may call it.
class PgZone final : public ZoneRules {
public:
    explicit PgZone(const pg_tz* zone) : zone_(zone) {}
    int64_t utc_offset(int64_t unix_seconds) const override;

private:
    const pg_tz* zone_;
};

// Looks a time zone up by name; raises ERROR 22023 naming the argument when it is unknown.
pg_tz* zone_or_raise(const char* name, const char* argument);
// A zone a tenant may have: known, and every UTC offset it uses from 1900 to 2200 within -12 h .. +14 h
// (check_utc_offset). POSIX zone strings such as 'FOO-100' are known to PostgreSQL but refused here.
pg_tz* tenant_zone_or_raise(const char* name, const char* argument);

}  // namespace usage_meter::pg
