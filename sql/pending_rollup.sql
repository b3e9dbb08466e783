-- The pending roll-up: a transaction's recordings are added up in backend memory per daily key and written
-- to the summaries once, before commit, or as soon as anything in the transaction reads the summaries, the
-- counters or the alerts. Every reader inside the transaction sees them; a rolled-back savepoint drops
-- exactly what it recorded, also when its recordings (or earlier ones) were already written.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SELECT usage_meter.set_price('m', 1, 2);
SELECT usage_meter.set_limit('acme', NULL, 'requests', 'day', 100);
CREATE FUNCTION pg_temp.totals() RETURNS TABLE (events bigint, daily_requests bigint, day_counter bigint, disagreements bigint)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM usage_meter.events WHERE tenant = 'acme'),
           (SELECT sum(requests)::bigint FROM usage_meter.daily_rollup WHERE tenant = 'acme'),
           (SELECT sum(requests)::bigint FROM usage_meter.counters WHERE tenant = 'acme' AND user_id IS NULL AND period = 'day'),
           (SELECT count(*) FROM usage_meter.verify())
$$;

\echo -- every reader in the transaction sees its recordings: a plain SELECT, a view, a SQL function, check_limit
BEGIN;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 100, 10);
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 200, 20);
SELECT requests, input_tokens, output_tokens, cost FROM usage_meter.daily_rollup WHERE tenant = 'acme';
SELECT cost FROM usage_meter.usage_record('acme', 'v', 'chat', 'm', 300, 30);
SELECT user_id, requests, input_tokens FROM usage_meter.daily_usage WHERE tenant = 'acme' ORDER BY user_id;
SELECT cost FROM usage_meter.usage_record('acme', 'v', 'chat', 'm', 1, 1);
SELECT period, requests, tokens FROM usage_meter.live_usage('acme') ORDER BY period;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 1);
SELECT allowed, used FROM usage_meter.check_limit('acme', 'u');
SELECT * FROM pg_temp.totals();
COMMIT;
SELECT * FROM pg_temp.totals();

\echo -- a savepoint rolled back before anything read: its recordings are dropped from memory
BEGIN;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 0);
SAVEPOINT a;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 2, 0);
SELECT cost FROM usage_meter.usage_record('acme', 'w', 'chat', 'm', 3, 0);
ROLLBACK TO SAVEPOINT a;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 4, 0);
COMMIT;
SELECT * FROM pg_temp.totals();
SELECT user_id, requests, input_tokens FROM usage_meter.daily_usage WHERE tenant = 'acme' ORDER BY user_id;

\echo -- a read inside the savepoint writes the outer and inner recordings; rolling it back undoes that write,
\echo -- and the outer recording is pending again (written by the next read, or at commit)
BEGIN;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 10, 0);
SAVEPOINT a;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 20, 0);
SELECT requests FROM usage_meter.live_usage('acme') WHERE period = 'day';
ROLLBACK TO SAVEPOINT a;
SELECT requests FROM usage_meter.live_usage('acme') WHERE period = 'day';
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 40, 0);
COMMIT;
SELECT * FROM pg_temp.totals();

\echo -- written inside a savepoint that is then released: kept, and not written twice
BEGIN;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 0);
SAVEPOINT a;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 0);
SELECT allowed, used FROM usage_meter.check_limit('acme', 'u');
RELEASE SAVEPOINT a;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 0);
COMMIT;
SELECT * FROM pg_temp.totals();

\echo -- nested savepoints: the inner one released into the outer, the outer rolled back: nothing of either
BEGIN;
SAVEPOINT a;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 0);
SAVEPOINT b;
SELECT cost FROM usage_meter.usage_record('acme', 'x', 'chat', 'm', 1, 0);
RELEASE SAVEPOINT b;
ROLLBACK TO SAVEPOINT a;
COMMIT;
SELECT * FROM pg_temp.totals();

\echo -- a PL/pgSQL exception block (a subtransaction per block) that fails drops its recordings; the rest stay
DO $$
BEGIN
    PERFORM usage_meter.usage_record('acme', 'u', 'chat', 'm', 5, 0);
    BEGIN
        PERFORM usage_meter.usage_record('acme', 'y', 'chat', 'm', 5, 0);
        PERFORM usage_meter.usage_record('acme', 'y', 'chat', 'm', -1, 0);  -- refused: the block rolls back
    EXCEPTION WHEN invalid_parameter_value THEN
        RAISE NOTICE 'refused: %', SQLERRM;
    END;
    FOR i IN 1..3 LOOP
        BEGIN
            PERFORM usage_meter.usage_record('acme', 'z', 'chat', 'm', i, 0);
        EXCEPTION WHEN others THEN RAISE;
        END;
    END LOOP;
END $$;
SELECT * FROM pg_temp.totals();
SELECT user_id, requests, input_tokens FROM usage_meter.daily_usage WHERE tenant = 'acme' AND user_id IN ('y', 'z') ORDER BY user_id;

\echo -- many keys in one transaction (users, days, models, a backfill and an unpriced model): one write, exact
BEGIN;
SELECT count(*) FROM (
    SELECT usage_meter.usage_record('acme', 'u' || (i % 7), 'chat', CASE WHEN i % 3 = 0 THEN 'unpriced' ELSE 'm' END,
                                    i, 1, occurred_at => timestamptz '2026-01-01 12:00+00' + (i % 4) * interval '1 day',
                                    success => i % 5 <> 0, latency_ms => i)
    FROM generate_series(1, 500) AS i) AS recorded;
SELECT count(*) AS batch_writes FROM usage_meter.events WHERE tenant = 'acme' AND occurred_at < '2026-02-01';
COMMIT;
SELECT day, sum(requests) AS requests, sum(errors) AS errors, sum(unpriced) AS unpriced, sum(input_tokens) AS input,
       sum(cost) AS cost, sum(latency_ms_total) AS latency
FROM usage_meter.daily_usage WHERE tenant = 'acme' AND day < '2026-02-01' GROUP BY day ORDER BY day;
SELECT * FROM pg_temp.totals();

\echo -- a one-row INSERT and a multi-row INSERT into the ledger in the same transaction as pending recordings
BEGIN;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 0);
INSERT INTO usage_meter.events (tenant, user_id, operation, model, input_tokens, occurred_at, success)
VALUES ('acme', 'u', 'chat', 'm', 1, now(), true);
INSERT INTO usage_meter.events (tenant, user_id, operation, model, input_tokens, occurred_at, success)
SELECT 'acme', 'u', 'chat', 'm', 1, now(), true FROM generate_series(1, 3);
COMMIT;
SELECT * FROM pg_temp.totals();

\echo -- REPEATABLE READ: reads inside the transaction see its own recordings
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT requests FROM usage_meter.live_usage('acme') WHERE period = 'day';
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 0);
SELECT requests FROM usage_meter.live_usage('acme') WHERE period = 'day';
COMMIT;

\echo -- a transaction that records and then drops the extension commits (nothing is left to write to)
BEGIN;
SELECT cost FROM usage_meter.usage_record('acme', 'u', 'chat', 'm', 1, 0);
DROP EXTENSION usage_meter CASCADE;
COMMIT;
CREATE EXTENSION usage_meter;
SELECT count(*) FROM usage_meter.events;
