// usage_meter.events, the ledger: the columns the library reads and writes, found by name in a row's
// descriptor (a partition's or a composite type's may number them differently from the parent's).
#pragma once

#include "../statement.h"

extern "C" {
#include "access/tupdesc.h"
}

namespace usage_meter::pg {

enum EventColumn {
    kTenant,
    kUserId,
    kOperation,
    kModel,
    kProvider,
    kInputTokens,
    kOutputTokens,
    kCacheReadTokens,
    kCacheWriteTokens,
    kReasoningTokens,
    kQuantity,
    kCost,
    kBilledCost,
    kPriced,
    kCostSource,
    kPriceId,
    kUnitPriceId,
    kMarkupPct,
    kOccurredAt,
    kDay,
    kRecordedAt,
    kIdempotencyKey,
    kSessionId,
    kLatencyMs,
    kSuccess,
    kMetadata,
    kEventColumnCount
};

// The column's name in usage_meter.events.
const char* event_column_name(EventColumn column);

// usage_record's INSERT into the ledger, with its 18 arguments in its parameter order (tenant, user_id,
// operation, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
// quantity, cost, provider, occurred_at, idempotency_key, session_id, latency_ms, success, metadata) and, for
// kClaimedId, the event id as args[kEventInsertArgs]. The row comes back as the SPI result (event_id, cost,
// billed_cost, priced); count 0, as a bounded INSERT would never fire the AFTER STATEMENT roll-up.
constexpr int kEventInsertArgs = 18;
enum class EventInsert {
    kNewId,         // the id from the sequence
    kClaimedId,     // the id the idempotency key was claimed with (a partitioned ledger keeps its keys apart)
    kKeyedByIndex,  // a 1.0 ledger: its unique index (tenant, idempotency_key) is the arbiter; no row for a
                    // key recorded before
};
void event_insert(const SqlArg* args, EventInsert kind);

// A 1.0 ledger's event holding the tenant's key, as the SPI result (event_id, cost, billed_cost, priced).
void event_by_key(Datum tenant, Datum key);

// Attribute numbers (1-based) of the ledger's columns in `desc`, indexed by EventColumn; found by name (so
// upgrades may add columns) and kept until a descriptor of another shape comes. Raises an ERROR naming a
// missing column.
const int* event_attnums(TupleDesc desc);

}  // namespace usage_meter::pg
