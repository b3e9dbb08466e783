// Writes to usage_meter.limits, keyed by (tenant, user_id, metric, period). (Reads: limit_reads.h, which
// reads a tenant's limits for check_limit, reserve and the alerts.)
#pragma once

#include <array>

#include "../statement.h"

namespace usage_meter::pg {

// Creates or replaces a limit. Params, in order: tenant, user_id (NULL: the tenant's total; '*': each user),
// metric, period, max_value, hard, alert; with_alert false for a 1.0 database (no alert column). Runs inside SPI.
void limit_upsert(const std::array<SqlArg, 7>& limit, bool with_alert);

// Removes a limit (tenant, user_id, metric, period); false when there was none. Runs inside SPI.
bool limit_remove(const std::array<SqlArg, 4>& scope);

}  // namespace usage_meter::pg
