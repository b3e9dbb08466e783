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
// NUL-terminated copy in the current memory context, or nullptr for SQL NULL.
char* text_cstring_or_null(Datum value, bool isnull);

// numeric -> its exact text ("NaN", "Infinity" included), palloc'd.
char* numeric_text(Datum numeric);
// Validated non-negative finite amount from a numeric datum; raises a clear ERROR naming the argument.
Decimal amount_from_numeric(Datum numeric, const char* argument);
Decimal markup_from_numeric(Datum numeric, const char* argument);
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

}  // namespace usage_meter::pg
