-- usage_meter demo: every endpoint records through one function; summaries, counters and limits agree.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS usage_meter;
RESET client_min_messages;

\echo '\n-- Prices (USD per million tokens) and two tenants: one in Berlin with a 20% markup'
SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08, 1.00, 'anthropic') AS haiku_price_id,
       usage_meter.set_price('gpt-4o-mini', 0.15, 0.60, 0.075) AS gpt4o_mini_price_id;
\o /dev/null
SELECT usage_meter.set_tenant('acme', 'Europe/Berlin', 20);
SELECT usage_meter.set_limit('acme', NULL, 'billed_cost', 'day', 0.02);   -- the tenant: 2 cents a day
SELECT usage_meter.set_limit('acme', '*', 'requests', 'day', 5);           -- each user: 5 requests a day
\o
SELECT tenant, user_id, metric, period, max_value, hard FROM usage_meter.limits ORDER BY user_id NULLS FIRST;

\echo '\n-- REST, streaming, WebSocket and a background job all record the same way'
SELECT 'rest' AS endpoint, * FROM usage_meter.usage_record('acme', 'alice', 'chat', 'claude-3-5-haiku', 1234, 567, 89,
       provider => 'anthropic', idempotency_key => 'msg_01', latency_ms => 830)
UNION ALL
SELECT 'stream', * FROM usage_meter.usage_record('acme', 'alice', 'chat_stream', 'gpt-4o-mini', 2000, 800, 1024,
       reasoning_tokens => 200, provider => 'openai', idempotency_key => 'chatcmpl-77')
UNION ALL
SELECT 'websocket', * FROM usage_meter.usage_record('acme', 'bob', 'voice_session', 'claude-3-5-haiku', 500, 2500,
       provider => 'anthropic', session_id => 'ws-42')
UNION ALL
SELECT 'job', * FROM usage_meter.usage_record('acme', NULL, 'evaluation_run', quantity => 3)
UNION ALL
SELECT 'webhook replay', * FROM usage_meter.usage_record('acme', 'alice', 'chat', 'claude-3-5-haiku', 1234, 567, 89,
       provider => 'anthropic', idempotency_key => 'msg_01');

\echo '\n-- A backfill from yesterday lands on yesterday, not today'
SELECT event_id, cost, priced FROM usage_meter.usage_record('acme', 'bob', 'chat', 'gpt-4o-mini', 40000, 9000,
       occurred_at => now() - interval '1 day');

\echo '\n-- Daily summaries (usage_meter.daily_usage)'
SELECT day, user_id, operation, model, requests, input_tokens, output_tokens, cache_read_tokens, cost, billed_cost
FROM usage_meter.daily_usage WHERE tenant = 'acme' ORDER BY day, user_id NULLS FIRST, operation;

\echo '\n-- Live counters for today and this month (usage_meter.live_usage)'
SELECT * FROM usage_meter.live_usage('acme');
SELECT * FROM usage_meter.live_usage('acme', 'alice');

\echo '\n-- May alice make a request estimated at 1 cent? (usage_meter.check_limit)'
SELECT * FROM usage_meter.check_limit('acme', 'alice', estimated_cost => 0.01);
\echo '\n-- And one at a tenth of a cent?'
SELECT * FROM usage_meter.check_limit('acme', 'alice', estimated_cost => 0.001);

\echo '\n-- Every summary equals the ledger (usage_meter.verify returns no rows) and the health report'
SELECT count(*) AS disagreements FROM usage_meter.verify();
SELECT * FROM usage_meter.health();
