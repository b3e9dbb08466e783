// Module-wide settings.
#pragma once

namespace usage_meter::pg {

// The rollup slot this backend writes: its backend id modulo usage_meter.counter_slots. Concurrent backends
// get different slots (while there are no more of them than slots), so they never wait on each other's rows.
int counter_slot();

}  // namespace usage_meter::pg
