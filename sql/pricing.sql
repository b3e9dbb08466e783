-- Pricing: exact decimal cost from the price in force for the event's model and provider.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- The specification's example: 1234 input, 567 output and 89 cache-read tokens at 0.80/4.00/0.08.
SELECT usage_meter.set_price('claude-3-5-haiku', 0.80, 4.00, 0.08, 1.00);
SELECT cost, billed_cost, priced FROM usage_meter.usage_record('p', 'u', 'chat', 'claude-3-5-haiku', 1234, 567, 89);
SELECT cost = 0.00326232 AS exact FROM usage_meter.events WHERE event_id = 1;

-- Cache writes use the cache-write price; with no cache prices both fall back to the input price.
SELECT cost FROM usage_meter.usage_record('p', 'u', 'chat', 'claude-3-5-haiku', cache_write_tokens => 1000000);
SELECT usage_meter.set_price('plain-model', 2, 8);
SELECT cost FROM usage_meter.usage_record('p', 'u', 'chat', 'plain-model', 0, 0, 500000, 250000);

-- Huge counts stay exact: 10^12 tokens at 15 per million is 15,000,000.
SELECT usage_meter.set_price('big-model', 15, 75);
SELECT cost FROM usage_meter.usage_record('p', 'u', 'chat', 'big-model', 1000000000000, 1);
-- Tiny prices stay exact too.
SELECT usage_meter.set_price('tiny-model', 0.000001, 0.0000003);
SELECT cost FROM usage_meter.usage_record('p', 'u', 'chat', 'tiny-model', 3, 7);

-- Price history: a change applies from its effective time on; earlier events keep the earlier price.
SELECT usage_meter.set_price('gpt-x', 1.00, 2.00, effective_from => '2026-01-01');
SELECT usage_meter.set_price('gpt-x', 0.50, 1.00, effective_from => '2026-06-01');
SELECT t.at, r.cost, r.priced
FROM (VALUES ('2025-12-31 23:59:59+00'::timestamptz), ('2026-01-01'), ('2026-05-31 23:59:59'), ('2026-06-01'))
     AS t(at),
     LATERAL usage_meter.usage_record('p', 'u', 'chat', 'gpt-x', 1000000, 0, occurred_at => t.at) AS r;

-- A price for the event's provider beats the provider-less one, even an older one.
SELECT usage_meter.set_price('llama-3', 0.10, 0.10, effective_from => '2026-03-01');
SELECT usage_meter.set_price('llama-3', 0.90, 0.90, provider => 'bedrock', effective_from => '2026-01-01');
SELECT t.provider, r.cost
FROM (VALUES ('bedrock'), ('groq'), (NULL)) AS t(provider),
     LATERAL usage_meter.usage_record('p', 'u', 'chat', 'llama-3', 1000000, 0, provider => t.provider,
                                      occurred_at => '2026-04-01') AS r;
SELECT provider, cost, price_id FROM usage_meter.events WHERE model = 'llama-3' ORDER BY event_id;

-- Setting the same price again is a no-op; a different price for the same model and time is refused.
SELECT usage_meter.set_price('gpt-x', 1.00, 2.00, effective_from => '2026-01-01') AS same_id;
SELECT usage_meter.set_price('gpt-x', 1.10, 2.00, effective_from => '2026-01-01');

-- What the provider charged wins over the table.
SELECT cost, priced FROM usage_meter.usage_record('p', 'u', 'chat', 'claude-3-5-haiku', 1234, 567, cost => 0.0042);
SELECT cost_source, price_id FROM usage_meter.events WHERE cost = 0.0042;

-- No price: recorded, counted, unpriced. Tokens without a model cannot be priced either.
SELECT cost, billed_cost, priced FROM usage_meter.usage_record('p', 'u', 'chat', 'brand-new-model', 100, 100);
SELECT cost, billed_cost, priced FROM usage_meter.usage_record('p', 'u', 'chat', NULL, 100, 100);
-- Nothing to price costs exactly nothing.
SELECT cost, priced FROM usage_meter.usage_record('p', 'u', 'ping');

-- Quantities are priced per unit of the operation, with history.
SELECT usage_meter.set_unit_price('compute_minutes', 0.02, '2026-01-01');
SELECT usage_meter.set_unit_price('compute_minutes', 0.03, '2026-07-01');
SELECT cost FROM usage_meter.usage_record('p', 'u', 'compute_minutes', quantity => 12, occurred_at => '2026-02-01');
SELECT cost FROM usage_meter.usage_record('p', 'u', 'compute_minutes', quantity => 12, occurred_at => '2026-08-01');
-- Tokens and quantity together: both priced, or the event is unpriced.
SELECT cost FROM usage_meter.usage_record('p', 'u', 'compute_minutes', 'plain-model', 1000000, 0, quantity => 1.5,
                                          occurred_at => '2026-08-01');

-- Markup: billed_cost = cost x (1 + markup / 100), exactly.
SELECT usage_meter.set_tenant('reseller', 'UTC', 12.5);
SELECT cost, billed_cost FROM usage_meter.usage_record('reseller', 'u', 'chat', 'claude-3-5-haiku', 1234, 567, 89);
SELECT usage_meter.set_tenant('discounted', 'UTC', -33.333);
SELECT cost, billed_cost FROM usage_meter.usage_record('discounted', 'u', 'chat', 'plain-model', 100000, 0);
SELECT markup_pct FROM usage_meter.events WHERE tenant IN ('reseller', 'discounted') ORDER BY event_id;

-- Every priced event keeps the price row that priced it.
SELECT e.model, count(*) FILTER (WHERE p.price_id IS NOT NULL) AS with_price_row,
       count(*) FILTER (WHERE e.cost_source = 'price_table' AND e.input_tokens + e.output_tokens + e.cache_read_tokens + e.cache_write_tokens > 0) AS token_priced
FROM usage_meter.events AS e LEFT JOIN usage_meter.prices AS p USING (price_id)
GROUP BY e.model ORDER BY e.model NULLS FIRST;

SELECT * FROM usage_meter.verify();
