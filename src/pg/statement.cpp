#include "statement.h"

extern "C" {
#include "utils/guc.h"
}

namespace usage_meter::pg {

void spi_connect() {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "usage_meter: SPI_connect failed");
}

int pin_search_path() {
    const int level = NewGUCNestLevel();
    (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                            false);
    return level;
}

void unpin_search_path(int level) { AtEOXact_GUC(true, level); }

SPIPlanPtr kept_plan(SPIPlanPtr* slot, const char* sql, int nargs, const Oid* argtypes, Planning planning) {
    if (*slot == nullptr) {
        const int options = planning == Planning::kGeneric ? CURSOR_OPT_GENERIC_PLAN : CURSOR_OPT_CUSTOM_PLAN;
        SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, const_cast<Oid*>(argtypes), options);
        if (plan == nullptr)
            elog(ERROR, "usage_meter: could not prepare a statement: %s", SPI_result_code_string(SPI_result));
        if (SPI_keepplan(plan) != 0) elog(ERROR, "usage_meter: could not keep a prepared statement");
        *slot = plan;
    }
    return *slot;
}

int execute_plan(SPIPlanPtr plan, const Datum* values, const char* nulls, bool read_only, long count) {
    int rc = SPI_execute_plan(plan, const_cast<Datum*>(values), nulls, read_only, count);
    if (rc < 0) elog(ERROR, "usage_meter: statement failed: %s", SPI_result_code_string(rc));
    return rc;
}

}  // namespace usage_meter::pg
