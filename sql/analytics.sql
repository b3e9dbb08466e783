-- Analytics: usage_series, top_usage, session_usage, latency_percentiles and spend_forecast over a seeded
-- month whose totals are worked out by hand below: two tenants in two time zones (New York, UTC-5 in
-- February; Auckland, UTC+13), events either side of a month boundary and of an ISO week boundary, a void and
-- a correction. Then a reader's view (row-level security), bad arguments, the retention boundary, and the
-- session index on every partition, also after an update from 1.4.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
DROP ROLE IF EXISTS um_analytics_reader;
DROP ROLE IF EXISTS um_analytics_unbound;
DROP ROLE IF EXISTS um_analytics_writer;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- m: 1 + 2 USD per million tokens; big: 10 + 20. So 1000 input + 500 output tokens cost 0.002 with m and 0.02
-- with big; acme bills 10 % on top.
SELECT usage_meter.set_price('m', 1, 2) AS m, usage_meter.set_price('big', 10, 20) AS big;
SELECT usage_meter.set_tenant('acme', 'America/New_York', 10), usage_meter.set_tenant('kiwi', 'Pacific/Auckland');

--  event  user   operation model tokens     occurred_at (UTC)  acme's day (New York)     latency session
--  e1     alice  chat      m     1000+500   2026-02-01 03:00   Jan 31 (UTC February)         100  s1
--  e2     alice  chat      m     1000+500   2026-02-01 06:00   Feb 1, a Sunday (ISO week of Jan 26)  200  s1
--  e3     bob    chat      big   1000+500   2026-02-02 15:00   Feb 2, a Monday (new week)    300  s2
--  e4     bob    embed     m     2000+0     2026-02-10 12:00   Feb 10, failed                400  s2
--  e5     alice  chat      big   1000+500   2026-02-15 12:00   Feb 15 (voided below)         500  s1
--  e6     carol  chat      m     1000+500   2026-02-20 12:00   Feb 20 (corrected to 3000 input) 600 s3
--  e7     alice  chat      m     1000+500   2026-03-01 04:00   Feb 28 (UTC March)            700  -
--  e8     alice  chat      m     1000+500   2026-03-01 06:00   Mar 1                           -  -
SELECT r.event_id, r.cost, r.billed_cost
  FROM (VALUES ('alice', 'chat', 'm', 1000, 500, '2026-02-01 03:00Z'::timestamptz, 100, 's1', true),
               ('alice', 'chat', 'm', 1000, 500, '2026-02-01 06:00Z', 200, 's1', true),
               ('bob', 'chat', 'big', 1000, 500, '2026-02-02 15:00Z', 300, 's2', true),
               ('bob', 'embed', 'm', 2000, 0, '2026-02-10 12:00Z', 400, 's2', false),
               ('alice', 'chat', 'big', 1000, 500, '2026-02-15 12:00Z', 500, 's1', true),
               ('carol', 'chat', 'm', 1000, 500, '2026-02-20 12:00Z', 600, 's3', true),
               ('alice', 'chat', 'm', 1000, 500, '2026-03-01 04:00Z', 700, NULL, true),
               ('alice', 'chat', 'm', 1000, 500, '2026-03-01 06:00Z', NULL, NULL, true))
       AS e(u, op, model, input, output, at, latency, session, success)
 CROSS JOIN LATERAL usage_meter.usage_record('acme', e.u, e.op, e.model, e.input, e.output, occurred_at => e.at,
                                             latency_ms => e.latency, session_id => e.session,
                                             success => e.success) AS r
 ORDER BY r.event_id;
SELECT usage_meter.void_event('acme', 5, 'duplicate charge') AS reversal;
SELECT reversal_id, replacement_id, new_cost, new_billed_cost
  FROM usage_meter.correct_event('acme', 6, 'the prompt was 3000 tokens', input_tokens => 3000);
-- kiwi (Auckland, UTC+13): k1 is 1 February there, k2 28 February, k3 1 March.
SELECT r.event_id, r.cost
  FROM (VALUES ('2026-01-31 12:00Z'::timestamptz, 50), ('2026-02-28 10:00Z', 60), ('2026-02-28 12:00Z', 70)) AS e(at, latency)
 CROSS JOIN LATERAL usage_meter.usage_record('kiwi', 'dave', 'chat', 'm', 1000, 500, occurred_at => e.at,
                                             latency_ms => e.latency, session_id => 'k') AS r
 ORDER BY r.event_id;
SELECT tenant, event_id, occurred_at, day FROM usage_meter.events ORDER BY event_id;

-- acme's February (local days 1 to 28): e2, e3, e4, e6's replacement and e7 count (e5 and its reversal cancel
-- out): 5 requests, 1 error (e4), 8000 input and 2000 output tokens, cost 0.002 + 0.02 + 0.002 + 0.004 +
-- 0.002 = 0.030, billed 0.033. January holds e1 only, March e8 only.
SELECT * FROM usage_meter.usage_series('acme', '2026-01-31', '2026-03-01', 'month');
-- ISO weeks: 1 February is a Sunday, so it closes the week of 26 January (the first bucket starts before
-- since); 2 February opens the next. The week of 9 February holds e4 and the voided e5 (0.002 + 0.02 - 0.02).
SELECT bucket_start, requests, errors, input_tokens, output_tokens, cost, billed_cost, avg_latency_ms
  FROM usage_meter.usage_series('acme', '2026-02-01', '2026-02-28', 'week');
-- Days: every day of the range appears, with zeros when nothing was recorded (a chart needs the gaps).
SELECT bucket_start, requests, cost, avg_latency_ms FROM usage_meter.usage_series('acme', '2026-02-01', '2026-02-07');
-- Grouped by model: m has e2, e4, e6's replacement and e7 (latency 200 + 400 + 600 + 700 over 4 requests:
-- 475); big has e3 (300 ms), e5 and e5's reversal. Columns not grouped are NULL; only rows with data.
SELECT * FROM usage_meter.usage_series('acme', '2026-02-01', '2026-02-28', 'month', '{model}');
SELECT bucket_start, user_id, operation, requests, errors, cost, billed_cost
  FROM usage_meter.usage_series('acme', '2026-02-01', '2026-02-28', 'month', '{operation,user_id}');
-- One user: alice's e1 (January), e2 + e7 (February, e5 voided), e8 (March).
SELECT bucket_start, user_id, requests, cost FROM usage_meter.usage_series('acme', '2026-01-31', '2026-03-01', 'month',
                                                                           only_user => 'alice');
-- The same instants fall on other days in Auckland: k1 is in February there, k3 in March.
SELECT bucket_start, requests, cost FROM usage_meter.usage_series('kiwi', '2026-01-31', '2026-03-01', 'month');

-- Top lists over acme's February. Cost by user: bob 0.022 of 0.030; alice and carol tie at 0.004 (by key).
SELECT * FROM usage_meter.top_usage('acme', '2026-02-01', '2026-02-28', 'user_id');
SELECT * FROM usage_meter.top_usage('acme', '2026-02-01', '2026-02-28', 'user_id', 'requests', n => 2);
-- Tokens by model: m 1500 + 2000 + 3500 + 1500 = 8500, big 1500 (e5 cancelled): 0.85 and 0.15.
SELECT * FROM usage_meter.top_usage('acme', '2026-02-01', '2026-02-28', 'model', 'tokens');
SELECT * FROM usage_meter.top_usage('acme', '2026-02-01', '2026-02-28', 'model', 'billed_cost');
SELECT * FROM usage_meter.top_usage('acme', '2026-02-01', '2026-02-28', 'operation', 'errors');
-- No error in the range: every share is 0. Nothing recorded: no rows.
SELECT * FROM usage_meter.top_usage('acme', '2026-02-01', '2026-02-02', 'user_id', 'errors');
SELECT * FROM usage_meter.top_usage('acme', '2026-02-03', '2026-02-05', 'provider');

-- Sessions. s1: e1 and e2 (e5 is voided: not counted, its model not listed, its time not the last); s2: e3 and
-- the failed e4; s3: e6's replacement only (3500 tokens, 0.004). An unknown session is one row of zeros.
SELECT s.session, u.* FROM unnest(ARRAY['s1', 's2', 's3', 'nope']) AS s(session)
 CROSS JOIN LATERAL usage_meter.session_usage('acme', s.session) AS u;
-- The session index answers it: one index scan per partition (here February's only).
SELECT p FROM usage_meter.create_partitions(0) AS p WHERE p < 'events_2026_04';
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT e.event_id FROM usage_meter.events AS e
 WHERE e.tenant = 'acme' AND e.session_id = 's1' AND e.occurred_at >= '2026-02-01Z' AND e.occurred_at < '2026-03-01Z';
RESET enable_seqscan;
SELECT requests, cost, models FROM usage_meter.session_usage('acme', 's1');

-- Latency percentiles (exact, percentile_disc): m over February has 200, 400, 600, 700 (e6's replacement keeps
-- its latency; e8 has none); big has e3's 300 (e5 voided).
SELECT * FROM usage_meter.latency_percentiles('acme', '2026-02-01', '2026-02-28');
-- Everything of Jan 31 .. Mar 1 in one row: 100, 200, 300, 400, 600, 700 -> p50 the 3rd, p95 and p99 the 6th.
SELECT * FROM usage_meter.latency_percentiles('acme', '2026-01-31', '2026-03-01', '{}');
SELECT * FROM usage_meter.latency_percentiles('acme', '2026-01-31', '2026-03-01', '{operation,model}');
SELECT * FROM usage_meter.latency_percentiles('acme', '2026-02-03', '2026-02-05');

-- Forecast. At 00:00 on 15 February in New York 14 days have passed; February's counter holds 0.030 (billed
-- 0.033): projected 0.030 x 28 / 14 = 0.060 (0.066). Two monthly limits of 0.05: the cost line reaches it at
-- day 0.05 x 14 / 0.030 = 23.3 (24 February), the billed line at 0.05 x 14 / 0.033 = 21.2 (22 February),
-- first: that one is reported.
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'month', 0.05), usage_meter.set_limit('acme', NULL, 'billed_cost', 'month', 0.05);
SELECT usage_meter.set_limit('acme', '*', 'cost', 'month', 0.03), usage_meter.set_limit('acme', 'alice', 'cost', 'month', 1);
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'day', 0.001);  -- a daily limit: not the month's
SELECT * FROM usage_meter.spend_forecast('acme', at => '2026-02-15 05:00Z');
-- Per user: bob (0.022) meets the '*' limit of 0.03 at day 0.03 x 14 / 0.022 = 19.1 (20 February); alice's own
-- limit of 1 replaces '*' for her and is not reached this month; carol (0.004) does not reach '*'.
SELECT u.user_id, f.* FROM unnest(ARRAY['bob', 'alice', 'carol', 'nobody']) AS u(user_id)
 CROSS JOIN LATERAL usage_meter.spend_forecast('acme', u.user_id, '2026-02-15 05:00Z') AS f;
-- kiwi: 00:00 on 15 February in Auckland; k1 and k2 in its February (0.004), no limit.
SELECT * FROM usage_meter.spend_forecast('kiwi', at => '2026-02-14 11:00Z');
-- Early in the month days_elapsed is at least 1 (here 6 hours have passed); an unknown tenant counts in UTC.
SELECT * FROM usage_meter.spend_forecast('acme', at => '2026-02-01 11:00Z');
SELECT month_start, month_end, days_elapsed, month_to_date FROM usage_meter.spend_forecast('nobody', at => '2026-04-16 12:00Z');

-- A reader sees only its tenants: bound to acme, it gets acme's figures; kiwi reads as empty. An unbound
-- reader sees zeros everywhere. A writer may not call them.
CREATE ROLE um_analytics_reader IN ROLE usage_meter_reader;
CREATE ROLE um_analytics_unbound IN ROLE usage_meter_reader;
CREATE ROLE um_analytics_writer IN ROLE usage_meter_writer;
INSERT INTO usage_meter.reader_tenants (tenant, role_name) VALUES ('acme', 'um_analytics_reader');
SET SESSION AUTHORIZATION um_analytics_reader;
SELECT bucket_start, requests, cost, billed_cost FROM usage_meter.usage_series('acme', '2026-01-31', '2026-03-01', 'month');
SELECT bucket_start, requests, cost FROM usage_meter.usage_series('kiwi', '2026-01-31', '2026-03-01', 'month');
SELECT * FROM usage_meter.top_usage('acme', '2026-02-01', '2026-02-28', 'user_id');
SELECT * FROM usage_meter.top_usage('kiwi', '2026-02-01', '2026-02-28', 'user_id');
SELECT requests, cost, models FROM usage_meter.session_usage('acme', 's2');
SELECT requests, cost, models FROM usage_meter.session_usage('kiwi', 'k');
SELECT * FROM usage_meter.latency_percentiles('kiwi', '2026-02-01', '2026-02-28');
SELECT month_to_date, projected, limit_metric, projected_exhaustion FROM usage_meter.spend_forecast('acme', at => '2026-02-15 05:00Z');
SELECT month_to_date, projected, limit_metric FROM usage_meter.spend_forecast('kiwi', at => '2026-02-14 11:00Z');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION um_analytics_unbound;
SELECT bucket_start, requests, cost FROM usage_meter.usage_series('acme', '2026-01-31', '2026-03-01', 'month');
SELECT count(*) AS top_rows FROM usage_meter.top_usage('acme', '2026-02-01', '2026-02-28', 'user_id');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION um_analytics_writer;
SELECT * FROM usage_meter.usage_series('acme', '2026-02-01', '2026-02-28');
RESET SESSION AUTHORIZATION;

-- Bad arguments: SQLSTATE 22023 naming the argument (22004 for a NULL). A range covers at most 3653 days: ten
-- years from 29 February 2016 pass, from the 28th they do not.
CREATE FUNCTION pg_temp.refused(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
BEGIN
    EXECUTE statement;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    RETURN state || ': ' || message;
END $$;
SELECT c AS call, pg_temp.refused('SELECT * FROM usage_meter.' || c) AS result
FROM unnest(ARRAY[
    $$usage_series(NULL, '2026-02-01', '2026-02-28')$$,
    $$usage_series('acme', NULL, '2026-02-28')$$,
    $$usage_series('acme', '2026-02-01', 'infinity')$$,
    $$usage_series('acme', '2026-03-01', '2026-02-28')$$,
    $$usage_series('acme', '2016-02-28', '2026-02-28')$$,
    $$usage_series('acme', '2016-02-29', '2026-02-28')$$,
    $$usage_series('acme', '2026-02-01', '2026-02-28', 'year')$$,
    $$usage_series('acme', '2026-02-01', '2026-02-28', NULL)$$,
    $$usage_series('acme', '2026-02-01', '2026-02-28', 'day', '{model,tenant}')$$,
    $$usage_series('acme', '2026-02-01', '2026-02-28', 'day', '{NULL}')$$,
    $$usage_series('acme', '2026-02-01', '2026-02-28', 'day', NULL)$$,
    $$top_usage('acme', '2026-02-01', '2026-02-28', 'tenant')$$,
    $$top_usage('acme', '2026-02-01', '2026-02-28', NULL)$$,
    $$top_usage('acme', '2026-02-01', '2026-02-28', 'model', 'latency')$$,
    $$top_usage('acme', '2026-02-01', '2026-02-28', 'model', 'cost', 0)$$,
    $$top_usage('acme', '2026-02-01', '2026-02-28', 'model', 'cost', NULL)$$,
    $$top_usage('acme', '2026-02-28', '2026-02-01', 'model')$$,
    $$session_usage('acme', NULL)$$,
    $$session_usage(NULL, 's1')$$,
    $$latency_percentiles('acme', '2026-02-01', '2026-02-28', '{user_id}')$$,
    $$latency_percentiles('acme', '2026-02-01', '2026-01-28')$$,
    $$spend_forecast(NULL)$$,
    $$spend_forecast('acme', '*')$$,
    $$spend_forecast('acme', at => NULL)$$]) AS c;

-- latency_percentiles reads raw events: once January's (UTC) are dropped, verifiable_since() is 2 February
-- and a range starting before it is refused. The summaries keep every figure.
SELECT usage_meter.drop_events_before('2026-02-01Z') AS dropped;
SELECT usage_meter.verifiable_since();
SELECT pg_temp.refused($$SELECT * FROM usage_meter.latency_percentiles('acme', '2026-02-01', '2026-02-28')$$);
SELECT * FROM usage_meter.latency_percentiles('acme', '2026-02-02', '2026-02-28');
SELECT bucket_start, requests, cost FROM usage_meter.usage_series('kiwi', '2026-01-31', '2026-03-01', 'month');

-- Every partition has its session index: the default one, those create_partitions made, and one made later.
-- Each partition of the ledger before `before` or from 2090 on (the default one included), with its session
-- index. (The partitions of the months around today depend on the day the test runs.)
CREATE FUNCTION pg_temp.session_indexes(before text) RETURNS TABLE (partition name, session_index regclass)
LANGUAGE sql AS $$
    SELECT c.relname, i.indexrelid::regclass
      FROM pg_inherits AS h JOIN pg_class AS c ON c.oid = h.inhrelid
      LEFT JOIN pg_index AS i ON i.indrelid = c.oid AND i.indexrelid::regclass::text LIKE '%\_session'
     WHERE h.inhparent = 'usage_meter.events'::regclass AND (c.relname < before OR c.relname > 'events_2090')
     ORDER BY c.relname
$$;
SELECT usage_meter.create_partition('2090-06-01Z');
SELECT * FROM pg_temp.session_indexes('events_2026_04');
SELECT * FROM usage_meter.verify();

-- An update from 1.4 gives the partitions it finds their session index (and create_partition gives new ones).
SET client_min_messages = warning;
DROP EXTENSION usage_meter CASCADE;
CREATE EXTENSION usage_meter VERSION '1.4';
RESET client_min_messages;
SELECT event_id FROM usage_meter.usage_record('acme', 'alice', 'chat', occurred_at => '2026-02-01 03:00Z', session_id => 's1');
SELECT p FROM usage_meter.create_partitions(0) AS p WHERE p < 'events_2026_03';
ALTER EXTENSION usage_meter UPDATE TO '1.5';
SELECT usage_meter.create_partition('2090-06-01Z');
SELECT * FROM pg_temp.session_indexes('events_2026_03');
SELECT requests, models FROM usage_meter.session_usage('acme', 's1');

SET client_min_messages = warning;
DROP EXTENSION usage_meter CASCADE;
CREATE EXTENSION usage_meter;
DROP ROLE um_analytics_reader;
DROP ROLE um_analytics_unbound;
DROP ROLE um_analytics_writer;
