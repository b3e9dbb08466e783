// Provider payloads: reads the usage a provider reports in its response and translates it into usage_meter's
// meanings (input = uncached prompt tokens, output includes reasoning). One function does it; the SQL
// functions normalize_usage and record_response, the tests and the fuzz target all call it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "decimal.h"
#include "json.h"
#include "pricing.h"

namespace usage_meter {

enum class PayloadFormat {
    OpenAIChat,       // Chat Completions: usage.prompt_tokens includes cached tokens
    OpenAIResponses,  // Responses: usage.input_tokens includes cached tokens
    Anthropic,        // Messages: usage.input_tokens excludes cache reads and writes
    AnthropicStream,  // a Messages stream as the JSON array of its events
    OpenRouter,       // Chat Completions shape plus cache writes and the charged usage.cost
    Gemini,           // generateContent: usageMetadata, thinking reported apart from candidates
    OpenTelemetry,    // GenAI span attributes gen_ai.usage.*
    DeepSeek,         // Chat Completions shape, the prompt split into prompt_cache_hit_tokens + _miss_tokens
    XAI,              // Chat Completions shape; reasoning may be outside completion_tokens; cost in usd ticks
    BedrockConverse,  // Converse and ConverseStream: camelCase usage, inputTokens excludes cache reads and writes
};

const char* format_name(PayloadFormat format);

// The names the `provider` argument accepts, for messages and documentation.
constexpr const char* kProviderNames =
    "auto, openai, openai_chat, openai_responses, azure_openai, anthropic, anthropic_stream, openrouter, gemini, "
    "vertex_ai, otel, deepseek, xai, mistral, bedrock_converse";

struct NormalizedUsage {
    PayloadFormat format = PayloadFormat::OpenAIChat;
    std::string provider;  // who served the response ("openai", ...); empty when the payload does not say
    std::string model;     // empty when the payload names none
    TokenUsage tokens;
    std::optional<Decimal> cost;  // what the provider charged (OpenRouter's usage.cost, xAI's ticks), exact
    std::string response_id;      // the response's own id; empty when it has none
    // Server-side web searches the provider ran for the response and charges per call (Anthropic's
    // usage.server_tool_use.web_search_requests); record_response records them as their own priced quantity.
    int64_t web_search_requests = 0;
};

// Reads one provider response, given as a tree (json.h). `provider` names the format or is "auto" (detect it
// from the payload's shape); "openai", "azure_openai" and "anthropic" accept either of their shapes. A payload
// that is one string holding a server-sent-events stream (event:/data: lines) is read as the array of its
// events. Throws CoreError naming `argument` and what is wrong when the payload cannot be read: no usage
// block, a count that is negative, not a whole number, not a number or above 10^12, counts that contradict
// each other (cached tokens exceeding the prompt, parts that do not add up to their total), an unknown
// provider.
NormalizedUsage normalize_usage(std::string_view provider, const json::Tree& payload,
                                std::string_view argument = "payload");

// The same for a payload given as JSON text (parsed by json::Document), for callers that hold text: the unit
// tests and the fuzz target. The extension hands over the jsonb as a tree instead.
NormalizedUsage normalize_usage(std::string_view provider, std::string_view payload_json,
                                std::string_view argument = "payload");

}  // namespace usage_meter
