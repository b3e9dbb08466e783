-- Restoring the ledger: a row that arrives already prepared (day and markup filled, as only the ledger trigger
-- fills them; pg_dump's COPY does this) is kept exactly as it was recorded, is not priced again, does not create
-- its tenant, and is not rolled up again, because its summaries are restored with it. Only the owner can write
-- the ledger directly. Written any other way, such a row shows in verify() and rebuild() repairs it.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_price('m', 1, 2) AS price_id;
-- As pg_dump writes it: every column, summaries first, then the ledger, its idempotency keys, then the settings.
COPY usage_meter.daily_rollup (tenant, user_id, day, operation, provider, model, slot, requests, errors, unpriced,
     input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, quantity, cost,
     billed_cost, latency_ms_total) FROM stdin;
old	u	2025-01-31	chat	\N	m	3	1	0	0	1000	1000	0	0	0	0	0.009	0.0099	0
\.
COPY usage_meter.counters (tenant, user_id, period, period_start, slot, requests, tokens, cost, billed_cost) FROM stdin;
old	u	day	2025-01-31	3	1	2000	0.009	0.0099
old	\N	day	2025-01-31	3	1	2000	0.009	0.0099
old	u	month	2025-01-01	3	1	2000	0.009	0.0099
old	\N	month	2025-01-01	3	1	2000	0.009	0.0099
\.
COPY usage_meter.events (event_id, tenant, user_id, operation, model, input_tokens, output_tokens, cost, billed_cost,
     priced, cost_source, price_id, markup_pct, occurred_at, day, recorded_at, idempotency_key, metadata) FROM stdin;
41	old	u	chat	m	1000	1000	0.009	0.0099	t	price_table	7	10	2025-02-01 02:00:00+00	2025-01-31	2025-02-01 02:00:01+00	k-41	{}
\.
COPY usage_meter.idempotency_keys (tenant, idempotency_key, event_id, occurred_at, recorded_at) FROM stdin;
old	k-41	41	2025-02-01 02:00:00+00	2025-02-01 02:00:01+00
\.
COPY usage_meter.tenants (tenant, time_zone, markup_pct) FROM stdin;
old	America/Los_Angeles	10
\.
SELECT pg_catalog.setval('usage_meter.event_id_seq', 41, true);
-- Kept as recorded (a price of 3/6 then, a 10% markup, the tenant's local day), not rolled up twice.
SELECT event_id, cost, billed_cost, price_id, markup_pct, day, recorded_at FROM usage_meter.events;
SELECT tenant, day, requests, cost FROM usage_meter.daily_usage;
SELECT * FROM usage_meter.verify();
-- Its idempotency key holds, and it can be voided like any event.
SELECT event_id, duplicate FROM usage_meter.usage_record('old', 'u', 'chat', 'm', 1, 1, idempotency_key => 'k-41');
SELECT usage_meter.void_event('old', 41, 'restored, then voided') > 41 AS voided;
SELECT tenant, day, requests, cost FROM usage_meter.daily_usage;
SELECT * FROM usage_meter.verify();

-- A prepared row inserted without its summaries is not rolled up: verify() shows it, rebuild() repairs it.
INSERT INTO usage_meter.events (event_id, tenant, user_id, operation, model, input_tokens, cost, billed_cost, priced,
                                markup_pct, occurred_at, day, recorded_at)
VALUES (100, 'old', 'w', 'chat', 'm', 5, 0.5, 0.5, true, 0, '2025-03-01 12:00Z', '2025-03-01', '2025-03-01 12:00Z');
SELECT summary, user_id, period, period_start, field, difference FROM usage_meter.verify() WHERE user_id = 'w';
SELECT summary, user_id, period, period_start, field, before, after FROM usage_meter.rebuild('old') WHERE user_id = 'w';
SELECT * FROM usage_meter.verify();
-- The same row without a recorded_at of its own is new usage: validated, priced and rolled up like any other.
INSERT INTO usage_meter.events (tenant, user_id, operation, model, input_tokens, cost, billed_cost, priced,
                                markup_pct, occurred_at, day)
VALUES ('old', 'x', 'chat', 'm', 5, 0.5, 0.5, true, 0, '2025-03-01 12:00Z', '2000-01-01');
SELECT user_id, cost, billed_cost, markup_pct, day FROM usage_meter.events WHERE user_id = 'x';
SELECT * FROM usage_meter.verify();
