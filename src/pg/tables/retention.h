// usage_meter.retention: the retention boundary, the start of the oldest month whose raw events are kept (a
// single row, written by drop_events_before).
#pragma once

#include "../boundary.h"

extern "C" {
#include "datatype/timestamp.h"
}

namespace usage_meter::pg {

// The boundary, false when nothing was ever dropped. The latest committed one, not the statement's snapshot:
// an insert that waited for drop_events_before's lock was routed after the drop, so it must also see the
// boundary that drop committed.
bool retention_boundary(TimestampTz* kept_from);

}  // namespace usage_meter::pg
