-- record_response: a provider response is normalized and recorded in one call, through usage_record (same
-- validation, pricing, roll-up), idempotent on the response's own id; a payload it cannot read writes nothing.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

SELECT usage_meter.set_price('gpt-4o-mini-2024-07-18', 0.15, 0.60, 0.075, provider => 'openai') AS price_id;
SELECT usage_meter.set_price('claude-3-5-haiku-20241022', 0.80, 4.00, 0.08, 1.00) AS price_id;
SELECT usage_meter.set_price('gemini-2.5-pro', 1.25, 10.00, 0.31) AS price_id;

-- An OpenAI Chat Completion: 176 uncached + 1024 cached prompt tokens, 300 output tokens.
SELECT * FROM usage_meter.record_response('acme', 'alice', 'chat', 'auto',
    '{"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
      "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
                "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0}}}',
    session_id => 's-1', latency_ms => 850, metadata => '{"endpoint": "rest"}');
-- 176 x 0.15 + 300 x 0.60 + 1024 x 0.075 per million:
SELECT (176 * 0.15 + 300 * 0.60 + 1024 * 0.075) / 1000000 AS expected_cost;

-- The same generation again (a webhook and a periodic sync): counted once, the first event comes back.
SELECT * FROM usage_meter.record_response('acme', 'alice', 'chat', 'openai',
    '{"id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "model": "gpt-4o-mini-2024-07-18",
      "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "prompt_tokens_details": {"cached_tokens": 1024}}}');

-- An Anthropic stream, given as its events; an explicit idempotency key replaces the message id.
SELECT * FROM usage_meter.record_response('acme', 'bob', 'chat_stream', 'auto',
    '[{"type": "message_start", "message": {"id": "msg_01", "model": "claude-3-5-haiku-20241022",
       "usage": {"input_tokens": 1234, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 89, "output_tokens": 1}}},
      {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "..."}},
      {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 567}},
      {"type": "message_stop"}]',
    idempotency_key => 'job-42', occurred_at => '2026-01-15 10:00:00+00');

-- Gemini with thinking: output = candidates + thoughts.
SELECT * FROM usage_meter.record_response('acme', 'alice', 'summarize', 'gemini',
    '{"modelVersion": "gemini-2.5-pro", "responseId": "Kq3aaPmOGIqgz7IP2Ny9mQQ",
      "usageMetadata": {"promptTokenCount": 250000, "candidatesTokenCount": 1000, "cachedContentTokenCount": 100000,
                        "thoughtsTokenCount": 500, "totalTokenCount": 251500}}');

-- OpenRouter reports its charge: it wins over the price table, and a charge of 0 is a cost of 0.
SELECT * FROM usage_meter.record_response('acme', 'carol', 'chat', 'auto',
    '{"id": "gen-1741570283-aBcDeFgHiJkLmNoPqRsT", "model": "openai/gpt-4o-mini",
      "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "cost": 0.000275,
                "prompt_tokens_details": {"cached_tokens": 400, "cache_write_tokens": 0}}}');
SELECT * FROM usage_meter.record_response('acme', 'carol', 'chat', 'openrouter',
    '{"id": "gen-free-1", "model": "meta-llama/llama-3.3-70b-instruct:free",
      "usage": {"prompt_tokens": 90, "completion_tokens": 20, "cost": 0}}');

-- OpenAI Responses, Anthropic Messages and OpenTelemetry attributes; the last has no price, so it is unpriced.
SELECT * FROM usage_meter.record_response('acme', 'dave', 'agent', 'auto',
    '{"id": "resp_67ccd3a9", "object": "response", "model": "o4-mini-2025-04-16",
      "usage": {"input_tokens": 2000, "input_tokens_details": {"cached_tokens": 512},
                "output_tokens": 900, "output_tokens_details": {"reasoning_tokens": 640}}}', success => false);
SELECT * FROM usage_meter.record_response('acme', 'dave', 'chat', 'anthropic',
    '{"id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "model": "claude-3-5-haiku-20241022",
      "usage": {"input_tokens": 50, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 10000,
                "output_tokens": 400}}');
SELECT * FROM usage_meter.record_response('acme', 'erin', 'chat', 'otel',
    '{"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 300,
      "gen_ai.usage.cache_read.input_tokens": 1024}');

-- The ledger holds the normalized counts, the serving provider and the idempotency key.
SELECT event_id, user_id, operation, provider, model, input_tokens AS input, output_tokens AS output,
       cache_read_tokens AS c_read, cache_write_tokens AS c_write, reasoning_tokens AS reasoning, cost, cost_source,
       idempotency_key
  FROM usage_meter.events ORDER BY event_id;
SELECT event_id, session_id, latency_ms, success, occurred_at = '2026-01-15 10:00:00+00' AS backfilled, metadata
  FROM usage_meter.events ORDER BY event_id;

-- A payload it cannot read is refused and writes nothing: no event, no summary, no counter.
CREATE FUNCTION pg_temp.refused(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
BEGIN
    EXECUTE statement;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    RETURN state || ': ' || message;
END $$;
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM usage_meter.events) AS events,
       (SELECT sum(requests) FROM usage_meter.daily_usage) AS requests,
       (SELECT sum(requests) FROM usage_meter.counters) AS counted;
SELECT pg_temp.refused(format('SELECT usage_meter.record_response(%L, %L, %L, %L, %L)', t, u, o, p, r)) AS result
  FROM (VALUES
    ('acme', 'alice', 'chat', 'auto', '[1, 2]'),
    ('acme', 'alice', 'chat', 'auto', '{"id": "chatcmpl-new", "choices": []}'),
    ('acme', 'alice', 'chat', 'openai', '{"id": "chatcmpl-new", "usage": {"prompt_tokens": -5, "completion_tokens": 1}}'),
    ('acme', 'alice', 'chat', 'openai', '{"id": "chatcmpl-new", "usage": {"prompt_tokens": 5.5, "completion_tokens": 1}}'),
    ('acme', 'alice', 'chat', 'openai', '{"id": "chatcmpl-new", "usage": {"prompt_tokens": 1e13, "completion_tokens": 1}}'),
    ('acme', 'alice', 'chat', 'openai', '{"id": "chatcmpl-new", "usage": {"prompt_tokens": 5, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 6}}}'),
    ('acme', 'alice', 'chat', 'anthropic_stream', '[{"type": "message_delta", "usage": {"output_tokens": 3}}]'),
    ('acme', 'alice', 'chat', 'bedrock', '{}'),
    -- the payload is fine, but the recording arguments are not: usage_record refuses them
    ('acme', '*', 'chat', 'openai', '{"id": "chatcmpl-new", "usage": {"prompt_tokens": 5, "completion_tokens": 1}}'),
    ('', 'alice', 'chat', 'openai', '{"id": "chatcmpl-new", "usage": {"prompt_tokens": 5, "completion_tokens": 1}}')
  ) AS c(t, u, o, p, r);
SELECT pg_temp.refused($$SELECT usage_meter.record_response('acme', 'alice', 'chat', 'auto', NULL)$$) AS result;
SELECT pg_temp.refused($$SELECT usage_meter.record_response('acme', 'alice', 'chat', 'openai',
    '{"id": "chatcmpl-late", "usage": {"prompt_tokens": 5, "completion_tokens": 1}}',
    occurred_at => pg_catalog.now() + interval '2 days')$$) AS result;
SELECT (SELECT count(*) FROM usage_meter.events) AS events,
       (SELECT sum(requests) FROM usage_meter.daily_usage) AS requests,
       (SELECT sum(requests) FROM usage_meter.counters) AS counted
EXCEPT SELECT * FROM before;

-- A response without an id (this Gemini one) has no default key: each call records.
SELECT duplicate FROM usage_meter.record_response('acme', 'alice', 'chat', 'gemini', '{"usageMetadata": {"promptTokenCount": 3}}');
SELECT duplicate FROM usage_meter.record_response('acme', 'alice', 'chat', 'gemini', '{"usageMetadata": {"promptTokenCount": 3}}');

SELECT * FROM usage_meter.verify();

-- ---- Current payload fields and further providers (sources named in sql/provider_payloads.sql). ------------
SELECT usage_meter.set_price('gpt-5', 1.25, 10.00, 0.125, 1.50, provider => 'openai') AS price_id;
SELECT usage_meter.set_price('deepseek-chat', 0.27, 1.10, 0.07, provider => 'deepseek') AS price_id;
-- OpenAI cache writes inside prompt_tokens_details are priced at the cache-write price, not as input:
-- 1000 input x 1.25 + 1000 cache reads x 0.125 + 3000 cache writes x 1.50 + 20 output x 10 per million.
SELECT * FROM usage_meter.record_response('acme', 'frank', 'chat', 'auto',
    '{"id": "chatcmpl-CW1", "object": "chat.completion", "model": "gpt-5",
      "usage": {"prompt_tokens": 5000, "completion_tokens": 20,
                "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 3000}}}');
SELECT (1000 * 1.25 + 1000 * 0.125 + 3000 * 1.50 + 20 * 10) / 1000000 AS expected_cost;
-- DeepSeek: the cache hits at the cache-read price, the misses as input.
SELECT * FROM usage_meter.record_response('acme', 'frank', 'chat', 'auto',
    '{"id": "ds-1", "object": "chat.completion", "model": "deepseek-chat",
      "usage": {"prompt_tokens": 1000, "completion_tokens": 300, "prompt_cache_hit_tokens": 600, "prompt_cache_miss_tokens": 400}}');
SELECT (400 * 0.27 + 600 * 0.07 + 300 * 1.10) / 1000000 AS expected_cost;
-- xAI reports what it charged (cost_in_usd_ticks): it wins over the price table, as OpenRouter's cost does.
SELECT * FROM usage_meter.record_response('acme', 'frank', 'chat', 'auto',
    '{"id": "xai-1", "object": "chat.completion", "model": "grok-4",
      "usage": {"prompt_tokens": 686, "completion_tokens": 123, "total_tokens": 809, "num_sources_used": 0,
                "completion_tokens_details": {"reasoning_tokens": 112}, "cost_in_usd_ticks": 37756000}}');
-- A stream as its raw server-sent-events text, and a Bedrock Converse response (its RequestId is the key).
SELECT * FROM usage_meter.record_response('acme', 'frank', 'chat_stream', 'auto',
    to_jsonb(E'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_SSE2","model":"claude-3-5-haiku-20241022","usage":{"input_tokens":100,"cache_read_input_tokens":50,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":40}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'::text));
SELECT * FROM usage_meter.record_response('acme', 'frank', 'chat', 'bedrock_converse',
    '{"stopReason": "end_turn", "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
      "usage": {"inputTokens": 12, "outputTokens": 30, "cacheReadInputTokens": 1000, "cacheWriteInputTokens": 200},
      "ResponseMetadata": {"RequestId": "5d9f1c0e-7c6a-4b64-9c41-6f3f2c8f0a11"}}');
SELECT user_id, provider, model, input_tokens AS input, output_tokens AS output, cache_read_tokens AS c_read,
       cache_write_tokens AS c_write, reasoning_tokens AS reasoning, cost, cost_source, idempotency_key
  FROM usage_meter.events WHERE user_id = 'frank' ORDER BY event_id;

-- Contradictory counts are refused and write nothing.
CREATE TEMP TABLE before_frank AS SELECT count(*) AS events FROM usage_meter.events;
SELECT pg_temp.refused(format('SELECT usage_meter.record_response(%L, %L, %L, %L, %L)', 'acme', 'frank', 'chat', p, r)) AS result
  FROM (VALUES
    ('auto', '{"id": "ds-2", "usage": {"prompt_tokens": 10, "completion_tokens": 1, "prompt_cache_hit_tokens": 6, "prompt_cache_miss_tokens": 5}}'),
    ('xai', '{"id": "xai-2", "usage": {"prompt_tokens": 32, "completion_tokens": 9, "total_tokens": 100, "completion_tokens_details": {"reasoning_tokens": 94}}}'),
    ('auto', '{"id": "br-2", "usage": {"inputTokens": 3, "outputTokens": -3}}')
  ) AS c(p, r);
SELECT count(*) - (SELECT events FROM before_frank) AS written FROM usage_meter.events;

-- Web searches the provider charges per call are a second event of the response: operation web_search,
-- quantity = searches, priced by the unit price; keyed by the response's key and '#web_search', so a repeat
-- of the response is a duplicate of both. The row returned is the response's own event.
SELECT usage_meter.set_unit_price('web_search', 0.01) AS unit_price_id;
SELECT * FROM usage_meter.record_response('acme', 'grace', 'chat', 'auto',
    '{"id": "msg_WS1", "type": "message", "model": "claude-3-5-haiku-20241022",
      "usage": {"input_tokens": 105, "output_tokens": 512, "server_tool_use": {"web_search_requests": 3}}}',
    session_id => 's-ws');
SELECT * FROM usage_meter.record_response('acme', 'grace', 'chat', 'anthropic',
    '{"id": "msg_WS1", "type": "message", "model": "claude-3-5-haiku-20241022",
      "usage": {"input_tokens": 105, "output_tokens": 512, "server_tool_use": {"web_search_requests": 3}}}');
-- A caller's key over 189 characters keys the searches by its md5 (keys are at most 200 characters).
SELECT duplicate FROM usage_meter.record_response('acme', 'grace', 'chat', 'anthropic',
    '{"id": "msg_WS2", "type": "message", "model": "claude-3-5-haiku-20241022",
      "usage": {"input_tokens": 1, "output_tokens": 1, "server_tool_use": {"web_search_requests": 1}}}',
    idempotency_key => repeat('k', 200));
SELECT operation, model, input_tokens AS input, output_tokens AS output, quantity, cost, cost_source, session_id,
       pg_catalog.left(idempotency_key, 40) AS idempotency_key
  FROM usage_meter.events WHERE user_id = 'grace' ORDER BY event_id;
SELECT operation, requests, cost FROM usage_meter.daily_usage WHERE user_id = 'grace' ORDER BY operation;

SELECT * FROM usage_meter.verify();
