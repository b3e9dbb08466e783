// usage_meter.events, the ledger: the columns the library reads and writes, found by name in a row's
// descriptor (a partition's or a composite type's may number them differently from the parent's).
#pragma once

#include "../boundary.h"

extern "C" {
#include "access/tupdesc.h"
}

namespace usage_meter::pg {

enum EventColumn {
    kTenant, kUserId, kOperation, kModel, kProvider,
    kInputTokens, kOutputTokens, kCacheReadTokens, kCacheWriteTokens, kReasoningTokens,
    kQuantity, kCost, kBilledCost, kPriced, kCostSource, kPriceId, kUnitPriceId, kMarkupPct,
    kOccurredAt, kDay, kRecordedAt, kIdempotencyKey, kSessionId, kLatencyMs, kSuccess, kMetadata,
    kEventColumnCount
};

// The column's name in usage_meter.events.
const char* event_column_name(EventColumn column);

// Attribute numbers (1-based) of the ledger's columns in `desc`, indexed by EventColumn; found by name (so
// upgrades may add columns) and kept until a descriptor of another shape comes. Raises an ERROR naming a
// missing column.
const int* event_attnums(TupleDesc desc);

}  // namespace usage_meter::pg
