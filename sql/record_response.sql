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
