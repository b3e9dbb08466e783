// libFuzzer target for the provider payload reader: no input may crash it, leak, overflow, recurse without
// bound or yield numbers the ledger would refuse. The first byte picks the `provider` argument, the rest is
// the payload text, built into the core's tree by json::Document (nlohmann/json), the same tree the extension
// builds from jsonb; a payload that is one JSON string holding a server-sent-events stream goes through the
// stream splitter and the parser again. Built and run by tests/stages/40-payload-fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core.h"

namespace {

const char* const kProviders[] = {"auto",      "openai",           "openai_chat", "openai_responses",
                                  "anthropic", "anthropic_stream", "openrouter",  "gemini",
                                  "otel",      "unknown",          "deepseek",    "xai",
                                  "mistral",   "bedrock_converse", "vertex_ai",   "azure_openai"};

bool within_ledger_bounds(const usage_meter::NormalizedUsage& u) {
    const int64_t counts[5] = {u.tokens.input, u.tokens.output, u.tokens.cache_read, u.tokens.cache_write,
                               u.tokens.reasoning};
    for (int64_t c : counts)
        if (c < 0 || c > usage_meter::kMaxTokenCount) return false;
    if (u.tokens.reasoning > u.tokens.output) return false;
    if (u.web_search_requests < 0 || u.web_search_requests > usage_meter::kMaxTokenCount) return false;
    if (u.cost && u.cost->is_negative()) return false;
    for (const std::string* name : {&u.model, &u.response_id, &u.provider})
        if (usage_meter::utf8_length(*name) > usage_meter::kMaxNameLength) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const char* provider = kProviders[data[0] % (sizeof kProviders / sizeof kProviders[0])];
    std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        usage_meter::NormalizedUsage u = usage_meter::normalize_usage(provider, payload);
        if (!within_ledger_bounds(u)) std::abort();
    } catch (const usage_meter::CoreError&) {
        // A refusal with a message is the expected outcome for most inputs; anything else is a bug.
    }
    return 0;
}
