-- Recording: usage_record writes one priced event to the ledger and keeps the daily summary and the live
-- counters in the same transaction.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08) AS price_id;

-- Both call forms work, with positional or named arguments.
SELECT usage_meter.usage_record('acme', 'alice', 'chat', 'claude-3-5-haiku', 1234, 567, 89);
SELECT * FROM usage_meter.usage_record(tenant => 'acme', user_id => 'alice', operation => 'chat_stream_project',
                                       model => 'claude-3-5-haiku', input_tokens => 100, output_tokens => 50,
                                       cache_write_tokens => 1000, latency_ms => 420, session_id => 's-1',
                                       metadata => '{"endpoint": "websocket"}');

-- The unknown tenant was created on first use, in UTC with no markup.
SELECT tenant, time_zone, markup_pct FROM usage_meter.tenants;

-- A system job has no user; a failed call is still usage; reasoning is part of the output and not priced again.
SELECT * FROM usage_meter.usage_record('acme', NULL, 'nightly_summary', 'claude-3-5-haiku', 2000, 300);
SELECT * FROM usage_meter.usage_record('acme', 'bob', 'chat', 'claude-3-5-haiku', 10, 0, success => false, latency_ms => 30000);
SELECT * FROM usage_meter.usage_record('acme', 'bob', 'chat', 'claude-3-5-haiku', 0, 1000, reasoning_tokens => 800);

-- An operation nobody declared needs no migration; with no price it is recorded and counted, unpriced.
SELECT * FROM usage_meter.usage_record('acme', 'bob', 'evaluation_run', quantity => 5);
SELECT usage_meter.set_unit_price('evaluation_run', 0.25);
SELECT * FROM usage_meter.usage_record('acme', 'bob', 'evaluation_run', quantity => 4);

SELECT event_id, tenant, user_id, operation, model, input_tokens AS input, output_tokens AS output,
       cache_read_tokens AS cread, cache_write_tokens AS cwrite, reasoning_tokens AS reasoning, quantity,
       cost, billed_cost, priced, cost_source, price_id, unit_price_id, success, latency_ms, metadata
FROM usage_meter.events ORDER BY event_id;

-- Every event is in the ledger and today's summary, bucketed on the same day.
SELECT bool_and(day = current_date) AS all_today,
       bool_and(recorded_at BETWEEN now() - interval '1 minute' AND now()) AS recorded_just_now
FROM usage_meter.events;

SELECT user_id, operation, model, requests, errors, unpriced, input_tokens, output_tokens, cache_read_tokens,
       cache_write_tokens, reasoning_tokens, quantity, cost, billed_cost, latency_ms_total
FROM usage_meter.daily_usage ORDER BY user_id NULLS FIRST, operation;

-- Live counters: the tenant's total and each user's, for today and this month.
-- tokens = input + output + cache_read + cache_write.
SELECT period, period_start = date_trunc(period, now())::date AS current_period, requests, tokens, cost, billed_cost
FROM usage_meter.live_usage('acme');
SELECT period, requests, tokens, cost FROM usage_meter.live_usage('acme', 'alice');
SELECT period, requests, tokens, cost FROM usage_meter.live_usage('acme', 'bob');
SELECT period, requests, tokens, cost FROM usage_meter.live_usage('acme', 'nobody');
SELECT period, requests, tokens, cost FROM usage_meter.live_usage('unknown-tenant');

-- Every summary equals the ledger.
SELECT * FROM usage_meter.verify();
SELECT tenant, events, unpriced_events, status FROM usage_meter.health();

-- Summaries are spread over per-backend slots; changing the number of slots never changes a total.
SET usage_meter.counter_slots = 1;
SELECT * FROM usage_meter.usage_record('acme', 'alice', 'chat', 'claude-3-5-haiku', 1, 1);
RESET usage_meter.counter_slots;
SELECT requests FROM usage_meter.live_usage('acme', 'alice') WHERE period = 'day';
SELECT count(*) AS disagreements FROM usage_meter.verify();
