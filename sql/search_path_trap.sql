-- Look-alikes in public are never called: every function of the extension pins search_path to
-- pg_catalog, pg_temp and qualifies every name, so operators, functions and tables planted in public (put
-- first on the caller's search_path) cannot hijack what it runs. Each trap raises WARNING "TRAP ...":
-- the first query shows the traps work; no call of the extension below may print one.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS usage_meter CASCADE;
CREATE EXTENSION usage_meter;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

CREATE FUNCTION public.trap(what text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE WARNING 'TRAP: % was called', what; RETURN true; END $$;

-- Operators with the exact argument types the extension's SQL uses, each delegating to the real one.
DO $$
DECLARE
    o record;
BEGIN
    FOR o IN SELECT * FROM (VALUES
        ('=', 'text', 'text', 'texteq', 'boolean'), ('<>', 'text', 'text', 'textne', 'boolean'),
        ('=', 'bigint', 'bigint', 'int8eq', 'boolean'), ('+', 'bigint', 'bigint', 'int8pl', 'bigint'),
        ('=', 'integer', 'integer', 'int4eq', 'boolean'), ('-', 'integer', 'integer', 'int4mi', 'integer'),
        ('+', 'numeric', 'numeric', 'numeric_add', 'numeric'), ('-', 'numeric', 'numeric', 'numeric_sub', 'numeric'),
        ('*', 'numeric', 'numeric', 'numeric_mul', 'numeric'), ('<>', 'numeric', 'numeric', 'numeric_ne', 'boolean'),
        ('=', 'numeric', 'numeric', 'numeric_eq', 'boolean'), ('=', 'date', 'date', 'date_eq', 'boolean'),
        ('-', 'date', 'integer', 'date_mii', 'date'), ('>=', 'date', 'date', 'date_ge', 'boolean'),
        ('<=', 'date', 'date', 'date_le', 'boolean'), ('<', 'date', 'date', 'date_lt', 'boolean'),
        ('<=', 'timestamptz', 'timestamptz', 'timestamptz_le', 'boolean'),
        ('<', 'timestamptz', 'timestamptz', 'timestamptz_lt', 'boolean'),
        ('=', 'boolean', 'boolean', 'booleq', 'boolean')) AS v(op, l, r, fn, res)
    LOOP
        EXECUTE format('CREATE FUNCTION public.trap_%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS '
                       '$f$ BEGIN PERFORM public.trap(%L); RETURN pg_catalog.%s($1, $2); END $f$',
                       o.fn, o.l, o.r, o.res, format('operator %s(%s, %s)', o.op, o.l, o.r), o.fn);
        EXECUTE format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.trap_%s)',
                       o.op, o.l, o.r, o.fn);
    END LOOP;
END $$;
-- Functions and aggregates the extension calls, and tables with the names of its own.
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.trap('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.nextval(regclass) RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.trap('nextval()'); RETURN pg_catalog.nextval($1); END $$;
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.trap('format()'); RETURN pg_catalog.format($1, $2); END $$;
CREATE FUNCTION public.trap_numeric_sum(numeric, numeric) RETURNS numeric LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.trap('sum(numeric)'); RETURN COALESCE($1, 0) OPERATOR(pg_catalog.+) $2; END $$;
CREATE AGGREGATE public.sum(numeric) (SFUNC = public.trap_numeric_sum, STYPE = numeric);
CREATE FUNCTION public.trap_bigint_sum(numeric, bigint) RETURNS numeric LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.trap('sum(bigint)'); RETURN COALESCE($1, 0) OPERATOR(pg_catalog.+) $2; END $$;
CREATE AGGREGATE public.sum(bigint) (SFUNC = public.trap_bigint_sum, STYPE = numeric);
CREATE FUNCTION public.unnest(usage_meter.events[]) RETURNS SETOF usage_meter.events LANGUAGE plpgsql AS
$$ BEGIN PERFORM public.trap('unnest()'); RETURN QUERY SELECT * FROM pg_catalog.unnest($1); END $$;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'prices', 'unit_prices', 'limits', 'events', 'daily_rollup', 'counters',
                             'daily_usage', 'reader_tenants', 'reservations', 'alerts', 'idempotency_keys',
                             'retention', 'tenant_markups'] LOOP
        EXECUTE format('CREATE VIEW public.%I AS SELECT * FROM usage_meter.%I WHERE public.trap(%L)',
                       t, t, 'table public.' || t);
    END LOOP;
END $$;

SET search_path = public, pg_catalog;
-- The traps work: unqualified names resolve to public first.
SELECT 'a'::text = 'a'::text AS trapped_equal, count(*) AS trapped_table FROM tenants;

-- No call below prints a TRAP warning.
SELECT usage_meter.set_tenant('acme', 'Europe/Paris', 10);
SELECT usage_meter.set_price('m', 1, 2) AS price_id, usage_meter.set_price('m', 3, 4, provider => 'p') AS provider_price;
SELECT usage_meter.set_unit_price('search', 0.01) AS unit_price_id;
SELECT usage_meter.set_limit('acme', NULL, 'cost', 'day', 1);
SELECT usage_meter.set_limit('acme', '*', 'requests', 'month', 100);
SELECT event_id, cost, billed_cost, duplicate FROM usage_meter.usage_record('acme', 'alice', 'chat', 'm', 1000, 1000,
       occurred_at => '2026-11-02 10:00Z', idempotency_key => 'k1', metadata => '{"a": 1}');
SELECT event_id, duplicate FROM usage_meter.usage_record('acme', 'alice', 'chat', 'm', 1000, 1000,
       occurred_at => '2026-11-02 10:00Z', idempotency_key => 'k1');
SELECT event_id, cost FROM usage_meter.usage_record('acme', 'bob', 'chat', 'm', 10, 20, provider => 'p',
       occurred_at => '2026-11-02 11:00Z');
SELECT event_id, cost FROM usage_meter.usage_record('acme', NULL, 'search', quantity => 3,
       occurred_at => '2026-11-02 12:00Z');
INSERT INTO usage_meter.events (tenant, user_id, operation, model, input_tokens, occurred_at)
VALUES ('acme', 'carol', 'chat', 'm', 5, '2026-11-03 10:00Z'), ('beta', 'dan', 'chat', 'm', 7, '2026-11-03 10:00Z');
SELECT allowed FROM usage_meter.check_limit('acme', 'alice', estimated_cost => 0.5);
SELECT * FROM usage_meter.period_bounds('acme', '2026-11-02 10:00Z');
SELECT count(*) AS periods FROM usage_meter.live_usage('acme');
BEGIN;
SELECT usage_meter.roll_up(ARRAY(SELECT e FROM usage_meter.events AS e WHERE e.tenant OPERATOR(pg_catalog.=) 'beta'));
ROLLBACK;
SELECT tenant, events, status FROM usage_meter.health();
SELECT usage_meter.remove_limit('acme', '*', 'requests', 'month');
SELECT usage_meter.void_event('acme', 3, 'trap test') AS reversal_id;
SELECT reversal_id, replacement_id, new_cost FROM usage_meter.correct_event('acme', 1, 'trap test', input_tokens => 7);
UPDATE usage_meter.counters SET requests = requests OPERATOR(pg_catalog.+) 1
 WHERE tenant OPERATOR(pg_catalog.=) 'beta' AND user_id IS NULL AND period OPERATOR(pg_catalog.=) 'day';
SELECT summary, tenant, field, before, after FROM usage_meter.rebuild();
SELECT * FROM usage_meter.verify();
-- The 1.1 surfaces: pricing, reservations, alerts, provider payloads and retention.
SELECT usage_meter.set_tiered_price('tiered', 1, 2, tiers => '[{"above_input_tokens": 10, "input_per_mtok": 2,
       "output_per_mtok": 4}]', per_request => 0.001) IS NOT NULL AS tiered_price;
SELECT rule, matched_model FROM usage_meter.price_for('m-20260101');
SELECT * FROM usage_meter.import_litellm_prices('{"imported": {"litellm_provider": "x", "input_cost_per_token": 1e-6,
       "output_cost_per_token": 2e-6}}', '2026-01-01');
SELECT usage_meter.set_limit('acme', 'alice', 'requests', 'day', 1, alert => true);  -- fires below
SELECT usage_meter.reserve('acme', 'alice', 0.01) AS hold \gset
SELECT cost FROM usage_meter.usage_record('acme', 'alice', 'chat', 'tiered', 20, 1, reservation_id => :hold);
SELECT usage_meter.release(usage_meter.reserve('acme', 'bob', 0.01)) AS released;
SELECT usage_meter.purge_reservations('acme', '0 seconds') AS purged;
SELECT model, input_tokens, output_tokens, response_id FROM usage_meter.normalize_usage('auto',
       '{"id": "chatcmpl-t1", "model": "m", "usage": {"prompt_tokens": 10, "completion_tokens": 5}}');
SELECT cost, duplicate FROM usage_meter.record_response('acme', 'alice', 'chat', 'openai',
       '{"id": "chatcmpl-t1", "model": "m", "usage": {"prompt_tokens": 10, "completion_tokens": 5}}');
SELECT priced FROM usage_meter.usage_record('acme', 'alice', 'chat', 'late-model', 1000, 0,
       occurred_at => '2026-11-02 14:00Z');
SELECT model, events FROM usage_meter.unpriced_models();
SELECT usage_meter.set_price('late-model', 1, 1) IS NOT NULL AS late_price;
SELECT * FROM usage_meter.reprice('acme');
SELECT user_id, metric, period, level FROM usage_meter.alerts ORDER BY alert_id;
SELECT count(*) >= 1 AS partitions_made FROM usage_meter.create_partitions(0);
SELECT usage_meter.drop_events_before('2000-01-01Z') AS dropped, usage_meter.verifiable_since();
SELECT * FROM usage_meter.verify();
-- The 1.5 tenant move: the flag, export, purge, import back, and the catalog digest.
SELECT usage_meter.set_tenant_moving('acme', true);
CREATE TEMP TABLE moved AS SELECT usage_meter.export_tenant('acme') AS doc;
SELECT table_name, row_count FROM usage_meter.purge_tenant('acme');
SELECT table_name, row_count FROM usage_meter.import_tenant('acme', (SELECT doc FROM moved));
SELECT kind, key FROM usage_meter.price_catalog_digest();
SELECT * FROM usage_meter.verify();
RESET search_path;
SELECT count(*) AS events FROM usage_meter.events;

SET client_min_messages = warning;
DROP EXTENSION usage_meter CASCADE;
