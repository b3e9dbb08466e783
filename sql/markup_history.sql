-- Markup history: a tenant's markup change applies from the time it is made. Events already recorded keep
-- their billed cost; an event recorded later but that occurred before the change (a backfill) gets the markup
-- that was in force when it occurred.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';

SELECT usage_meter.set_price('m', 1, 1) IS NOT NULL AS set;
SELECT usage_meter.set_tenant('reseller', 'UTC', 10);
SELECT billed_cost FROM usage_meter.usage_record('reseller', 'u', 'chat', 'm', 1000000, 0,
                                                 occurred_at => now() - interval '2 hours');
-- The markup goes up to 25 % now.
SELECT usage_meter.set_tenant('reseller', 'UTC', 25);
-- A live event: 25 %. A backfill from before the change: still 10 %. The first event keeps its 10 %.
SELECT billed_cost FROM usage_meter.usage_record('reseller', 'u', 'chat', 'm', 1000000, 0);
SELECT billed_cost FROM usage_meter.usage_record('reseller', 'u', 'chat', 'm', 1000000, 0,
                                                 occurred_at => now() - interval '1 hour');
SELECT event_id, markup_pct, billed_cost FROM usage_meter.events ORDER BY event_id;
-- Changing only the time zone keeps the markup history as it is; setting the same markup again too.
SELECT usage_meter.set_tenant('reseller', 'Europe/Berlin', 25);
SELECT markup_pct, effective_from = '-infinity' AS from_the_start, effective_until <= now() AS ended
FROM usage_meter.tenant_markups ORDER BY effective_from;
SELECT markup_pct, markup_from <= now() AS set_recently FROM usage_meter.tenants;
-- Another change: three periods, each event billed by the one it occurred in. (In one transaction, so now()
-- is the instant of the change: a microsecond before it the 25 % was in force.)
BEGIN;
SELECT usage_meter.set_tenant('reseller', 'Europe/Berlin', -50);
SELECT t.ago, r.billed_cost
FROM (VALUES (interval '1 day'), (interval '1 microsecond'), (interval '0')) AS t(ago),
     LATERAL usage_meter.usage_record('reseller', 'v', 'chat', 'm', 1000000, 0,
                                      occurred_at => now() - t.ago) AS r;
COMMIT;
SELECT markup_pct FROM usage_meter.tenant_markups ORDER BY effective_from;
-- The history is kept by the trigger: markup_from cannot be moved by hand.
UPDATE usage_meter.tenants SET markup_from = '2000-01-01' WHERE tenant = 'reseller';
SELECT markup_from > '2000-01-01' AS unchanged FROM usage_meter.tenants;

SELECT * FROM usage_meter.verify();
