-- Recording: the ledger's triggers (every row is validated, priced and bucketed before it is written, and rolled
-- up into daily_rollup and counters after, whether it comes from usage_record or from INSERT / COPY straight
-- into the ledger), roll_up for where triggers cannot run, usage_record, and the provider-payload path
-- (normalize_usage, record_response). Writers call usage_record and record_response, which run as the
-- extension's owner: a writer has no rights on the tables and can write only what these functions write.

------------------------------------------------------------------------------------------------------------
-- Ledger triggers (C++).
------------------------------------------------------------------------------------------------------------
-- events_prepare runs for every row and has no SET clause (a GUC save and restore per row is an eighth of a bulk
-- load's time): the C code pins search_path itself around the little SQL it runs (creating a tenant, claiming
-- an idempotency key, reading the event a reversal cancels).
CREATE FUNCTION usage_meter.events_prepare() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'events_prepare';
CREATE FUNCTION usage_meter.events_rollup() RETURNS trigger
    LANGUAGE c SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'events_rollup';
CREATE FUNCTION usage_meter.events_append_only() RETURNS trigger
    LANGUAGE c SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'events_append_only';

CREATE TRIGGER events_prepare BEFORE INSERT ON usage_meter.events
    FOR EACH ROW EXECUTE FUNCTION usage_meter.events_prepare();
CREATE TRIGGER events_rollup AFTER INSERT ON usage_meter.events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION usage_meter.events_rollup();
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON usage_meter.events
    FOR EACH STATEMENT EXECUTE FUNCTION usage_meter.events_append_only();
-- Statement triggers of the parent do not fire for a statement naming a partition: each partition has its own.
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON usage_meter.events_default
    FOR EACH STATEMENT EXECUTE FUNCTION usage_meter.events_append_only();

-- The roll-up the events_rollup trigger performs, callable directly: where triggers cannot run on the ledger
-- (Citus refuses them on distributed tables), record with the trigger disabled and pass the new rows here
-- in the same transaction.
CREATE FUNCTION usage_meter.roll_up(events usage_meter.events[]) RETURNS bigint
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'roll_up';

------------------------------------------------------------------------------------------------------------
-- Recording.
------------------------------------------------------------------------------------------------------------
CREATE TYPE usage_meter.recorded AS (
    event_id     bigint,
    cost         numeric,
    billed_cost  numeric,
    priced       boolean,
    duplicate    boolean
);

-- reservation_id settles that reservation (limits.sql). The statements usage_record, record_response,
-- reserve and release run on usage_meter.reservations look a row up by its key. Planned while the table was
-- empty and freshly analyzed (VACUUM ANALYZE right after CREATE EXTENSION), the settling UPDATE became a
-- sequential scan, and every backend kept that plan until the next ANALYZE: each settle then read the whole
-- table. With sequential scans disabled inside these calls the key lookups always use the primary key or the
-- open-holds index, whatever the statistics say.
CREATE FUNCTION usage_meter.usage_record(
    tenant              text,
    user_id             text,
    operation           text,
    model               text DEFAULT NULL,
    input_tokens        bigint DEFAULT 0,
    output_tokens       bigint DEFAULT 0,
    cache_read_tokens   bigint DEFAULT 0,
    cache_write_tokens  bigint DEFAULT 0,
    reasoning_tokens    bigint DEFAULT 0,
    quantity            numeric DEFAULT NULL,
    cost                numeric DEFAULT NULL,
    provider            text DEFAULT NULL,
    occurred_at         timestamptz DEFAULT pg_catalog.now(),
    idempotency_key     text DEFAULT NULL,
    session_id          text DEFAULT NULL,
    latency_ms          integer DEFAULT NULL,
    success             boolean DEFAULT true,
    metadata            jsonb DEFAULT '{}',
    reservation_id      bigint DEFAULT NULL)
RETURNS usage_meter.recorded
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_seqscan = off
    AS 'MODULE_PATHNAME', 'usage_record';
COMMENT ON FUNCTION usage_meter.usage_record IS 'Records one usage event: validated, priced, rolled up, idempotent per tenant; settles reservation_id';

------------------------------------------------------------------------------------------------------------
-- Batches: many events in one call (docs/recording.md, "Batches").
------------------------------------------------------------------------------------------------------------
-- Records the elements of a JSON array in order, each through usage_record (so the same defaults, validation,
-- idempotency and reservation settling), one result row per element; all or nothing. An element is an object
-- with usage_record's argument names. The whole array's shape is checked first (an array of at most 100,000
-- objects, known fields only, each field's JSON type and range, one tenant), so a malformed batch is refused
-- before anything is recorded; then the elements are recorded in order. A refusal, of the shape or of
-- usage_record for an element, names the element by its 0-based index ("element 3: ...") and keeps the
-- SQLSTATE, detail and hint. One exception block around the whole loop (one subtransaction per call, not per
-- element) adds the index.
-- tenant_from_elements: the tenant is element 0's and every element names it (usage_record_batch(events));
-- otherwise batch_tenant is the tenant argument and an element that names a tenant names this one.
CREATE FUNCTION usage_meter.record_batch(batch_tenant text, events jsonb, tenant_from_elements boolean)
RETURNS SETOF usage_meter.recorded
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- usage_record's arguments and the JSON type each takes (or null); whole numbers and their range.
    kinds CONSTANT jsonb := '{"tenant": "string", "user_id": "string", "operation": "string", "model": "string",
        "input_tokens": "number", "output_tokens": "number", "cache_read_tokens": "number",
        "cache_write_tokens": "number", "reasoning_tokens": "number", "quantity": "number", "cost": "number",
        "provider": "string", "occurred_at": "string", "idempotency_key": "string", "session_id": "string",
        "latency_ms": "number", "success": "boolean", "metadata": "object", "reservation_id": "number"}';
    whole CONSTANT jsonb := '{"input_tokens": [-9223372036854775808, 9223372036854775807],
        "output_tokens": [-9223372036854775808, 9223372036854775807],
        "cache_read_tokens": [-9223372036854775808, 9223372036854775807],
        "cache_write_tokens": [-9223372036854775808, 9223372036854775807],
        "reasoning_tokens": [-9223372036854775808, 9223372036854775807], "latency_ms": [-2147483648, 2147483647],
        "reservation_id": [-9223372036854775808, 9223372036854775807]}';
    fields CONSTANT text[] := ARRAY['tenant', 'user_id', 'operation', 'model', 'input_tokens', 'output_tokens',
        'cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens', 'quantity', 'cost', 'provider', 'occurred_at',
        'idempotency_key', 'session_id', 'latency_ms', 'success', 'metadata', 'reservation_id'];
    max_elements CONSTANT integer := 100000;
    n integer;
    i integer;
    e jsonb;
    at timestamptz;
    field text;
    bad record;
    got text;
    r usage_meter.recorded;
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    IF events IS NULL THEN
        RAISE EXCEPTION 'events must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF pg_catalog.jsonb_typeof(events) OPERATOR(pg_catalog.<>) 'array' THEN
        RAISE EXCEPTION 'invalid events: it must be a JSON array, not a JSON %', pg_catalog.jsonb_typeof(events)
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF NOT tenant_from_elements AND batch_tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    n := pg_catalog.jsonb_array_length(events);
    IF n OPERATOR(pg_catalog.>) max_elements THEN
        RAISE EXCEPTION 'invalid events: % elements, at most % in one call', n, max_elements
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Split the batch into calls of at most 100000 events (each call is all or nothing).';
    END IF;
    IF tenant_from_elements THEN
        batch_tenant := events OPERATOR(pg_catalog.->) 0 OPERATOR(pg_catalog.->>) 'tenant';
    END IF;

    -- The shape, for the whole array at once: the first field (by element, then in jsonb's key order) that is
    -- not one of usage_record's arguments, has a value of the wrong JSON type or out of its range, or names
    -- another tenant. An element that is not an object is read as an object of one field named "". The first
    -- condition reads each element as a whole (its fields by name: a few microseconds) and lets through only the
    -- elements that may be wrong (it may let a right one through, never stops a wrong one); only their fields are
    -- then read one by one, to name the field.
    SELECT a.i, x.key, x.value INTO bad
      FROM pg_catalog.jsonb_array_elements(events) WITH ORDINALITY AS a(e, i)
     CROSS JOIN LATERAL pg_catalog.jsonb_each(
               CASE WHEN pg_catalog.jsonb_typeof(a.e) OPERATOR(pg_catalog.=) 'object' THEN a.e
                    ELSE pg_catalog.jsonb_build_object('', a.e) END) WITH ORDINALITY AS x(key, value, position)
     WHERE CASE WHEN pg_catalog.jsonb_typeof(a.e) OPERATOR(pg_catalog.<>) 'object' THEN true
           ELSE (a.e OPERATOR(pg_catalog.-) fields) OPERATOR(pg_catalog.<>) '{}'
                OR pg_catalog.concat_ws(',',
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'tenant'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'user_id'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'operation'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'model'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'provider'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'occurred_at'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'idempotency_key'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'session_id'))
                   OPERATOR(pg_catalog.!~) '^((string|null)(,|$))*$'
                OR pg_catalog.concat_ws(',',
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'input_tokens'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'output_tokens'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'cache_read_tokens'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'cache_write_tokens'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'reasoning_tokens'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'quantity'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'cost'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'latency_ms'),
                       pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'reservation_id'))
                   OPERATOR(pg_catalog.!~) '^((number|null)(,|$))*$'
                OR NOT pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'success')
                       OPERATOR(pg_catalog.=) ANY (ARRAY['boolean', 'null'])
                OR NOT pg_catalog.jsonb_typeof(a.e OPERATOR(pg_catalog.->) 'metadata')
                       OPERATOR(pg_catalog.=) ANY (ARRAY['object', 'null'])
                -- whole numbers: jsonb prints them without a point or an exponent; 18 digits are within bigint's
                -- range, 9 within integer's (a longer one, or 1200.0, is let through to be looked at)
                OR pg_catalog.concat_ws(',', a.e OPERATOR(pg_catalog.->>) 'input_tokens',
                       a.e OPERATOR(pg_catalog.->>) 'output_tokens',
                       a.e OPERATOR(pg_catalog.->>) 'cache_read_tokens',
                       a.e OPERATOR(pg_catalog.->>) 'cache_write_tokens',
                       a.e OPERATOR(pg_catalog.->>) 'reasoning_tokens',
                       a.e OPERATOR(pg_catalog.->>) 'reservation_id')
                   OPERATOR(pg_catalog.!~) '^(-?[0-9]{1,18}(,|$))*$'
                OR (a.e OPERATOR(pg_catalog.->>) 'latency_ms') OPERATOR(pg_catalog.!~) '^-?[0-9]{1,9}$'
                OR (a.e OPERATOR(pg_catalog.->>) 'tenant') OPERATOR(pg_catalog.<>) batch_tenant END
       AND CASE WHEN (kinds OPERATOR(pg_catalog.->>) x.key) OPERATOR(pg_catalog.=) pg_catalog.jsonb_typeof(x.value)
                THEN ((whole OPERATOR(pg_catalog.?) x.key)
                      AND (x.value::numeric OPERATOR(pg_catalog.<>) pg_catalog.trunc(x.value::numeric)
                           OR x.value::numeric OPERATOR(pg_catalog.<)
                              (whole OPERATOR(pg_catalog.->) x.key OPERATOR(pg_catalog.->) 0)::numeric
                           OR x.value::numeric OPERATOR(pg_catalog.>)
                              (whole OPERATOR(pg_catalog.->) x.key OPERATOR(pg_catalog.->) 1)::numeric))
                     OR (x.key OPERATOR(pg_catalog.=) 'tenant' AND batch_tenant IS NOT NULL
                         AND (x.value OPERATOR(pg_catalog.#>>) '{}') OPERATOR(pg_catalog.<>) batch_tenant)
                ELSE NOT (kinds OPERATOR(pg_catalog.?) x.key)
                     OR pg_catalog.jsonb_typeof(x.value) OPERATOR(pg_catalog.<>) 'null' END
     ORDER BY a.i, x.position
     LIMIT 1;
    IF FOUND THEN
        i := bad.i OPERATOR(pg_catalog.-) 1;
        got := pg_catalog.jsonb_typeof(bad.value);
        IF pg_catalog.jsonb_typeof(events OPERATOR(pg_catalog.->) i) OPERATOR(pg_catalog.<>) 'object' THEN
            RAISE EXCEPTION 'element %: it must be a JSON object, not a JSON %', i, got
                USING ERRCODE = 'invalid_parameter_value';
        ELSIF NOT (kinds OPERATOR(pg_catalog.?) bad.key) THEN
            RAISE EXCEPTION 'element %: unknown field "%"', i, bad.key
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'An element''s fields are usage_record''s arguments: tenant, user_id, operation, model, '
                             'input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, '
                             'quantity, cost, provider, occurred_at, idempotency_key, session_id, latency_ms, success, '
                             'metadata, reservation_id.';
        ELSIF got OPERATOR(pg_catalog.<>) (kinds OPERATOR(pg_catalog.->>) bad.key) THEN
            RAISE EXCEPTION 'element %: invalid %: a JSON % where % is expected', i, bad.key, got,
                  CASE WHEN whole OPERATOR(pg_catalog.?) bad.key THEN 'a whole number'
                       WHEN kinds OPERATOR(pg_catalog.->>) bad.key OPERATOR(pg_catalog.=) 'object' THEN 'an object'
                       ELSE 'a ' OPERATOR(pg_catalog.||) (kinds OPERATOR(pg_catalog.->>) bad.key) END
                USING ERRCODE = 'invalid_parameter_value';
        ELSIF bad.key OPERATOR(pg_catalog.=) 'tenant' THEN
            RAISE EXCEPTION 'element %: tenant "%" is not the batch''s tenant "%"', i,
                  bad.value OPERATOR(pg_catalog.#>>) '{}', batch_tenant
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = CASE WHEN tenant_from_elements
                                  THEN 'One call records for one tenant: every element names element 0''s tenant.'
                                  ELSE 'One call records for one tenant: an element that names a tenant names the '
                                       'tenant argument.' END;
        ELSIF bad.value::numeric OPERATOR(pg_catalog.<>) pg_catalog.trunc(bad.value::numeric) THEN
            RAISE EXCEPTION 'element %: invalid %: % is not a whole number', i, bad.key, bad.value
                USING ERRCODE = 'invalid_parameter_value';
        ELSE
            RAISE EXCEPTION 'element %: invalid %: % is out of range', i, bad.key, bad.value
                USING ERRCODE = 'numeric_value_out_of_range';
        END IF;
    END IF;

    -- The elements in order. A field left out takes usage_record's default (tenant, user_id and operation have
    -- none: NULL); a JSON null is a NULL argument.
    i := -1;
    BEGIN
        WHILE i OPERATOR(pg_catalog.<) (n OPERATOR(pg_catalog.-) 1) LOOP
            i := i OPERATOR(pg_catalog.+) 1;
            e := events OPERATOR(pg_catalog.->) i;
            at := pg_catalog.now();
            IF e OPERATOR(pg_catalog.?) 'occurred_at' THEN
                field := 'occurred_at';
                at := (e OPERATOR(pg_catalog.->>) 'occurred_at')::timestamptz;
                field := NULL;
            END IF;
            r := usage_meter.usage_record(
                tenant => CASE WHEN tenant_from_elements THEN e OPERATOR(pg_catalog.->>) 'tenant' ELSE batch_tenant END,
                user_id => e OPERATOR(pg_catalog.->>) 'user_id',
                operation => e OPERATOR(pg_catalog.->>) 'operation',
                model => e OPERATOR(pg_catalog.->>) 'model',
                input_tokens => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'input_tokens')
                    WHEN 'number' THEN (e OPERATOR(pg_catalog.->) 'input_tokens')::bigint
                    WHEN 'null' THEN NULL ELSE 0 END,
                output_tokens => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'output_tokens')
                    WHEN 'number' THEN (e OPERATOR(pg_catalog.->) 'output_tokens')::bigint
                    WHEN 'null' THEN NULL ELSE 0 END,
                cache_read_tokens => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'cache_read_tokens')
                    WHEN 'number' THEN (e OPERATOR(pg_catalog.->) 'cache_read_tokens')::bigint
                    WHEN 'null' THEN NULL ELSE 0 END,
                cache_write_tokens => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'cache_write_tokens')
                    WHEN 'number' THEN (e OPERATOR(pg_catalog.->) 'cache_write_tokens')::bigint
                    WHEN 'null' THEN NULL ELSE 0 END,
                reasoning_tokens => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'reasoning_tokens')
                    WHEN 'number' THEN (e OPERATOR(pg_catalog.->) 'reasoning_tokens')::bigint
                    WHEN 'null' THEN NULL ELSE 0 END,
                quantity => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'quantity')
                    WHEN 'number' THEN (e OPERATOR(pg_catalog.->) 'quantity')::numeric END,
                cost => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'cost')
                    WHEN 'number' THEN (e OPERATOR(pg_catalog.->) 'cost')::numeric END,
                provider => e OPERATOR(pg_catalog.->>) 'provider',
                occurred_at => at,
                idempotency_key => e OPERATOR(pg_catalog.->>) 'idempotency_key',
                session_id => e OPERATOR(pg_catalog.->>) 'session_id',
                latency_ms => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'latency_ms')
                    WHEN 'number' THEN (e OPERATOR(pg_catalog.->) 'latency_ms')::integer END,
                success => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'success')
                    WHEN 'boolean' THEN (e OPERATOR(pg_catalog.->) 'success')::boolean
                    WHEN 'null' THEN NULL ELSE true END,
                metadata => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'metadata')
                    WHEN 'object' THEN e OPERATOR(pg_catalog.->) 'metadata' WHEN 'null' THEN NULL ELSE '{}' END,
                reservation_id => CASE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'reservation_id')
                    WHEN 'number' THEN (e OPERATOR(pg_catalog.->) 'reservation_id')::bigint END);
            RETURN NEXT r;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                                hint = PG_EXCEPTION_HINT;
        message := pg_catalog.format('element %s: %s%s', i,
                                     CASE WHEN field IS NOT NULL THEN 'invalid ' || field || ': ' ELSE '' END, message);
        IF detail OPERATOR(pg_catalog.=) '' AND hint OPERATOR(pg_catalog.=) '' THEN
            RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message;
        ELSIF detail OPERATOR(pg_catalog.=) '' THEN
            RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, HINT = hint;
        ELSIF hint OPERATOR(pg_catalog.=) '' THEN
            RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail;
        ELSE
            RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail, HINT = hint;
        END IF;
    END;
END
$$;
COMMENT ON FUNCTION usage_meter.record_batch IS
    'usage_record_batch''s body: records a JSON array of events in order through usage_record, all or nothing';

-- The two forms callable by writers. usage_record_batch(events): every element names the tenant (the same one).
-- usage_record_batch(tenant, events): elements may leave the tenant out; one that names it names this one.
CREATE FUNCTION usage_meter.usage_record_batch(events jsonb)
RETURNS SETOF usage_meter.recorded
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM usage_meter.record_batch(NULL, $1, true)
$$;
COMMENT ON FUNCTION usage_meter.usage_record_batch(jsonb) IS
    'Records a JSON array of usage_record argument objects of one tenant, in order, all or nothing; one row per element';

CREATE FUNCTION usage_meter.usage_record_batch(tenant text, events jsonb)
RETURNS SETOF usage_meter.recorded
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM usage_meter.record_batch($1, $2, false)
$$;
COMMENT ON FUNCTION usage_meter.usage_record_batch(text, jsonb) IS
    'Records a JSON array of usage_record argument objects for the tenant, in order, all or nothing; one row per element';

------------------------------------------------------------------------------------------------------------
-- Provider payloads.
------------------------------------------------------------------------------------------------------------
-- The usage a provider reports in its response, in usage_meter's meanings (input = uncached prompt tokens,
-- output includes reasoning). provider: auto, openai, openai_chat, openai_responses, azure_openai, anthropic,
-- anthropic_stream, openrouter, gemini, vertex_ai, otel, deepseek, xai, mistral or bedrock_converse. The jsonb
-- is walked into the C++ core's tree and read there (src/pg/payload.cpp, src/core/payload.cpp).
CREATE FUNCTION usage_meter.normalize_usage(
    provider                text,
    payload                 jsonb,
    OUT model               text,
    OUT input_tokens        bigint,
    OUT output_tokens       bigint,
    OUT cache_read_tokens   bigint,
    OUT cache_write_tokens  bigint,
    OUT reasoning_tokens    bigint,
    OUT cost                numeric,
    OUT response_id         text,
    OUT provider_name       text,
    OUT format              text,
    OUT web_search_requests bigint)
    LANGUAGE c IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'normalize_usage_1_5';
COMMENT ON FUNCTION usage_meter.normalize_usage IS
    'Reads the usage in a provider response (OpenAI, Azure OpenAI, Anthropic, OpenRouter, Gemini, Vertex AI, DeepSeek, xAI, Mistral, Bedrock, OpenTelemetry) in usage_meter''s meanings';

-- Normalizes a provider response and records it through usage_record, in one call: the same validation,
-- pricing, roll-up and idempotency. The idempotency key defaults to the response's own id, so the same
-- generation arriving twice (webhook and periodic sync) is counted once. A payload that cannot be read is
-- refused before anything is written. Web searches the provider charges per call are a second event of the
-- same response: operation 'web_search', quantity = the searches, priced by set_unit_price('web_search', ...),
-- keyed by the response's key and '#web_search' (a key over 189 characters by its md5). The row returned is
-- the response's own event.
CREATE FUNCTION usage_meter.record_response(
    tenant           text,
    user_id          text,
    operation        text,
    provider         text,
    response         jsonb,
    session_id       text DEFAULT NULL,
    latency_ms       integer DEFAULT NULL,
    success          boolean DEFAULT true,
    occurred_at      timestamptz DEFAULT pg_catalog.now(),
    metadata         jsonb DEFAULT '{}',
    idempotency_key  text DEFAULT NULL,
    reservation_id   bigint DEFAULT NULL)  -- settles that reservation (limits.sql)
RETURNS usage_meter.recorded
    LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp SET enable_seqscan = off
AS $$
    SELECT r.*
      FROM usage_meter.normalize_usage($4, $5) AS n
     CROSS JOIN LATERAL usage_meter.usage_record(
               $1, $2, $3, n.model, n.input_tokens, n.output_tokens, n.cache_read_tokens, n.cache_write_tokens,
               n.reasoning_tokens,
               cost => n.cost, provider => n.provider_name, occurred_at => $9,
               idempotency_key => COALESCE($11, n.response_id),
               session_id => $6, latency_ms => $7, success => $8, metadata => $10,
               reservation_id => $12) AS r
      LEFT JOIN LATERAL (
          SELECT usage_meter.usage_record(
                     $1, $2, 'web_search', quantity => n.web_search_requests, provider => n.provider_name,
                     occurred_at => $9,
                     idempotency_key => CASE WHEN pg_catalog.length(COALESCE($11, n.response_id)) <= 189
                                             THEN COALESCE($11, n.response_id)
                                             ELSE pg_catalog.md5(COALESCE($11, n.response_id)) END || '#web_search',
                     session_id => $6, success => $8, metadata => $10)
           WHERE n.web_search_requests > 0 AND r.event_id IS NOT NULL) AS searches ON true
$$;
COMMENT ON FUNCTION usage_meter.record_response IS
    'Records a provider response: normalize_usage, then usage_record with the response id as idempotency key (and its web searches as a web_search event)';
