#include "boundary.h"

#include <cstring>

extern "C" {
#include "utils/elog.h"
}

namespace usage_meter::pg {

namespace {
void copy_text(char* dst, size_t size, const char* src) {
    size_t n = std::strlen(src);
    if (n >= size) n = size - 1;
    std::memcpy(dst, src, n);
    dst[n] = '\0';
}
}  // namespace

void capture_exception(Failure& failure) noexcept {
    failure.failed = true;
    failure.hint[0] = '\0';
    try {
        throw;
    } catch (const CoreError& e) {
        failure.kind = e.kind();
        copy_text(failure.message, sizeof failure.message, e.what());
        copy_text(failure.hint, sizeof failure.hint, e.hint().c_str());
    } catch (const std::bad_alloc&) {
        failure.kind = ErrorKind::Internal;
        copy_text(failure.message, sizeof failure.message, "usage_meter: out of memory in the C++ core");
    } catch (const std::exception& e) {
        failure.kind = ErrorKind::Internal;
        copy_text(failure.message, sizeof failure.message, e.what());
    } catch (...) {
        failure.kind = ErrorKind::Internal;
        copy_text(failure.message, sizeof failure.message, "usage_meter: unknown C++ exception");
    }
}

void raise_failure(const Failure& failure) {
    int code;
    switch (failure.kind) {
        case ErrorKind::InvalidParameter: code = ERRCODE_INVALID_PARAMETER_VALUE; break;
        case ErrorKind::NullValue: code = ERRCODE_NULL_VALUE_NOT_ALLOWED; break;
        case ErrorKind::StringTooLong: code = ERRCODE_STRING_DATA_RIGHT_TRUNCATION; break;
        case ErrorKind::OutOfRange: code = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE; break;
        case ErrorKind::InvalidDatetime: code = ERRCODE_DATETIME_VALUE_OUT_OF_RANGE; break;
        case ErrorKind::InvalidTimeZone: code = ERRCODE_INVALID_PARAMETER_VALUE; break;
        default: code = ERRCODE_INTERNAL_ERROR; break;
    }
    ereport(ERROR,
            (errcode(code), errmsg("%s", failure.message), failure.hint[0] != '\0' ? errhint("%s", failure.hint) : 0));
    pg_unreachable();
}

}  // namespace usage_meter::pg
