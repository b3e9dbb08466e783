-- Tiers with whole-request semantics: above a threshold of context tokens (input + cache read + cache write)
-- in one request, every token of the request is priced at the tier's rates.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';

-- A long-context model: 3 / 15 (cache 0.30 / 3.75) up to 200k context tokens, 6 / 22.50 (cache 0.60 / 7.50) above.
SELECT usage_meter.set_tiered_price('long-context', 3, 15, cache_read_per_mtok => 0.30, cache_write_per_mtok => 3.75, tiers => '[{"above_input_tokens": 200000,
    "input_per_mtok": 6, "output_per_mtok": 22.50, "cache_read_per_mtok": 0.60, "cache_write_per_mtok": 7.50}]');
SELECT tiers FROM usage_meter.prices WHERE model = 'long-context';

-- Just under, at, and just over the threshold, with 1000 output tokens each:
--   199999 x 3 + 1000 x 15 = 614997 per million    200000 x 3 + 1000 x 15 = 615000 per million
--   200001 x 6 + 1000 x 22.5 = 1222506 per million (the whole request at the tier's rates)
SELECT t.input, r.cost
FROM (VALUES (199999), (200000), (200001)) AS t(input),
     LATERAL usage_meter.usage_record('acme', 'u', 'chat', 'long-context', t.input, 1000) AS r;
-- Cached tokens count towards the threshold; output tokens do not.
--   150000 x 3 + 50000 x 0.30 + 900000 x 15 = 13965000 per million (200000 context tokens: base)
--   150000 x 6 + 50001 x 0.60 + 0 output      = 930000.6 per million (200001 context tokens: tier)
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'long-context', 150000, 900000, 50000);
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'long-context', 150000, 0, 50001);
-- Cache writes too: 100000 x 6 + 100001 x 7.50 = 1350007.5 per million.
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'long-context', 100000, 0, 0, 100001);

-- Several tiers: the highest threshold crossed applies. Absent tier cache prices mean the tier's input price.
SELECT usage_meter.set_tiered_price('stepped', 1, 2, tiers => '[{"above_input_tokens": 272000, "input_per_mtok": 4, "output_per_mtok": 8},
    {"above_input_tokens": 128000, "input_per_mtok": 2, "output_per_mtok": 4}]') IS NOT NULL AS set;
SELECT tiers FROM usage_meter.prices WHERE model = 'stepped';
SELECT t.input, r.cost
FROM (VALUES (128000), (128001), (272000), (272001)) AS t(input),
     LATERAL usage_meter.usage_record('acme', 'u', 'chat', 'stepped', t.input, 0) AS r;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'stepped', 128000, 0, 1);  -- 128001 at 2 each

-- price_for shows the tiers; a dated id gets them too.
SELECT matched_model, tiers FROM usage_meter.price_for('stepped-20250101');
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'stepped-20250101', 128001, 0);

-- Same price with the same tiers (in another order or spelling) is a no-op; different tiers are refused.
SELECT usage_meter.set_tiered_price('stepped', 1, 2, tiers => '[{"above_input_tokens": 128000, "input_per_mtok": 2.0, "output_per_mtok": 4},
    {"above_input_tokens": 272000, "input_per_mtok": 4, "output_per_mtok": 8.00}]') =
       (SELECT price_id FROM usage_meter.prices WHERE model = 'stepped') AS same_price;
SELECT usage_meter.set_tiered_price('stepped', 1, 2, tiers => '[{"above_input_tokens": 128000, "input_per_mtok": 2, "output_per_mtok": 4}]');
-- The same rates without the tiers are a different price too.
SELECT usage_meter.set_price('stepped', 1, 2);
-- An empty tier list is no tiers.
SELECT usage_meter.set_tiered_price('flat', 1, 2, tiers => '[]') IS NOT NULL AS set;
SELECT tiers IS NULL AS no_tiers FROM usage_meter.prices WHERE model = 'flat';

-- Bad tiers are refused with a clear error and write nothing.
SELECT usage_meter.set_tiered_price('bad', 1, 2, NULL);
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '{"above_input_tokens": 1}');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[1]');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[{"above_input_tokens": 1000, "input_per_mtok": 1}]');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[{"above_input_tokens": 1000, "input_per_mtok": 1, "output_per_mtok": "2"}]');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[{"above_input_tokens": 1000, "input_per_mtok": -1, "output_per_mtok": 2}]');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[{"above_input_tokens": 0, "input_per_mtok": 1, "output_per_mtok": 2}]');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[{"above_input_tokens": 1e13, "input_per_mtok": 1, "output_per_mtok": 2}]');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[{"above_input_tokens": 1000.5, "input_per_mtok": 1, "output_per_mtok": 2}]');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[{"above_input_tokens": 1000, "input_per_mtok": 1, "output_per_mtok": 2},
    {"above_input_tokens": 1000, "input_per_mtok": 3, "output_per_mtok": 4}]');
SELECT usage_meter.set_tiered_price('bad', 1, 2, tiers => '[{"above_input_tokens": 1000, "input_per_mtok": 1, "output_per_mtok": 2, "per_image": 3}]');
-- A direct INSERT goes through the same checks.
INSERT INTO usage_meter.prices (model, input_per_mtok, output_per_mtok, tiers)
VALUES ('bad', 1, 2, '[{"above_input_tokens": -5, "input_per_mtok": 1, "output_per_mtok": 2}]');
SELECT count(*) AS bad_prices FROM usage_meter.prices WHERE model = 'bad';

SELECT * FROM usage_meter.verify();
