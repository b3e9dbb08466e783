// The roll-up: how ledger rows are added to this backend's slot of the daily summaries
// (usage_meter.daily_rollup) and of the live counters (usage_meter.counters).
//
// One description (rollup.cpp, kMeasures and kCounterMeasures) says what an event adds to each summary
// column and which daily columns make each counter column; every statement that writes the summaries is built
// from it: the roll-up of one event, the set-based roll-up of a batch (an INSERT's or COPY's transition table,
// roll_up()'s array, reprice()'s correction pairs), and their additive ON CONFLICT clauses. Each event adds to
// one daily row and to four counter rows: the tenant's day and month, and, for a named user, the user's day
// and month.
//
// Rows are written in one global key order (every daily row before any counter row, each sorted by its key;
// the one-event roll-up writes its rows in the same order), so no two writers lock the rows they share in
// opposite orders: single-statement writers never deadlock, whatever the slot count.
//
// verify() (SQL) recomputes the same sums from the ledger on its own, on purpose: it checks this code.
#pragma once

#include "boundary.h"

namespace usage_meter::pg {

// Adds one ledger row (deformed: values and nulls indexed by attnum - 1; att from event_attnums) to the
// summaries, counting -1 request (error, unpriced event) for a reversal (sign -1). Runs inside SPI.
void rollup_event(const Datum* values, const bool* nulls, const int* att, int sign);

// The set-based roll-up of a batch, as SQL for a kept plan with the slot as $1 (int2), palloc'd. `batch` is a
// FROM item whose rows have the ledger's columns (at least those the roll-up reads), `sign` what one of its
// rows counts as a request (1, or an expression giving -1 for a reversal), `where` a WHERE clause or "".
char* rollup_batch_sql(const char* sign, const char* batch, const char* where);

}  // namespace usage_meter::pg
