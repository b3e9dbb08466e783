// Argument checks shared by the SQL-callable functions.
#pragma once

#include "convert.h"

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

}  // namespace usage_meter::pg
