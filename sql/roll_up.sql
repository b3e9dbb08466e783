-- roll_up: the trigger's roll-up as a function, for deployments where the ledger cannot have triggers
-- (Citus refuses them on distributed tables). It must give exactly what the trigger gives.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_price('m', 1, 2);
SELECT usage_meter.set_tenant('berlin', 'Europe/Berlin', 10);

-- With the trigger on, as usual.
SELECT count(*) FROM (SELECT usage_meter.usage_record('berlin', 'u' || (i % 3), 'chat', 'm', i, i,
                                                      occurred_at => '2026-05-01 00:00:00+00'::timestamptz + make_interval(hours => i))
                      FROM generate_series(1, 60) AS i) AS r;
CREATE TEMP TABLE with_trigger AS SELECT * FROM usage_meter.daily_usage;

-- The same events again in another tenant, with the trigger off: summaries fall behind the ledger ...
ALTER TABLE usage_meter.events DISABLE TRIGGER events_rollup;
SELECT usage_meter.set_tenant('berlin2', 'Europe/Berlin', 10);
SELECT count(*) FROM (SELECT usage_meter.usage_record('berlin2', 'u' || (i % 3), 'chat', 'm', i, i,
                                                      occurred_at => '2026-05-01 00:00:00+00'::timestamptz + make_interval(hours => i))
                      FROM generate_series(1, 60) AS i) AS r;
SELECT count(*) > 0 AS summaries_behind FROM usage_meter.verify();
SELECT status FROM usage_meter.health() WHERE tenant IS NULL;
-- ... until the new rows are rolled up directly.
SELECT usage_meter.roll_up(array_agg(e ORDER BY e.event_id)) FROM usage_meter.events AS e WHERE e.tenant = 'berlin2';
ALTER TABLE usage_meter.events ENABLE TRIGGER events_rollup;
SELECT * FROM usage_meter.verify();
SELECT count(*) AS differences FROM (
    (SELECT user_id, day, operation, requests, input_tokens, cost, billed_cost FROM with_trigger
     EXCEPT SELECT user_id, day, operation, requests, input_tokens, cost, billed_cost FROM usage_meter.daily_usage WHERE tenant = 'berlin2')
    UNION ALL
    (SELECT user_id, day, operation, requests, input_tokens, cost, billed_cost FROM usage_meter.daily_usage WHERE tenant = 'berlin2'
     EXCEPT SELECT user_id, day, operation, requests, input_tokens, cost, billed_cost FROM with_trigger)) AS d;
SELECT day, requests, cost, billed_cost FROM usage_meter.daily_usage WHERE tenant = 'berlin2' AND user_id = 'u0' ORDER BY day;
SELECT usage_meter.roll_up(ARRAY[]::usage_meter.events[]) AS nothing;
SELECT usage_meter.roll_up(NULL);
