-- Provider payloads: normalize_usage reads each provider's response into usage_meter's meanings
-- (input = uncached prompt tokens, output includes reasoning), detects the format when asked to, and
-- refuses what it cannot read with a clear error.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;

-- The shared examples (examples/responses/), one per format, detected automatically.
CREATE TEMP TABLE example (name text PRIMARY KEY, body jsonb NOT NULL);
INSERT INTO example VALUES
('openai_chat_completion', $${"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283,
 "model": "gpt-4o-mini-2024-07-18", "service_tier": "default",
 "choices": [{"index": 0, "message": {"role": "assistant", "content": "..."}, "finish_reason": "stop"}],
 "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
           "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
           "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                         "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}}$$),
('openai_responses', $${"id": "resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41", "object": "response", "created_at": 1741476777,
 "status": "completed", "model": "o4-mini-2025-04-16",
 "usage": {"input_tokens": 2000, "input_tokens_details": {"cached_tokens": 512},
           "output_tokens": 900, "output_tokens_details": {"reasoning_tokens": 640}, "total_tokens": 2900}}$$),
('anthropic_message', $${"id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514",
 "content": [{"type": "text", "text": "..."}], "stop_reason": "end_turn",
 "usage": {"input_tokens": 50, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 10000,
           "output_tokens": 400,
           "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 0},
           "service_tier": "standard"}}$$),
('anthropic_stream_events', $$[{"type": "message_start", "message": {"id": "msg_01", "model": "claude-3-5-haiku-20241022",
   "usage": {"input_tokens": 1234, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 89, "output_tokens": 1}}},
 {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "..."}},
 {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 567}},
 {"type": "message_stop"}]$$),
('openrouter_chat_completion', $${"id": "gen-1741570283-aBcDeFgHiJkLmNoPqRsT", "object": "chat.completion", "created": 1741570283,
 "model": "openai/gpt-4o-mini", "provider": "OpenAI",
 "choices": [{"index": 0, "message": {"role": "assistant", "content": "..."}, "finish_reason": "stop"}],
 "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500, "cost": 0.000275, "is_byok": false,
           "prompt_tokens_details": {"cached_tokens": 400, "cache_write_tokens": 0, "audio_tokens": 0},
           "completion_tokens_details": {"reasoning_tokens": 0},
           "cost_details": {"upstream_inference_cost": null, "upstream_inference_prompt_cost": 0.000095,
                            "upstream_inference_completions_cost": 0.00018}}}$$),
('gemini_generate_content', $${"candidates": [{"content": {"parts": [{"text": "..."}], "role": "model"}, "finishReason": "STOP"}],
 "modelVersion": "gemini-2.5-pro", "responseId": "Kq3aaPmOGIqgz7IP2Ny9mQQ",
 "usageMetadata": {"promptTokenCount": 250000, "candidatesTokenCount": 1000, "cachedContentTokenCount": 100000,
                   "thoughtsTokenCount": 500, "totalTokenCount": 251500,
                   "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 250000}]}}$$),
('otel_genai_span_attributes', $${"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
 "gen_ai.response.model": "gpt-4o-mini-2024-07-18", "gen_ai.response.id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
 "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 300,
 "gen_ai.usage.cache_read.input_tokens": 1024, "gen_ai.usage.cache_creation.input_tokens": 0}$$);

SELECT e.name, n.format, n.provider_name AS provider, n.model, n.input_tokens AS input, n.output_tokens AS output,
       n.cache_read_tokens AS cache_read, n.cache_write_tokens AS cache_write, n.reasoning_tokens AS reasoning, n.cost
  FROM example AS e, usage_meter.normalize_usage('auto', e.body) AS n
 ORDER BY e.name;
SELECT e.name, n.response_id FROM example AS e, usage_meter.normalize_usage('auto', e.body) AS n ORDER BY e.name;

-- Naming the provider gives the same numbers as detecting it.
SELECT e.name, p.provider
  FROM example AS e,
       (VALUES ('openai_chat_completion', 'openai'), ('openai_chat_completion', 'openai_chat'),
               ('openai_responses', 'openai'), ('openai_responses', 'openai_responses'),
               ('anthropic_message', 'anthropic'), ('anthropic_stream_events', 'anthropic'),
               ('anthropic_stream_events', 'anthropic_stream'), ('openrouter_chat_completion', 'openrouter'),
               ('gemini_generate_content', 'gemini'), ('otel_genai_span_attributes', 'otel')) AS p(name, provider)
 WHERE e.name = p.name
   AND usage_meter.normalize_usage(p.provider, e.body) IS DISTINCT FROM usage_meter.normalize_usage('auto', e.body)
 ORDER BY 1, 2;

-- An OpenRouter body named as plain OpenAI is read as Chat Completions: no reported cost.
SELECT format, cost FROM usage_meter.normalize_usage('openai', (SELECT body FROM example WHERE name = 'openrouter_chat_completion'));

-- Edge cases the providers' own SDKs accept: missing or null detail objects, nulls, zeros, extra fields.
SELECT input_tokens, output_tokens, cache_read_tokens, reasoning_tokens, model, response_id
  FROM usage_meter.normalize_usage('auto', '{"id": "chatcmpl-1", "usage": {"prompt_tokens": 10, "completion_tokens": 5}}');
SELECT input_tokens, output_tokens, cache_read_tokens, reasoning_tokens
  FROM usage_meter.normalize_usage('openai', '{"usage": {"prompt_tokens": 10, "completion_tokens": 5,
      "prompt_tokens_details": null, "completion_tokens_details": {"reasoning_tokens": null}}}');
SELECT input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
  FROM usage_meter.normalize_usage('anthropic', '{"type": "message", "usage": {"input_tokens": 0, "output_tokens": 0,
      "cache_creation_input_tokens": null, "cache_read_input_tokens": 0, "new_counter": {"x": [1, 2]}}}');
SELECT input_tokens FROM usage_meter.normalize_usage('openai', '{"usage": {"prompt_tokens": 1.2e3, "completion_tokens": 0}}');

-- An Anthropic stream without message_delta: the counts of message_start stand.
SELECT input_tokens, output_tokens, cache_read_tokens, response_id
  FROM usage_meter.normalize_usage('auto', '[{"type": "message_start", "message": {"id": "msg_cut", "model": "claude-3-5-haiku",
      "usage": {"input_tokens": 40, "cache_read_input_tokens": 4, "output_tokens": 1}}}, {"type": "ping"}]');
-- Several message_delta events: the last (cumulative) count wins.
SELECT output_tokens
  FROM usage_meter.normalize_usage('anthropic', '[{"type": "message_start", "message": {"usage": {"input_tokens": 40, "output_tokens": 1}}},
      {"type": "message_delta", "usage": {"output_tokens": 10}}, {"type": "message_delta", "usage": {"output_tokens": 25}}]');

-- Other streams, given as the array of their chunks: the last chunk with a usage block has the totals.
SELECT format, input_tokens, output_tokens, cache_read_tokens, response_id
  FROM usage_meter.normalize_usage('auto', '[
      {"id": "chatcmpl-s", "object": "chat.completion.chunk", "usage": null, "choices": [{"delta": {"content": "Hi"}}]},
      {"id": "chatcmpl-s", "object": "chat.completion.chunk", "choices": [],
       "usage": {"prompt_tokens": 12, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 2}}}]');
SELECT format, input_tokens, output_tokens, reasoning_tokens, response_id
  FROM usage_meter.normalize_usage('gemini', '[
      {"responseId": "g1", "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1}},
      {"responseId": "g1", "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 30, "thoughtsTokenCount": 5}}]');

-- Gemini without thinking, and without the counts protobuf JSON leaves out when they are zero.
SELECT input_tokens, output_tokens, cache_read_tokens, reasoning_tokens, model
  FROM usage_meter.normalize_usage('auto', '{"modelVersion": "gemini-2.0-flash",
      "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 9, "totalTokenCount": 49}}');
SELECT input_tokens, output_tokens FROM usage_meter.normalize_usage('gemini', '{"usageMetadata": {"promptTokenCount": 40}}');

-- OpenRouter with cost 0 reports a charge of zero (not "unknown"); cost null reports none.
SELECT cost, cost IS NULL AS unknown
  FROM usage_meter.normalize_usage('auto', '{"id": "gen-free", "usage": {"prompt_tokens": 9, "completion_tokens": 2, "cost": 0}}');
SELECT cost, cost IS NULL AS unknown
  FROM usage_meter.normalize_usage('openrouter', '{"id": "gen-x", "usage": {"prompt_tokens": 9, "completion_tokens": 2, "cost": null}}');

-- What cannot be read is refused, with the SQLSTATE and a message naming what is wrong.
CREATE FUNCTION pg_temp.refused(provider text, payload jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
BEGIN
    PERFORM usage_meter.normalize_usage(provider, payload);
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    RETURN state || ': ' || message;
END $$;

SELECT p.provider, p.payload, pg_temp.refused(p.provider, p.payload::jsonb) AS result
  FROM (VALUES
    ('auto', '42'),
    ('auto', '"a string"'),
    ('auto', 'null'),
    ('openai', '[]'),
    ('auto', '{"id": "x", "choices": []}'),
    ('openai', '{"id": "chatcmpl-1", "usage": null}'),
    ('openai', '{"usage": {"prompt_tokens": 100, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 101}}}'),
    ('openai_responses', '{"usage": {"input_tokens": 10, "output_tokens": 1, "input_tokens_details": {"cached_tokens": 11}}}'),
    ('gemini', '{"usageMetadata": {"promptTokenCount": 40, "cachedContentTokenCount": 41}}'),
    ('otel', '{"gen_ai.usage.input_tokens": 10, "gen_ai.usage.cache_read.input_tokens": 11}'),
    ('openrouter', '{"usage": {"prompt_tokens": 100, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 41}}}'),
    ('openai', '{"usage": {"prompt_tokens": -1, "completion_tokens": 5}}'),
    ('openai', '{"usage": {"prompt_tokens": 12.5, "completion_tokens": 5}}'),
    ('openai', '{"usage": {"prompt_tokens": "12", "completion_tokens": 5}}'),
    ('openai', '{"usage": {"prompt_tokens": 1000000000001, "completion_tokens": 5}}'),
    ('openai', '{"usage": {"prompt_tokens": 1e400, "completion_tokens": 5}}'),
    ('openai', '{"usage": {"prompt_tokens": 10}}'),
    ('openai', '{"usage": {"prompt_tokens": 10, "completion_tokens": 5, "completion_tokens_details": {"reasoning_tokens": 6}}}'),
    ('anthropic', '{"type": "message", "usage": {"output_tokens": 3}}'),
    ('anthropic', '[]'),
    ('anthropic_stream', '[{"type": "message_delta", "usage": {"output_tokens": 3}}]'),
    ('openrouter', '{"usage": {"prompt_tokens": 1, "completion_tokens": 2, "cost": -0.1}}'),
    ('gemini', '{"candidates": []}'),
    ('otel', '{"gen_ai.operation.name": "chat"}'),
    ('auto', '{"usage": {"input_tokens": 5, "output_tokens": 1}}'),
    ('azure', '{}'),
    ('openai', '{"model": 4, "usage": {"prompt_tokens": 1, "completion_tokens": 1}}')
  ) AS p(provider, payload);

SELECT pg_temp.refused(NULL, '{}'), pg_temp.refused('auto', NULL);
SELECT pg_temp.refused('openai', jsonb_build_object('model', repeat('m', 201),
                                                    'usage', '{"prompt_tokens": 1, "completion_tokens": 1}'::jsonb));
-- Deep nesting anywhere is skipped without recursion; it never exhausts the stack.
SELECT input_tokens, output_tokens
  FROM usage_meter.normalize_usage('auto', ('{"choices": ' || repeat('[', 5000) || repeat(']', 5000) ||
                                            ', "usage": {"prompt_tokens": 3, "completion_tokens": 4}}')::jsonb);
SELECT pg_temp.refused('auto', (repeat('[', 5000) || repeat(']', 5000))::jsonb);
