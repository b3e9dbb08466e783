// Provider payloads: every shared example, each format's edge cases, the count rules and malformed input.
#include <fstream>
#include <sstream>
#include <string>

#include "event_stream.h"
#include "json.h"
#include "test_support.h"

#ifndef USAGE_METER_RESPONSES_DIR
#error "USAGE_METER_RESPONSES_DIR must name examples/responses"
#endif

namespace usage_meter {
namespace {

using test::dec;

std::string example(const std::string& name) {
    std::ifstream in(std::string(USAGE_METER_RESPONSES_DIR) + "/" + name);
    EXPECT_TRUE(in.good()) << "missing example " << name;
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

struct Expected {
    int64_t input, output, cache_read, cache_write, reasoning;
};

void expect_tokens(const NormalizedUsage& u, Expected e) {
    EXPECT_EQ(u.tokens.input, e.input);
    EXPECT_EQ(u.tokens.output, e.output);
    EXPECT_EQ(u.tokens.cache_read, e.cache_read);
    EXPECT_EQ(u.tokens.cache_write, e.cache_write);
    EXPECT_EQ(u.tokens.reasoning, e.reasoning);
}

NormalizedUsage parse(const std::string& json, const char* provider = "auto") {
    return normalize_usage(provider, json);
}

// ---- the shared examples, with auto-detection and with the provider named -----------------------------------

TEST(PayloadExamples, OpenAIChatCompletion) {
    for (const char* provider : {"auto", "openai", "openai_chat"}) {
        NormalizedUsage u = parse(example("openai_chat_completion.json"), provider);
        EXPECT_EQ(u.format, PayloadFormat::OpenAIChat) << provider;
        expect_tokens(u, {1200 - 1024, 300, 1024, 0, 0});
        EXPECT_EQ(u.model, "gpt-4o-mini-2024-07-18");
        EXPECT_EQ(u.response_id, "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG");
        EXPECT_EQ(u.provider, "openai");
        EXPECT_FALSE(u.cost.has_value());
    }
}

TEST(PayloadExamples, OpenAIResponses) {
    for (const char* provider : {"auto", "openai", "openai_responses"}) {
        NormalizedUsage u = parse(example("openai_responses.json"), provider);
        EXPECT_EQ(u.format, PayloadFormat::OpenAIResponses) << provider;
        expect_tokens(u, {2000 - 512, 900, 512, 0, 640});
        EXPECT_EQ(u.model, "o4-mini-2025-04-16");
        EXPECT_EQ(u.response_id, "resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41");
        EXPECT_EQ(u.provider, "openai");
    }
}

TEST(PayloadExamples, AnthropicMessage) {
    for (const char* provider : {"auto", "anthropic"}) {
        NormalizedUsage u = parse(example("anthropic_message.json"), provider);
        EXPECT_EQ(u.format, PayloadFormat::Anthropic) << provider;
        expect_tokens(u, {50, 400, 10000, 2000, 0});
        EXPECT_EQ(u.model, "claude-sonnet-4-20250514");
        EXPECT_EQ(u.response_id, "msg_013Zva2CMHLNnXjNJJKqJ2EF");
        EXPECT_EQ(u.provider, "anthropic");
    }
}

TEST(PayloadExamples, AnthropicStream) {
    for (const char* provider : {"auto", "anthropic", "anthropic_stream"}) {
        NormalizedUsage u = parse(example("anthropic_stream_events.json"), provider);
        EXPECT_EQ(u.format, PayloadFormat::AnthropicStream) << provider;
        expect_tokens(u, {1234, 567, 89, 0, 0});
        EXPECT_EQ(u.model, "claude-3-5-haiku-20241022");
        EXPECT_EQ(u.response_id, "msg_01");
        EXPECT_EQ(u.provider, "anthropic");
    }
}

TEST(PayloadExamples, OpenRouter) {
    for (const char* provider : {"auto", "openrouter"}) {
        NormalizedUsage u = parse(example("openrouter_chat_completion.json"), provider);
        EXPECT_EQ(u.format, PayloadFormat::OpenRouter) << provider;
        expect_tokens(u, {800, 300, 400, 0, 0});
        ASSERT_TRUE(u.cost.has_value());
        EXPECT_EQ(*u.cost, dec("0.000275"));
        EXPECT_EQ(u.cost->to_string(), "0.000275");
        EXPECT_EQ(u.model, "openai/gpt-4o-mini");
        EXPECT_EQ(u.response_id, "gen-1741570283-aBcDeFgHiJkLmNoPqRsT");
        EXPECT_EQ(u.provider, "openrouter");
    }
    // Named "openai", the same body is read as Chat Completions: the charge is not OpenAI's to report.
    NormalizedUsage as_openai = parse(example("openrouter_chat_completion.json"), "openai");
    EXPECT_EQ(as_openai.format, PayloadFormat::OpenAIChat);
    EXPECT_FALSE(as_openai.cost.has_value());
}

TEST(PayloadExamples, Gemini) {
    for (const char* provider : {"auto", "gemini"}) {
        NormalizedUsage u = parse(example("gemini_generate_content.json"), provider);
        EXPECT_EQ(u.format, PayloadFormat::Gemini) << provider;
        expect_tokens(u, {250000 - 100000, 1000 + 500, 100000, 0, 500});
        EXPECT_EQ(u.model, "gemini-2.5-pro");
        EXPECT_EQ(u.response_id, "Kq3aaPmOGIqgz7IP2Ny9mQQ");
        EXPECT_EQ(u.provider, "gemini");
    }
}

TEST(PayloadExamples, OpenTelemetry) {
    for (const char* provider : {"auto", "otel"}) {
        NormalizedUsage u = parse(example("otel_genai_span_attributes.json"), provider);
        EXPECT_EQ(u.format, PayloadFormat::OpenTelemetry) << provider;
        expect_tokens(u, {1200 - 1024, 300, 1024, 0, 0});
        EXPECT_EQ(u.model, "gpt-4o-mini-2024-07-18");  // the response model beats the request model
        EXPECT_EQ(u.response_id, "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG");
        EXPECT_EQ(u.provider, "openai");
    }
}

// ---- OpenAI Chat Completions ------------------------------------------------------------------------------

TEST(PayloadChat, MissingOrNullDetailObjectsMeanNoCacheAndNoReasoning) {
    for (const char* details : {"", R"(, "prompt_tokens_details": null, "completion_tokens_details": null)",
                                R"(, "prompt_tokens_details": {}, "completion_tokens_details": {})",
                                R"(, "prompt_tokens_details": {"cached_tokens": null})"}) {
        NormalizedUsage u = parse(std::string(R"({"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
            "usage": {"prompt_tokens": 10, "completion_tokens": 5)") +
                                  details + "}}");
        expect_tokens(u, {10, 5, 0, 0, 0});
    }
}

TEST(PayloadChat, ZerosAndExtraFields) {
    NormalizedUsage u = parse(R"({"id": "chatcmpl-0", "model": "m", "system_fingerprint": "fp", "x": [1, {"y": 2}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "future_field": {"a": [1]},
                  "prompt_tokens_details": {"cached_tokens": 0, "new_kind": 7}}})");
    expect_tokens(u, {0, 0, 0, 0, 0});
    EXPECT_EQ(u.response_id, "chatcmpl-0");
}

TEST(PayloadChat, ReasoningIsPartOfCompletion) {
    NormalizedUsage u = parse(R"({"usage": {"prompt_tokens": 10, "completion_tokens": 50,
        "completion_tokens_details": {"reasoning_tokens": 40}}})");
    expect_tokens(u, {10, 50, 0, 0, 40});
    EXPECT_EQ(u.model, "");
    EXPECT_EQ(u.response_id, "");
    EXPECT_CORE_ERROR(parse(R"({"usage": {"prompt_tokens": 10, "completion_tokens": 5,
        "completion_tokens_details": {"reasoning_tokens": 6}}})"),
                      ErrorKind::InvalidParameter, "reasoning_tokens 6 is more than usage.completion_tokens 5");
}

TEST(PayloadChat, CachedMoreThanPromptIsAnError) {
    EXPECT_CORE_ERROR(parse(R"({"usage": {"prompt_tokens": 100, "completion_tokens": 5,
        "prompt_tokens_details": {"cached_tokens": 101}}})"),
                      ErrorKind::InvalidParameter, "cached_tokens 101 is more than usage.prompt_tokens 100");
    NormalizedUsage all_cached = parse(R"({"usage": {"prompt_tokens": 100, "completion_tokens": 5,
        "prompt_tokens_details": {"cached_tokens": 100}}})");
    expect_tokens(all_cached, {0, 5, 100, 0, 0});
}

TEST(PayloadChat, MissingUsageOrMainCountsAreErrors) {
    EXPECT_CORE_ERROR(parse(R"({"id": "chatcmpl-1", "choices": []})", "openai"), ErrorKind::InvalidParameter,
                      "no usage block");
    EXPECT_CORE_ERROR(parse(R"({"id": "chatcmpl-1", "usage": null})", "openai"), ErrorKind::InvalidParameter,
                      "no usage block");
    EXPECT_CORE_ERROR(parse(R"({"usage": {"prompt_tokens": 1}})"), ErrorKind::InvalidParameter,
                      "usage.completion_tokens is missing");
    EXPECT_CORE_ERROR(parse(R"({"usage": {"prompt_tokens": null, "completion_tokens": 1}})"),
                      ErrorKind::InvalidParameter, "usage.prompt_tokens is missing");
    EXPECT_CORE_ERROR(parse(R"({"usage": 5})", "openai"), ErrorKind::InvalidParameter, "usage must be an object");
}

TEST(PayloadChat, AutoDetectsAStreamedChunkWithoutUsageAndSaysWhatIsMissing) {
    EXPECT_CORE_ERROR(parse(R"({"id": "chatcmpl-9", "object": "chat.completion.chunk", "usage": null,
        "choices": [{"delta": {"content": "Hi"}}]})"),
                      ErrorKind::InvalidParameter, "no usage block (usage is missing or null)");
    EXPECT_CORE_ERROR(parse(R"({"id": "msg_9", "type": "message"})"), ErrorKind::InvalidParameter, "no usage block");
    EXPECT_CORE_ERROR(parse(R"({"id": "resp_9", "object": "response", "status": "in_progress"})"),
                      ErrorKind::InvalidParameter, "no usage block");
    EXPECT_CORE_ERROR(parse(R"({"id": "gen-9", "choices": []})"), ErrorKind::InvalidParameter, "no usage block");
}

// ---- count rules ------------------------------------------------------------------------------------------

std::string chat_with_prompt(const std::string& prompt) {
    return R"({"usage": {"prompt_tokens": )" + prompt + R"(, "completion_tokens": 1}})";
}

TEST(PayloadCounts, WholeNumbersInAnyNotation) {
    EXPECT_EQ(parse(chat_with_prompt("1200")).tokens.input, 1200);
    EXPECT_EQ(parse(chat_with_prompt("1.2e3")).tokens.input, 1200);
    EXPECT_EQ(parse(chat_with_prompt("1200.000")).tokens.input, 1200);
    EXPECT_EQ(parse(chat_with_prompt("12000E-1")).tokens.input, 1200);
    EXPECT_EQ(parse(chat_with_prompt("-0")).tokens.input, 0);
    EXPECT_EQ(parse(chat_with_prompt("0.0e99999999999999999999")).tokens.input, 0);
    EXPECT_EQ(parse(chat_with_prompt("1000000000000")).tokens.input, 1000000000000);
    EXPECT_EQ(parse(chat_with_prompt("1e12")).tokens.input, 1000000000000);
}

TEST(PayloadCounts, RefusedCounts) {
    EXPECT_CORE_ERROR(parse(chat_with_prompt("-1")), ErrorKind::InvalidParameter,
                      "usage.prompt_tokens is -1; token counts cannot be negative");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("-0.5")), ErrorKind::InvalidParameter, "cannot be negative");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("12.5")), ErrorKind::InvalidParameter,
                      "usage.prompt_tokens is 12.5; token counts must be whole numbers");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("1e-1")), ErrorKind::InvalidParameter, "whole numbers");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("1000000000001")), ErrorKind::OutOfRange,
                      "usage.prompt_tokens is 1000000000001; that is more than 1000000000000");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("1e13")), ErrorKind::OutOfRange, "more than 1000000000000");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("1e999999999999999999")), ErrorKind::OutOfRange, "more than");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("99999999999999999999999999999999999999999999")), ErrorKind::OutOfRange,
                      "more than");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("\"1200\"")), ErrorKind::InvalidParameter,
                      "usage.prompt_tokens must be a number, not a string (\"1200\")");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("true")), ErrorKind::InvalidParameter, "not a boolean");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("{}")), ErrorKind::InvalidParameter, "not an object");
    EXPECT_CORE_ERROR(parse(chat_with_prompt("[1]")), ErrorKind::InvalidParameter, "must be a number");
}

// ---- OpenAI Responses -------------------------------------------------------------------------------------

TEST(PayloadResponses, CompletedStreamEventAndEdgeCases) {
    NormalizedUsage u = parse(R"({"type": "response.completed", "sequence_number": 9,
        "response": {"id": "resp_1", "object": "response", "model": "gpt-5",
                     "usage": {"input_tokens": 30, "output_tokens": 7, "input_tokens_details": null}}})");
    EXPECT_EQ(u.format, PayloadFormat::OpenAIResponses);
    expect_tokens(u, {30, 7, 0, 0, 0});
    EXPECT_EQ(u.response_id, "resp_1");
    EXPECT_CORE_ERROR(parse(R"({"object": "response", "usage": {"input_tokens": 10, "output_tokens": 1,
        "input_tokens_details": {"cached_tokens": 11}}})"),
                      ErrorKind::InvalidParameter, "cached_tokens 11 is more than usage.input_tokens 10");
    EXPECT_CORE_ERROR(parse(R"({"object": "response", "id": "resp_2", "status": "in_progress", "usage": null})",
                            "openai_responses"),
                      ErrorKind::InvalidParameter, "no usage block");
}

// ---- Anthropic --------------------------------------------------------------------------------------------

TEST(PayloadAnthropic, NullCacheCountsAreZero) {
    NormalizedUsage u = parse(R"({"id": "msg_1", "type": "message", "model": "claude", "usage": {
        "input_tokens": 12, "output_tokens": 3, "cache_creation_input_tokens": null,
        "cache_read_input_tokens": null, "server_tool_use": null}})");
    expect_tokens(u, {12, 3, 0, 0, 0});
    EXPECT_CORE_ERROR(parse(R"({"type": "message", "usage": {"output_tokens": 3}})"), ErrorKind::InvalidParameter,
                      "usage.input_tokens is missing");
}

TEST(PayloadAnthropicStream, WithoutMessageDeltaTheStartCountsStand) {
    NormalizedUsage u = parse(R"([{"type": "message_start", "message": {"id": "msg_2", "model": "claude",
        "usage": {"input_tokens": 20, "output_tokens": 1}}}, {"type": "ping"}])");
    expect_tokens(u, {20, 1, 0, 0, 0});
    EXPECT_EQ(u.response_id, "msg_2");
}

TEST(PayloadAnthropicStream, LastDeltaWinsAndDeltaInputCountsReplaceTheStart) {
    NormalizedUsage u = parse(R"([
        {"type": "message_start", "message": {"id": "msg_3", "usage": {"input_tokens": 20,
            "cache_read_input_tokens": 5, "output_tokens": 1}}},
        {"type": "message_delta", "usage": {"output_tokens": 10}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "\u00e9\"}"}},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
         "usage": {"output_tokens": 42, "input_tokens": 25, "cache_read_input_tokens": null}},
        {"type": "message_stop"}])");
    expect_tokens(u, {25, 42, 5, 0, 0});
}

TEST(PayloadAnthropicStream, Errors) {
    EXPECT_CORE_ERROR(parse("[]"), ErrorKind::InvalidParameter, "no message_start event");
    EXPECT_CORE_ERROR(parse(R"([{"type": "message_delta", "usage": {"output_tokens": 3}}])"),
                      ErrorKind::InvalidParameter, "no message_start event");
    EXPECT_CORE_ERROR(parse(R"([{"type": "message_start", "message": {"usage": {"input_tokens": 1}}}, 7])"),
                      ErrorKind::InvalidParameter, "event 1 of the stream is a number, not an object");
    EXPECT_CORE_ERROR(parse(R"([{"type": "message_start", "message": {"usage": {"input_tokens": 1}}},
                                {"type": "message_start", "message": {"usage": {"input_tokens": 1}}}])"),
                      ErrorKind::InvalidParameter, "more than one message_start");
    EXPECT_CORE_ERROR(parse(R"([{"type": "message_start", "message": {"usage": {"input_tokens": 1}}},
                                {"type": "message_delta", "usage": {"output_tokens": -4}}])"),
                      ErrorKind::InvalidParameter, "message_delta.usage.output_tokens is -4");
    EXPECT_CORE_ERROR(parse(R"({"type": "message_start"})", "anthropic_stream"), ErrorKind::InvalidParameter,
                      "must be a JSON array");
}

// ---- streams of other formats, given as the array of their chunks -----------------------------------------

TEST(PayloadChunks, OpenAIChatStreamUsesTheLastChunkWithUsage) {
    const std::string chunks = R"([
        {"id": "chatcmpl-s", "object": "chat.completion.chunk", "model": "gpt-4o", "usage": null,
         "choices": [{"delta": {"content": "Hi"}}]},
        {"id": "chatcmpl-s", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [],
         "usage": {"prompt_tokens": 12, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 2}}}])";
    for (const char* provider : {"auto", "openai", "openai_chat"}) {
        NormalizedUsage u = parse(chunks, provider);
        EXPECT_EQ(u.format, PayloadFormat::OpenAIChat) << provider;
        expect_tokens(u, {10, 3, 2, 0, 0});
        EXPECT_EQ(u.response_id, "chatcmpl-s");
    }
    EXPECT_CORE_ERROR(parse(R"([{"id": "chatcmpl-s", "object": "chat.completion.chunk", "usage": null},
                                {"id": "chatcmpl-s", "object": "chat.completion.chunk"}])"),
                      ErrorKind::InvalidParameter, "none of the 2 elements of the stream has a usage block");
}

TEST(PayloadChunks, GeminiStreamUsesTheLastUsageMetadata) {
    NormalizedUsage u = parse(R"([
        {"responseId": "g1", "modelVersion": "gemini-2.5-flash", "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1}},
        {"responseId": "g1", "modelVersion": "gemini-2.5-flash", "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 30,
         "thoughtsTokenCount": 5}}])");
    EXPECT_EQ(u.format, PayloadFormat::Gemini);
    expect_tokens(u, {9, 35, 0, 0, 5});
    EXPECT_EQ(u.response_id, "g1");
}

TEST(PayloadChunks, ResponsesStreamUsesResponseCompleted) {
    NormalizedUsage u = parse(R"([
        {"type": "response.created", "response": {"id": "resp_s", "object": "response", "usage": null}},
        {"type": "response.output_text.delta", "delta": "Hi"},
        {"type": "response.completed", "response": {"id": "resp_s", "object": "response", "model": "gpt-5",
         "usage": {"input_tokens": 20, "output_tokens": 4, "output_tokens_details": {"reasoning_tokens": 2}}}}])");
    EXPECT_EQ(u.format, PayloadFormat::OpenAIResponses);
    expect_tokens(u, {20, 4, 0, 0, 2});
    EXPECT_EQ(u.response_id, "resp_s");
}

// ---- OpenRouter -------------------------------------------------------------------------------------------

TEST(PayloadOpenRouter, CostZeroIsAChargeOfZero) {
    NormalizedUsage u = parse(R"({"id": "gen-1", "model": "meta/free", "usage": {"prompt_tokens": 9,
        "completion_tokens": 2, "cost": 0}})");
    EXPECT_EQ(u.format, PayloadFormat::OpenRouter);
    ASSERT_TRUE(u.cost.has_value());
    EXPECT_TRUE(u.cost->is_zero());
}

TEST(PayloadOpenRouter, CacheWritesAndCostForms) {
    NormalizedUsage u = parse(R"({"id": "gen-2", "usage": {"prompt_tokens": 1000, "completion_tokens": 2,
        "cost": 1.5e-5, "prompt_tokens_details": {"cached_tokens": 300, "cache_write_tokens": 600}}})");
    expect_tokens(u, {100, 2, 300, 600, 0});
    EXPECT_EQ(*u.cost, dec("0.000015"));
    EXPECT_FALSE(
        parse(R"({"id": "gen-3", "usage": {"prompt_tokens": 1, "completion_tokens": 2, "cost": null}})").cost.has_value());
    EXPECT_CORE_ERROR(parse(R"({"id": "gen-4", "usage": {"prompt_tokens": 1, "completion_tokens": 2,
        "cost": -0.1}})"),
                      ErrorKind::InvalidParameter, "usage.cost is -0.1");
    EXPECT_CORE_ERROR(parse(R"({"id": "gen-4", "usage": {"prompt_tokens": 1, "completion_tokens": 2,
        "cost": 1e-40}})"),
                      ErrorKind::OutOfRange,
                      "invalid payload: usage.cost is 1e-40; decimal value has more than 36 decimal places");
    EXPECT_CORE_ERROR(parse(R"({"id": "gen-5", "usage": {"prompt_tokens": 1, "completion_tokens": 2,
        "cost": "0.1"}})"),
                      ErrorKind::InvalidParameter, "usage.cost must be a number");
    EXPECT_CORE_ERROR(parse(R"({"id": "gen-6", "usage": {"prompt_tokens": 100, "completion_tokens": 2,
        "prompt_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 41}}})"),
                      ErrorKind::InvalidParameter, "cached_tokens + cache_write_tokens 101 is more than");
}

// ---- Gemini -----------------------------------------------------------------------------------------------

TEST(PayloadGemini, WithoutThoughtsOrCacheOrCandidates) {
    NormalizedUsage u = parse(R"({"modelVersion": "gemini-2.0-flash", "usageMetadata": {
        "promptTokenCount": 40, "candidatesTokenCount": 9, "totalTokenCount": 49}})");
    expect_tokens(u, {40, 9, 0, 0, 0});
    EXPECT_EQ(u.response_id, "");
    // A blocked prompt: the protobuf JSON mapping leaves out the zero candidate count.
    expect_tokens(parse(R"({"usageMetadata": {"promptTokenCount": 40}})"), {40, 0, 0, 0, 0});
    expect_tokens(parse(R"({"usageMetadata": {}})"), {0, 0, 0, 0, 0});
}

TEST(PayloadGemini, ToolUsePromptAndSnakeCase) {
    expect_tokens(parse(R"({"usageMetadata": {"promptTokenCount": 40, "toolUsePromptTokenCount": 7,
        "candidatesTokenCount": 9, "thoughtsTokenCount": 3}})"),
                  {47, 12, 0, 0, 3});
    NormalizedUsage u = parse(R"({"model_version": "gemini-2.5-flash", "response_id": "r1", "usage_metadata": {
        "prompt_token_count": 40, "cached_content_token_count": 10, "candidates_token_count": 9}})");
    expect_tokens(u, {30, 9, 10, 0, 0});
    EXPECT_EQ(u.model, "gemini-2.5-flash");
    EXPECT_EQ(u.response_id, "r1");
}

TEST(PayloadGemini, CachedMoreThanPromptIsAnError) {
    EXPECT_CORE_ERROR(parse(R"({"usageMetadata": {"promptTokenCount": 40, "cachedContentTokenCount": 41}})"),
                      ErrorKind::InvalidParameter,
                      "usageMetadata.cachedContentTokenCount 41 is more than usageMetadata.promptTokenCount 40");
    EXPECT_CORE_ERROR(parse(R"({"candidates": []})", "gemini"), ErrorKind::InvalidParameter, "no usage block");
}

TEST(PayloadGemini, SumsStayWithinTheLedgerBound) {
    EXPECT_CORE_ERROR(parse(R"({"usageMetadata": {"candidatesTokenCount": 1000000000000,
        "thoughtsTokenCount": 1}})"),
                      ErrorKind::OutOfRange, "output_tokens 1000000000001");
}

// ---- OpenTelemetry ----------------------------------------------------------------------------------------

TEST(PayloadOtel, SpanWithAttributesObjectAndOlderAttributeNames) {
    NormalizedUsage u = parse(R"({"name": "chat claude", "attributes": {"gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-3-5-haiku", "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20, "gen_ai.usage.cache_creation.input_tokens": 30}})");
    EXPECT_EQ(u.format, PayloadFormat::OpenTelemetry);
    expect_tokens(u, {70, 20, 0, 30, 0});
    EXPECT_EQ(u.provider, "anthropic");
    EXPECT_EQ(u.model, "claude-3-5-haiku");
    EXPECT_CORE_ERROR(parse(R"({"gen_ai.usage.input_tokens": 10, "gen_ai.usage.cache_read.input_tokens": 11})"),
                      ErrorKind::InvalidParameter, "is more than gen_ai.usage.input_tokens 10");
    EXPECT_CORE_ERROR(parse(R"({"gen_ai.operation.name": "chat"})", "otel"), ErrorKind::InvalidParameter,
                      "no usage block");
}

// ---- what cannot be read ----------------------------------------------------------------------------------

TEST(PayloadRefused, NotAnObjectOrNotJson) {
    EXPECT_CORE_ERROR(parse("42"), ErrorKind::InvalidParameter, "must be a JSON object", "not a number");
    EXPECT_CORE_ERROR(parse("\"text\""), ErrorKind::InvalidParameter, "not a string");
    EXPECT_CORE_ERROR(parse("null"), ErrorKind::InvalidParameter, "not null");
    EXPECT_CORE_ERROR(parse("42", "openai"), ErrorKind::InvalidParameter, "must be a JSON object");
    EXPECT_CORE_ERROR(parse(""), ErrorKind::InvalidParameter, "invalid payload");
    EXPECT_CORE_ERROR(parse("{"), ErrorKind::InvalidParameter, "invalid payload");
    EXPECT_CORE_ERROR(parse("{} x"), ErrorKind::InvalidParameter, "after the JSON value");
    EXPECT_CORE_ERROR(parse(R"({"a": "\ud800"})"), ErrorKind::InvalidParameter, "escape");
    EXPECT_CORE_ERROR(parse(R"({"a": [1, {"b": ]}]})"), ErrorKind::InvalidParameter, "invalid payload");
}

TEST(PayloadRefused, UnknownProviderAndUndetectableShape) {
    EXPECT_CORE_ERROR(parse(example("openai_chat_completion.json"), "azure"), ErrorKind::InvalidParameter,
                      "invalid provider: \"azure\"");
    EXPECT_CORE_ERROR(parse(R"({"id": "x", "usage": {"tokens": 5}})"), ErrorKind::InvalidParameter,
                      "cannot tell which provider");
    EXPECT_CORE_ERROR(parse(R"({"usage": {"input_tokens": 5, "output_tokens": 1}})"), ErrorKind::InvalidParameter,
                      "cannot tell which provider");
}

TEST(PayloadRefused, NamesAreBoundedAndStringly) {
    std::string long_model(201, 'm');
    EXPECT_CORE_ERROR(parse(R"({"model": ")" + long_model + R"(", "usage": {"prompt_tokens": 1,
        "completion_tokens": 1}})"),
                      ErrorKind::StringTooLong, "model is too long (201 characters)");
    EXPECT_CORE_ERROR(parse(R"({"id": 7, "usage": {"prompt_tokens": 1, "completion_tokens": 1}})"),
                      ErrorKind::InvalidParameter, "id must be a string, not a number");
    EXPECT_CORE_ERROR(parse(R"({"id": "a\u0000b", "usage": {"prompt_tokens": 1, "completion_tokens": 1}})"),
                      ErrorKind::InvalidParameter, "NUL");
    NormalizedUsage u = parse(R"({"id": "chat\u00e9\ud83d\ude42", "us\u0061ge": {"prompt_tokens": 1,
        "completion_tokens": 1}})");
    EXPECT_EQ(u.response_id, "chat\xC3\xA9\xF0\x9F\x99\x82");
}

// Deep nesting is skipped without recursion, wherever it is; it never exhausts the stack.
TEST(PayloadRefused, DeepNestingIsSkippedOrRefusedWithoutRecursion) {
    const size_t depth = 200000;
    std::string deep = std::string(depth, '[') + std::string(depth, ']');
    NormalizedUsage u = parse(R"({"choices": )" + deep + R"(, "usage": {"prompt_tokens": 3, "completion_tokens": 4,
        "prompt_tokens_details": {"a": {"b": {"c": {"d": )" +
                              deep + R"(}}}}}})");
    expect_tokens(u, {3, 4, 0, 0, 0});
    EXPECT_CORE_ERROR(parse(deep), ErrorKind::InvalidParameter, "event 0 of the stream is an array");
    std::string objects;
    for (size_t i = 0; i < depth; ++i) objects += R"({"a":)";
    objects += "1" + std::string(depth, '}');
    EXPECT_CORE_ERROR(parse(objects), ErrorKind::InvalidParameter, "cannot tell");
    EXPECT_CORE_ERROR(parse(std::string(depth, '[')), ErrorKind::InvalidParameter, "unterminated");
}

// The number of values read is capped, so a payload cannot make the reader allocate without bound.
TEST(PayloadJson, AtMostMaxNodesValuesAreRead) {
    std::string many = "[0";
    many.reserve(2 * json::kMaxNodes + 8);
    for (size_t i = 1; i < json::kMaxNodes - 1; ++i) many += ",0";
    EXPECT_NO_THROW(json::Document(many + "]", "p"));  // the array and kMaxNodes - 1 elements
    EXPECT_CORE_ERROR(json::Document(many + ",0]", "p"), ErrorKind::InvalidParameter, "more than 2000000 JSON values");
}

TEST(PayloadJson, SkippedPartsAreStillChecked) {
    EXPECT_NO_THROW(json::Document(R"({"a": [1, "]", {"b": [true, null, -1.5e3]}]})", "p"));
    EXPECT_CORE_ERROR(json::Document(R"({"a": [1, "x}])", "p"), ErrorKind::InvalidParameter, "unterminated");
    EXPECT_CORE_ERROR(json::Document(R"({"a": [1, }]})", "p"), ErrorKind::InvalidParameter, "mismatched");
    EXPECT_CORE_ERROR(json::Document(R"({"a": [1, #]})", "p"), ErrorKind::InvalidParameter, "unexpected character");
}

TEST(PayloadJson, RepeatedKeysKeepTheLast) {
    NormalizedUsage u = parse(R"({"usage": {"prompt_tokens": 1, "completion_tokens": 1, "prompt_tokens": 9}})");
    EXPECT_EQ(u.tokens.input, 9);
}

// ---- current payload fields and further providers -----------------------------------------------------------

TEST(PayloadExamples, StreamsAsServerSentEventText) {
    for (const char* provider : {"auto", "anthropic", "anthropic_stream"}) {
        NormalizedUsage u = parse(example("anthropic_stream_sse.json"), provider);
        EXPECT_EQ(u.format, PayloadFormat::AnthropicStream) << provider;
        expect_tokens(u, {472, 89, 2048, 0, 0});
        EXPECT_EQ(u.model, "claude-sonnet-4-20250514");
        EXPECT_EQ(u.response_id, "msg_01SSE");
        EXPECT_EQ(u.provider, "anthropic");
    }
    for (const char* provider : {"auto", "openai", "openai_chat"}) {
        NormalizedUsage u = parse(example("openai_chat_stream_sse.json"), provider);
        EXPECT_EQ(u.format, PayloadFormat::OpenAIChat) << provider;
        expect_tokens(u, {1200 - 1024, 300, 1024, 0, 0});
        EXPECT_EQ(u.response_id, "chatcmpl-SSE1");
    }
}

TEST(PayloadEventStream, LineEndingsCommentsAndMultiLineData) {
    // CRLF line ends, a comment, data split over two lines, and no blank line after the last event.
    NormalizedUsage u = parse(
        R"("event: response.created\r\ndata: {\"type\": \"response.created\", \"response\": {\"id\": \"resp_e\", \"object\": \"response\", \"usage\": null}}\r\n\r\n: keep-alive\r\n\r\nevent: response.completed\r\ndata: {\"type\": \"response.completed\",\r\ndata:  \"response\": {\"id\": \"resp_e\", \"object\": \"response\", \"usage\": {\"input_tokens\": 9, \"output_tokens\": 4}}}")");
    EXPECT_EQ(u.format, PayloadFormat::OpenAIResponses);
    expect_tokens(u, {9, 4, 0, 0, 0});
    EXPECT_EQ(u.response_id, "resp_e");
    // A bare CR also ends a line.
    expect_tokens(parse(R"("data: {\"usage\": {\"prompt_tokens\": 3, \"completion_tokens\": 1}}\r\rdata: [DONE]\r\r")"),
                  {3, 1, 0, 0, 0});
}

TEST(PayloadEventStream, WhatCannotBeRead) {
    EXPECT_CORE_ERROR(parse(R"("event: message_start\ndata: {\"type\": \"message_start\", \"message\": \n\n")"),
                      ErrorKind::InvalidParameter, "event 0 (message_start) of the stream", "unterminated");
    EXPECT_CORE_ERROR(parse(R"("data: not json\n\n")"), ErrorKind::InvalidParameter, "event 0 of the stream",
                      "unexpected character");
    EXPECT_CORE_ERROR(parse(R"("event: ping\n\n: only a comment\n")"), ErrorKind::InvalidParameter,
                      "no message_start event");
    // A string that is not an event stream is still not a response.
    EXPECT_CORE_ERROR(parse(R"("{\"usage\": {}}")"), ErrorKind::InvalidParameter, "not a string");
}

TEST(PayloadEventStream, SplitsLikeTheStandard) {
    std::vector<StreamEvent> events = split_event_stream(
        "retry: 10\nid: 1\nevent: a\ndata:x\ndata: y\n\nevent: b\n\n"
        "data\n\n:c\ndata:  z");
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].type, "a");
    EXPECT_EQ(events[0].data, "x\ny");
    EXPECT_EQ(events[1].type, "");  // the event "b" has no data: not dispatched, its type does not carry over
    EXPECT_EQ(events[1].data, "");
    EXPECT_EQ(events[2].data, " z");
    EXPECT_TRUE(is_event_stream("\n\n: comment\ndata: 1"));
    EXPECT_FALSE(is_event_stream("{\"data\": 1}"));
    EXPECT_FALSE(is_event_stream(""));
}

TEST(PayloadChat, CacheWritesInsidePromptDetailsArePricedAsWrites) {
    NormalizedUsage u = parse(R"({"id": "chatcmpl-w", "object": "chat.completion", "model": "gpt-5",
        "usage": {"prompt_tokens": 5000, "completion_tokens": 20,
                  "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 3000}}})");
    EXPECT_EQ(u.format, PayloadFormat::OpenAIChat);
    expect_tokens(u, {1000, 20, 1000, 3000, 0});
    EXPECT_CORE_ERROR(parse(R"({"object": "chat.completion", "usage": {"prompt_tokens": 100, "completion_tokens": 2,
        "prompt_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 41}}})"),
                      ErrorKind::InvalidParameter,
                      "cached_tokens + cache_write_tokens 101 is more than usage.prompt_tokens 100");
}

TEST(PayloadResponses, CacheWritesInsideInputDetails) {
    NormalizedUsage u = parse(R"({"id": "resp_w", "object": "response", "usage": {"input_tokens": 500,
        "output_tokens": 9, "input_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 300}}})");
    expect_tokens(u, {100, 9, 100, 300, 0});
    EXPECT_CORE_ERROR(parse(R"({"object": "response", "usage": {"input_tokens": 10, "output_tokens": 1,
        "input_tokens_details": {"cache_write_tokens": 11}}})"),
                      ErrorKind::InvalidParameter,
                      "cached_tokens + cache_write_tokens 11 is more than usage.input_tokens 10");
    EXPECT_CORE_ERROR(parse(R"({"object": "response", "usage": {"input_tokens": 10, "output_tokens": 1,
        "input_tokens_details": {"cache_write_tokens": -1}}})"),
                      ErrorKind::InvalidParameter, "cache_write_tokens is -1");
}

TEST(PayloadAnthropic, ThinkingTokensAreInformationalInsideOutput) {
    NormalizedUsage u = parse(R"({"id": "msg_t", "type": "message", "model": "claude-opus-5", "usage": {
        "input_tokens": 12, "output_tokens": 300, "output_tokens_details": {"thinking_tokens": 250}}})");
    expect_tokens(u, {12, 300, 0, 0, 250});
    EXPECT_CORE_ERROR(parse(R"({"type": "message", "usage": {"input_tokens": 1, "output_tokens": 3,
        "output_tokens_details": {"thinking_tokens": 4}}})"),
                      ErrorKind::InvalidParameter,
                      "usage.output_tokens_details.thinking_tokens 4 is more than usage.output_tokens 3");
    NormalizedUsage stream = parse(R"([
        {"type": "message_start", "message": {"id": "msg_ts", "usage": {"input_tokens": 20, "output_tokens": 1}}},
        {"type": "message_delta", "usage": {"output_tokens": 90, "output_tokens_details": {"thinking_tokens": 70}}}])");
    expect_tokens(stream, {20, 90, 0, 0, 70});
}

TEST(PayloadAnthropic, TheMessagesApiOnVertexAndBedrock) {
    NormalizedUsage vertex = parse(R"({"id": "msg_vrtx_01A", "type": "message", "model": "claude-sonnet-4",
        "usage": {"input_tokens": 5, "output_tokens": 2}})");
    EXPECT_EQ(vertex.format, PayloadFormat::Anthropic);
    EXPECT_EQ(vertex.provider, "vertex_ai");
    EXPECT_EQ(parse(R"({"id": "msg_bdrk_01A", "type": "message", "usage": {"input_tokens": 5, "output_tokens": 2}})").provider,
              "bedrock");
    EXPECT_EQ(parse(R"({"id": "msg_01", "type": "message", "usage": {"input_tokens": 5, "output_tokens": 2}})", "vertex_ai")
                  .provider,
              "vertex_ai");
}

TEST(PayloadAnthropic, WebSearchesChargedPerCall) {
    NormalizedUsage u = parse(R"({"id": "msg_ws", "type": "message", "model": "claude-sonnet-4", "usage": {
        "input_tokens": 105, "output_tokens": 512, "server_tool_use": {"web_search_requests": 3, "web_fetch_requests": 1}}})");
    EXPECT_EQ(u.web_search_requests, 3);
    EXPECT_EQ(parse(R"({"type": "message", "usage": {"input_tokens": 1, "output_tokens": 1}})").web_search_requests, 0);
    // In a stream, message_delta carries the cumulative count, as it does output_tokens.
    NormalizedUsage stream = parse(R"([
        {"type": "message_start", "message": {"id": "msg_wss", "usage": {"input_tokens": 20, "output_tokens": 1,
            "server_tool_use": {"web_search_requests": 0}}}},
        {"type": "message_delta", "usage": {"output_tokens": 90, "server_tool_use": {"web_search_requests": 2}}}])");
    EXPECT_EQ(stream.web_search_requests, 2);
    EXPECT_CORE_ERROR(parse(R"({"type": "message", "usage": {"input_tokens": 1, "output_tokens": 1,
        "server_tool_use": {"web_search_requests": -1}}})"),
                      ErrorKind::InvalidParameter, "usage.server_tool_use.web_search_requests is -1");
    EXPECT_CORE_ERROR(parse(R"({"type": "message", "usage": {"input_tokens": 1, "output_tokens": 1,
        "server_tool_use": {"web_search_requests": 1.5}}})"),
                      ErrorKind::InvalidParameter, "whole numbers");
    // Other providers report none.
    EXPECT_EQ(parse(example("openai_chat_completion.json")).web_search_requests, 0);
}

TEST(PayloadOtel, ReasoningAndEverySpellingOfTheCacheAttributes) {
    NormalizedUsage semconv = parse(R"({"gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 50, "gen_ai.usage.cache_read.input_tokens": 30,
        "gen_ai.usage.cache_creation.input_tokens": 20, "gen_ai.usage.reasoning.output_tokens": 40})");
    expect_tokens(semconv, {50, 50, 30, 20, 40});
    NormalizedUsage openllmetry = parse(R"({"gen_ai.system": "anthropic", "gen_ai.usage.prompt_tokens": 100,
        "gen_ai.usage.completion_tokens": 50, "gen_ai.usage.cache_read_input_tokens": 30,
        "gen_ai.usage.cache_creation_input_tokens": 20, "gen_ai.usage.reasoning_tokens": 40})");
    expect_tokens(openllmetry, {50, 50, 30, 20, 40});
    NormalizedUsage sentry = parse(R"({"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 50,
        "gen_ai.usage.input_tokens.cached": 30, "gen_ai.usage.input_tokens.cache_write": 20,
        "gen_ai.usage.output_tokens.reasoning": 40})");
    expect_tokens(sentry, {50, 50, 30, 20, 40});
    // Two spellings of one count must agree.
    expect_tokens(parse(R"({"gen_ai.usage.input_tokens": 10, "gen_ai.usage.prompt_tokens": 10})"), {10, 0, 0, 0, 0});
    EXPECT_CORE_ERROR(parse(R"({"gen_ai.usage.input_tokens": 10, "gen_ai.usage.cache_read.input_tokens": 3,
        "gen_ai.usage.cache_read_input_tokens": 4})"),
                      ErrorKind::InvalidParameter,
                      "gen_ai.usage.cache_read.input_tokens 3 and gen_ai.usage.cache_read_input_tokens 4 disagree");
    EXPECT_CORE_ERROR(parse(R"({"gen_ai.usage.output_tokens": 10, "gen_ai.usage.reasoning.output_tokens": 11})"),
                      ErrorKind::InvalidParameter,
                      "reasoning.output_tokens 11 is more than gen_ai.usage.output_tokens 10");
}

TEST(PayloadDeepSeek, CacheHitAndMissSplitThePrompt) {
    const std::string body = R"({"id": "930c60df-bf64-41c9-a88e-3ec75f81e00e", "object": "chat.completion",
        "model": "deepseek-reasoner", "usage": {"prompt_tokens": 1000, "completion_tokens": 300, "total_tokens": 1300,
        "prompt_cache_hit_tokens": 600, "prompt_cache_miss_tokens": 400,
        "completion_tokens_details": {"reasoning_tokens": 200}}})";
    for (const char* provider : {"auto", "deepseek"}) {
        NormalizedUsage u = parse(body, provider);
        EXPECT_EQ(u.format, PayloadFormat::DeepSeek) << provider;
        expect_tokens(u, {400, 300, 600, 0, 200});
        EXPECT_EQ(u.provider, "deepseek");
        EXPECT_EQ(u.model, "deepseek-reasoner");
    }
    expect_tokens(parse(R"({"usage": {"prompt_tokens": 10, "completion_tokens": 1, "prompt_cache_miss_tokens": 4}})"),
                  {4, 1, 6, 0, 0});
    EXPECT_CORE_ERROR(parse(R"({"usage": {"prompt_tokens": 10, "completion_tokens": 1, "prompt_cache_hit_tokens": 6,
        "prompt_cache_miss_tokens": 5}})"),
                      ErrorKind::InvalidParameter,
                      "usage.prompt_cache_hit_tokens 6 + usage.prompt_cache_miss_tokens 5 is not usage.prompt_tokens 10");
    EXPECT_CORE_ERROR(parse(R"({"usage": {"prompt_tokens": 10, "completion_tokens": 1, "prompt_cache_hit_tokens": 11}})"),
                      ErrorKind::InvalidParameter,
                      "usage.prompt_cache_hit_tokens 11 is more than usage.prompt_tokens 10");
    EXPECT_CORE_ERROR(parse(R"({"usage": {"prompt_tokens": 10, "completion_tokens": 1, "prompt_cache_hit_tokens": -2}})"),
                      ErrorKind::InvalidParameter, "cannot be negative");
}

TEST(PayloadBedrock, ConverseAndConverseStream) {
    const std::string converse = R"({"output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
        "stopReason": "end_turn", "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "usage": {"inputTokens": 12, "outputTokens": 30, "totalTokens": 1242, "cacheReadInputTokens": 1000,
                  "cacheWriteInputTokens": 200}, "metrics": {"latencyMs": 640},
        "ResponseMetadata": {"RequestId": "5d9f1c0e-7c6a-4b64-9c41-6f3f2c8f0a11", "HTTPStatusCode": 200}})";
    for (const char* provider : {"auto", "bedrock_converse"}) {
        NormalizedUsage u = parse(converse, provider);
        EXPECT_EQ(u.format, PayloadFormat::BedrockConverse) << provider;
        expect_tokens(u, {12, 30, 1000, 200, 0});
        EXPECT_EQ(u.provider, "bedrock");
        EXPECT_EQ(u.model, "anthropic.claude-3-5-haiku-20241022-v1:0");
        EXPECT_EQ(u.response_id, "5d9f1c0e-7c6a-4b64-9c41-6f3f2c8f0a11");
    }
    NormalizedUsage stream = parse(R"([{"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"text": "Hi"}, "contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
        {"metadata": {"usage": {"inputTokens": 8, "outputTokens": 3, "totalTokens": 11}, "metrics": {"latencyMs": 9}}}])");
    EXPECT_EQ(stream.format, PayloadFormat::BedrockConverse);
    expect_tokens(stream, {8, 3, 0, 0, 0});
    expect_tokens(parse(R"({"metadata": {"usage": {"inputTokens": 8, "outputTokens": 3}}})"), {8, 3, 0, 0, 0});
    EXPECT_CORE_ERROR(parse(R"({"usage": {"outputTokens": 3}})"), ErrorKind::InvalidParameter,
                      "usage.inputTokens is missing");
    EXPECT_CORE_ERROR(parse(R"({"usage": {"inputTokens": 3, "outputTokens": -3}})"), ErrorKind::InvalidParameter,
                      "usage.outputTokens is -3");
    EXPECT_CORE_ERROR(parse(R"({"stopReason": "end_turn"})", "bedrock_converse"), ErrorKind::InvalidParameter,
                      "no usage block");
}

TEST(PayloadAzure, ChatCompletionsWithContentFilterResults) {
    const std::string body = R"({"id": "chatcmpl-AZ1", "object": "chat.completion", "model": "gpt-4o-2024-11-20",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
        "choices": [{"index": 0, "content_filter_results": {}, "message": {"content": "Hi"}}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55,
                  "prompt_tokens_details": {"cached_tokens": 10}}})";
    for (const char* provider : {"auto", "azure_openai"}) {
        NormalizedUsage u = parse(body, provider);
        EXPECT_EQ(u.format, PayloadFormat::OpenAIChat) << provider;
        EXPECT_EQ(u.provider, "azure") << provider;
        expect_tokens(u, {40, 5, 10, 0, 0});
    }
    // Streamed, the marker comes in the first chunk only.
    NormalizedUsage stream = parse(R"([{"id": "", "object": "", "choices": [], "prompt_filter_results": []},
        {"id": "chatcmpl-AZ2", "object": "chat.completion.chunk", "choices": [],
         "usage": {"prompt_tokens": 7, "completion_tokens": 2}}])");
    EXPECT_EQ(stream.provider, "azure");
    NormalizedUsage responses = parse(R"({"id": "resp_az", "object": "response", "usage": {"input_tokens": 7,
        "output_tokens": 2}})",
                                      "azure_openai");
    EXPECT_EQ(responses.format, PayloadFormat::OpenAIResponses);
    EXPECT_EQ(responses.provider, "azure");
}

TEST(PayloadVertex, GenerateContentOnVertexAI) {
    const std::string body = R"({"candidates": [], "modelVersion": "gemini-2.5-flash",
        "createTime": "2026-11-30T10:00:00.123456Z", "responseId": "vx1",
        "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 10, "thoughtsTokenCount": 5,
                          "cachedContentTokenCount": 40, "totalTokenCount": 115, "trafficType": "ON_DEMAND"}})";
    for (const char* provider : {"auto", "vertex_ai"}) {
        NormalizedUsage u = parse(body, provider);
        EXPECT_EQ(u.format, PayloadFormat::Gemini) << provider;
        EXPECT_EQ(u.provider, "vertex_ai") << provider;
        expect_tokens(u, {60, 15, 40, 0, 5});
    }
    EXPECT_EQ(parse(R"({"usage_metadata": {"prompt_token_count": 3, "traffic_type": "ON_DEMAND"}})").provider,
              "vertex_ai");
    EXPECT_EQ(parse(body, "gemini").provider, "gemini");  // named, the name wins
}

TEST(PayloadMistral, ChatCompletionsShape) {
    const std::string body = R"({"id": "cmpl-e5cc70bb28c444948073e77776eb30ef", "object": "chat.completion",
        "model": "mistral-small-latest", "created": 1702256327,
        "usage": {"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50}})";
    for (const char* provider : {"auto", "mistral"}) {
        NormalizedUsage u = parse(body, provider);
        EXPECT_EQ(u.format, PayloadFormat::OpenAIChat) << provider;
        EXPECT_EQ(u.provider, "mistral") << provider;
        expect_tokens(u, {16, 34, 0, 0, 0});
    }
    EXPECT_EQ(parse(R"({"id": "f2d9", "usage": {"prompt_tokens": 1, "completion_tokens": 1,
        "prompt_audio_seconds": null}})")
                  .provider,
              "mistral");
}

TEST(PayloadXAI, ReasoningInsideOrBesideCompletionAndTheChargedCost) {
    // grok-4: reasoning inside completion_tokens (total = prompt + completion).
    NormalizedUsage inside = parse(R"({"id": "40cf0d65", "object": "chat.completion", "model": "grok-4",
        "usage": {"prompt_tokens": 686, "completion_tokens": 123, "total_tokens": 809,
                  "prompt_tokens_details": {"cached_tokens": 679, "text_tokens": 686},
                  "completion_tokens_details": {"reasoning_tokens": 112}, "num_sources_used": 0}})");
    EXPECT_EQ(inside.format, PayloadFormat::XAI);
    EXPECT_EQ(inside.provider, "xai");
    expect_tokens(inside, {7, 123, 679, 0, 112});
    // grok-3-mini: reasoning beside completion_tokens (total = prompt + completion + reasoning).
    expect_tokens(parse(R"({"model": "grok-3-mini", "usage": {"prompt_tokens": 32, "completion_tokens": 9,
        "total_tokens": 135, "completion_tokens_details": {"reasoning_tokens": 94}}})"),
                  {32, 103, 0, 0, 94});
    expect_tokens(parse(R"({"usage": {"prompt_tokens": 32, "completion_tokens": 9,
        "completion_tokens_details": {"reasoning_tokens": 94}}})",
                        "xai"),
                  {32, 103, 0, 0, 94});
    EXPECT_CORE_ERROR(parse(R"({"model": "grok-4", "usage": {"prompt_tokens": 32, "completion_tokens": 9,
        "total_tokens": 100, "completion_tokens_details": {"reasoning_tokens": 94}}})"),
                      ErrorKind::InvalidParameter,
                      "usage.total_tokens 100 is neither prompt_tokens + completion_tokens (41)");
    EXPECT_CORE_ERROR(parse(R"({"model": "grok-4", "usage": {"prompt_tokens": 32, "completion_tokens": 9,
        "total_tokens": 41, "completion_tokens_details": {"reasoning_tokens": 94}}})"),
                      ErrorKind::InvalidParameter, "reasoning_tokens 94 is more than usage.completion_tokens 9");
    // usage.cost_in_usd_ticks: what xAI charged, 10^10 ticks to the dollar, read exactly.
    NormalizedUsage charged = parse(R"({"model": "grok-4", "usage": {"prompt_tokens": 10, "completion_tokens": 2,
        "cost_in_usd_ticks": 37756000}})");
    ASSERT_TRUE(charged.cost.has_value());
    EXPECT_EQ(*charged.cost, dec("0.0037756"));
    EXPECT_CORE_ERROR(parse(R"({"model": "grok-4", "usage": {"prompt_tokens": 10, "completion_tokens": 2,
        "cost_in_usd_ticks": 1.5}})"),
                      ErrorKind::InvalidParameter, "ticks are whole numbers");
}

TEST(PayloadJson, EventDataIsParsedIntoOneArray) {
    json::Document doc = json::Document::array_of({R"({"a": 1})", "[1, 2]", "7"}, {"first", "second", "third"}, "p");
    json::Tree t = doc.tree();
    ASSERT_EQ(t.kind(t.root()), json::Kind::Array);
    json::NodeId first = t.first_child(t.root());
    EXPECT_EQ(t.kind(first), json::Kind::Object);
    EXPECT_EQ(t.text(t.member(first, "a")), "1");
    json::NodeId second = t.next_sibling(first);
    EXPECT_EQ(t.kind(second), json::Kind::SkippedArray);  // arrays below the top level are not read
    EXPECT_EQ(t.text(t.next_sibling(second)), "7");
    EXPECT_CORE_ERROR(json::Document::array_of({"{}", "{"}, {"first", "second"}, "p"), ErrorKind::InvalidParameter,
                      "invalid p: second: unterminated");
}

TEST(PayloadJson, NumbersKeepTheirTextAndStringsAreDecoded) {
    json::Document doc(R"({"n": [0], "a": -0, "b": 1.50, "c": 12e3, "d": 123456789012345678901234567890,
        "s": "\u00e9\n", "k\u00e9y": true})",
                       "p");
    json::Tree t = doc.tree();
    json::NodeId root = t.root();
    EXPECT_EQ(t.text(t.member(root, "b")), "1.50");
    EXPECT_EQ(t.text(t.member(root, "c")), "12e3");
    EXPECT_EQ(t.text(t.member(root, "d")), "123456789012345678901234567890");
    EXPECT_EQ(t.text(t.member(root, "a")), "0");
    EXPECT_EQ(t.text(t.member(root, "s")), "\xC3\xA9\n");
    EXPECT_TRUE(t.boolean(t.member(root, "k\xC3\xA9y")));
    // A raw NUL is never JSON, inside a string or out of one.
    EXPECT_CORE_ERROR(json::Document(std::string("{\"a\": 1}\0x", 10), "p"), ErrorKind::InvalidParameter,
                      "invalid p: a NUL byte at byte 8");
    EXPECT_CORE_ERROR(json::Document(std::string("{\"a\": \"x\0y\"}", 12), "p"), ErrorKind::InvalidParameter,
                      "invalid p: a NUL byte at byte 8");
}

}  // namespace
}  // namespace usage_meter
