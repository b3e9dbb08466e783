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

-- One statement reads each (model, provider)'s price once and keeps it for the rows its row applies to: runs of
-- rows before, at and after a price change, of ten models (more than the statement keeps at once), two providers
-- of one name and a provider none prices, each get the price an exact lookup gives.
SELECT count(*) AS prices FROM (
    SELECT usage_meter.set_price('cache-m' || m, m, 2 * m) FROM generate_series(1, 10) AS m
    UNION ALL SELECT usage_meter.set_price('cache-m' || m, m + 0.5, 2 * m, effective_from => '2026-04-10 12:00:00+00')
      FROM generate_series(1, 10) AS m
    UNION ALL SELECT usage_meter.set_price('cache-m1', 7, 7, effective_from => '2026-04-20 00:00:00+00')
    UNION ALL SELECT usage_meter.set_price('cache-p', 1, 1, provider => 'p1')
    UNION ALL SELECT usage_meter.set_price('cache-p', 3, 3, provider => 'p2')
    UNION ALL SELECT usage_meter.set_price('cache-p', 4, 4, provider => 'p2', effective_from => '2026-04-10 12:00:00+00')) AS s;
INSERT INTO usage_meter.events (tenant, user_id, operation, model, provider, input_tokens, output_tokens, occurred_at)
SELECT 'acme', 'cache', 'chat', CASE WHEN i / 40 % 13 < 10 THEN 'cache-m' || (1 + i / 40 % 13) ELSE 'cache-p' END,
       CASE i / 40 % 13 WHEN 10 THEN 'p1' WHEN 11 THEN 'p2' WHEN 12 THEN 'p3' END, 1000000, 0,
       '2026-04-10 12:00:00+00'::timestamptz + make_interval(hours => (i % 7 - 3) * (i % 5)) + make_interval(days => i / 40 % 3 * 5)
FROM generate_series(1, 4000) AS i;
SELECT count(*) AS events,
       count(*) FILTER (WHERE e.price_id IS NOT DISTINCT FROM (
           SELECT p.price_id FROM usage_meter.prices AS p
            WHERE p.model = e.model AND p.provider IS NOT DISTINCT FROM e.provider AND p.effective_from <= e.occurred_at
            ORDER BY p.effective_from DESC LIMIT 1)) AS exact_price,
       count(*) FILTER (WHERE e.cost = e.input_tokens / 1000000.0 * (
           SELECT p.input_per_mtok FROM usage_meter.prices AS p WHERE p.price_id = e.price_id)) AS its_cost,
       count(DISTINCT e.price_id) AS prices_used, count(*) FILTER (WHERE NOT e.priced) AS unpriced
FROM usage_meter.events AS e WHERE e.user_id = 'cache';

SELECT * FROM usage_meter.verify();
