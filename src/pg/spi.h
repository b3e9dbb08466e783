// Small helpers around SPI: plans prepared once per backend and kept, and checked execution.
#pragma once

#include "boundary.h"

extern "C" {
#include "executor/spi.h"
}

namespace usage_meter::pg {

// Prepares sql once per backend as a generic plan (kept across transactions; PostgreSQL re-plans it when
// tables or their statistics change).
SPIPlanPtr kept_plan(SPIPlanPtr* slot, const char* sql, int nargs, const Oid* argtypes);

// Executes a kept plan; raises an ERROR if SPI reports a failure. nulls: ' ' or 'n' per argument.
int execute_plan(SPIPlanPtr plan, const Datum* values, const char* nulls, bool read_only, long count);

// Column `col` (1-based) of row `row` of the last result.
inline Datum result_value(uint64 row, int col, bool* isnull) {
    return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

}  // namespace usage_meter::pg
