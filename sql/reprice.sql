-- reprice: events priced again with the prices now in the table; summaries and counters corrected by the
-- difference in the same transaction, so verify() stays empty. Reported costs are never repriced.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

SELECT usage_meter.set_tenant('acme', 'UTC', 10);
SELECT usage_meter.set_price('known', 1, 2) IS NOT NULL AS set;
-- A new model nobody priced yet, a known one, one with a reported cost, and another tenant's event.
SELECT priced FROM usage_meter.usage_record('acme', 'alice', 'chat', 'new-model-20260101', 1000000, 500000,
                                            occurred_at => '2026-03-01 10:00');
SELECT priced FROM usage_meter.usage_record('acme', 'bob', 'chat', 'new-model-20260101', 2000000, 0,
                                            occurred_at => '2026-03-20 10:00');
SELECT priced FROM usage_meter.usage_record('acme', 'bob', 'chat', 'new-model-20260101', 1000, 0, cost => 0.5,
                                            occurred_at => '2026-03-20 11:00');
SELECT cost FROM usage_meter.usage_record('acme', 'alice', 'chat', 'known', 1000000, 0, occurred_at => '2026-03-02');
SELECT priced FROM usage_meter.usage_record('other', NULL, 'chat', 'new-model-20260101', 1000000, 0,
                                            occurred_at => '2026-03-01 12:00');
-- An operation with a quantity and no unit price is unpriced too.
SELECT priced FROM usage_meter.usage_record('other', NULL, 'transcribe', quantity => 90, occurred_at => '2026-03-05');
SELECT model, unpriced_events FROM (SELECT model, count(*) FILTER (WHERE NOT priced) AS unpriced_events
    FROM usage_meter.events GROUP BY model) AS u ORDER BY model;

-- unpriced_models() shows what is missing: events, tenants, tokens, since when.
SELECT * FROM usage_meter.unpriced_models();

-- Nothing to do yet: no price for the model.
SELECT * FROM usage_meter.reprice('acme');

-- The operator adds the missing price (its undated name), then reprices one tenant.
SELECT usage_meter.set_price('new-model', 3, 15, effective_from => '2026-01-01') IS NOT NULL AS set;
BEGIN;
-- 1000000 x 3 + 500000 x 15 = 10.5; 2000000 x 3 = 6; billed with the 10 % markup recorded on each event.
SELECT * FROM usage_meter.reprice('acme');
SELECT * FROM usage_meter.verify();
COMMIT;
SELECT tenant, user_id, model, cost, billed_cost, priced, cost_source, price_id IS NOT NULL AS has_price_row
FROM usage_meter.events ORDER BY event_id;
SELECT user_id, day, model, cost, billed_cost, unpriced FROM usage_meter.daily_usage
WHERE tenant = 'acme' ORDER BY user_id, day, model;
-- Repricing again changes nothing; the other tenant is still unpriced until repriced within its time range.
SELECT * FROM usage_meter.reprice('acme');
SELECT * FROM usage_meter.reprice(NULL, '2026-03-02', '2026-04-01');
SELECT * FROM usage_meter.reprice(NULL, '2026-03-01', '2026-03-02');
-- Only the transcription is left: it needs a unit price. 90 x 0.006 = 0.54.
SELECT model, operation, events FROM usage_meter.unpriced_models();
SELECT usage_meter.set_unit_price('transcribe', 0.006) IS NOT NULL AS set;
SELECT * FROM usage_meter.reprice('other');
SELECT count(*) AS still_unpriced FROM usage_meter.unpriced_models();

-- only_unpriced => false also re-prices priced events with the current prices, e.g. after a price
-- correction from an earlier time for a model with no later price; reported costs stay.
SELECT usage_meter.set_price('known', 1.5, 2, effective_from => '2026-03-01') IS NOT NULL AS set;
SELECT * FROM usage_meter.reprice('acme', only_unpriced => false);
SELECT model, cost, billed_cost, cost_source FROM usage_meter.events WHERE tenant = 'acme' ORDER BY event_id;

-- A rollback undoes the reprice and its corrections together.
SELECT usage_meter.set_price('new-model', 4, 16, effective_from => '2026-03-15') IS NOT NULL AS set;
BEGIN;
SELECT * FROM usage_meter.reprice('acme', only_unpriced => false);
ROLLBACK;
SELECT sum(cost) AS acme_cost FROM usage_meter.events WHERE tenant = 'acme';

-- The ledger is still append-only outside reprice.
UPDATE usage_meter.events SET cost = 0;
-- Bad input.
SELECT * FROM usage_meter.reprice('');
SELECT * FROM usage_meter.reprice('acme', only_unpriced => NULL);

SELECT * FROM usage_meter.verify();
