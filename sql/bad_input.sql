-- Bad input: every refusal has a SQLSTATE and a message naming the argument, and writes nothing.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Runs a statement and shows how it failed.
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

SELECT usage_meter.set_price('m', 1, 1);
SELECT usage_meter.set_tenant('acme');

SELECT c AS call, pg_temp.refused('SELECT usage_meter.usage_record(' || c || ')') AS result
FROM unnest(ARRAY[
    $$NULL, 'u', 'chat'$$,
    $$'', 'u', 'chat'$$,
    $$'acme', 'u', NULL$$,
    $$'acme', 'u', ''$$,
    $$repeat('t', 201), 'u', 'chat'$$,
    $$repeat('é', 201), 'u', 'chat'$$,
    $$'acme', repeat('u', 201), 'chat'$$,
    $$'acme', '', 'chat'$$,
    $$'acme', '*', 'chat'$$,
    $$'acme', 'u', repeat('o', 201)$$,
    $$'acme', 'u', 'chat', model => ''$$,
    $$'acme', 'u', 'chat', provider => repeat('p', 201)$$,
    $$'acme', 'u', 'chat', idempotency_key => ''$$,
    $$'acme', 'u', 'chat', session_id => repeat('s', 201)$$,
    $$'acme', 'u', 'chat', 'm', input_tokens => -1$$,
    $$'acme', 'u', 'chat', 'm', output_tokens => -5$$,
    $$'acme', 'u', 'chat', 'm', cache_read_tokens => -1$$,
    $$'acme', 'u', 'chat', 'm', cache_write_tokens => 1000000000001$$,
    $$'acme', 'u', 'chat', 'm', input_tokens => 1000000000001$$,
    $$'acme', 'u', 'chat', 'm', reasoning_tokens => -1$$,
    $$'acme', 'u', 'chat', 'm', output_tokens => 10, reasoning_tokens => 11$$,
    $$'acme', 'u', 'chat', cost => -0.01$$,
    $$'acme', 'u', 'chat', cost => 'NaN'$$,
    $$'acme', 'u', 'chat', cost => 'Infinity'$$,
    $$'acme', 'u', 'chat', cost => '-Infinity'$$,
    $$'acme', 'u', 'chat', quantity => -1$$,
    $$'acme', 'u', 'chat', quantity => 'NaN'$$,
    $$'acme', 'u', 'chat', quantity => 'Infinity'$$,
    $$'acme', 'u', 'chat', latency_ms => -1$$,
    $$'acme', 'u', 'chat', occurred_at => NULL$$,
    $$'acme', 'u', 'chat', occurred_at => 'infinity'$$,
    $$'acme', 'u', 'chat', occurred_at => '-infinity'$$,
    $$'acme', 'u', 'chat', occurred_at => now() + interval '1 day 1 minute'$$,
    $$'acme', 'u', 'chat', success => NULL$$,
    $$'acme', 'u', 'chat', metadata => '[1, 2]'$$,
    $$'acme', 'u', 'chat', metadata => '"text"'$$,
    $$'acme', 'u', 'chat', cost => 1e40$$,
    $$'acme', 'u', 'chat', cost => 0.0000000000000000000000000000000000001$$
]) AS c;

-- Edge values that are fine.
SELECT c AS call, pg_temp.refused('SELECT usage_meter.usage_record(' || c || ')') AS result
FROM unnest(ARRAY[
    $$repeat('t', 200), repeat('u', 200), repeat('o', 200)$$,
    $$repeat('é', 200), 'ü-用户', 'chat'$$,
    $$'acme', 'u', 'chat', 'm', 1000000000000, 1000000000000, 1000000000000, 1000000000000, 1000000000000$$,
    $$'acme', 'u', 'chat', input_tokens => NULL, metadata => NULL$$,
    $$'acme', 'u', 'chat', occurred_at => now() + interval '23 hours'$$,
    $$'acme', 'u', 'chat', occurred_at => '1999-12-31 23:59:59+00'$$
]) AS c;
SELECT count(*) AS accepted_events FROM usage_meter.events;
SELECT input_tokens, metadata FROM usage_meter.events WHERE tenant = 'acme' AND operation = 'chat' AND model IS NULL
   AND occurred_at <= now() ORDER BY event_id LIMIT 1;

-- Settings.
SELECT c AS call, pg_temp.refused(c) AS result
FROM unnest(ARRAY[
    $$SELECT usage_meter.set_tenant(NULL)$$,
    $$SELECT usage_meter.set_tenant('x', 'Mars/Olympus_Mons')$$,
    $$SELECT usage_meter.set_tenant('x', NULL)$$,
    $$SELECT usage_meter.set_tenant('x', '')$$,
    $$SELECT usage_meter.set_tenant('x', 'UTC', -100.5)$$,
    $$SELECT usage_meter.set_tenant('x', 'UTC', 'NaN')$$,
    $$SELECT usage_meter.set_tenant('x', 'UTC', NULL)$$,
    $$SELECT usage_meter.set_price(NULL, 1, 1)$$,
    $$SELECT usage_meter.set_price('', 1, 1)$$,
    $$SELECT usage_meter.set_price('m2', -1, 1)$$,
    $$SELECT usage_meter.set_price('m2', 1, -0.5)$$,
    $$SELECT usage_meter.set_price('m2', 1, 1, -1)$$,
    $$SELECT usage_meter.set_price('m2', 1, 1, 1, 'NaN')$$,
    $$SELECT usage_meter.set_price('m2', NULL, 1)$$,
    $$SELECT usage_meter.set_price('m2', 'Infinity', 1)$$,
    $$SELECT usage_meter.set_price('m2', 1, 1, effective_from => 'infinity')$$,
    $$SELECT usage_meter.set_price('m2', 1, 1, effective_from => NULL)$$,
    $$SELECT usage_meter.set_price('m2', 1, 1, provider => '')$$,
    $$SELECT usage_meter.set_unit_price('op', -1)$$,
    $$SELECT usage_meter.set_unit_price(NULL, 1)$$,
    $$SELECT usage_meter.set_limit('acme', NULL, 'dollars', 'day', 1)$$,
    $$SELECT usage_meter.set_limit('acme', NULL, 'cost', 'week', 1)$$,
    $$SELECT usage_meter.set_limit('acme', NULL, NULL, 'day', 1)$$,
    $$SELECT usage_meter.set_limit('acme', NULL, 'cost', 'day', -1)$$,
    $$SELECT usage_meter.set_limit('acme', NULL, 'cost', 'day', 'NaN')$$,
    $$SELECT usage_meter.set_limit('acme', NULL, 'cost', 'day', NULL)$$,
    $$SELECT usage_meter.set_limit('acme', '', 'cost', 'day', 1)$$,
    $$SELECT usage_meter.set_limit('', NULL, 'cost', 'day', 1)$$,
    $$SELECT usage_meter.set_limit('acme', NULL, 'cost', 'day', 1, NULL)$$,
    $$SELECT * FROM usage_meter.check_limit(NULL)$$,
    $$SELECT * FROM usage_meter.check_limit('acme', NULL, -1)$$,
    $$SELECT * FROM usage_meter.check_limit('acme', NULL, 'NaN')$$,
    $$SELECT * FROM usage_meter.check_limit('acme', NULL, 0, -1)$$,
    $$SELECT * FROM usage_meter.check_limit('acme', '*')$$,
    $$SELECT * FROM usage_meter.live_usage(NULL)$$,
    $$SELECT * FROM usage_meter.period_bounds('acme', 'infinity')$$
]) AS c;
SELECT count(*) AS tenants FROM usage_meter.tenants;
SELECT count(*) AS prices FROM usage_meter.prices;
SELECT count(*) AS limits FROM usage_meter.limits;

-- The ledger is append-only, and a direct INSERT is checked like usage_record.
SELECT pg_temp.refused($$UPDATE usage_meter.events SET cost = 0$$);
SELECT pg_temp.refused($$DELETE FROM usage_meter.events$$);
SELECT pg_temp.refused($$TRUNCATE usage_meter.events$$);
SELECT pg_temp.refused($$INSERT INTO usage_meter.events (tenant, operation, input_tokens) VALUES ('acme', 'chat', -3)$$);
SELECT pg_temp.refused($$INSERT INTO usage_meter.events (tenant, operation) VALUES (NULL, 'chat')$$);
SELECT pg_temp.refused($$INSERT INTO usage_meter.events (tenant, operation, success) VALUES ('acme', 'chat', NULL)$$);
SELECT pg_temp.refused($$SELECT usage_meter.events_prepare()$$);
SELECT count(*) AS events FROM usage_meter.events;

-- The message carries a hint where one helps.
DO $$
DECLARE
    message text;
    hint text;
BEGIN
    PERFORM usage_meter.usage_record('acme', 'u', 'chat', input_tokens => -7);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RAISE NOTICE '% / hint: %', message, hint;
END $$;
SELECT * FROM usage_meter.verify();
