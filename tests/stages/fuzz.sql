-- The fuzz test of tests/stages/65-fuzz.sh: run in an empty database.
SET client_min_messages = warning;
CREATE EXTENSION usage_meter;
SELECT 'setup: ' || usage_meter.set_price('m', 1, 2) || ' ' || usage_meter.set_unit_price('search', 0.01)
       || ' ' || usage_meter.set_limit('acme', NULL, 'cost', 'day', 10)::text || ' ' || setseed(0.20261123)::text;
-- In half of the calls every argument is plausible; in the other half each one is adversarial one time in
-- four: so calls succeed (and write) often, and fail on one or a few bad arguments at a time.
CREATE FUNCTION pg_temp.pick(plausible text[], adversarial text[]) RETURNS text LANGUAGE sql VOLATILE AS
$$ SELECT CASE WHEN random() < current_setting('fuzz.plausible')::float8
               THEN $1[1 + floor(random() * array_length($1, 1))::int]
               ELSE $2[1 + floor(random() * array_length($2, 1))::int] END $$;

CREATE TEMP TABLE outcomes (fn text, sqlstate text, calls int);
DO $fuzz$
DECLARE
    texts text[] := ARRAY[NULL, '', ' ', 'acme', 'acme', 'globex', 'm', 'm', 'chat', 'search', 'alice', '*',
                          repeat('x', 200), repeat('x', 201), repeat('é', 200), repeat('🦄', 201), repeat('y', 100000),
                          E'\u202Eevil', 'a''b"c\d', 'NaN', 'Europe/Paris', 'UTC', 'Mars/Olympus', 'cost', 'day',
                          'month', 'requests', 'tokens', 'billed_cost', E'e\u0301', E'tab\tnew\nline', '%s%n%x',
                          'DROP TABLE usage_meter.events;--', E'\uFEFF', E'\U0001F600'];
    nums text[] := ARRAY[NULL, '0', '1', '-1', '0.1', '1e-40', '-1e-40', '1e40', 'NaN', 'Infinity', '-Infinity',
                         '99999999999999999999999999999999999999.99', '1e-36', '0.000000000000000000000000000000000001',
                         '123.456789012345678901234567890123456789', '-100', '-100.0001', '5'];
    ints text[] := ARRAY[NULL, '0', '1', '-1', '1000000000000', '1000000000001', '9223372036854775807',
                         '-9223372036854775808', '42', '1000', '2147483647'];
    times text[] := ARRAY[NULL, 'infinity', '-infinity', 'now', '2026-11-02 10:00Z', '1970-01-01', '0001-01-01',
                          '4713-01-01 BC', '294276-12-31 23:59:59Z', '2026-03-29 02:30 Europe/Paris'];
    dates text[] := ARRAY[NULL, '2026-11-01', '2026-11-30', 'infinity', '-infinity', '4713-01-01 BC', '5874897-12-31'];
    jsons text[] := ARRAY[NULL, '{}', '[]', '1', '"s"', 'null', '{"a": [1, {"b": null}]}', '{bad', '{"a":}', '',
                          repeat('[', 5000) || repeat(']', 5000), '{"k": "' || repeat('v', 100000) || '"}',
                          E'{"\\u0000": 1}', '{"a": 1, "a": 2}'];
    bools text[] := ARRAY[NULL, 'true', 'false'];
    ids text[] := ARRAY[NULL, '-1', '0', '1', '2', '3', '5', '8', '13', '999999', '9223372036854775807'];
    fns text[] := ARRAY['usage_record', 'usage_record', 'usage_record', 'usage_record', 'usage_record', 'usage_record',
                        'usage_record_batch', 'usage_record_batch', 'check_limit', 'live_usage', 'period_bounds',
                        'set_tenant', 'set_price', 'set_unit_price', 'set_limit', 'remove_limit', 'void_event',
                        'correct_event', 'rebuild', 'verify', 'health', 'roll_up', 'drop_events_before',
                        'create_partitions', 'set_model_alias', 'remove_model_alias', 'set_provider_alias',
                        'remove_provider_alias', 'price_for', 'price_suggestions', 'maintain', 'set_retention',
                        'usage_series', 'top_usage', 'session_usage', 'latency_percentiles', 'spend_forecast'];
    intervals text[] := ARRAY[NULL, '0', '-1 month', '1 second', '29 days', '1 month', '1000000 years', '1000 years',
                              '-178000000 years', '1 mon -40 days'];
    p_intervals text[] := ARRAY[NULL, '1 month', '13 months'];
    p_texts text[] := ARRAY['acme', 'globex', 'alice', 'bob', 'm', 'chat', 'search'];
    p_nums text[] := ARRAY[NULL, '0', '1', '0.1', '2.5'];
    p_ints text[] := ARRAY['0', '1', '42', '1000'];
    p_times text[] := ARRAY['now', '2026-11-02 10:00Z', '2026-10-31 23:30Z'];
    p_dates text[] := ARRAY[NULL, '2026-11-01', '2026-11-30'];
    p_jsons text[] := ARRAY[NULL, '{}', '{"a": [1, {"b": null}]}'];
    p_ids text[] := ARRAY['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'];
    p_event_tenant text[] := ARRAY['acme'];
    p_event_id text[] := ARRAY['1'];
    fn text;
    batch text;
    j int;
    call text;
    result record;
    code text;
    expected bigint := 0;
    actual bigint;
    i int;
BEGIN
    FOR i IN 1..4000 LOOP
        fn := fns[1 + floor(random() * array_length(fns, 1))::int];
        PERFORM set_config('fuzz.plausible', CASE WHEN random() < 0.5 THEN '1' ELSE '0.75' END, false);
        IF fn IN ('void_event', 'correct_event') THEN  -- mostly an event that exists
            SELECT ARRAY[e.tenant], ARRAY[e.event_id::text] INTO p_event_tenant, p_event_id
              FROM usage_meter.events AS e ORDER BY random() LIMIT 1;
        END IF;
        IF fn = 'usage_record_batch' THEN  -- one to three elements, or (one time in five) any document
            batch := NULL;
            FOR j IN 1..1 + floor(random() * 3)::int LOOP
                batch := concat_ws(', ', batch, format(
                    'jsonb_build_object(''user_id'', %L::text, ''operation'', %L::text, ''model'', %L::text, '
                    '''input_tokens'', %L::bigint, ''output_tokens'', %L::bigint, ''cost'', %L::numeric, '
                    '''occurred_at'', %L::text, ''idempotency_key'', %L::text, ''metadata'', %L::jsonb)',
                    pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts),
                    pg_temp.pick(p_ints, ints), pg_temp.pick(p_ints, ints), pg_temp.pick(p_nums, nums),
                    pg_temp.pick(p_times, times), pg_temp.pick(p_texts, texts), pg_temp.pick(p_jsons, jsons)));
            END LOOP;
            batch := CASE WHEN random() < 0.2 THEN format('%L::jsonb', pg_temp.pick(p_jsons, jsons))
                          ELSE 'jsonb_build_array(' || batch || ')' END;
        END IF;
        call := CASE fn
            WHEN 'usage_record_batch' THEN format(
                'SELECT count(*) FILTER (WHERE NOT duplicate) AS fresh FROM usage_meter.usage_record_batch(%L::text, %s)',
                pg_temp.pick(p_texts, texts), batch)
            WHEN 'usage_record' THEN format(
                'SELECT duplicate FROM usage_meter.usage_record(%L::text, %L::text, %L::text, %L::text, %L::bigint, '
                '%L::bigint, %L::bigint, %L::bigint, %L::bigint, %L::numeric, %L::numeric, %L::text, %L::timestamptz, '
                '%L::text, %L::text, %L::integer, %L::boolean, %L::jsonb)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_ints, ints), pg_temp.pick(p_ints, ints),
                pg_temp.pick(p_ints, ints), pg_temp.pick(p_ints, ints),
                pg_temp.pick(p_ints, ints), pg_temp.pick(p_nums, nums),
                pg_temp.pick(p_nums, nums), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_times, times), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_ints, ints),
                bools[1 + floor(random() * 3)::int], pg_temp.pick(p_jsons, jsons))
            WHEN 'check_limit' THEN format('SELECT * FROM usage_meter.check_limit(%L::text, %L::text, %L::numeric, %L::bigint)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_nums, nums), pg_temp.pick(p_ints, ints))
            WHEN 'live_usage' THEN format('SELECT * FROM usage_meter.live_usage(%L::text, %L::text)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts))
            WHEN 'period_bounds' THEN format('SELECT * FROM usage_meter.period_bounds(%L::text, %L::timestamptz)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_times, times))
            WHEN 'set_tenant' THEN format('SELECT usage_meter.set_tenant(%L::text, %L::text, %L::numeric)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_nums, nums))
            WHEN 'set_price' THEN format('SELECT usage_meter.set_price(%L::text, %L::numeric, %L::numeric, %L::numeric, '
                '%L::numeric, %L::text, %L::timestamptz)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_nums, nums),
                pg_temp.pick(p_nums, nums), pg_temp.pick(p_nums, nums),
                pg_temp.pick(p_nums, nums), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_times, times))
            WHEN 'set_unit_price' THEN format('SELECT usage_meter.set_unit_price(%L::text, %L::numeric, %L::timestamptz)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_nums, nums),
                pg_temp.pick(p_times, times))
            WHEN 'set_limit' THEN format('SELECT usage_meter.set_limit(%L::text, %L::text, %L::text, %L::text, '
                '%L::numeric, %L::boolean)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_nums, nums), bools[1 + floor(random() * 3)::int])
            WHEN 'remove_limit' THEN format('SELECT usage_meter.remove_limit(%L::text, %L::text, %L::text, %L::text)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts))
            WHEN 'void_event' THEN format('SELECT usage_meter.void_event(%L::text, %L::bigint, %L::text)',
                pg_temp.pick(p_event_tenant, texts), pg_temp.pick(p_event_id, ids),
                pg_temp.pick(p_texts, texts))
            WHEN 'correct_event' THEN format('SELECT * FROM usage_meter.correct_event(%L::text, %L::bigint, %L::text, '
                'input_tokens => %L::bigint, output_tokens => %L::bigint, quantity => %L::numeric, cost => %L::numeric, '
                'model => %L::text, metadata => %L::jsonb)',
                pg_temp.pick(p_event_tenant, texts), pg_temp.pick(p_event_id, ids),
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_ints, ints),
                pg_temp.pick(p_ints, ints), pg_temp.pick(p_nums, nums),
                pg_temp.pick(p_nums, nums), pg_temp.pick(p_texts, texts),
                pg_temp.pick(p_jsons, jsons))
            WHEN 'rebuild' THEN format('SELECT * FROM usage_meter.rebuild(%L::text, %L::date, %L::date)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_dates, dates),
                pg_temp.pick(p_dates, dates))
            WHEN 'drop_events_before' THEN format('SELECT usage_meter.drop_events_before(%L::timestamptz) AS dropped',
                pg_temp.pick(p_times, times))
            WHEN 'create_partitions' THEN format('SELECT count(*) AS created FROM usage_meter.create_partitions(%L::integer)',
                pg_temp.pick(p_ints, ints))
            WHEN 'set_model_alias' THEN format('SELECT usage_meter.set_model_alias(%L::text, %L::text, %L::text)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts))
            WHEN 'remove_model_alias' THEN format('SELECT usage_meter.remove_model_alias(%L::text)',
                pg_temp.pick(p_texts, texts))
            WHEN 'set_provider_alias' THEN format('SELECT usage_meter.set_provider_alias(%L::text, %L::text, %L::integer)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts), pg_temp.pick(p_ints, ints))
            WHEN 'remove_provider_alias' THEN format('SELECT usage_meter.remove_provider_alias(%L::text, %L::text)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts))
            WHEN 'price_for' THEN format('SELECT * FROM usage_meter.price_for(%L::text, %L::text, %L::timestamptz)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts), pg_temp.pick(p_times, times))
            WHEN 'price_suggestions' THEN format('SELECT usage_meter.price_suggestions(%L::text, %L::text)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts))
            WHEN 'maintain' THEN 'SELECT (sum(done) FILTER (WHERE job = ''retention''))::bigint AS dropped FROM usage_meter.maintain()'
            WHEN 'set_retention' THEN format('SELECT usage_meter.set_retention(%L::interval)',
                pg_temp.pick(p_intervals, intervals))
            WHEN 'usage_series' THEN format('SELECT count(*) FROM usage_meter.usage_series(%L::text, %L::date, %L::date, '
                '%L::text, ARRAY[%L, %L]::text[], %L::text)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_dates, dates), pg_temp.pick(p_dates, dates),
                pg_temp.pick(ARRAY['day', 'week', 'month'], texts), pg_temp.pick(ARRAY['model', 'user_id'], texts),
                pg_temp.pick(ARRAY['operation', 'provider'], texts), pg_temp.pick(p_texts, texts))
            WHEN 'top_usage' THEN format('SELECT count(*) FROM usage_meter.top_usage(%L::text, %L::date, %L::date, '
                '%L::text, %L::text, %L::integer)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_dates, dates), pg_temp.pick(p_dates, dates),
                pg_temp.pick(ARRAY['user_id', 'model'], texts), pg_temp.pick(ARRAY['cost', 'tokens'], texts),
                pg_temp.pick(p_ints, ints))
            WHEN 'session_usage' THEN format('SELECT * FROM usage_meter.session_usage(%L::text, %L::text)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts))
            WHEN 'latency_percentiles' THEN format('SELECT count(*) FROM usage_meter.latency_percentiles(%L::text, '
                '%L::date, %L::date, ARRAY[%L]::text[])',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_dates, dates), pg_temp.pick(p_dates, dates),
                pg_temp.pick(ARRAY['model', 'operation'], texts))
            WHEN 'spend_forecast' THEN format('SELECT * FROM usage_meter.spend_forecast(%L::text, %L::text, %L::timestamptz)',
                pg_temp.pick(p_texts, texts), pg_temp.pick(p_texts, texts), pg_temp.pick(p_times, times))
            WHEN 'verify' THEN 'SELECT * FROM usage_meter.verify()'
            WHEN 'health' THEN 'SELECT * FROM usage_meter.health()'
            ELSE (ARRAY['SELECT usage_meter.roll_up(NULL)', 'SELECT usage_meter.roll_up(''{}'')',
                        'SELECT usage_meter.roll_up(ARRAY[NULL]::usage_meter.events[])'])[1 + floor(random() * 3)::int]
        END;
        BEGIN
            EXECUTE call INTO result;
            code := '00000';
            -- What a successful call adds to the ledger.
            IF fn = 'usage_record' THEN
                IF NOT result.duplicate THEN expected := expected + 1; END IF;
            ELSIF fn = 'usage_record_batch' THEN expected := expected + result.fresh;
            ELSIF fn = 'void_event' THEN expected := expected + 1;
            ELSIF fn = 'correct_event' THEN expected := expected + 2;
            ELSIF fn IN ('drop_events_before', 'maintain') THEN expected := expected - result.dropped;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE;
            IF code LIKE 'XX%' THEN
                RAISE WARNING 'internal error % for: %', code, left(call, 500);
            END IF;
        END;
        INSERT INTO outcomes VALUES (fn, code, 1);
    END LOOP;
    SELECT count(*) INTO actual FROM usage_meter.events;
    IF actual <> expected THEN
        RAISE EXCEPTION 'the ledger has % rows; successful calls wrote %', actual, expected;
    END IF;
    RAISE NOTICE 'ledger rows: % (as the successful calls wrote)', actual;
END
$fuzz$;

SELECT fn || ' ' || sqlstate || ': ' || sum(calls) FROM outcomes GROUP BY fn, sqlstate ORDER BY fn, sqlstate;
SELECT 'successful calls: ' || count(*) FILTER (WHERE sqlstate = '00000') || ', refused: '
       || count(*) FILTER (WHERE sqlstate <> '00000') FROM outcomes;
SELECT 'ledger events: ' || count(*) FROM usage_meter.events;
SELECT 'internal errors: ' || count(*) FROM outcomes WHERE sqlstate LIKE 'XX%';
SELECT 'verify() differences: ' || count(*) FROM usage_meter.verify();
SELECT CASE WHEN (SELECT count(*) FROM outcomes WHERE sqlstate LIKE 'XX%') = 0
             AND (SELECT count(*) FROM usage_meter.verify()) = 0
             AND (SELECT count(*) FROM outcomes WHERE fn = 'usage_record' AND sqlstate = '00000') > 200
             AND (SELECT count(*) FROM outcomes WHERE fn IN ('void_event', 'correct_event') AND sqlstate = '00000') > 20
            THEN 'fuzz: ok' ELSE 'fuzz: FAILED' END;
