-- Time zones and backfill: an event's day and month are its occurred_at in the tenant's time zone, fixed
-- when it is recorded. Late and backfilled events go to their own day and never touch today's counter.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

SELECT usage_meter.set_tenant('la', 'america/los_angeles');  -- names are matched like the server does
SELECT usage_meter.set_tenant('kolkata', 'Asia/Kolkata');
SELECT usage_meter.set_tenant('apia', 'Pacific/Apia');
SELECT tenant, time_zone FROM usage_meter.tenants ORDER BY tenant;

-- 07:30 UTC on 2026-03-08 is still 23:30 on the 7th in Los Angeles; 08:30 UTC is 00:30 on the 8th.
-- 19:00 UTC on 2026-01-31 is 00:30 on 1 February in Kolkata: the next day and the next month.
SELECT r.event_id
FROM (VALUES ('la', '2026-03-08 07:30:00+00'::timestamptz), ('la', '2026-03-08 08:30:00+00'),
             ('kolkata', '2026-01-31 18:29:59+00'), ('kolkata', '2026-01-31 19:00:00+00')) AS t(tenant, at),
     LATERAL usage_meter.usage_record(t.tenant, 'u', 'chat', occurred_at => t.at) AS r;
SELECT event_id, tenant, occurred_at, day FROM usage_meter.events ORDER BY event_id;

SELECT tenant, user_id, period, period_start, requests FROM usage_meter.counters
WHERE user_id IS NULL ORDER BY tenant, period, period_start;

-- Period bounds follow the zone's rules: 2026-03-08 in Los Angeles has 23 hours, 2026-11-01 has 25.
SELECT period, period_start, starts_at, resets_at, resets_at - starts_at AS length
FROM usage_meter.period_bounds('la', '2026-03-08 12:00:00+00');
SELECT period, period_start, starts_at, resets_at, resets_at - starts_at AS length
FROM usage_meter.period_bounds('la', '2026-11-01 20:00:00+00');
-- Samoa skipped 30 December 2011: the 29th ended at the start of the 31st.
SELECT period, period_start, starts_at, resets_at, resets_at - starts_at AS length
FROM usage_meter.period_bounds('apia', '2011-12-29 12:00:00+00');
-- A tenant not seen yet counts in UTC.
SELECT period, period_start, starts_at, resets_at FROM usage_meter.period_bounds('nobody', '2026-02-28 23:00:00+00');

-- Backfill: yesterday's and last month's events land in their own day, never in today's counter.
SELECT requests AS today_before FROM usage_meter.live_usage('kolkata') WHERE period = 'day';
SELECT count(*) AS backfilled FROM
    (SELECT usage_meter.usage_record('kolkata', 'u', 'chat', occurred_at => now() - make_interval(days => d))
     FROM generate_series(1, 40) AS d) AS b;
SELECT requests AS today_after FROM usage_meter.live_usage('kolkata') WHERE period = 'day';
SELECT count(DISTINCT day) AS distinct_days FROM usage_meter.events WHERE tenant = 'kolkata' AND occurred_at > now() - interval '41 days';
SELECT usage_meter.usage_record('kolkata', 'u', 'chat') IS NOT NULL AS recorded_now;
SELECT requests AS today_now FROM usage_meter.live_usage('kolkata') WHERE period = 'day';

-- check_limit's resets_at is the start of the tenant's next local day or month.
SELECT usage_meter.set_limit('la', NULL, 'requests', 'day', 100);
SELECT c.resets_at = b.resets_at AS resets_at_local_midnight
FROM usage_meter.check_limit('la') AS c, usage_meter.period_bounds('la') AS b WHERE b.period = 'day';
SELECT (c.resets_at AT TIME ZONE 'America/Los_Angeles')::time AS local_reset_time
FROM usage_meter.check_limit('la') AS c;

-- Changing a tenant's time zone later never moves recorded events.
SELECT usage_meter.set_tenant('la', 'UTC');
SELECT event_id, day FROM usage_meter.events WHERE tenant = 'la' ORDER BY event_id;
SELECT * FROM usage_meter.verify();
