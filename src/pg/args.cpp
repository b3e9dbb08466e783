#include "args.h"

extern "C" {
#include "utils/timestamp.h"
}

namespace usage_meter::pg {

void require_arg(FunctionCallInfo fcinfo, int i, const char* name) {
    if (PG_ARGISNULL(i)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", name)));
}

Datum name_arg(FunctionCallInfo fcinfo, int i, const char* name) {
    require_arg(fcinfo, i, name);
    TextView v = text_view(PG_GETARG_DATUM(i), false);
    core_or_raise([&] { check_required_name(name, v.data, v.length); });
    return PG_GETARG_DATUM(i);
}

void require_finite(TimestampTz value, const char* name, bool allow_minus_infinity) {
    if (TIMESTAMP_IS_NOEND(value) || (!allow_minus_infinity && TIMESTAMP_IS_NOBEGIN(value)))
        ereport(ERROR,
                (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                 errmsg("invalid %s: it must be a finite time%s", name, allow_minus_infinity ? " or -infinity" : "")));
}

Estimate request_args(FunctionCallInfo fcinfo, Datum* user_id, bool* user_null) {
    *user_null = PG_ARGISNULL(1);
    *user_id = *user_null ? 0 : PG_GETARG_DATUM(1);
    TextView user = text_view(*user_id, *user_null);
    Estimate estimate;
    if (!PG_ARGISNULL(2)) estimate.cost = estimate_from_numeric(PG_GETARG_DATUM(2), "estimated_cost");
    estimate.tokens = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3);
    core_or_raise([&] {
        check_user_id("user_id", user.data, user.length);
        check_token_count("estimated_tokens", estimate.tokens);
    });
    return estimate;
}

}  // namespace usage_meter::pg
