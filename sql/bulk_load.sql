-- Bulk loads: INSERT ... SELECT and COPY straight into the ledger (a backfill from a provider's export) are
-- validated, priced and rolled up exactly like usage_record calls, once per statement.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08);
SELECT usage_meter.set_tenant('kolkata', 'Asia/Kolkata', 10);

COPY usage_meter.events (tenant, user_id, operation, model, provider, input_tokens, output_tokens,
                         cache_read_tokens, cost, occurred_at, idempotency_key, success) FROM stdin;
acme	alice	chat	claude-3-5-haiku	anthropic	1234	567	89	\N	2026-02-01 10:00:00+00	export-1	t
acme	alice	chat	claude-3-5-haiku	anthropic	1000	0	0	\N	2026-02-01 11:00:00+00	export-2	t
acme	\N	batch	claude-3-5-haiku	\N	10	10	\N	0.5	2026-02-02 00:00:00+00	export-3	f
kolkata	ravi	chat	claude-3-5-haiku	\N	1000000	0	0	\N	2026-01-31 19:00:00+00	export-4	t
kolkata	ravi	chat	unknown-model	\N	5	5	0	\N	2026-01-31 18:00:00+00	export-5	t
\.

SELECT event_id, tenant, day, cache_read_tokens, cost, billed_cost, priced, cost_source, success
FROM usage_meter.events ORDER BY event_id;
SELECT tenant, user_id, day, operation, requests, errors, unpriced, input_tokens, cost, billed_cost
FROM usage_meter.daily_usage ORDER BY tenant, day, user_id NULLS FIRST;
SELECT tenant, user_id, period, period_start, requests, tokens, cost
FROM usage_meter.counters ORDER BY tenant, user_id NULLS FIRST, period, period_start;

-- A thousand events in one statement.
INSERT INTO usage_meter.events (tenant, user_id, operation, model, input_tokens, output_tokens, occurred_at)
SELECT 'acme', 'user-' || (i % 7), 'chat', 'claude-3-5-haiku', i, i * 2,
       '2026-03-01 00:00:00+00'::timestamptz + make_interval(hours => i)
FROM generate_series(1, 1000) AS i;
SELECT count(*) AS rollup_rows, sum(requests) AS requests, sum(input_tokens) AS input, sum(cost) AS cost
FROM usage_meter.daily_rollup WHERE day >= '2026-03-01';
SELECT sum(cost) AS ledger_cost FROM usage_meter.events WHERE day >= '2026-03-01';

-- One bad row refuses the whole COPY: nothing of it is written.
COPY usage_meter.events (tenant, user_id, operation, input_tokens) FROM stdin;
acme	alice	chat	10
acme	alice	chat	-10
\.
SELECT count(*) AS events FROM usage_meter.events;

SELECT * FROM usage_meter.verify();
