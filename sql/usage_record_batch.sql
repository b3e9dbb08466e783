-- usage_record_batch: a JSON array of usage_record argument objects, recorded in order through usage_record
-- (same defaults, validation, idempotency, reservation settling), one row per element, all or nothing. A refusal
-- names the element (0-based) and the field, with usage_record's SQLSTATE, detail and hint, and writes nothing.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
DROP ROLE IF EXISTS um_batch_writer;
DROP ROLE IF EXISTS um_batch_reader;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Runs a statement and shows how it failed: SQLSTATE, message, and the detail and hint when there are any.
CREATE FUNCTION pg_temp.refused(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE statement;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || CASE WHEN detail <> '' THEN ' / detail: ' || detail ELSE '' END
                                    || CASE WHEN hint <> '' THEN ' / hint: ' || hint ELSE '' END;
END $$;
-- What recording has written: ledger rows, summary rows and counter rows.
CREATE VIEW pg_temp.written AS
    SELECT (SELECT count(*) FROM usage_meter.events) AS events,
           (SELECT count(*) FROM usage_meter.daily_rollup) AS daily_rows,
           (SELECT coalesce(sum(requests), 0) FROM usage_meter.counters) AS counted_requests;

SELECT usage_meter.set_price('m', 0.80, 4.00, 0.08) AS price_id;
SELECT usage_meter.set_unit_price('web_search', 0.01) AS unit_price_id;

-- The events-only form: every element names the tenant. Results come back in the array's order; element 2
-- repeats element 0's key, so it is element 0's event again, as a duplicate.
--   0: 1000 x 0.80 + 500 x 4.00 per million = 0.0028
--   1: 2000 x 0.80 + 1000 x 0.08 per million = 0.00168
--   3: 3 searches x 0.01 = 0.03
--   4: a reported cost wins over the price table, exactly as given
SELECT n - 1 AS element, r.*
  FROM usage_meter.usage_record_batch('[
    {"tenant": "acme", "user_id": "alice", "operation": "chat", "model": "m", "input_tokens": 1000,
     "output_tokens": 500, "idempotency_key": "b-1", "occurred_at": "2026-11-02T10:00:00Z"},
    {"tenant": "acme", "user_id": "bob", "operation": "chat", "model": "m", "input_tokens": 2000,
     "cache_read_tokens": 1000, "occurred_at": "2026-11-02T11:00:00Z", "latency_ms": 300, "session_id": "s-1",
     "metadata": {"endpoint": "sync"}},
    {"tenant": "acme", "user_id": "alice", "operation": "chat", "model": "m", "input_tokens": 1000,
     "output_tokens": 500, "idempotency_key": "b-1", "occurred_at": "2026-11-02T10:00:00Z"},
    {"tenant": "acme", "user_id": null, "operation": "web_search", "quantity": 3, "provider": "anthropic",
     "occurred_at": "2026-11-02T12:00:00Z"},
    {"tenant": "acme", "user_id": "carol", "operation": "chat", "model": "other", "input_tokens": 10,
     "cost": 0.123456789012345678901, "success": false, "occurred_at": "2026-11-03T09:00:00+01:00"}
  ]') WITH ORDINALITY AS r(event_id, cost, billed_cost, priced, duplicate, n);
SELECT event_id, user_id, operation, model, provider, input_tokens, output_tokens, cache_read_tokens, quantity, cost,
       cost_source, occurred_at, day, idempotency_key, session_id, latency_ms, success, metadata
  FROM usage_meter.events ORDER BY event_id;

-- The tenant-first form: elements may leave the tenant out, or name the same one. A key recorded by an earlier
-- call is recognised as a duplicate too.
SELECT r.* FROM usage_meter.usage_record_batch('acme', '[
    {"user_id": "alice", "operation": "chat", "model": "m", "input_tokens": 1000, "output_tokens": 500,
     "idempotency_key": "b-1", "occurred_at": "2026-11-02T10:00:00Z"},
    {"tenant": "acme", "user_id": "dave", "operation": "chat", "model": "m", "output_tokens": 250,
     "idempotency_key": "b-2", "occurred_at": "2026-11-04T10:00:00Z"}
  ]') AS r;
-- An empty array records nothing and returns no rows.
SELECT * FROM usage_meter.usage_record_batch('acme', '[]');
SELECT * FROM usage_meter.usage_record_batch('[]');

-- A field left out takes usage_record's default; a JSON null is a NULL argument (NULL counts are 0, NULL
-- metadata is {}). The same event recorded by usage_record with only its required arguments is the same row.
BEGIN;
SELECT event_id, cost, priced, duplicate
  FROM usage_meter.usage_record_batch('acme', '[{"user_id": "dflt", "operation": "chat"},
                                               {"user_id": "dflt", "operation": "chat", "model": null,
                                                "input_tokens": null, "metadata": null, "cost": null}]');
SELECT event_id, cost, priced, duplicate FROM usage_meter.usage_record('acme', 'dflt', 'chat');
SELECT count(*) AS events, count(DISTINCT (tenant, user_id, operation, model, provider, input_tokens, output_tokens,
       cache_read_tokens, cache_write_tokens, reasoning_tokens, quantity, cost, billed_cost, priced, cost_source,
       occurred_at, day, idempotency_key, session_id, latency_ms, success, metadata)) AS distinct_rows
  FROM usage_meter.events WHERE user_id = 'dflt';
ROLLBACK;

-- A whole number may be written in any notation: 1200, 1.2e3 and 1200.0 are 1200 (1200 x 0.80 per million).
BEGIN;
SELECT cost FROM usage_meter.usage_record_batch('acme', '[{"operation": "chat", "model": "m", "input_tokens": 1200},
    {"operation": "chat", "model": "m", "input_tokens": 1.2e3}, {"operation": "chat", "model": "m", "input_tokens": 1200.0}]');
ROLLBACK;

-- A reservation is settled by the element that names it, in the same transaction.
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'month', 100);
SELECT usage_meter.reserve('acme', 'erin', 1) AS rid \gset
SELECT held FROM usage_meter.check_limit('acme', 'erin');
SELECT event_id, cost FROM usage_meter.usage_record_batch('acme',
    jsonb_build_array(jsonb_build_object('user_id', 'erin', 'operation', 'chat', 'model', 'm', 'input_tokens', 100,
                                         'reservation_id', :rid)));
SELECT state, event_id IS NOT NULL AS has_event FROM usage_meter.reservations WHERE reservation_id = :rid;
SELECT held FROM usage_meter.check_limit('acme', 'erin');

SELECT * FROM pg_temp.written;

-- Refusals of the batch's shape. The whole array is checked before anything is recorded; the message names the
-- element (0-based) and the field. Nothing is written by any of them.
SELECT c AS call, pg_temp.refused('SELECT * FROM usage_meter.usage_record_batch(' || c || ')') AS result
FROM unnest(ARRAY[
    $$NULL::jsonb$$,
    $$NULL, '[]'$$,
    $$'acme', NULL$$,
    $$'{"tenant": "acme"}'$$,
    $$'acme', '"[]"'$$,
    $$'acme', 'null'$$,
    $$'acme', '[{"operation": "chat"}, 5]'$$,
    $$'acme', '[{"operation": "chat"}, {"operation": "chat"}, [{"operation": "chat"}]]'$$,
    $$'acme', '[{"operation": "chat"}, null]'$$,
    $$'acme', '[{"operation": "chat", "input": 10}]'$$,
    $$'acme', '[{"operation": "chat", "Input_Tokens": 10}]'$$,
    $$'acme', '[{"operation": "chat"}, {"operation": "chat", "input_tokens": "abc"}]'$$,
    $$'acme', '[{"operation": "chat", "input_tokens": "12"}]'$$,
    $$'acme', '[{"operation": "chat", "input_tokens": 1.5}]'$$,
    $$'acme', '[{"operation": "chat", "input_tokens": true}]'$$,
    $$'acme', '[{"operation": "chat", "reservation_id": [1]}]'$$,
    $$'acme', '[{"operation": "chat", "latency_ms": 2147483648}]'$$,
    $$'acme', '[{"operation": "chat", "output_tokens": 9223372036854775808}]'$$,
    $$'acme', '[{"operation": "chat", "cost": "0.50"}]'$$,
    $$'acme', '[{"operation": "chat", "quantity": {}}]'$$,
    $$'acme', '[{"operation": "chat", "metadata": [1, 2]}]'$$,
    $$'acme', '[{"operation": "chat", "metadata": "text"}]'$$,
    $$'acme', '[{"operation": "chat", "success": "true"}]'$$,
    $$'acme', '[{"operation": "chat", "success": 1}]'$$,
    $$'acme', '[{"operation": "chat", "user_id": 42}]'$$,
    $$'acme', '[{"operation": "chat", "occurred_at": 1767225600}]'$$,
    $$'acme', '[{"operation": "chat"}, {"operation": "chat", "tenant": "globex"}]'$$,
    $$'[{"tenant": "acme", "operation": "chat"}, {"tenant": "globex", "operation": "chat"}]'$$,
    $$'[{"tenant": 7, "operation": "chat"}]'$$
]) AS c;
SELECT * FROM pg_temp.written;

-- At most 100,000 elements in one call: 100,001 are refused before any is looked at.
SELECT pg_temp.refused(pg_catalog.format('SELECT * FROM usage_meter.usage_record_batch(%L, %L)', 'acme',
           (SELECT jsonb_agg(jsonb_build_object('operation', 'chat')) FROM generate_series(1, 100001))));

-- Refusals of usage_record for an element: its message, SQLSTATE, detail and hint, with the element's index.
-- The elements before it were recorded and are rolled back with it.
SELECT c AS call, pg_temp.refused('SELECT * FROM usage_meter.usage_record_batch(' || c || ')') AS result
FROM unnest(ARRAY[
    $$'acme', '[{"operation": "chat"}, {"operation": "chat"}, {"operation": "chat", "input_tokens": -7}]'$$,
    $$'acme', '[{"operation": "chat", "user_id": "*"}]'$$,
    $$'acme', '[{"operation": "chat"}, {"user_id": "u"}]'$$,
    $$'acme', '[{"operation": ""}]'$$,
    $$'acme', '[{"operation": "chat", "output_tokens": 10, "reasoning_tokens": 11}]'$$,
    $$'acme', '[{"operation": "chat", "input_tokens": 1000000000001}]'$$,
    $$'acme', '[{"operation": "chat", "cost": -0.01}]'$$,
    $$'acme', '[{"operation": "chat", "occurred_at": null}]'$$,
    $$'acme', '[{"operation": "chat", "occurred_at": "soon"}]'$$,
    $$'acme', '[{"operation": "chat", "occurred_at": "2999-01-01T00:00:00Z"}]'$$,
    $$'acme', '[{"operation": "chat", "success": null}]'$$,
    $$'acme', '[{"operation": "chat", "reservation_id": -1}]'$$,
    $$'[{"operation": "chat"}]'$$,
    $$'[{"tenant": "", "operation": "chat"}]'$$
]) AS c;
SELECT * FROM pg_temp.written;

-- All or nothing: element 3 of 5 is refused, so none of the five is recorded, and the reservation element 1
-- would settle stays held.
SELECT usage_meter.reserve('acme', 'erin', 1) AS rid2 \gset
SELECT pg_temp.refused(pg_catalog.format('SELECT * FROM usage_meter.usage_record_batch(%L)', jsonb_build_array(
    '{"tenant": "acme", "user_id": "f", "operation": "chat", "model": "m", "input_tokens": 1, "idempotency_key": "n-0"}'::jsonb,
    jsonb_build_object('tenant', 'acme', 'user_id', 'erin', 'operation', 'chat', 'reservation_id', :rid2),
    '{"tenant": "acme", "user_id": "f", "operation": "chat", "model": "m", "input_tokens": 2, "idempotency_key": "n-2"}'::jsonb,
    '{"tenant": "acme", "user_id": "f", "operation": "chat", "model": "m", "input_tokens": 3, "cache_write_tokens": -3}'::jsonb,
    '{"tenant": "acme", "user_id": "f", "operation": "chat", "model": "m", "input_tokens": 4}'::jsonb)));
SELECT * FROM pg_temp.written;
SELECT count(*) AS keys_n FROM usage_meter.idempotency_keys WHERE idempotency_key LIKE 'n-%';
SELECT state FROM usage_meter.reservations WHERE reservation_id = :rid2;
-- The same five with element 3 fixed are recorded, in order (costs: 1, 0 (no model), 2, 3 + 3 cache writes at the
-- input price, 4 tokens x 0.80 per million).
SELECT event_id > 0 AS recorded, cost, duplicate FROM usage_meter.usage_record_batch(jsonb_build_array(
    '{"tenant": "acme", "user_id": "f", "operation": "chat", "model": "m", "input_tokens": 1, "idempotency_key": "n-0"}'::jsonb,
    jsonb_build_object('tenant', 'acme', 'user_id', 'erin', 'operation', 'chat', 'reservation_id', :rid2),
    '{"tenant": "acme", "user_id": "f", "operation": "chat", "model": "m", "input_tokens": 2, "idempotency_key": "n-2"}'::jsonb,
    '{"tenant": "acme", "user_id": "f", "operation": "chat", "model": "m", "input_tokens": 3, "cache_write_tokens": 3}'::jsonb,
    '{"tenant": "acme", "user_id": "f", "operation": "chat", "model": "m", "input_tokens": 4}'::jsonb));
SELECT state FROM usage_meter.reservations WHERE reservation_id = :rid2;
SELECT * FROM pg_temp.written;

-- The detail of usage_record's refusal is kept: an event older than the retention boundary.
SELECT usage_meter.drop_events_before('2026-01-01Z') AS dropped_events;
SELECT pg_temp.refused($$SELECT * FROM usage_meter.usage_record_batch('acme',
           '[{"operation": "chat", "occurred_at": "2026-11-05T00:00:00Z"},
             {"operation": "chat", "occurred_at": "2025-12-31T23:00:00Z"}]')$$);

-- Privileges: the writer may call both forms (not the body behind them), the reader neither.
CREATE ROLE um_batch_writer IN ROLE usage_meter_writer;
CREATE ROLE um_batch_reader IN ROLE usage_meter_reader;
SET SESSION AUTHORIZATION um_batch_writer;
SELECT event_id > 0 AS recorded, cost FROM usage_meter.usage_record_batch('globex',
    '[{"user_id": "w", "operation": "chat", "model": "m", "input_tokens": 1000, "occurred_at": "2026-11-05T00:00:00Z"}]');
SELECT event_id > 0 AS recorded, duplicate FROM usage_meter.usage_record_batch(
    '[{"tenant": "globex", "user_id": "w", "operation": "chat", "idempotency_key": "w-1"},
      {"tenant": "globex", "user_id": "w", "operation": "chat", "idempotency_key": "w-1"}]');
SELECT pg_temp.refused($$SELECT * FROM usage_meter.record_batch('globex', '[]', false)$$);
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION um_batch_reader;
SELECT pg_temp.refused($$SELECT * FROM usage_meter.usage_record_batch('globex', '[{"operation": "chat"}]')$$);
SELECT pg_temp.refused($$SELECT * FROM usage_meter.usage_record_batch('[{"tenant": "globex", "operation": "chat"}]')$$);
RESET SESSION AUTHORIZATION;
SELECT tenant, count(*) AS events FROM usage_meter.events GROUP BY tenant ORDER BY tenant;
DROP ROLE um_batch_writer, um_batch_reader;

SELECT * FROM usage_meter.verify();
