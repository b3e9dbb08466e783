-- Old versions: the same library (usage_meter.so) serves databases still at an older SQL version of the
-- extension (1.0 ... 1.4; CREATE EXTENSION installs the default version). Each section creates the extension
-- at 1.0, calls the current library through that version's functions, then updates it step by step and checks
-- what each update adds.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never

-- A database still at 1.0 keeps working with the same library: usage_record with its 18 arguments and
-- check_limit with its 7 columns; the update to 1.1 adds the reservations.
SET client_min_messages = warning;
DROP EXTENSION usage_meter CASCADE;
CREATE EXTENSION usage_meter VERSION '1.0';
RESET client_min_messages;
SELECT usage_meter.set_limit('old', NULL, 'requests', 'day', 5);
SELECT event_id, duplicate FROM usage_meter.usage_record('old', 'u', 'chat');
-- (its seven columns by name; resets_at compared, so the output does not depend on today's date)
SELECT (SELECT string_agg(k, ', ') FROM jsonb_object_keys(to_jsonb(c)) AS k) AS columns,
       c.allowed, c.metric, c.period, c.used, c.max_value, c.remaining,
       c.resets_at = date_trunc('day', now()) + interval '1 day' AS resets_at_next_midnight
FROM usage_meter.check_limit('old', 'u') AS c;
ALTER EXTENSION usage_meter UPDATE TO '1.1';
SELECT usage_meter.reserve('old', 'u') AS r9 \gset
SELECT event_id, duplicate FROM usage_meter.usage_record('old', 'u', 'chat', reservation_id => :r9);
SELECT allowed, used, held, max_value, remaining FROM usage_meter.check_limit('old', 'u');
SELECT * FROM usage_meter.verify();

-- At 1.1 the open holds are found through btrees, from 1.2 through hash indexes: a hold made at 1.1 still
-- counts after the update, for the tenant and for its user, and settles once.
SELECT usage_meter.set_limit('old', NULL, 'requests', 'day', 10);
SELECT usage_meter.set_limit('old', '*', 'tokens', 'day', 1000);
SELECT usage_meter.reserve('old', 'u', estimated_tokens => 600) AS r10 \gset
SELECT 'u' AS for_user, metric, used, held, max_value FROM usage_meter.check_limit('old', 'u')
UNION ALL SELECT NULL, metric, used, held, max_value FROM usage_meter.check_limit('old');
ALTER EXTENSION usage_meter UPDATE TO '1.2';
SELECT indexrelid::regclass AS index, am.amname
  FROM pg_index JOIN pg_class AS c ON c.oid = indexrelid JOIN pg_am AS am ON am.oid = c.relam
 WHERE indrelid = 'usage_meter.reservations'::regclass ORDER BY 1::text;
SELECT 'u' AS for_user, metric, used, held, max_value FROM usage_meter.check_limit('old', 'u')
UNION ALL SELECT NULL, metric, used, held, max_value FROM usage_meter.check_limit('old');
-- the user's '*' token limit has 400 left: 600 more are refused, 400 admitted
\set VERBOSITY terse
SELECT usage_meter.reserve('old', 'u', estimated_tokens => 600);
\set VERBOSITY default
SELECT usage_meter.reserve('old', 'u', estimated_tokens => 400) IS NOT NULL AS admitted;
SELECT event_id, duplicate FROM usage_meter.usage_record('old', 'u', 'chat', 'm', 100, reservation_id => :r10);
SELECT 'u' AS for_user, metric, used, held, max_value FROM usage_meter.check_limit('old', 'u')
UNION ALL SELECT NULL, metric, used, held, max_value FROM usage_meter.check_limit('old');
SELECT * FROM usage_meter.verify();

-- A database still at 1.0 records and sets limits with this library (no alerts there); after updating to 1.1
-- its limits have no alerts until set with alert => true.
SET client_min_messages = warning;
DROP EXTENSION usage_meter CASCADE;
CREATE EXTENSION usage_meter VERSION '1.0';
RESET client_min_messages;
SELECT usage_meter.set_limit('old', NULL, 'requests', 'day', 1);
SELECT (usage_meter.usage_record('old', 'u', 'chat', cost => 1)).cost;
INSERT INTO usage_meter.events (tenant, user_id, operation, cost) VALUES ('old', 'u', 'chat', 1), ('new', 'u', 'chat', 1);
ALTER EXTENSION usage_meter UPDATE TO '1.1';
SELECT tenant, alert_limits FROM usage_meter.tenants ORDER BY tenant;
SELECT usage_meter.set_limit('old', NULL, 'requests', 'day', 1, alert => true);
SELECT tenant, alert_limits FROM usage_meter.tenants ORDER BY tenant;
LISTEN usage_meter_alerts;
\set ECHO none
\o | sed -e 's/ received from server process with PID [0-9]*\./ received./' -e 's/"period_start" : "[0-9-]*"/"period_start" : "(today)"/'
\qecho -- after the update, the next recording of old finds 3 of 1 requests: warning and reached
SELECT (usage_meter.usage_record('old', 'u', 'chat', cost => 1)).cost;
\o
\set ECHO all
UNLISTEN usage_meter_alerts;
SELECT a.tenant, a.level, a.used, a.max_value, a.period_start = (now() AT TIME ZONE 'UTC')::date AS today
  FROM usage_meter.alerts AS a ORDER BY a.alert_id;
