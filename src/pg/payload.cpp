// Provider payloads: normalize_usage(provider, payload). The jsonb is handed to the core as its text, the core
// parses and normalizes it (bounded depth and size, every count checked), and the result comes back as plain
// data. record_response (SQL, in the extension script) records that row through usage_record.

#include <cstring>

#include "args.h"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

namespace usage_meter::pg {
namespace {

// A name of at most 200 characters of up to 4 bytes each, and its NUL.
constexpr size_t kNameBytes = 4 * kMaxNameLength + 1;

// What the core read, as plain data that may live in a frame PostgreSQL can longjmp through.
struct PlainUsage {
    char format[32];
    char provider[kNameBytes];
    char model[kNameBytes];
    char response_id[kNameBytes];
    int64 tokens[5];
    bool has_cost;
    Decimal cost;
};
static_assert(std::is_trivially_destructible_v<PlainUsage>);

void copy_name(char* dst, const std::string& src) {
    size_t n = src.size() < kNameBytes - 1 ? src.size() : kNameBytes - 1;
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

Datum name_or_null(const char* value, bool* isnull) {
    *isnull = value[0] == '\0';
    return *isnull ? 0 : CStringGetTextDatum(value);
}

}  // namespace
}  // namespace usage_meter::pg

using namespace usage_meter;
using namespace usage_meter::pg;

// normalize_usage(provider text, payload jsonb) -> (model, input_tokens, output_tokens, cache_read_tokens,
//     cache_write_tokens, reasoning_tokens, cost, response_id, provider_name, format)
UM_FUNCTION(normalize_usage) {
    require_arg(fcinfo, 0, "provider");
    require_arg(fcinfo, 1, "payload");
    TextView provider = text_view(PG_GETARG_DATUM(0), false);
    Jsonb* payload = PG_GETARG_JSONB_P(1);
    const char* json_text = JsonbToCString(nullptr, &payload->root, VARSIZE(payload));
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "normalize_usage must return a composite type");
    desc = BlessTupleDesc(desc);

    PlainUsage plain;
    core_or_raise([&] {
        NormalizedUsage u = normalize_usage(std::string_view(provider.data, provider.length), json_text, "payload");
        std::strncpy(plain.format, format_name(u.format), sizeof plain.format - 1);
        plain.format[sizeof plain.format - 1] = '\0';
        copy_name(plain.provider, u.provider);
        copy_name(plain.model, u.model);
        copy_name(plain.response_id, u.response_id);
        plain.tokens[0] = u.tokens.input;
        plain.tokens[1] = u.tokens.output;
        plain.tokens[2] = u.tokens.cache_read;
        plain.tokens[3] = u.tokens.cache_write;
        plain.tokens[4] = u.tokens.reasoning;
        plain.has_cost = u.cost.has_value();
        if (plain.has_cost) plain.cost = *u.cost;
    });

    Datum values[10];
    bool nulls[10] = {};
    values[0] = name_or_null(plain.model, &nulls[0]);
    for (int i = 0; i < 5; ++i) values[1 + i] = Int64GetDatum(plain.tokens[i]);
    nulls[6] = !plain.has_cost;
    values[6] = plain.has_cost ? numeric_from_decimal(plain.cost) : 0;
    values[7] = name_or_null(plain.response_id, &nulls[7]);
    values[8] = name_or_null(plain.provider, &nulls[8]);
    values[9] = CStringGetTextDatum(plain.format);
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
