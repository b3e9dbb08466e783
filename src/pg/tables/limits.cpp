#include "limits.h"

extern "C" {
#include "catalog/pg_type.h"
}

namespace usage_meter::pg {

void limit_upsert(const std::array<SqlArg, 7>& limit, bool with_alert) {
    if (!with_alert) {
        static Statement<6> upsert10 = {
            "INSERT INTO usage_meter.limits AS l (tenant, user_id, metric, period, max_value, hard)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT ON CONSTRAINT limits_scope DO UPDATE"
            " SET max_value = excluded.max_value, hard = excluded.hard, updated_at = pg_catalog.now()",
            {TEXTOID, TEXTOID, TEXTOID, TEXTOID, NUMERICOID, BOOLOID},
            nullptr,
            Planning::kWithValues};
        run_with(upsert10, Access::kReadWrite, 0, {limit[0], limit[1], limit[2], limit[3], limit[4], limit[5]});
        return;
    }
    static Statement<7> upsert = {
        "INSERT INTO usage_meter.limits AS l (tenant, user_id, metric, period, max_value, hard,"
        " alert) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ON CONSTRAINT limits_scope"
        " DO UPDATE SET max_value = excluded.max_value, hard = excluded.hard,"
        " alert = excluded.alert, updated_at = pg_catalog.now()",
        {TEXTOID, TEXTOID, TEXTOID, TEXTOID, NUMERICOID, BOOLOID, BOOLOID},
        nullptr,
        Planning::kWithValues};
    run_with(upsert, Access::kReadWrite, 0, limit);
}

bool limit_remove(const std::array<SqlArg, 4>& scope) {
    static Statement<4> remove = {
        "DELETE FROM usage_meter.limits WHERE tenant = $1 AND user_id IS NOT DISTINCT FROM $2"
        " AND metric = $3 AND period = $4",
        {TEXTOID, TEXTOID, TEXTOID, TEXTOID},
        nullptr,
        Planning::kWithValues};
    run_with(remove, Access::kReadWrite, 0, scope);
    return SPI_processed > 0;
}

}  // namespace usage_meter::pg
