// Argument checks shared by the SQL-callable functions.
#pragma once

#include "datum_convert.h"

extern "C" {
#include "datatype/timestamp.h"
}

namespace usage_meter::pg {

// Raises 22004 "<name> must not be NULL" when argument i is NULL.
void require_arg(FunctionCallInfo fcinfo, int i, const char* name);

// A required name argument (not NULL, not empty, at most 200 characters); returns its datum.
Datum name_arg(FunctionCallInfo fcinfo, int i, const char* name);

// Raises "invalid <name>: it must be finite" for +infinity (and -infinity unless allowed).
void require_finite(TimestampTz value, const char* name, bool allow_minus_infinity);

// The request a limit is checked for, arguments 1 to 3 (user_id, estimated_cost, estimated_tokens, NULL
// meaning none): the user (*user_null for the tenant as a whole) and the estimate, validated.
Estimate request_args(FunctionCallInfo fcinfo, Datum* user_id, bool* user_null);

}  // namespace usage_meter::pg
