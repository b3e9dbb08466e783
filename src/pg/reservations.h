// Reservations: reserve() admits a request and holds its estimate against every hard limit that covers it;
// usage_record(..., reservation_id) settles it; release() gives the room back.
#pragma once

#include "boundary.h"

namespace usage_meter::pg {

// SQLSTATE of a refused reservation: "UM001", usage limit reached.
#define ERRCODE_USAGE_LIMIT_REACHED MAKE_SQLSTATE('U', 'M', '0', '0', '1')

// Closes reservation `reservation_id` of (tenant, user) as settled by ledger event `event_id`; runs inside SPI,
// in the transaction that recorded the event. Settling again from the same event (an idempotent retry) is a
// no-op. Raises 22023 for an unknown id or another user's reservation, 55000 for a closed one.
void settle_reservation(Datum tenant, Datum user_id, bool user_null, Datum reservation_id, Datum event_id);

}  // namespace usage_meter::pg
