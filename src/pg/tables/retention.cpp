#include "retention.h"

#include "../key_scan.h"

extern "C" {
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace usage_meter::pg {

bool retention_boundary(TimestampTz* kept_from) {
    KeyScan scan;
    key_scan_open_with(&scan, "retention", "retention_pkey", 0, GetLatestSnapshot());
    key_scan_rescan(&scan, nullptr, 0);
    const bool found = key_scan_next(&scan);
    if (found) {
        bool isnull;
        *kept_from = DatumGetTimestampTz(slot_getattr(scan.row, key_scan_column(&scan, "kept_from"), &isnull));
    }
    key_scan_close(&scan);
    return found;
}

}  // namespace usage_meter::pg
