// Module entry: PG_MODULE_MAGIC, the usage_meter.* settings and the invalidation callbacks of the per-backend
// caches (limits, the extension catalog, the hold insert's index descriptions), and the pending roll-up's
// transaction callbacks and executor hook.

#include "boundary.h"
#include "direct_insert.h"
#include "limits_cache.h"
#include "init.h"
#include "extension_catalog.h"
#include "rollup.h"

extern "C" {
#include "storage/backendid.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace {
int counter_slots = 16;  // usage_meter.counter_slots
}

namespace usage_meter::pg {

int counter_slot() {
    int id = MyBackendId > 0 ? MyBackendId : 0;
    return id % counter_slots;
}

}  // namespace usage_meter::pg

void _PG_init(void) {
    DefineCustomIntVariable("usage_meter.counter_slots",
                            "Number of rows each daily summary and live counter is spread over.",
                            "Concurrent writers of one tenant add to different slots, so they do not wait on each other's row "
                            "locks; readers add the slots up. Changing it is safe at any time.",
                            &counter_slots, 16, 1, 1024, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("usage_meter");
    usage_meter::pg::limits_cache_init();
    usage_meter::pg::extension_catalog_init();
    usage_meter::pg::direct_insert_init();
    usage_meter::pg::rollup_pending_init();
}
