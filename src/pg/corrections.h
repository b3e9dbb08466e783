// Corrections: a reversal is a ledger row that cancels one earlier event exactly. It is written like any
// other row (INSERT into usage_meter.events, through the same triggers), naming the event in
// reverses_event_id; the ledger's BEFORE ROW trigger then fills it from that event with every figure negated,
// and the roll-up counts it as -1 request. Databases still at 1.0 have no reverses_event_id column: there
// every row is an ordinary event.
#pragma once

#include "boundary.h"

extern "C" {
#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/relcache.h"
}

namespace usage_meter::pg {

// The attribute number of events.reverses_event_id, or 0 when the ledger has no such column (version 1.0).
int reversal_attnum(TupleDesc events);

// The expression the roll-up sums to count a row's requests: 1, or -1 for a reversal.
const char* event_sign_sql(TupleDesc events);

// +1 for an ordinary row, -1 for a reversal (values/nulls indexed by attnum - 1).
int event_sign(TupleDesc events, const Datum* values, const bool* nulls);

// For a reversal row (values/nulls deformed from `row`): checks the event it names exists for the tenant, is
// not itself a reversal and has not been reversed yet, and returns the row to store: the event's columns
// with every figure negated, plus the new row's event_id, reverses_event_id and reason.
HeapTuple prepare_reversal(Relation events, HeapTuple row, const Datum* values, const bool* nulls);

}  // namespace usage_meter::pg
