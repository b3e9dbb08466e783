#include "payload.h"

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "error.h"
#include "event_stream.h"
#include "validate.h"

namespace usage_meter {

const char* format_name(PayloadFormat format) {
    switch (format) {
        case PayloadFormat::OpenAIChat: return "openai_chat";
        case PayloadFormat::OpenAIResponses: return "openai_responses";
        case PayloadFormat::Anthropic: return "anthropic";
        case PayloadFormat::AnthropicStream: return "anthropic_stream";
        case PayloadFormat::OpenRouter: return "openrouter";
        case PayloadFormat::Gemini: return "gemini";
        case PayloadFormat::OpenTelemetry: return "otel";
        case PayloadFormat::DeepSeek: return "deepseek";
        case PayloadFormat::XAI: return "xai";
        case PayloadFormat::BedrockConverse: return "bedrock_converse";
    }
    return "?";
}

namespace {

using json::Kind;
using json::kNone;
using json::NodeId;
using json::Tree;

// A value for a message: long texts are cut.
std::string shown(std::string_view raw) {
    if (raw.size() <= 40) return std::string(raw);
    return std::string(raw.substr(0, 40)) + "...";
}

// What a node is, for messages.
std::string describe(const Tree& d, NodeId id) {
    switch (d.kind(id)) {
        case Kind::Null: return "null";
        case Kind::Bool: return "a boolean";
        case Kind::Number: return "a number";
        case Kind::String: return "a string";
        case Kind::Array:
        case Kind::SkippedArray: return "an array";
        case Kind::Object:
        case Kind::SkippedObject: return "an object";
    }
    return "?";
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Reads typed fields of one payload; every error names the argument and the field's path.
class Reader {
public:
    Reader(const Tree& doc, std::string_view argument) : doc_(doc), argument_(argument) {}

    const Tree& doc() const { return doc_; }

    [[noreturn]] void fail(const std::string& what, const std::string& hint = std::string(),
                           ErrorKind kind = ErrorKind::InvalidParameter) const {
        throw CoreError(kind, "invalid " + std::string(argument_) + ": " + what, hint);
    }

    // An optional count: absent or null is nullopt (as the providers' SDKs read it); otherwise it must be a
    // whole number from 0 to 10^12, in any JSON notation ("1200", "1.2e3", "1200.0").
    std::optional<int64_t> count(NodeId object, std::string_view key, const std::string& path) const {
        NodeId id = doc_.member(object, key);
        if (id == kNone || doc_.kind(id) == Kind::Null) return std::nullopt;
        if (doc_.kind(id) != Kind::Number)
            fail(path + " must be a number, not " + describe(doc_, id) +
                 (doc_.kind(id) == Kind::String ? " (\"" + shown(doc_.text(id)) + "\")" : std::string()));
        return exact_count(doc_.text(id), path);
    }

    int64_t required_count(NodeId object, std::string_view key, const std::string& path) const {
        std::optional<int64_t> v = count(object, key, path);
        if (!v) fail(path + " is missing", "a provider response reports it in every usage block");
        return *v;
    }

    // A nested object that may be absent or null (kNone then); anything else is an error.
    NodeId object(NodeId parent, std::string_view key, const std::string& path) const {
        NodeId id = doc_.member(parent, key);
        if (id == kNone || doc_.kind(id) == Kind::Null) return kNone;
        if (doc_.kind(id) != Kind::Object) fail(path + " must be an object, not " + describe(doc_, id));
        return id;
    }

    // The usage block a format cannot do without.
    NodeId usage_block(NodeId parent, std::string_view key, const std::string& path, const char* hint) const {
        NodeId id = object(parent, key, path);
        if (id == kNone) fail("the payload has no usage block (" + path + " is missing or null)", hint);
        return id;
    }

    // An optional name (model, id, provider): absent, null or "" is empty; at most 200 characters.
    std::string name(NodeId object, std::string_view key, const std::string& path) const {
        NodeId id = doc_.member(object, key);
        if (id == kNone || doc_.kind(id) == Kind::Null) return std::string();
        if (doc_.kind(id) != Kind::String) fail(path + " must be a string, not " + describe(doc_, id));
        std::string value(doc_.text(id));
        if (value.find('\0') != std::string::npos) fail(path + " contains a NUL character");
        size_t chars = utf8_length(value);
        if (chars > kMaxNameLength)
            fail(path + " is too long (" + std::to_string(chars) + " characters)",
                 "names and keys are limited to 200 characters", ErrorKind::StringTooLong);
        return value;
    }

    // A string field's value for shape detection; empty when absent or not a string.
    std::string peek(NodeId object, std::string_view key) const {
        NodeId id = doc_.member(object, key);
        return id != kNone && doc_.kind(id) == Kind::String ? std::string(doc_.text(id)) : std::string();
    }

    bool has(NodeId object, std::string_view key) const { return doc_.member(object, key) != kNone; }

    // A reported charge, read exactly as a decimal: absent or null is nullopt; negative is refused.
    std::optional<Decimal> charge(NodeId object, std::string_view key, const std::string& path) const {
        NodeId id = doc_.member(object, key);
        if (id == kNone || doc_.kind(id) == Kind::Null) return std::nullopt;
        if (doc_.kind(id) != Kind::Number) fail(path + " must be a number, not " + describe(doc_, id));
        Decimal value;
        try {
            value = Decimal::parse(doc_.text(id));
        } catch (const CoreError& e) {  // beyond 38 digits or 36 decimal places: refused, never rounded
            fail(path + " is " + shown(doc_.text(id)) + "; " + e.what(), e.hint(), e.kind());
        }
        if (value.is_negative()) fail(path + " is " + shown(doc_.text(id)) + "; a charge cannot be negative");
        return value;
    }

private:
    // The exact integer value of a JSON number's text, refused unless it is whole, >= 0 and <= 10^12.
    int64_t exact_count(std::string_view raw, const std::string& path) const {
        size_t i = 0;
        bool negative = raw[0] == '-';
        if (negative) ++i;
        std::string digits;
        int64_t exponent = 0;
        for (; i < raw.size() && raw[i] >= '0' && raw[i] <= '9'; ++i) digits += raw[i];
        if (i < raw.size() && raw[i] == '.')
            for (++i; i < raw.size() && raw[i] >= '0' && raw[i] <= '9'; ++i) {
                digits += raw[i];
                --exponent;
            }
        if (i < raw.size() && (raw[i] == 'e' || raw[i] == 'E')) {
            ++i;
            bool exp_negative = false;
            if (i < raw.size() && (raw[i] == '+' || raw[i] == '-')) exp_negative = raw[i++] == '-';
            int64_t e = 0;
            for (; i < raw.size() && raw[i] >= '0' && raw[i] <= '9'; ++i)
                if (e < 1000000000) e = e * 10 + (raw[i] - '0');  // saturates: beyond this only the sign matters
            exponent += exp_negative ? -e : e;
        }
        size_t first = digits.find_first_not_of('0');
        if (first == std::string::npos) return 0;  // zero, however written ("-0", "0.0e5")
        digits.erase(0, first);
        if (negative) fail(path + " is " + shown(raw) + "; token counts cannot be negative");
        while (!digits.empty() && digits.back() == '0') {
            digits.pop_back();
            ++exponent;
        }
        if (exponent < 0) fail(path + " is " + shown(raw) + "; token counts must be whole numbers");
        static const std::string hint = "token counts must be between 0 and 1000000000000";
        if (static_cast<int64_t>(digits.size()) + exponent > 13)
            fail(path + " is " + shown(raw) + "; that is more than 1000000000000", hint, ErrorKind::OutOfRange);
        int64_t value = 0;
        for (char d : digits) value = value * 10 + (d - '0');
        for (int64_t k = 0; k < exponent; ++k) value *= 10;
        if (value > kMaxTokenCount)
            fail(path + " is " + shown(raw) + "; that is more than 1000000000000", hint, ErrorKind::OutOfRange);
        return value;
    }

    const Tree& doc_;
    std::string_view argument_;
};

std::string text_of(int64_t v) { return std::to_string(v); }

// part <= whole, or an error explaining that `whole` already includes `part`.
void check_part(const Reader& r, int64_t part, const std::string& part_name, int64_t whole,
                const std::string& whole_name) {
    if (part > whole)
        r.fail(part_name + " " + text_of(part) + " is more than " + whole_name + " " + text_of(whole),
               whole_name + " already includes " + part_name);
}

// The cache writes a prompt's details report (cache_write_tokens, part of the prompt like cached_tokens),
// checked with the cache reads against the prompt they are part of.
int64_t cache_writes(const Reader& r, NodeId details, const std::string& details_path, int64_t cached, int64_t prompt,
                     const std::string& prompt_path, bool combined_message) {
    std::optional<int64_t> written = r.count(details, "cache_write_tokens", details_path + ".cache_write_tokens");
    if (!written && !combined_message) {
        check_part(r, cached, details_path + ".cached_tokens", prompt, prompt_path);
        return 0;
    }
    check_part(r, cached + written.value_or(0), "cached_tokens + cache_write_tokens", prompt, prompt_path);
    return written.value_or(0);
}

// ---- OpenAI Chat Completions, OpenRouter, DeepSeek, xAI -------------------------------------------------------

// Chat Completions and the providers that answer in its shape. prompt_tokens includes cache reads
// (prompt_tokens_details.cached_tokens) and writes (prompt_tokens_details.cache_write_tokens: OpenRouter, and
// OpenAI for models that report cache writes); completion_tokens includes reasoning. DeepSeek splits the
// prompt into prompt_cache_hit_tokens + prompt_cache_miss_tokens; xAI has reported reasoning beside
// completion_tokens instead of inside it, which its total_tokens then shows.
void read_chat(const Reader& r, NodeId root, NormalizedUsage& out, PayloadFormat format) {
    NodeId usage = r.usage_block(root, "usage", "usage",
                                 "a streamed Chat Completion reports usage only in its last chunk, and only with "
                                 "stream_options.include_usage = true");
    int64_t prompt = r.required_count(usage, "prompt_tokens", "usage.prompt_tokens");
    int64_t completion = r.required_count(usage, "completion_tokens", "usage.completion_tokens");
    NodeId prompt_details = r.object(usage, "prompt_tokens_details", "usage.prompt_tokens_details");
    NodeId completion_details = r.object(usage, "completion_tokens_details", "usage.completion_tokens_details");
    int64_t reasoning =
        r.count(completion_details, "reasoning_tokens", "usage.completion_tokens_details.reasoning_tokens").value_or(0);
    int64_t cached = 0, cache_write = 0;
    if (format == PayloadFormat::DeepSeek) {
        std::optional<int64_t> hit = r.count(usage, "prompt_cache_hit_tokens", "usage.prompt_cache_hit_tokens");
        std::optional<int64_t> miss = r.count(usage, "prompt_cache_miss_tokens", "usage.prompt_cache_miss_tokens");
        if (hit && miss && *hit + *miss != prompt)
            r.fail("usage.prompt_cache_hit_tokens " + text_of(*hit) + " + usage.prompt_cache_miss_tokens " +
                       text_of(*miss) + " is not usage.prompt_tokens " + text_of(prompt),
                   "DeepSeek splits the prompt into cache hits and misses: the two add up to prompt_tokens");
        if (hit) check_part(r, *hit, "usage.prompt_cache_hit_tokens", prompt, "usage.prompt_tokens");
        if (miss) check_part(r, *miss, "usage.prompt_cache_miss_tokens", prompt, "usage.prompt_tokens");
        cached = hit ? *hit : miss ? prompt - *miss : 0;
    } else {
        cached = r.count(prompt_details, "cached_tokens", "usage.prompt_tokens_details.cached_tokens").value_or(0);
        cache_write = cache_writes(r, prompt_details, "usage.prompt_tokens_details", cached, prompt,
                                   "usage.prompt_tokens", format == PayloadFormat::OpenRouter);
    }
    int64_t output = completion;
    if (format == PayloadFormat::XAI) {
        // total_tokens tells whether reasoning is inside completion_tokens (prompt + completion) or beside it
        // (prompt + completion + reasoning, as grok-3-mini reported); without it, a reasoning count above
        // completion_tokens can only be beside it.
        std::optional<int64_t> total = r.count(usage, "total_tokens", "usage.total_tokens");
        bool beside = reasoning > completion;
        if (total) {
            if (reasoning > 0 && *total == prompt + completion + reasoning)
                beside = true;
            else if (*total == prompt + completion)
                beside = false;
            else
                r.fail("usage.total_tokens " + text_of(*total) + " is neither prompt_tokens + completion_tokens (" +
                       text_of(prompt + completion) + ") nor that plus reasoning_tokens (" +
                       text_of(prompt + completion + reasoning) + ")");
        }
        if (beside) output = completion + reasoning;
        if (auto ticks = r.charge(usage, "cost_in_usd_ticks", "usage.cost_in_usd_ticks")) {
            if (ticks->scale() != 0)
                r.fail("usage.cost_in_usd_ticks is " + ticks->to_string() + "; ticks are whole numbers");
            out.cost = ticks->shifted_down(10);  // 1 USD = 10^10 ticks
        }
    }
    check_part(r, reasoning, "usage.completion_tokens_details.reasoning_tokens", output,
               output == completion ? "usage.completion_tokens" : "completion_tokens + reasoning_tokens");
    out.tokens.input = prompt - cached - cache_write;
    out.tokens.cache_read = cached;
    out.tokens.cache_write = cache_write;
    out.tokens.output = output;
    out.tokens.reasoning = reasoning;
    if (format == PayloadFormat::OpenRouter) out.cost = r.charge(usage, "cost", "usage.cost");
    out.model = r.name(root, "model", "model");
    out.response_id = r.name(root, "id", "id");
    switch (format) {
        case PayloadFormat::OpenRouter: out.provider = "openrouter"; break;
        case PayloadFormat::DeepSeek: out.provider = "deepseek"; break;
        case PayloadFormat::XAI: out.provider = "xai"; break;
        default: out.provider = "openai";
    }
}

// ---- OpenAI Responses --------------------------------------------------------------------------------------

void read_responses(const Reader& r, NodeId root, NormalizedUsage& out) {
    std::string prefix;
    // A streamed response ends with {"type": "response.completed", "response": {...}}: read the response.
    if (!r.has(root, "usage")) {
        NodeId inner = r.object(root, "response", "response");
        if (inner != kNone) {
            root = inner;
            prefix = "response.";
        }
    }
    NodeId usage = r.usage_block(root, "usage", prefix + "usage",
                                 "a streamed response reports usage in its response.completed event");
    std::string u = prefix + "usage.";
    int64_t input = r.required_count(usage, "input_tokens", u + "input_tokens");
    int64_t output = r.required_count(usage, "output_tokens", u + "output_tokens");
    NodeId input_details = r.object(usage, "input_tokens_details", u + "input_tokens_details");
    int64_t cached = r.count(input_details, "cached_tokens", u + "input_tokens_details.cached_tokens").value_or(0);
    int64_t cache_write =
        cache_writes(r, input_details, u + "input_tokens_details", cached, input, u + "input_tokens", false);
    int64_t reasoning = r.count(r.object(usage, "output_tokens_details", u + "output_tokens_details"),
                                "reasoning_tokens", u + "output_tokens_details.reasoning_tokens")
                            .value_or(0);
    check_part(r, reasoning, u + "output_tokens_details.reasoning_tokens", output, u + "output_tokens");
    out.tokens.input = input - cached - cache_write;
    out.tokens.cache_read = cached;
    out.tokens.cache_write = cache_write;
    out.tokens.output = output;
    out.tokens.reasoning = reasoning;
    out.model = r.name(root, "model", prefix + "model");
    out.response_id = r.name(root, "id", prefix + "id");
    out.provider = "openai";
}

// ---- Anthropic Messages and its stream ---------------------------------------------------------------------

// Who served an Anthropic Message: the Messages API on Vertex AI and on Bedrock answers with ids of its own.
const char* anthropic_host(const std::string& id) {
    if (starts_with(id, "msg_vrtx_")) return "vertex_ai";
    if (starts_with(id, "msg_bdrk_")) return "bedrock";
    return "anthropic";
}

// usage.output_tokens_details.thinking_tokens: the share of output_tokens spent thinking (informational;
// output_tokens stays the billed total).
int64_t thinking(const Reader& r, NodeId usage, const std::string& u, int64_t output) {
    int64_t value = r.count(r.object(usage, "output_tokens_details", u + "output_tokens_details"), "thinking_tokens",
                            u + "output_tokens_details.thinking_tokens")
                        .value_or(0);
    check_part(r, value, u + "output_tokens_details.thinking_tokens", output, u + "output_tokens");
    return value;
}

// usage.server_tool_use.web_search_requests: web searches run by the server tool, charged per search.
std::optional<int64_t> web_searches(const Reader& r, NodeId usage, const std::string& u) {
    return r.count(r.object(usage, "server_tool_use", u + "server_tool_use"), "web_search_requests",
                   u + "server_tool_use.web_search_requests");
}

void read_anthropic(const Reader& r, NodeId root, NormalizedUsage& out) {
    NodeId usage = r.usage_block(root, "usage", "usage", "pass the Message object the API returned");
    out.tokens.input = r.required_count(usage, "input_tokens", "usage.input_tokens");
    out.tokens.output = r.required_count(usage, "output_tokens", "usage.output_tokens");
    out.tokens.cache_read = r.count(usage, "cache_read_input_tokens", "usage.cache_read_input_tokens").value_or(0);
    out.tokens.cache_write =
        r.count(usage, "cache_creation_input_tokens", "usage.cache_creation_input_tokens").value_or(0);
    out.tokens.reasoning = thinking(r, usage, "usage.", out.tokens.output);
    out.web_search_requests = web_searches(r, usage, "usage.").value_or(0);
    out.model = r.name(root, "model", "model");
    out.response_id = r.name(root, "id", "id");
    out.provider = anthropic_host(out.response_id);
}

// message_start carries the input side and a first output count; each message_delta carries the cumulative
// output count so far (the last one wins) and, in newer API versions, the input side again. As Anthropic's
// SDKs do, a count present in a message_delta replaces the one from message_start.
void read_anthropic_stream(const Reader& r, NormalizedUsage& out) {
    const Tree& d = r.doc();
    NodeId root = d.root();
    if (d.kind(root) != Kind::Array) r.fail("an Anthropic stream must be a JSON array of its events");
    bool started = false;
    std::optional<int64_t> delta_output, delta_input, delta_read, delta_write, delta_thinking, delta_searches;
    int64_t start_thinking = 0;
    int index = 0;
    for (NodeId event = d.first_child(root); event != kNone; event = d.next_sibling(event), ++index) {
        if (d.kind(event) != Kind::Object)
            r.fail("event " + std::to_string(index) + " of the stream is " + describe(d, event) + ", not an object");
        std::string type = r.peek(event, "type");
        if (type == "message_start") {
            if (started) r.fail("the stream has more than one message_start event", "pass the events of one stream");
            started = true;
            NodeId message = r.object(event, "message", "message_start.message");
            if (message == kNone) r.fail("message_start has no message");
            NodeId usage = r.usage_block(message, "usage", "message_start.message.usage", "");
            const std::string u = "message_start.message.usage.";
            out.tokens.input = r.required_count(usage, "input_tokens", u + "input_tokens");
            out.tokens.output = r.count(usage, "output_tokens", u + "output_tokens").value_or(0);
            out.tokens.cache_read = r.count(usage, "cache_read_input_tokens", u + "cache_read_input_tokens").value_or(0);
            out.tokens.cache_write =
                r.count(usage, "cache_creation_input_tokens", u + "cache_creation_input_tokens").value_or(0);
            start_thinking = r.count(r.object(usage, "output_tokens_details", u + "output_tokens_details"),
                                     "thinking_tokens", u + "output_tokens_details.thinking_tokens")
                                 .value_or(0);
            out.web_search_requests = web_searches(r, usage, u).value_or(0);
            out.model = r.name(message, "model", "message_start.message.model");
            out.response_id = r.name(message, "id", "message_start.message.id");
        } else if (type == "message_delta") {
            NodeId usage = r.object(event, "usage", "message_delta.usage");
            const std::string u = "message_delta.usage.";
            if (auto v = r.count(usage, "output_tokens", u + "output_tokens")) delta_output = v;
            if (auto v = r.count(usage, "input_tokens", u + "input_tokens")) delta_input = v;
            if (auto v = r.count(usage, "cache_read_input_tokens", u + "cache_read_input_tokens")) delta_read = v;
            if (auto v = r.count(usage, "cache_creation_input_tokens", u + "cache_creation_input_tokens"))
                delta_write = v;
            if (auto v = r.count(r.object(usage, "output_tokens_details", u + "output_tokens_details"),
                                 "thinking_tokens", u + "output_tokens_details.thinking_tokens"))
                delta_thinking = v;
            if (auto v = web_searches(r, usage, u)) delta_searches = v;
        }
    }
    if (!started)
        r.fail("the stream has no message_start event", "pass every event of the stream, in order, as a JSON array");
    if (delta_output) out.tokens.output = *delta_output;
    if (delta_input) out.tokens.input = *delta_input;
    if (delta_read) out.tokens.cache_read = *delta_read;
    if (delta_write) out.tokens.cache_write = *delta_write;
    out.tokens.reasoning = delta_thinking.value_or(start_thinking);
    if (delta_searches) out.web_search_requests = *delta_searches;
    check_part(r, out.tokens.reasoning, "the stream's output_tokens_details.thinking_tokens", out.tokens.output,
               "its output_tokens");
    out.provider = anthropic_host(out.response_id);
}

// ---- Gemini and Vertex AI ----------------------------------------------------------------------------------

// Gemini's REST API writes camelCase; its Python SDK's model_dump() writes snake_case. Both are read. Vertex AI
// answers generateContent in the same shape, adding createTime and usageMetadata.trafficType.
void read_gemini(const Reader& r, NodeId root, NormalizedUsage& out) {
    bool snake = !r.has(root, "usageMetadata") && r.has(root, "usage_metadata");
    auto key = [&](std::string_view camel, std::string_view snake_name) { return snake ? snake_name : camel; };
    std::string um_name(key("usageMetadata", "usage_metadata"));
    NodeId usage =
        r.usage_block(root, um_name, um_name, "pass the GenerateContentResponse (for a stream, its last chunk)");
    auto count = [&](std::string_view camel, std::string_view snake_name) {
        std::string name(key(camel, snake_name));
        return r.count(usage, name, um_name + "." + name).value_or(0);
    };
    // The protobuf JSON mapping leaves out zero counts, so every count may be absent.
    int64_t prompt = count("promptTokenCount", "prompt_token_count");
    int64_t cached = count("cachedContentTokenCount", "cached_content_token_count");
    int64_t tool_prompt = count("toolUsePromptTokenCount", "tool_use_prompt_token_count");
    int64_t candidates = count("candidatesTokenCount", "candidates_token_count");
    int64_t thoughts = count("thoughtsTokenCount", "thoughts_token_count");
    std::string p = um_name + ".";
    check_part(r, cached, p + std::string(key("cachedContentTokenCount", "cached_content_token_count")), prompt,
               p + std::string(key("promptTokenCount", "prompt_token_count")));
    // Tool-use prompt tokens are input billed like the prompt; thinking is output billed like candidates.
    out.tokens.input = prompt - cached + tool_prompt;
    out.tokens.cache_read = cached;
    out.tokens.output = candidates + thoughts;
    out.tokens.reasoning = thoughts;
    out.model = r.name(root, key("modelVersion", "model_version"), std::string(key("modelVersion", "model_version")));
    out.response_id = r.name(root, key("responseId", "response_id"), std::string(key("responseId", "response_id")));
    out.provider = "gemini";
}

// ---- Bedrock Converse --------------------------------------------------------------------------------------

// Converse returns usage beside output and stopReason; ConverseStream ends with a metadata event carrying it.
// inputTokens excludes the cache reads and writes, which are reported beside it (as in Anthropic's Messages).
// The response does not repeat the request's modelId: a payload may carry it as "modelId". boto3 adds
// ResponseMetadata.RequestId, the response's id.
void read_bedrock(const Reader& r, NodeId root, NormalizedUsage& out) {
    NodeId holder = root;
    std::string prefix;
    if (!r.has(root, "usage")) {
        NodeId metadata = r.object(root, "metadata", "metadata");
        if (metadata != kNone) {
            holder = metadata;
            prefix = "metadata.";
        }
    }
    NodeId usage =
        r.usage_block(holder, "usage", prefix + "usage", "a ConverseStream reports usage in its last event, metadata");
    const std::string u = prefix + "usage.";
    out.tokens.input = r.required_count(usage, "inputTokens", u + "inputTokens");
    out.tokens.output = r.required_count(usage, "outputTokens", u + "outputTokens");
    out.tokens.cache_read = r.count(usage, "cacheReadInputTokens", u + "cacheReadInputTokens").value_or(0);
    out.tokens.cache_write = r.count(usage, "cacheWriteInputTokens", u + "cacheWriteInputTokens").value_or(0);
    out.model = r.name(root, "modelId", "modelId");
    out.response_id =
        r.name(r.object(root, "ResponseMetadata", "ResponseMetadata"), "RequestId", "ResponseMetadata.RequestId");
    out.provider = "bedrock";
}

// ---- OpenTelemetry GenAI span attributes -------------------------------------------------------------------

bool has_genai_usage(const Tree& d, NodeId object) {
    if (object == kNone || d.kind(object) != Kind::Object) return false;
    for (NodeId c = d.first_child(object); c != kNone; c = d.next_sibling(c))
        if (starts_with(d.key(c), "gen_ai.")) return true;
    return false;
}

// One quantity under each of the attribute names in circulation for it: the names that are present must agree.
std::optional<int64_t> attribute(const Reader& r, NodeId attrs, const std::string& prefix,
                                 std::initializer_list<const char*> names) {
    std::optional<int64_t> value;
    const char* first = nullptr;
    for (const char* name : names) {
        std::optional<int64_t> v = r.count(attrs, name, prefix + name);
        if (!v) continue;
        if (value && *v != *value)
            r.fail(prefix + first + " " + text_of(*value) + " and " + prefix + name + " " + text_of(*v) + " disagree",
                   "they are two spellings of the same count");
        if (!value) first = name;
        value = v;
    }
    return value;
}

// The GenAI semantic conventions' names first, then the older and the instrumentation libraries' spellings
// still in circulation (OpenLLMetry's cache_*_input_tokens and prompt/completion_tokens, Sentry's
// input_tokens.cached / input_tokens.cache_write / output_tokens.reasoning).
void read_otel(const Reader& r, NodeId attrs, NormalizedUsage& out) {
    const Tree& d = r.doc();
    std::string prefix;
    // Either the attributes themselves or a span carrying them as an "attributes" object.
    if (!has_genai_usage(d, attrs)) {
        NodeId inner = r.object(attrs, "attributes", "attributes");
        if (inner != kNone) {
            attrs = inner;
            prefix = "attributes.";
        }
    }
    std::optional<int64_t> input =
        attribute(r, attrs, prefix, {"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"});
    std::optional<int64_t> output =
        attribute(r, attrs, prefix, {"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"});
    if (!input && !output)
        r.fail("the payload has no usage block (no gen_ai.usage.input_tokens or gen_ai.usage.output_tokens)",
               "pass the span's attributes as a JSON object");
    int64_t read = attribute(r, attrs, prefix,
                             {"gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                              "gen_ai.usage.input_tokens.cached"})
                       .value_or(0);
    int64_t write = attribute(r, attrs, prefix,
                              {"gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens",
                               "gen_ai.usage.input_tokens.cache_write"})
                        .value_or(0);
    int64_t reasoning = attribute(r, attrs, prefix,
                                  {"gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens",
                                   "gen_ai.usage.output_tokens.reasoning"})
                            .value_or(0);
    int64_t in = input.value_or(0);
    check_part(r, read + write, prefix + "gen_ai.usage.cache_read.input_tokens + cache_creation.input_tokens", in,
               prefix + "gen_ai.usage.input_tokens");
    out.tokens.input = in - read - write;
    out.tokens.cache_read = read;
    out.tokens.cache_write = write;
    out.tokens.output = output.value_or(0);
    check_part(r, reasoning, prefix + "gen_ai.usage.reasoning.output_tokens", out.tokens.output,
               prefix + "gen_ai.usage.output_tokens");
    out.tokens.reasoning = reasoning;
    out.model = r.name(attrs, "gen_ai.response.model", prefix + "gen_ai.response.model");
    if (out.model.empty()) out.model = r.name(attrs, "gen_ai.request.model", prefix + "gen_ai.request.model");
    out.response_id = r.name(attrs, "gen_ai.response.id", prefix + "gen_ai.response.id");
    out.provider = r.name(attrs, "gen_ai.provider.name", prefix + "gen_ai.provider.name");
    if (out.provider.empty()) out.provider = r.name(attrs, "gen_ai.system", prefix + "gen_ai.system");
}

// ---- format detection --------------------------------------------------------------------------------------

// The format that reads a payload, and who served it when that is not the format's own provider (Azure
// OpenAI, Vertex AI and Mistral answer in the shapes of OpenAI and Gemini).
struct Choice {
    PayloadFormat format;
    const char* served_by = nullptr;
};

bool is_object(const Tree& d, NodeId id) { return id != kNone && d.kind(id) == Kind::Object; }

// Bedrock's camelCase usage block.
bool bedrock_usage(const Reader& r, NodeId usage) {
    return is_object(r.doc(), usage) && (r.has(usage, "inputTokens") || r.has(usage, "outputTokens"));
}

// Whether a response object (or stream chunk) carries the format's usage block, not null.
bool has_usage(const Reader& r, NodeId object, PayloadFormat format) {
    const Tree& d = r.doc();
    auto present = [&](NodeId parent, std::string_view key) { return is_object(d, d.member(parent, key)); };
    switch (format) {
        case PayloadFormat::Gemini: return present(object, "usageMetadata") || present(object, "usage_metadata");
        case PayloadFormat::OpenTelemetry:
            return has_genai_usage(d, object) || has_genai_usage(d, d.member(object, "attributes"));
        case PayloadFormat::OpenAIResponses:
            return present(object, "usage") || present(d.member(object, "response"), "usage");
        case PayloadFormat::BedrockConverse:
            return present(object, "usage") || present(d.member(object, "metadata"), "usage");
        default: return present(object, "usage");
    }
}

// Vertex AI's generateContent adds createTime and usageMetadata.trafficType to Gemini's shape.
bool vertex_markers(const Reader& r, NodeId root) {
    const Tree& d = r.doc();
    NodeId usage = d.member(root, "usageMetadata");
    if (usage == kNone) usage = d.member(root, "usage_metadata");
    return r.has(root, "createTime") || r.has(root, "create_time") || r.has(usage, "trafficType") ||
           r.has(usage, "traffic_type");
}

// The format a response object's shape shows, or nullopt when it shows none.
std::optional<Choice> detect_object(const Reader& r, NodeId root) {
    const Tree& d = r.doc();
    if (d.kind(root) != Kind::Object) return std::nullopt;
    if (r.has(root, "usageMetadata") || r.has(root, "usage_metadata"))
        return Choice{PayloadFormat::Gemini, vertex_markers(r, root) ? "vertex_ai" : nullptr};
    if (has_genai_usage(d, root) || has_genai_usage(d, d.member(root, "attributes")))
        return Choice{PayloadFormat::OpenTelemetry};
    NodeId usage = d.member(root, "usage");
    NodeId metadata = d.member(root, "metadata");
    std::string id = r.peek(root, "id");
    std::string object = r.peek(root, "object");
    std::string model = r.peek(root, "model");
    const char* azure = r.has(root, "prompt_filter_results") ? "azure" : nullptr;
    if (bedrock_usage(r, usage) || bedrock_usage(r, d.member(metadata, "usage")))
        return Choice{PayloadFormat::BedrockConverse};
    if (is_object(d, usage)) {
        if (r.has(usage, "prompt_tokens") || r.has(usage, "completion_tokens")) {
            bool openrouter = r.has(usage, "cost") || r.has(usage, "is_byok") || r.has(usage, "cost_details") ||
                              starts_with(id, "gen-");
            if (openrouter) return Choice{PayloadFormat::OpenRouter};
            if (r.has(usage, "prompt_cache_hit_tokens") || r.has(usage, "prompt_cache_miss_tokens"))
                return Choice{PayloadFormat::DeepSeek};
            if (r.has(usage, "num_sources_used") || r.has(usage, "cost_in_usd_ticks") || starts_with(model, "grok-"))
                return Choice{PayloadFormat::XAI, azure};
            if (r.has(usage, "prompt_audio_seconds") ||
                (starts_with(id, "cmpl-") && starts_with(object, "chat.completion")))
                return Choice{PayloadFormat::OpenAIChat, "mistral"};
            return Choice{PayloadFormat::OpenAIChat, azure};
        }
        if (r.has(usage, "input_tokens") || r.has(usage, "output_tokens")) {
            // The response's own markers first: Anthropic's usage has an output_tokens_details object too.
            bool message = r.peek(root, "type") == "message" || starts_with(id, "msg_");
            if (object == "response" || starts_with(id, "resp_") ||
                (!message && (r.has(usage, "input_tokens_details") || r.has(usage, "output_tokens_details"))))
                return Choice{PayloadFormat::OpenAIResponses};
            if (message || r.has(usage, "cache_read_input_tokens") || r.has(usage, "cache_creation_input_tokens"))
                return Choice{PayloadFormat::Anthropic};
        }
    }
    // No readable usage block: the response's own markers still tell the format, so that the error can say
    // what is missing (a streamed chunk without usage, an unfinished response) instead of "cannot tell".
    if (starts_with(id, "gen-")) return Choice{PayloadFormat::OpenRouter};
    if (starts_with(object, "chat.completion") || starts_with(id, "chatcmpl-"))
        return Choice{PayloadFormat::OpenAIChat, azure};
    if (object == "response" || starts_with(id, "resp_")) return Choice{PayloadFormat::OpenAIResponses};
    if (r.peek(root, "type") == "message" || starts_with(id, "msg_")) return Choice{PayloadFormat::Anthropic};
    NodeId response = d.member(root, "response");
    if (usage == kNone && is_object(d, response) && r.has(response, "usage"))
        return Choice{PayloadFormat::OpenAIResponses};
    return std::nullopt;
}

// A stream given as an array: Anthropic's events (it has a message_start), or the chunks of another format's
// stream, whose format is the one its last chunk with a usage block shows (Azure's marker comes in the first
// chunk only).
std::optional<Choice> detect(const Reader& r) {
    const Tree& d = r.doc();
    NodeId root = d.root();
    if (d.kind(root) != Kind::Array) return detect_object(r, root);
    std::optional<Choice> with_usage, marked;
    const char* azure = nullptr;
    for (NodeId e = d.first_child(root); e != kNone; e = d.next_sibling(e)) {
        if (r.peek(e, "type") == "message_start") return Choice{PayloadFormat::AnthropicStream};
        if (r.has(e, "prompt_filter_results")) azure = "azure";
        if (auto c = detect_object(r, e)) (has_usage(r, e, c->format) ? with_usage : marked) = c;
    }
    std::optional<Choice> found = with_usage ? with_usage : marked;
    if (!found) return Choice{PayloadFormat::AnthropicStream};
    if (azure && !found->served_by && (found->format == PayloadFormat::OpenAIChat || found->format == PayloadFormat::XAI))
        found->served_by = azure;
    return found;
}

Choice choose_format(const Reader& r, std::string_view provider) {
    std::optional<Choice> shape = detect(r);
    bool array = r.doc().kind(r.doc().root()) == Kind::Array;
    auto is = [&](PayloadFormat f) { return shape && shape->format == f; };
    if (provider == "auto") {
        if (!shape) {
            if (r.doc().kind(r.doc().root()) != Kind::Object)
                r.fail("a provider response must be a JSON object (or a stream's array of events), not " +
                       describe(r.doc(), r.doc().root()));
            r.fail("cannot tell which provider's format the payload is in",
                   std::string("name the provider instead of auto: one of ") + kProviderNames);
        }
        return *shape;
    }
    if (provider == "openai")
        return {is(PayloadFormat::OpenAIResponses) ? PayloadFormat::OpenAIResponses : PayloadFormat::OpenAIChat};
    if (provider == "openai_chat") return {PayloadFormat::OpenAIChat};
    if (provider == "openai_responses") return {PayloadFormat::OpenAIResponses};
    if (provider == "azure_openai")
        return {is(PayloadFormat::OpenAIResponses) ? PayloadFormat::OpenAIResponses : PayloadFormat::OpenAIChat, "azure"};
    if (provider == "anthropic") return {array ? PayloadFormat::AnthropicStream : PayloadFormat::Anthropic};
    if (provider == "anthropic_stream") return {PayloadFormat::AnthropicStream};
    if (provider == "openrouter") return {PayloadFormat::OpenRouter};
    if (provider == "gemini") return {PayloadFormat::Gemini};
    if (provider == "vertex_ai") {
        if (is(PayloadFormat::Anthropic) || is(PayloadFormat::AnthropicStream)) return {shape->format, "vertex_ai"};
        return {PayloadFormat::Gemini, "vertex_ai"};
    }
    if (provider == "otel") return {PayloadFormat::OpenTelemetry};
    if (provider == "deepseek") return {PayloadFormat::DeepSeek};
    if (provider == "xai") return {PayloadFormat::XAI};
    if (provider == "mistral") return {PayloadFormat::OpenAIChat, "mistral"};
    if (provider == "bedrock_converse") return {PayloadFormat::BedrockConverse};
    throw CoreError(ErrorKind::InvalidParameter, "invalid provider: \"" + shown(provider) + "\"",
                    std::string("use one of ") + kProviderNames);
}

// A payload that is one string holding a server-sent-events stream, as the array of its events' data (the
// OpenAI stream's closing "data: [DONE]" is not an event).
std::optional<json::Document> event_stream(const Tree& payload, std::string_view argument) {
    if (payload.kind(payload.root()) != Kind::String || !is_event_stream(payload.text(payload.root())))
        return std::nullopt;
    std::vector<std::string> texts, names;
    int index = 0;
    for (StreamEvent& e : split_event_stream(payload.text(payload.root()))) {
        if (e.data == "[DONE]") continue;
        names.push_back("event " + std::to_string(index++) + (e.type.empty() ? "" : " (" + shown(e.type) + ")") +
                        " of the stream");
        texts.push_back(std::move(e.data));
    }
    return json::Document::array_of(texts, names, argument);
}

NormalizedUsage normalize(std::string_view provider, const Tree& doc, std::string_view argument) {
    Reader r(doc, argument);
    NormalizedUsage out;
    Choice choice = choose_format(r, provider);
    out.format = choice.format;
    NodeId response = doc.root();
    if (out.format != PayloadFormat::AnthropicStream) {
        if (doc.kind(response) == Kind::Array) {
            // The chunks of a stream: the last chunk with a usage block holds the totals (OpenAI sends usage in
            // its last chunk, Gemini's counts grow chunk by chunk, Responses ends with response.completed,
            // ConverseStream with its metadata event).
            NodeId last = kNone;
            int chunks = 0;
            for (NodeId e = doc.first_child(response); e != kNone; e = doc.next_sibling(e), ++chunks)
                if (doc.kind(e) == Kind::Object && has_usage(r, e, out.format)) last = e;
            if (last == kNone)
                r.fail("none of the " + std::to_string(chunks) + " elements of the stream has a usage block",
                       "OpenAI sends usage in the last chunk only with stream_options.include_usage = true");
            response = last;
        } else if (doc.kind(response) != Kind::Object) {
            r.fail(std::string("a provider response in the ") + format_name(out.format) +
                   " format must be a JSON object, not " + describe(doc, response));
        }
    }
    switch (out.format) {
        case PayloadFormat::OpenAIChat:
        case PayloadFormat::OpenRouter:
        case PayloadFormat::DeepSeek:
        case PayloadFormat::XAI: read_chat(r, response, out, out.format); break;
        case PayloadFormat::OpenAIResponses: read_responses(r, response, out); break;
        case PayloadFormat::Anthropic: read_anthropic(r, response, out); break;
        case PayloadFormat::AnthropicStream: read_anthropic_stream(r, out); break;
        case PayloadFormat::Gemini: read_gemini(r, response, out); break;
        case PayloadFormat::OpenTelemetry: read_otel(r, response, out); break;
        case PayloadFormat::BedrockConverse: read_bedrock(r, response, out); break;
    }
    if (choice.served_by) out.provider = choice.served_by;
    // Sums (Gemini's output, tool-use input) can pass the per-count bound; the ledger's bound applies.
    static const char* const names[5] = {"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
                                         "reasoning_tokens"};
    const int64_t counts[5] = {out.tokens.input, out.tokens.output, out.tokens.cache_read, out.tokens.cache_write,
                               out.tokens.reasoning};
    for (int i = 0; i < 5; ++i)
        if (counts[i] > kMaxTokenCount)
            r.fail(std::string("the normalized ") + names[i] + " " + text_of(counts[i]) + " is more than 1000000000000",
                   "token counts must be between 0 and 1000000000000", ErrorKind::OutOfRange);
    if (out.tokens.reasoning > out.tokens.output)
        r.fail("reasoning tokens " + text_of(out.tokens.reasoning) + " are more than output tokens " +
               text_of(out.tokens.output));
    return out;
}

}  // namespace

NormalizedUsage normalize_usage(std::string_view provider, const json::Tree& payload, std::string_view argument) {
    payload.check_complete(argument);
    if (std::optional<json::Document> events = event_stream(payload, argument))
        return normalize(provider, events->tree(), argument);
    return normalize(provider, payload, argument);
}

NormalizedUsage normalize_usage(std::string_view provider, std::string_view payload_json, std::string_view argument) {
    json::Document doc(payload_json, argument);
    return normalize_usage(provider, doc.tree(), argument);
}

}  // namespace usage_meter
