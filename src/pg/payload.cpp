// Provider payloads: normalize_usage(provider, payload). PostgreSQL has already parsed the jsonb: this adapter
// walks it (JsonbIterator) into the core's tree of plain nodes (src/core/json.h: numbers as their exact
// numeric_out text, strings and keys pointing into the jsonb, the same depth and size caps as every other
// builder), the core normalizes it (every count checked), and the result comes back as plain data.
// record_response (SQL, in the extension script) records that row through usage_record.

#include <cstring>

#include "args.h"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
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
    int64 web_search_requests;
};
static_assert(std::is_trivially_destructible_v<PlainUsage>);

void copy_name(char* dst, const std::string& src) {
    size_t n = src.size() < kNameBytes - 1 ? src.size() : kNameBytes - 1;
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

// The tree being built, in palloc'd memory: plain data, as a PostgreSQL ERROR may leave this frame at any call.
struct TreeBuffer {
    json::Node* nodes;
    size_t count;
    size_t capacity;
    bool complete;  // false once kMaxNodes stopped the walk
};
static_assert(std::is_trivially_destructible_v<TreeBuffer>);

// Appends a node as the next child of `parent` after `*last`; kNone once the tree holds kMaxNodes.
json::NodeId add_node(TreeBuffer* tree, json::Kind kind, json::NodeId parent, json::NodeId* last, const JsonbValue* key) {
    if (tree->count >= json::kMaxNodes) {
        tree->complete = false;
        return json::kNone;
    }
    if (tree->count == tree->capacity) {
        tree->capacity *= 2;
        tree->nodes = static_cast<json::Node*>(repalloc(tree->nodes, tree->capacity * sizeof(json::Node)));
    }
    json::NodeId id = static_cast<json::NodeId>(tree->count++);
    tree->nodes[id] = json::Node{kind, false, json::kNone, json::kNone, "", 0, 0, nullptr};
    if (key) {
        tree->nodes[id].key = key->val.string.val;
        tree->nodes[id].key_length = static_cast<uint32_t>(key->val.string.len);
    }
    if (parent != json::kNone) {
        if (*last == json::kNone)
            tree->nodes[parent].first_child = id;
        else
            tree->nodes[*last].next_sibling = id;
        *last = id;
    }
    return id;
}

// Adds one jsonb value at `depth` (a scalar, or a container as jbvBinary) with its children. A container that
// is not read (json::read_container) becomes one skipped node, so this recurses at most kMaxDepth + 1 deep;
// each level iterates with skipNested, which hands nested containers over unread.
void add_value(TreeBuffer* tree, const JsonbValue* value, int depth, json::NodeId parent, json::NodeId* last,
               const JsonbValue* key) {
    json::NodeId id;
    switch (value->type) {
        case jbvNull: add_node(tree, json::Kind::Null, parent, last, key); return;
        case jbvBool:
            id = add_node(tree, json::Kind::Bool, parent, last, key);
            if (id != json::kNone) tree->nodes[id].boolean = value->val.boolean;
            return;
        case jbvNumeric:
            id = add_node(tree, json::Kind::Number, parent, last, key);
            if (id != json::kNone) {
                // numeric_out prints the value exactly, in plain notation (1.2e3 is 1200)
                char* text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(value->val.numeric)));
                tree->nodes[id].text = text;
                tree->nodes[id].text_length = static_cast<uint32_t>(std::strlen(text));
            }
            return;
        case jbvString:
            id = add_node(tree, json::Kind::String, parent, last, key);
            if (id != json::kNone) {
                tree->nodes[id].text = value->val.string.val;
                tree->nodes[id].text_length = static_cast<uint32_t>(value->val.string.len);
            }
            return;
        case jbvBinary: break;
        default: elog(ERROR, "unexpected jsonb value type %d", static_cast<int>(value->type));
    }
    JsonbContainer* container = value->val.binary.data;
    bool object = JsonContainerIsObject(container);
    if (!json::read_container(object, depth)) {
        add_node(tree, object ? json::Kind::SkippedObject : json::Kind::SkippedArray, parent, last, key);
        return;
    }
    id = add_node(tree, object ? json::Kind::Object : json::Kind::Array, parent, last, key);
    if (id == json::kNone) return;
    JsonbIterator* it = JsonbIteratorInit(container);
    JsonbValue child;
    JsonbValue member_key;
    json::NodeId child_last = json::kNone;
    JsonbIteratorToken token;
    while ((token = JsonbIteratorNext(&it, &child, true)) != WJB_DONE) {
        if (token == WJB_KEY) {
            member_key = child;
        } else if (token == WJB_VALUE || token == WJB_ELEM) {
            add_value(tree, &child, depth + 1, id, &child_last, token == WJB_VALUE ? &member_key : nullptr);
            if (!tree->complete) return;  // the iterator's memory goes with the call's memory context
        }
    }
}

// The jsonb as the core's tree.
json::Tree tree_of(Jsonb* payload, TreeBuffer* tree) {
    tree->capacity = 64;
    tree->count = 0;
    tree->complete = true;
    tree->nodes = static_cast<json::Node*>(palloc(tree->capacity * sizeof(json::Node)));
    JsonbValue root;
    json::NodeId none = json::kNone;
    if (JB_ROOT_IS_SCALAR(payload)) {
        if (!JsonbExtractScalar(&payload->root, &root)) elog(ERROR, "jsonb scalar root could not be read");
    } else {
        root.type = jbvBinary;
        root.val.binary.data = &payload->root;
        root.val.binary.len = VARSIZE(payload) - VARHDRSZ;
    }
    add_value(tree, &root, 0, json::kNone, &none, nullptr);
    return json::Tree(tree->nodes, tree->count, tree->complete);
}

Datum name_or_null(const char* value, bool* isnull) {
    *isnull = value[0] == '\0';
    return *isnull ? 0 : CStringGetTextDatum(value);
}

}  // namespace
}  // namespace usage_meter::pg

using namespace usage_meter;
using namespace usage_meter::pg;

// The row of normalize_usage: the ten columns of SQL 1.0 to 1.4, and web_search_requests from 1.5 on.
static Datum normalize_usage_row(FunctionCallInfo fcinfo, int columns) {
    require_arg(fcinfo, 0, "provider");
    require_arg(fcinfo, 1, "payload");
    TextView provider = text_view(PG_GETARG_DATUM(0), false);
    Jsonb* payload = PG_GETARG_JSONB_P(1);
    TreeBuffer buffer;
    json::Tree tree = tree_of(payload, &buffer);
    static_assert(std::is_trivially_destructible_v<json::Tree>);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE || desc->natts != columns)
        elog(ERROR, "normalize_usage must return a composite type of %d columns", columns);
    desc = BlessTupleDesc(desc);

    PlainUsage plain;
    core_or_raise([&] {
        NormalizedUsage u = normalize_usage(std::string_view(provider.data, provider.length), tree, "payload");
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
        plain.web_search_requests = u.web_search_requests;
    });

    Datum values[11];
    bool nulls[11] = {};
    values[0] = name_or_null(plain.model, &nulls[0]);
    for (int i = 0; i < 5; ++i) values[1 + i] = Int64GetDatum(plain.tokens[i]);
    nulls[6] = !plain.has_cost;
    values[6] = plain.has_cost ? numeric_from_decimal(plain.cost) : 0;
    values[7] = name_or_null(plain.response_id, &nulls[7]);
    values[8] = name_or_null(plain.provider, &nulls[8]);
    values[9] = CStringGetTextDatum(plain.format);
    values[10] = Int64GetDatum(plain.web_search_requests);
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// normalize_usage(provider text, payload jsonb) -> (model, input_tokens, output_tokens, cache_read_tokens,
//     cache_write_tokens, reasoning_tokens, cost, response_id, provider_name, format): SQL 1.0 to 1.4
UM_FUNCTION(normalize_usage) { return normalize_usage_row(fcinfo, 10); }

// normalize_usage from SQL 1.5: the same columns and web_search_requests.
UM_FUNCTION(normalize_usage_1_5) { return normalize_usage_row(fcinfo, 11); }
