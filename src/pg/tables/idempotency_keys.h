// usage_meter.idempotency_keys: which event holds each (tenant, idempotency_key). A partitioned ledger keeps
// its keys in this table of their own (a unique index of a partitioned table must contain the partition key);
// a 1.0 ledger has none and a unique index instead. A key row outlives the event when drop_events_before drops
// its month (a tombstone, so that a late retry is refused rather than counted again), until it is 35 days old.
#pragma once

#include "../statement.h"

namespace usage_meter::pg {

// Whether the database has the table (1.1 and later).
bool keys_table_exists();

// The event holding the key as snapshot sees it; false when none does.
bool key_holder(Datum tenant, Datum key, int64* event_id, Snapshot snapshot);

// Records that event_id holds the key: the key row written directly (direct_insert.h), not through SPI. A key
// held by another event (committed, or written earlier in this transaction) is refused by name (23505); a
// concurrent holder is waited for first, as by any unique index.
void key_insert(Datum tenant, Datum key, Datum event_id, Datum occurred_at);

// usage_record claimed the key for event_id (key_claim) and inserts that event next, in this subtransaction:
// key_claimed(event_id) is then true once, and the ledger trigger writes no key row of its own.
void key_claimed_by(Datum event_id);
bool key_claimed(Datum event_id);

// Claims the key for a new event id from the ledger's sequence (*event_id); false when the key is held
// (after waiting for a concurrent holder to finish). Runs inside SPI.
bool key_claim(Datum tenant, Datum key, Datum occurred_at, Datum* event_id);

// The event holding the key, as the SPI result: (event_id, cost, billed_cost, priced, key's event_id, key's
// occurred_at), the first four NULL for a tombstone; no row when no visible key row. Each call takes a new
// snapshot. Runs inside SPI.
void key_event(Datum tenant, Datum key);

}  // namespace usage_meter::pg
