-- Retention: the ledger is partitioned by UTC month of occurred_at. A month without a partition goes to the
-- default partition until create_partitions() makes it one (moving its rows); drop_events_before() drops whole
-- months of raw events while daily summaries and counters keep the history; idempotency keys hold across
-- partitions for as long as their event is kept, and events older than the retention boundary are refused;
-- verify() and rebuild() check the days whose raw events are all kept (verifiable_since() on).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_price('m', 1, 2) AS price_id;
-- Installed: the partitioned ledger and its default partition, nothing else (no partition is an extension member
-- but the default one, so pg_dump dumps each once).
SELECT c.relname, c.relkind, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_class AS c WHERE c.relnamespace = 'usage_meter'::regnamespace AND c.relname LIKE 'events%' AND c.relkind IN ('r', 'p')
 ORDER BY 1;
-- Events of January to April, with keys; all in the default partition for now.
SELECT count(*) AS recorded FROM (
    SELECT usage_meter.usage_record('acme', 'u' || (i % 2), 'chat', 'm', i, i,
                                    occurred_at => '2026-01-10Z'::timestamptz + i * interval '1 day',
                                    idempotency_key => 'k-' || i)
      FROM generate_series(1, 100) AS i) AS r;
SELECT tableoid::regclass AS partition, count(*) FROM usage_meter.events GROUP BY 1 ORDER BY 1;
-- create_partitions makes the months of the default partition's rows (and the current month and the months
-- ahead, not shown: they depend on today's date) and moves the rows, kept as recorded.
SELECT p AS created FROM usage_meter.create_partitions(0) AS p WHERE p < 'events_2026_05' ORDER BY 1;
SELECT tableoid::regclass AS partition, count(*), min(occurred_at), max(occurred_at)
  FROM usage_meter.events GROUP BY 1 ORDER BY 1;
SELECT * FROM usage_meter.verify();
-- Each partition carries its own key, reversal index and append-only trigger; the parent's row trigger is cloned.
SELECT conname FROM pg_constraint WHERE conrelid = 'usage_meter.events_2026_02'::regclass AND contype = 'p';
SELECT tgname, tgparentid <> 0 AS cloned FROM pg_trigger WHERE tgrelid = 'usage_meter.events_2026_02'::regclass ORDER BY 1;
-- Running it again creates nothing.
SELECT count(*) AS created_again FROM usage_meter.create_partitions(0) AS p WHERE p < 'events_2026_05';

-- Idempotency across partitions: a key recorded in January is still a duplicate when retried with an April time.
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1, 1,
                                                         occurred_at => '2026-04-02Z', idempotency_key => 'k-1');
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1, 1,
                                                         occurred_at => '2026-04-02Z', idempotency_key => 'k-new');
-- A direct INSERT (the owner's backfill) repeating a key of another partition is refused.
INSERT INTO usage_meter.events (tenant, operation, idempotency_key, occurred_at) VALUES ('acme', 'chat', 'k-2', '2026-04-03Z');
INSERT INTO usage_meter.events (tenant, operation, idempotency_key, occurred_at)
    VALUES ('acme', 'chat', 'bulk', '2026-03-03Z'), ('acme', 'chat', 'bulk', '2026-04-03Z');
SELECT count(*) AS keys, count(*) FILTER (WHERE idempotency_key = 'k-new') AS new_key FROM usage_meter.idempotency_keys;

-- COPY through the parent is routed and rolled up (the statement trigger's transition table covers every partition).
COPY usage_meter.events (tenant, user_id, operation, model, input_tokens, occurred_at, idempotency_key) FROM stdin;
acme	bulk	chat	m	5	2026-02-01 10:00:00+00	copy-1
acme	bulk	chat	m	6	2026-04-01 10:00:00+00	copy-2
\.
SELECT * FROM usage_meter.verify();

-- A void lands in the event's partition (the reversal carries its occurred_at).
SELECT usage_meter.void_event('acme', 40, 'test traffic') AS reversal_id \gset
SELECT tableoid::regclass AS partition, event_id, occurred_at, reverses_event_id FROM usage_meter.events
 WHERE event_id IN (40, :reversal_id) ORDER BY event_id;

-- Append-only on the parent and on each partition.
UPDATE usage_meter.events SET user_id = 'x';
DELETE FROM usage_meter.events_2026_02;
UPDATE usage_meter.events_default SET user_id = 'x';
TRUNCATE usage_meter.events;
TRUNCATE usage_meter.events_2026_03;

-- Dropping raw events before March 15: whole UTC months (January, February) go; March stays whole.
SELECT sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(cost) AS cost FROM usage_meter.daily_usage;
SELECT usage_meter.drop_events_before('2026-03-15Z') AS dropped_events;
SELECT tableoid::regclass AS partition, count(*) FROM usage_meter.events GROUP BY 1 ORDER BY 1;
-- The summaries keep the history.
SELECT sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(cost) AS cost FROM usage_meter.daily_usage;
SELECT kept_from FROM usage_meter.retention;
-- verify() and rebuild() check from the first day whose raw events are all kept, in every time zone.
SELECT usage_meter.verifiable_since();
SELECT * FROM usage_meter.verify();
SELECT * FROM usage_meter.rebuild();
SELECT sum(requests) AS requests_after_rebuild FROM usage_meter.daily_usage;
-- Damage on a kept day is found and repaired; a dropped day cannot be checked, and rebuild leaves it alone.
UPDATE usage_meter.daily_rollup SET requests = requests + 5 WHERE day IN ('2026-01-20', '2026-03-20');
SELECT summary, period, period_start, field, ledger, recorded FROM usage_meter.verify();
SELECT summary, period, period_start, field, before, after FROM usage_meter.rebuild();
SELECT * FROM usage_meter.verify();

-- Keys of dropped events stay as tombstones until they are 35 days old (recorded_at), and an event that old is
-- refused, so a late retry is never counted twice: with its original occurred_at, and also with none (now),
-- as a re-sent provider response is.
SELECT count(*) AS keys_left, min(occurred_at) FROM usage_meter.idempotency_keys;
SELECT * FROM usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1, 1, occurred_at => '2026-01-11Z', idempotency_key => 'k-1');
SELECT * FROM usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1, 1, idempotency_key => 'k-1');
SELECT * FROM usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1, 1, occurred_at => '2026-02-28 23:59:59Z');
-- Each drop_events_before also deletes the tombstones past 35 days (here aged by hand), never a kept event's key.
UPDATE usage_meter.idempotency_keys SET recorded_at = recorded_at - interval '36 days';
SELECT usage_meter.drop_events_before('2026-03-15Z') AS dropped_again;
SELECT count(*) AS keys_left, min(occurred_at) FROM usage_meter.idempotency_keys;
-- ... while the kept months record as before.
SELECT duplicate FROM usage_meter.usage_record('acme', 'u1', 'chat', 'm', 1, 1, occurred_at => '2026-03-01Z');
SELECT count(*) AS before_boundary FROM usage_meter.events WHERE occurred_at < '2026-03-01Z';
-- A boundary at or before the current one drops nothing; bad cutoffs are refused.
SELECT usage_meter.drop_events_before('2026-02-01Z') AS dropped_again;
SELECT usage_meter.drop_events_before(NULL);
SELECT usage_meter.drop_events_before('infinity');
SELECT usage_meter.drop_events_before('2999-01-01Z');
SELECT usage_meter.create_partitions(-1);
SELECT usage_meter.create_partitions(NULL);

-- Permissions: drop_events_before and create_partitions are the admin's; the writer and the reader cannot call
-- them, and nobody but the owner calls the internal create_partition.
SELECT r.rolname, p.proname, has_function_privilege(r.rolname, p.oid, 'EXECUTE') AS may
  FROM pg_roles AS r CROSS JOIN pg_proc AS p
 WHERE r.rolname IN ('usage_meter_writer', 'usage_meter_reader', 'usage_meter_admin')
   AND p.pronamespace = 'usage_meter'::regnamespace
   AND p.proname IN ('drop_events_before', 'create_partitions', 'create_partition', 'verifiable_since')
 ORDER BY 1, 2;
SELECT * FROM usage_meter.verify();
