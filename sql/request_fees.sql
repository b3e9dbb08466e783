-- Per-request fees: a fixed amount (USD) a price adds once to every request it prices, tokens or not:
-- cost = token cost (at the tier's rates above a threshold) + per_request + quantity x unit price.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

SELECT usage_meter.set_tenant('acme', 'UTC', 10);
-- An online model: 0 input, 2.80 output per million tokens, 0.005 per request.
SELECT usage_meter.set_tiered_price('online', 0, 2.80, tiers => '[]', per_request => 0.005) IS NOT NULL AS set;
SELECT per_request, tiers IS NULL AS no_tiers FROM usage_meter.prices WHERE model = 'online';
SELECT rule, input_per_mtok, output_per_mtok, per_request FROM usage_meter.price_for('online');

-- Fee + tokens: 1000 x 2.80 / 10^6 = 0.0028, + 0.005 = 0.0078; billed +10 % = 0.00858.
SELECT cost, billed_cost, priced FROM usage_meter.usage_record('acme', 'alice', 'chat', 'online', 500, 1000,
                                                               occurred_at => '2026-03-01 10:00');
-- Fee only: a request of a priced model with zero tokens still pays the fee (it keeps the price row).
SELECT cost, billed_cost, priced FROM usage_meter.usage_record('acme', 'alice', 'chat', 'online',
                                                               occurred_at => '2026-03-01 11:00');
SELECT cost, price_id IS NOT NULL AS has_price_row FROM usage_meter.events WHERE model = 'online' ORDER BY event_id;
-- Fee + quantity x unit price: 0.005 + 3 x 0.002 = 0.011.
SELECT usage_meter.set_unit_price('search', 0.002) IS NOT NULL AS set;
SELECT cost FROM usage_meter.usage_record('acme', 'bob', 'search', 'online', quantity => 3,
                                          occurred_at => '2026-03-01 12:00');
-- A reported cost wins over the table, fee included.
SELECT cost FROM usage_meter.usage_record('acme', 'bob', 'chat', 'online', 10, 10, cost => 0.5,
                                          occurred_at => '2026-03-01 13:00');
SELECT cost, cost_source, price_id IS NULL AS no_price_row FROM usage_meter.events
WHERE occurred_at = '2026-03-01 13:00';
-- The same model through a pattern (dated id) gets the same fee.
SELECT cost FROM usage_meter.usage_record('acme', 'bob', 'chat', 'online-20260101', occurred_at => '2026-03-01 14:00');
-- set_price prices have no fee (0): a zero-token request of such a model costs 0 and keeps no price row.
SELECT usage_meter.set_price('plain', 1, 2) IS NOT NULL AS set;
SELECT per_request FROM usage_meter.prices WHERE model = 'plain';
SELECT cost FROM usage_meter.usage_record('acme', 'bob', 'chat', 'plain', occurred_at => '2026-03-01 15:00');
SELECT cost, price_id IS NULL AS no_price_row FROM usage_meter.events WHERE model = 'plain';

-- Fee + tier: the tier changes the token rates, the fee stays the price's, charged once.
SELECT usage_meter.set_tiered_price('long', 3, 15, tiers => '[{"above_input_tokens": 200000, "input_per_mtok": 6,
    "output_per_mtok": 22.50}]', per_request => 0.01) IS NOT NULL AS set;
--   200000 x 3 + 1000 x 15 = 615000 per million = 0.615, + 0.01 = 0.625 (at the threshold: base rates)
--   200001 x 6 + 1000 x 22.5 = 1222506 per million = 1.222506, + 0.01 = 1.232506 (over: tier rates)
SELECT t.input, r.cost
FROM (VALUES (200000), (200001)) AS t(input),
     LATERAL usage_meter.usage_record('acme', 'u', 'chat', 'long', t.input, 1000, occurred_at => '2026-03-02') AS r;
-- A tier has no fee of its own: the fee is the price's.
SELECT usage_meter.set_tiered_price('long2', 3, 15, tiers => '[{"above_input_tokens": 200000, "input_per_mtok": 6,
    "output_per_mtok": 22.50, "per_request": 0.02}]');

-- The fee is part of the price: the same price again is a no-op, a different fee at the same time is refused,
-- and a fee change is a new price from a later time.
SELECT usage_meter.set_tiered_price('online', 0, 2.8, tiers => '[]', per_request => 0.0050) =
       (SELECT price_id FROM usage_meter.prices WHERE model = 'online') AS same_price;
SELECT usage_meter.set_tiered_price('online', 0, 2.8, tiers => '[]', per_request => 0.006);
SELECT usage_meter.set_price('online', 0, 2.8);
SELECT usage_meter.set_tiered_price('online', 0, 2.8, tiers => '[]', per_request => 0.006,
                                    effective_from => '2026-04-01') IS NOT NULL AS set;
SELECT cost FROM usage_meter.usage_record('acme', 'alice', 'chat', 'online', occurred_at => '2026-03-31 23:59');  -- 0.005
SELECT cost FROM usage_meter.usage_record('acme', 'alice', 'chat', 'online', occurred_at => '2026-04-01');        -- 0.006
SELECT * FROM usage_meter.verify();

-- Bad input: a negative, NaN, infinite or NULL fee is refused with a clear error and nothing is written.
CREATE TEMP TABLE before AS SELECT count(*) AS n FROM usage_meter.prices;
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[]', per_request => -0.001);
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[]', per_request => 'NaN');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[]', per_request => 'Infinity');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[]', per_request => NULL);
-- Plain INSERTs are checked too (the guard names the column; the CHECK constraint backs it).
INSERT INTO usage_meter.prices (model, input_per_mtok, output_per_mtok, per_request) VALUES ('bad', 1, 2, -1);
INSERT INTO usage_meter.prices (model, input_per_mtok, output_per_mtok, per_request) VALUES ('bad', 1, 2, 'NaN');
SELECT (SELECT count(*) FROM usage_meter.prices) - n AS prices_added FROM before;

-- Import: LiteLLM's input_cost_per_request becomes the fee, exactly (USD per request, not scaled).
\getenv abs_srcdir PG_ABS_SRCDIR
\set snapshot_path :abs_srcdir '/tests/data/litellm_model_prices.json'
\set snapshot `cat :'snapshot_path'`
CREATE TEMP TABLE snapshot AS SELECT :'snapshot'::jsonb AS doc;
-- Which per-request fields the snapshot has: only input_cost_per_request is a fee per request of a model
-- (input_cost_per_query prices rerank queries and search_context_cost_per_query web search; not imported).
SELECT f.key AS field, count(*) AS entries,
       count(*) FILTER (WHERE e.value ? 'input_cost_per_token' AND e.value ? 'output_cost_per_token') AS with_token_prices
FROM snapshot, jsonb_each(doc) AS e, jsonb_each(CASE jsonb_typeof(e.value) WHEN 'object' THEN e.value END) AS f
WHERE f.key LIKE '%per_request%' OR f.key LIKE '%per_query%'
GROUP BY f.key ORDER BY f.key;
-- Import the entries with a fee, and two without, and compare every imported value with the JSON.
CREATE TEMP TABLE subset AS
SELECT jsonb_object_agg(e.key, e.value) AS doc
FROM snapshot, jsonb_each(doc) AS e
WHERE e.value ? 'input_cost_per_request' OR e.key IN ('gpt-4o-mini', 'perplexity/sonar');
SELECT * FROM usage_meter.import_litellm_prices((SELECT doc FROM subset), '2026-05-01');
SELECT p.model, p.provider, p.per_request, p.input_per_mtok, p.output_per_mtok,
       p.per_request = COALESCE((s.value ->> 'input_cost_per_request')::numeric, 0) AS fee_exact,
       p.output_per_mtok = (s.value ->> 'output_cost_per_token')::numeric * 1000000 AS output_exact
FROM usage_meter.prices AS p
JOIN subset ON true
JOIN LATERAL jsonb_each(subset.doc) AS s ON s.key = p.model
ORDER BY p.model;
-- Importing again is unchanged (the fee is compared); a changed fee is a new price.
SELECT * FROM usage_meter.import_litellm_prices((SELECT doc FROM subset), '2026-06-01');
SELECT * FROM usage_meter.import_litellm_prices(
    jsonb_set((SELECT doc FROM subset), '{perplexity/pplx-70b-online,input_cost_per_request}', '0.006'), '2026-06-01');
SELECT effective_from, per_request FROM usage_meter.prices WHERE model = 'perplexity/pplx-70b-online' ORDER BY 1;
-- A bad fee in the map is refused and nothing is written.
CREATE TEMP TABLE before_import AS SELECT count(*) AS n FROM usage_meter.prices;
SELECT * FROM usage_meter.import_litellm_prices(
    jsonb_set((SELECT doc FROM subset), '{perplexity/pplx-7b-online,input_cost_per_request}', '-0.005'), '2026-07-01');
SELECT * FROM usage_meter.import_litellm_prices(
    jsonb_set((SELECT doc FROM subset), '{perplexity/pplx-7b-online,input_cost_per_request}', '"0.005"'), '2026-07-01');
SELECT (SELECT count(*) FROM usage_meter.prices) - n AS prices_added FROM before_import;
-- A recorded request of an imported model: 0 input, 2000 x 0.28 / 10^6 = 0.00056, + 0.005 = 0.00556.
SELECT cost FROM usage_meter.usage_record('acme', 'carol', 'chat', 'perplexity/pplx-7b-online', 1000, 2000,
                                          provider => 'perplexity', occurred_at => '2026-05-02');

-- Reprice picks the fee up through the same lookup: requests of a model recorded before it had a price.
SELECT priced FROM usage_meter.usage_record('acme', 'dave', 'chat', 'late', 1000, 1000, occurred_at => '2026-03-05');
-- (zero tokens and no price yet: nothing to price, cost 0, priced)
SELECT cost, priced FROM usage_meter.usage_record('acme', 'dave', 'chat', 'late', occurred_at => '2026-03-05 01:00');
SELECT usage_meter.set_tiered_price('late', 1, 2, tiers => '[]', per_request => 0.25,
                                    effective_from => '2026-03-01') IS NOT NULL AS set;
BEGIN;
-- Only the unpriced event by default: 1000 x 1 + 1000 x 2 = 3000 per million = 0.003, + 0.25 = 0.253; billed 0.2783.
SELECT * FROM usage_meter.reprice('acme');
SELECT * FROM usage_meter.verify();
COMMIT;
-- Every event: the zero-token one now pays the fee too (0.25, billed 0.275).
SELECT * FROM usage_meter.reprice('acme', only_unpriced => false);
SELECT cost, billed_cost, priced, price_id IS NOT NULL AS has_price_row FROM usage_meter.events
WHERE model = 'late' ORDER BY event_id;
SELECT cost, billed_cost FROM usage_meter.daily_usage WHERE model = 'late';
SELECT * FROM usage_meter.verify();
