-- Alerts: the recording transaction that finds a threshold reached (a soft limit's max, 80 % or 100 % of a
-- hard limit) in the current period, with no alert for it yet, records it in usage_meter.alerts and sends
-- NOTIFY usage_meter_alerts with a JSON payload. Once per limit, user, period and level.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never

-- The alerts so far; this_period: whether period_start is the current day / month in the tenant's zone.
CREATE VIEW pg_temp.alert_rows AS
    SELECT a.alert_id, a.tenant, a.user_id, a.limit_user_id, a.metric, a.period, a.level, a.used, a.max_value,
           a.hard, a.period_start,
           a.period_start = CASE a.period WHEN 'day' THEN (now() AT TIME ZONE t.time_zone)::date
                                          ELSE date_trunc('month', now() AT TIME ZONE t.time_zone)::date END
               AS this_period
      FROM usage_meter.alerts AS a JOIN usage_meter.tenants AS t USING (tenant)
     ORDER BY a.alert_id;

-- The table: tenant first in every key, dumped with the extension's data, row-level security like the others.
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'usage_meter.alerts'::regclass ORDER BY conname;
SELECT 'usage_meter.alerts'::regclass = ANY (extconfig) AS dumped FROM pg_extension WHERE extname = 'usage_meter';
SELECT relrowsecurity FROM pg_class WHERE oid = 'usage_meter.alerts'::regclass;
SELECT has_table_privilege('usage_meter_reader', 'usage_meter.alerts', 'SELECT') AS reader_reads,
       has_table_privilege('usage_meter_writer', 'usage_meter.alerts', 'INSERT') AS writer_inserts;

-- Alerts are set per limit (limits.alert; a hard limit has none unless set with alert => true).
-- tenants.alert_limits says whether a tenant has such a limit,
-- follows set_limit / remove_limit, and a tenant without one pays nothing and gets no alert.
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'day', 10, alert => true);                -- hard, tenant-wide
SELECT usage_meter.set_limit('acme', '*', 'requests', 'day', 3, false, alert => true);       -- soft, each user
SELECT usage_meter.set_limit('acme', 'alice', 'tokens', 'month', 100, alert => true);        -- hard, alice only
SELECT usage_meter.set_limit('acme', 'dave', 'requests', 'day', 1, alert => true);           -- hard, dave only
SELECT usage_meter.set_limit('acme', 'erin', 'requests', 'day', 1);                          -- no alerts
SELECT usage_meter.set_limit('gone', NULL, 'requests', 'day', 1, alert => true);
SELECT usage_meter.remove_limit('gone', NULL, 'requests', 'day');
SELECT usage_meter.set_limit('quiet', NULL, 'requests', 'day', 1);                           -- no alerts
SELECT usage_meter.set_limit('off', NULL, 'requests', 'day', 1, alert => true);
SELECT usage_meter.set_limit('off', NULL, 'requests', 'day', 1);                             -- turned off again
SELECT (usage_meter.usage_record('free', 'u', 'chat', cost => 1)).event_id > 0 AS recorded;
SELECT (usage_meter.usage_record('gone', 'u', 'chat', cost => 1)).event_id > 0 AS recorded;
SELECT (usage_meter.usage_record('quiet', 'u', 'chat', cost => 1)).event_id > 0 AS recorded;
SELECT (usage_meter.usage_record('off', 'u', 'chat', cost => 1)).event_id > 0 AS recorded;
SELECT tenant, alert_limits FROM usage_meter.tenants ORDER BY tenant;
SELECT tenant, user_id, metric, hard, alert FROM usage_meter.limits ORDER BY tenant, user_id NULLS FIRST;

-- psql prints each notification with the sending backend's PID: the section below sends its output through
-- sed to drop the PID and the (date-dependent) period_start, and labels each step with \qecho (the echo of
-- the statements would not go through the pipe, so it is off here).
LISTEN usage_meter_alerts;
\set ECHO none
\o | sed -e 's/ received from server process with PID [0-9]*\./ received./' -e 's/"period_start" : "[0-9-]*"/"period_start" : "(today)"/'
\qecho -- alice: cost 7 of the 10 of the tenant (70 %): nothing
SELECT (usage_meter.usage_record('acme', 'alice', 'chat', cost => 7)).cost;
\qecho -- alice: 8 of 10 is exactly 80 %: warning
SELECT (usage_meter.usage_record('acme', 'alice', 'chat', cost => 1)).cost;
\qecho -- alice: 9 of 10, and her 3rd request of the day reaches the soft per-user limit of 3: soft (the warning was sent)
SELECT (usage_meter.usage_record('acme', 'alice', 'chat', cost => 1)).cost;
\qecho -- bob: 10 of 10: reached; his 1st request is far from the soft limit
SELECT (usage_meter.usage_record('acme', 'bob', 'chat', cost => 1)).cost;
\qecho -- bob: 15 of 10 (soft limits never refuse, recording never refuses): nothing new
SELECT (usage_meter.usage_record('acme', 'bob', 'chat', cost => 5)).cost;
\qecho -- alice: 4th request (soft already sent) and 85 of her 100 tokens this month: warning on her own limit
SELECT (usage_meter.usage_record('acme', 'alice', 'chat', input_tokens => 85, cost => 0)).cost;
\qecho -- dave: one event takes his limit of 1 request from 0 to 100 %: warning and reached at once
SELECT (usage_meter.usage_record('acme', 'dave', 'chat', cost => 0)).cost;
\qecho -- erin reaches her own limit of 1 request, which has no alerts: nothing (the tenant total, 15 of 10, was sent)
SELECT (usage_meter.usage_record('acme', 'erin', 'chat', cost => 0)).cost;
\qecho -- a crossing that rolls back sends nothing and leaves no row
BEGIN;
SELECT (usage_meter.usage_record('acme', 'alice', 'chat', input_tokens => 15, cost => 0)).cost;
\qecho -- (inside the transaction the alert row is there: reading alerts writes the pending roll-up and checks alerts)
SELECT user_id, metric, period, level FROM usage_meter.alerts WHERE tenant = 'acme' AND level = 'reached' ORDER BY alert_id;
ROLLBACK;
\qecho -- so the next recording that finds 100 % reached sends it
SELECT (usage_meter.usage_record('acme', 'alice', 'chat', input_tokens => 15, cost => 0)).cost;
\qecho -- alerts fire on "reached and not sent yet", not on "this event crossed": with the row gone, the next
\qecho -- recording of that tenant sends it again, with the usage it sees now (16 of 10)
DELETE FROM usage_meter.alerts WHERE tenant = 'acme' AND user_id IS NULL AND level = 'reached';
SELECT (usage_meter.usage_record('acme', 'erin', 'chat', cost => 1)).cost;
\qecho -- reversals bring usage back under 80 % (16 - 12 = 4 of 10); the alerts of the period stay sent:
\qecho -- crossing 80 % again (9 of 10) sends nothing
SELECT usage_meter.void_event('acme', e.event_id, 'test') > 0 AS voided
  FROM usage_meter.events AS e WHERE e.tenant = 'acme' AND e.cost >= 5 ORDER BY e.event_id;
SELECT cost AS tenant_cost_today FROM usage_meter.live_usage('acme') WHERE period = 'day';
SELECT (usage_meter.usage_record('acme', 'bob', 'chat', cost => 5)).cost;
\qecho -- a statement of several rows (set-based roll-up) fires for each of its users
SELECT usage_meter.set_limit('bulk', '*', 'requests', 'day', 2, false, true);
SELECT usage_meter.set_limit('bulk', NULL, 'requests', 'day', 6, true, true);
INSERT INTO usage_meter.events (tenant, user_id, operation, cost)
SELECT 'bulk', u, 'chat', 0 FROM unnest(ARRAY['x', 'x', 'y', 'y', 'z']) AS u;
\qecho -- an event that occurred on another day changes nothing the limits of today measure: no alert
SELECT usage_meter.set_limit('late', NULL, 'requests', 'day', 1, alert => true);
SELECT (usage_meter.usage_record('late', 'u', 'chat', cost => 0, occurred_at => now() - interval '2 days')).cost;
\qecho -- once per period: a new day in the zone of the tenant fires again (the zone moves from UTC+14 to UTC-12,
\qecho -- whose local date is always one or two days earlier, so the current day is a new period)
SELECT usage_meter.set_tenant('tz', 'Etc/GMT-14', 0);
SELECT usage_meter.set_limit('tz', NULL, 'requests', 'day', 2, alert => true);
SELECT (usage_meter.usage_record('tz', 'u', 'chat', cost => 0)).cost;
SELECT (usage_meter.usage_record('tz', 'u', 'chat', cost => 0)).cost;
SELECT usage_meter.set_tenant('tz', 'Etc/GMT+12', 0);
SELECT (usage_meter.usage_record('tz', 'u', 'chat', cost => 0)).cost;
SELECT (usage_meter.usage_record('tz', 'u', 'chat', cost => 0)).cost;
SELECT (usage_meter.usage_record('tz', 'u', 'chat', cost => 0)).cost;
\o
\set ECHO all
UNLISTEN usage_meter_alerts;

SELECT alert_id, tenant, user_id, limit_user_id, metric, period, level, used, max_value, hard, this_period
  FROM pg_temp.alert_rows;
-- tz: the same limit and levels, twice, in two different days.
SELECT level, count(*) AS alerts, count(DISTINCT period_start) AS periods, bool_or(this_period) AS one_is_today
  FROM pg_temp.alert_rows WHERE tenant = 'tz' GROUP BY level ORDER BY level;
SELECT count(*) FROM usage_meter.verify();

-- 1.3: alert defaults to NULL, which means a soft limit alerts (it exists for that) and a hard one does not;
-- an explicit alert => false / true still decides. Only the soft limit set without alert sends its alert.
SELECT usage_meter.set_limit('defaults', 'soft', 'requests', 'day', 1, false);
SELECT usage_meter.set_limit('defaults', 'soft_off', 'requests', 'day', 1, false, alert => false);
SELECT usage_meter.set_limit('defaults', 'hard', 'requests', 'day', 1);
SELECT usage_meter.set_limit('defaults', 'hard_null', 'requests', 'day', 1, true, alert => NULL);
SELECT user_id, hard, alert FROM usage_meter.limits WHERE tenant = 'defaults' ORDER BY user_id;
SELECT count(*) AS recorded
  FROM unnest(ARRAY['soft', 'soft_off', 'hard', 'hard_null']) AS u, usage_meter.usage_record('defaults', u, 'chat', cost => 1);
SELECT user_id, level, used, max_value, hard FROM usage_meter.alerts WHERE tenant = 'defaults' ORDER BY alert_id;
