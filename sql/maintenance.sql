-- maintain(): the ledger's partitions ahead and the default partition's rows moved into theirs, closed
-- reservations purged, the retention policy applied; each run idempotent, verify() empty after each.
-- set_retention and schedule_maintenance: bad input refused (22023), nothing changed. (The pg_cron schedule
-- itself runs in tests/stages/80-pg-cron.sh, with pg_cron preloaded.)
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

SELECT usage_meter.set_price('m', 1, 2) > 0 AS ok;
-- A fresh install has no monthly partition: events wait in the default partition (here: now, a backfill of
-- two months ago and one of fourteen months ago).
SELECT count(*) AS recorded FROM (VALUES (interval '0'), (interval '2 months'), (interval '14 months')) AS a(ago),
       LATERAL usage_meter.usage_record('acme', 'u', 'chat', 'm', 10, 10, occurred_at => now() - a.ago) AS r;
SELECT count(*) AS waiting FROM usage_meter.events_default;

-- The first run: this month and 3 ahead, plus the two backfilled months; the 3 rows move.
SELECT job, done, detail FROM usage_meter.maintain();
SELECT count(*) AS waiting FROM usage_meter.events_default;
SELECT count(*) AS monthly_partitions FROM pg_inherits WHERE inhparent = 'usage_meter.events'::regclass
   AND inhrelid <> 'usage_meter.events_default'::regclass;
SELECT count(*) AS disagreements FROM usage_meter.verify();
-- Again: nothing left to do.
SELECT job, done FROM usage_meter.maintain();

-- Reservations: a hold released more than 7 days ago is purged, a recent one is kept.
SELECT usage_meter.release(usage_meter.reserve('acme', 'u', 0.01, 10)) AS released_old,
       usage_meter.release(usage_meter.reserve('acme', 'u', 0.01, 10)) AS released_recent;
UPDATE usage_meter.reservations SET closed_at = now() - interval '8 days'
 WHERE reservation_id = (SELECT min(reservation_id) FROM usage_meter.reservations);
SELECT job, done FROM usage_meter.maintain() WHERE job = 'reservations';
SELECT count(*) AS reservations_left FROM usage_meter.reservations;

-- Retention: keep 6 months. The month of fourteen months ago is dropped, whole; the summaries keep its usage.
SELECT usage_meter.set_retention('6 months');
SELECT job, done FROM usage_meter.maintain() WHERE job = 'retention';
SELECT kept_from = date_trunc('month', now() - interval '6 months', 'UTC') AS cut_at_a_month_start
  FROM usage_meter.retention;
SELECT (SELECT count(*) FROM usage_meter.events) AS events,
       (SELECT sum(requests) FROM usage_meter.daily_usage) AS summarised_requests;
SELECT count(*) AS disagreements FROM usage_meter.verify();
SELECT job, done FROM usage_meter.maintain() WHERE job = 'retention';
-- NULL keeps everything from now on (what was dropped stays dropped).
SELECT usage_meter.set_retention(NULL);
SELECT count(*) AS policies FROM usage_meter.retention_policy;
SELECT job, done, detail FROM usage_meter.maintain() WHERE job = 'retention';

-- Bad input: refused, the policy unchanged.
SELECT usage_meter.set_retention('3 months');
SELECT usage_meter.set_retention('-1 month');
SELECT usage_meter.set_retention('29 days');
SELECT usage_meter.set_retention('1 week');
SELECT usage_meter.set_retention('1000000 years');
SELECT keep FROM usage_meter.retention_policy;
SELECT usage_meter.schedule_maintenance('');
SELECT usage_meter.schedule_maintenance(NULL);
-- Without pg_cron: a clear error saying what to do.
SELECT usage_meter.schedule_maintenance('7 * * * *');

-- Admin only.
SELECT has_function_privilege('usage_meter_writer', 'usage_meter.maintain()', 'EXECUTE') AS writer_maintains,
       has_function_privilege('usage_meter_admin', 'usage_meter.maintain()', 'EXECUTE') AS admin_maintains,
       has_function_privilege('usage_meter_reader', 'usage_meter.set_retention(interval)', 'EXECUTE') AS reader_sets;

DROP EXTENSION usage_meter CASCADE;
