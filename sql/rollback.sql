-- Rollback: summaries and counters are rows written in the recording transaction, so a rolled-back call
-- leaves no trace anywhere.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_price('m', 1, 2);

BEGIN;
SELECT event_id, cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1000, 1000);
SELECT period, requests, cost FROM usage_meter.live_usage('acme');
ROLLBACK;
SELECT (SELECT count(*) FROM usage_meter.events) AS events, (SELECT count(*) FROM usage_meter.daily_rollup) AS daily,
       (SELECT count(*) FROM usage_meter.counters) AS counters, (SELECT count(*) FROM usage_meter.tenants) AS tenants;
SELECT period, requests, cost FROM usage_meter.live_usage('acme');

-- A savepoint rolled back removes exactly its own events.
BEGIN;
SELECT event_id FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 10, 10);
SAVEPOINT s;
SELECT event_id FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 20, 20);
SELECT event_id FROM usage_meter.usage_record('acme', 'v', 'chat', 'm', 30, 30);
ROLLBACK TO SAVEPOINT s;
SELECT event_id FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 40, 40);
COMMIT;
SELECT event_id, user_id, input_tokens FROM usage_meter.events ORDER BY event_id;
SELECT user_id, requests, input_tokens FROM usage_meter.daily_usage ORDER BY user_id;
SELECT period, requests, tokens FROM usage_meter.live_usage('acme');
SELECT period, requests, tokens FROM usage_meter.live_usage('acme', 'v');

-- A failing call in the middle aborts the whole transaction, including what it recorded before.
BEGIN;
SELECT event_id FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 50, 50);
SELECT event_id FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', -1, 50);
COMMIT;
SELECT count(*) AS events FROM usage_meter.events;
SELECT * FROM usage_meter.verify();
