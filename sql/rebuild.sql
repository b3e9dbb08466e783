-- Repair: rebuild(tenant, since, until) makes the summaries and counters of its scope equal the ledger again,
-- in one transaction, and reports every field it changed. Outside the scope nothing changes.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_price('m', 1, 2) AS price_id;
SELECT count(*) AS recorded FROM (
    SELECT usage_meter.usage_record(t, u, 'chat', 'm', 100, 10, occurred_at => d)
      FROM unnest(ARRAY['acme', 'globex']) AS t, unnest(ARRAY['alice', 'bob']) AS u,
           unnest(ARRAY['2026-10-30 10:00Z', '2026-11-02 10:00Z', '2026-11-03 10:00Z']::timestamptz[]) AS d) AS r;
SELECT usage_meter.void_event('acme', 1, 'test') IS NOT NULL AS voided;
SELECT * FROM usage_meter.rebuild();

-- Damage the summaries the way a bug, a manual edit or a restore without the ledger could.
UPDATE usage_meter.daily_rollup SET cost = cost + 1, requests = requests + 2
 WHERE tenant = 'acme' AND user_id = 'alice' AND day = '2026-11-02';
DELETE FROM usage_meter.counters WHERE tenant = 'acme' AND user_id = 'bob' AND period = 'month';
INSERT INTO usage_meter.daily_rollup VALUES ('acme', 'ghost', '2026-11-03', 'chat', NULL, 'm', 3, 5, 0, 0, 50, 0, 0,
                                             0, 0, 0, 0.5, 0.5, 0);
UPDATE usage_meter.daily_rollup SET input_tokens = 0 WHERE tenant = 'globex' AND day = '2026-11-03';
UPDATE usage_meter.counters SET tokens = tokens - 7 WHERE tenant = 'globex' AND period = 'day' AND period_start = '2026-10-30';
SELECT summary, tenant, user_id, period, period_start, field, difference FROM usage_meter.verify();

-- Only acme on November 2nd (and the months that contain it).
SELECT * FROM usage_meter.rebuild('acme', '2026-11-02', '2026-11-02');
SELECT summary, tenant, user_id, period, period_start, field, difference FROM usage_meter.verify();
-- Only globex, from November on.
SELECT * FROM usage_meter.rebuild('globex', since => '2026-11-01');
SELECT summary, tenant, user_id, period, period_start, field, difference FROM usage_meter.verify();
-- Everything that is left.
SELECT summary, tenant, user_id, period, period_start, field, before, after FROM usage_meter.rebuild();
SELECT * FROM usage_meter.verify();
-- A second rebuild finds nothing to change.
SELECT * FROM usage_meter.rebuild();
-- The summaries say what the ledger says.
SELECT tenant, user_id, sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(cost) AS cost
  FROM usage_meter.daily_usage GROUP BY 1, 2 ORDER BY 1, 2;
SELECT tenant, user_id, count(*) FILTER (WHERE reverses_event_id IS NULL) - count(reverses_event_id) AS requests,
       sum(input_tokens) AS input_tokens, sum(cost) AS cost
  FROM usage_meter.events GROUP BY 1, 2 ORDER BY 1, 2;

-- Refused: an inverted range, and a snapshot that could predate another rebuild's commit.
SELECT * FROM usage_meter.rebuild(NULL, '2026-11-03', '2026-11-02');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM usage_meter.rebuild();
ROLLBACK;
