// The roll-up: how ledger rows are added to this backend's slot of the daily summaries
// (usage_meter.daily_rollup) and of the live counters (usage_meter.counters).
//
// One description (rollup.cpp, kMeasures and kCounterMeasures) says what an event adds to each summary
// column and which daily columns make each counter column; every statement that writes the summaries is built
// from it: the set-based roll-up of a batch (an INSERT's or COPY's transition table, roll_up()'s array,
// reprice()'s correction pairs), the write of a transaction's pending deltas, and their additive ON CONFLICT
// clauses. Each daily row adds to four counter rows: the tenant's day and month, and, for a named user, the
// user's day and month.
//
// A single ledger row (usage_record, a one-row INSERT) is not written at once: its deltas wait in backend memory,
// added up per daily key (rollup_pending.cpp), and are written by one statement before the transaction commits,
// or earlier when anything is about to read the summaries. So a transaction that records N events writes each
// summary row it touches once, not N times.
//
// Rows are written in one global key order (every daily row before any counter row, each sorted by its key;
// the one-key statement writes its rows in the same order), so no two writers lock the rows they share in
// opposite orders: single-statement writers never deadlock, whatever the slot count.
//
// verify() (SQL) recomputes the same sums from the ledger on its own, on purpose: it checks this code.
#pragma once

#include "boundary.h"

extern "C" {
#include "utils/date.h"
#include "utils/numeric.h"
}

namespace usage_meter::pg {

// The daily summary's measure columns, in the table's order (after its key and slot).
constexpr int kRollupMeasures = 12;

// What a set of ledger rows adds to one daily key: the key (texts palloc'd, NULLs as nullptr) and, per
// measure, an integer (bigint columns) or a numeric (numeric columns; never nullptr once filled).
struct RollupDelta {
    text* tenant;
    text* user_id;
    DateADT day;
    text* operation;
    text* provider;
    text* model;
    int64 ints[kRollupMeasures];
    Numeric numerics[kRollupMeasures];
};

// Whether daily measure m is a numeric column (else a bigint one).
bool rollup_measure_is_numeric(int m);

// Fills delta's measures with what one ledger row (deformed: values and nulls indexed by attnum - 1; att from
// event_attnums) adds: -1 request (error, unpriced event) for a reversal (sign -1). The key is left alone;
// numerics are allocated in the current memory context.
void rollup_event_measures(const Datum* values, const bool* nulls, const int* att, int sign, RollupDelta* delta);

// Writes deltas (any order; a key may repeat) to this backend's slot of the summaries, in the global key order.
// Runs inside SPI.
void rollup_write(RollupDelta* const* deltas, int count);

// Adds one ledger row to this transaction's pending roll-up (rollup_pending.cpp); `alerts`: the tenant has
// limits that alert, to be checked once the deltas are written.
void rollup_event(const Datum* values, const bool* nulls, const int* att, int sign, bool alerts);

// Writes this transaction's pending roll-up now (and fires its alerts); true if anything was written. The
// readers that scan the summaries directly (check_limit, reserve) call it first; every query that reads the
// summaries or alerts gets it from the executor hook; commit gets it from the pre-commit callback.
bool rollup_apply_pending();

// Registers the transaction callbacks and the executor hook; called once from _PG_init.
void rollup_pending_init();

// The set-based roll-up of a batch, as SQL for a kept plan with the slot as $1 (int2), palloc'd. `batch` is a
// FROM item whose rows have the ledger's columns (at least those the roll-up reads), `sign` what one of its
// rows counts as a request (1, or an expression giving -1 for a reversal), `where` a WHERE clause or "".
char* rollup_batch_sql(const char* sign, const char* batch, const char* where);

}  // namespace usage_meter::pg
