-- usage_meter_proxy 1.5: usage_meter's per-tenant API on a PL/Proxy database, routed by tenant to the partition
-- databases, each running usage_meter unchanged (docs/scale-out.md). A client cannot tell the proxy from one
-- usage_meter database: the same schema, function names, signatures, defaults, result types, SQLSTATEs and
-- messages. What the proxy adds: partition_of, tenant_partition, partitions, catalog_check and usage_totals.
\echo Use "CREATE EXTENSION usage_meter_proxy CASCADE" to load this file. \quit

DO $guard$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension AS x WHERE x.extname OPERATOR(pg_catalog.=) 'usage_meter') THEN
        RAISE EXCEPTION 'usage_meter_proxy cannot be created in a database with usage_meter'
            USING ERRCODE = 'object_in_use',
                  HINT = 'The proxy is a database of its own; usage_meter runs on the partitions it routes to.';
    END IF;
END
$guard$;

-- The internals: one PL/Proxy function per routed call (the remote call itself), the error translation and
-- the cluster configuration's readers. Not for clients.
CREATE SCHEMA usage_meter_proxy;

------------------------------------------------------------------------------------------------------------
-- Result types shared with usage_meter.
------------------------------------------------------------------------------------------------------------
CREATE TYPE usage_meter.recorded AS (
    event_id     bigint,
    cost         numeric,
    billed_cost  numeric,
    priced       boolean,
    duplicate    boolean
);

------------------------------------------------------------------------------------------------------------
-- Placement. partition_of(tenant) is the first 32 bits of the MD5 of the tenant's UTF-8 bytes, read as a
-- big-endian signed integer: the same value on every PostgreSQL version and platform (hashtext's values are
-- not promised stable). PL/Proxy takes its low bits: with N partitions (a power of two) the tenant lives on
-- partition partition_of(tenant) & (N - 1), i.e. that 32-bit number modulo N. Going from N to 2N partitions,
-- a tenant of partition p stays on p or moves to p + N. A NULL tenant goes to partition 0, which refuses it
-- with usage_meter's own error.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.partition_of(tenant text)
RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN tenant IS NULL THEN 0
                ELSE ('x' OPERATOR(pg_catalog.||)
                      pg_catalog.substr(pg_catalog.md5(pg_catalog.convert_to(tenant, 'UTF8')), 1, 8))::bit(32)::integer
           END
$$;
COMMENT ON FUNCTION usage_meter.partition_of IS
    'The tenant''s placement hash: the first 32 bits of md5(tenant in UTF-8); its partition is partition_of & (N - 1)';

-- The cluster configuration: the options p0 .. pN-1 of the server usage_meter (SQL/MED), each a libpq
-- connection string. PL/Proxy checks them when the server is created or altered (consecutive from p0, a power
-- of two in number); these read them for the proxy's own messages and fan-out.
CREATE FUNCTION usage_meter.partitions()
RETURNS TABLE (partition integer, connection text)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_foreign_server AS s WHERE s.srvname OPERATOR(pg_catalog.=) 'usage_meter') THEN
        PERFORM usage_meter_proxy.raise_again(ARRAY['XX000', 'Pl/Proxy: cluster not found: usage_meter', '', ''], NULL);
    END IF;
    RETURN QUERY
    SELECT pg_catalog.substring(o.option, '^p(?:artition_)?([0-9]+)=')::integer,
           pg_catalog.substring(o.option, '^[^=]*=(.*)$')
      FROM pg_catalog.pg_foreign_server AS s
     CROSS JOIN LATERAL pg_catalog.unnest(s.srvoptions) AS o(option)
     WHERE s.srvname OPERATOR(pg_catalog.=) 'usage_meter' AND o.option OPERATOR(pg_catalog.~) '^p(artition_)?[0-9]+='
     ORDER BY 1;
END
$$;
COMMENT ON FUNCTION usage_meter.partitions IS 'The partitions of the cluster configuration (server usage_meter): number and connection string';

CREATE FUNCTION usage_meter.tenant_partition(tenant text)
RETURNS integer
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT usage_meter.partition_of(tenant) OPERATOR(pg_catalog.&)
           ((SELECT pg_catalog.count(*)::integer FROM usage_meter.partitions()) OPERATOR(pg_catalog.-) 1)
$$;
COMMENT ON FUNCTION usage_meter.tenant_partition IS 'The partition that holds the tenant in the current cluster configuration';

------------------------------------------------------------------------------------------------------------
-- Errors. PL/Proxy keeps a remote error's SQLSTATE but prefixes its message ("usage_meter_proxy.f(n): [db]
-- REMOTE ERROR: ..."), its detail ("Remote detail: ") and hint ("Remote hint: "). Every routed function catches
-- what its call raised and hands it here: a partition's error is raised again as the partition raised it
-- (SQLSTATE, message, detail, hint); PL/Proxy's own errors get a message that names the problem and, for a
-- routed call, the partition. (The cost: an exception block, a subtransaction of the proxy per call; see
-- docs/scale-out.md.)
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter_proxy.raise_again(e text[], tenant text, partition integer DEFAULT NULL)
RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    state text := e[1];
    message text := e[2];
    detail text := NULLIF(e[3], '');
    hint text := NULLIF(e[4], '');
    m text[];
    which text;
BEGIN
    m := pg_catalog.regexp_match(message, '^\S+\(\d+\): \[[^]]*\] REMOTE ERROR: (.*)$');
    IF m IS NOT NULL THEN
        message := m[1];
        detail := pg_catalog.regexp_replace(detail, '^Remote detail: ', '');
        hint := pg_catalog.regexp_replace(hint, '^Remote hint: ', '');
    ELSIF message OPERATOR(pg_catalog.~) '^PL/Proxy function \S+\(\d+\): \[[^]]*\] ' THEN
        m := pg_catalog.regexp_match(message, '^PL/Proxy function \S+\(\d+\): \[([^]]*)\] (.*)$');
        partition := COALESCE(partition, CASE WHEN tenant IS NOT NULL THEN usage_meter.tenant_partition(tenant) END);
        which := CASE WHEN partition IS NOT NULL
                      THEN pg_catalog.format('partition %s (database "%s")', partition, m[1])
                      ELSE pg_catalog.format('the partition with database "%s"', m[1]) END;
        detail := pg_catalog.rtrim(pg_catalog.regexp_replace(m[2], '^PQ\w+: ', ''), E'\n');
        IF m[2] OPERATOR(pg_catalog.~) '^PQconnect' THEN
            state := '08001';
            message := pg_catalog.format('%s of cluster "usage_meter" is unreachable', which);
            hint := CASE WHEN tenant IS NOT NULL
                         THEN 'The call was not made: nothing was recorded. The tenants of that partition are refused until it is back; the other partitions are not affected.'
                         ELSE 'A call on every partition may have been applied on the others: repeat it once the partition is back (an identical catalog call is a no-op where it was applied); catalog_check() lists the differences.' END;
        ELSE
            state := CASE WHEN state OPERATOR(pg_catalog.=) 'XX000' THEN '08006' ELSE state END;
            message := pg_catalog.format('%s of cluster "usage_meter" failed during the call', which);
            hint := 'Whether the call took effect there is unknown: repeat it (a recording with the same idempotency_key is counted once).';
        END IF;
    ELSIF message OPERATOR(pg_catalog.~) '^Pl/Proxy: cluster not found: ' THEN
        state := '42704';
        message := 'no cluster configuration: the foreign server "usage_meter" does not exist';
        detail := NULL;
        hint := 'Create it with the partitions'' connection strings: CREATE SERVER usage_meter FOREIGN DATA WRAPPER plproxy OPTIONS (p0 ''dbname=...'', p1 ''...''), and a USER MAPPING for it (docs/scale-out.md).';
    ELSIF message OPERATOR(pg_catalog.~) '^user mapping not found' THEN
        message := message OPERATOR(pg_catalog.||) ' on the foreign server "usage_meter"';
        hint := 'Create one: CREATE USER MAPPING FOR ... SERVER usage_meter OPTIONS (user ''...'') (docs/scale-out.md).';
    END IF;
    IF detail IS NULL AND hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message;
    ELSIF detail IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, HINT = hint;
    ELSIF hint IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail;
    ELSE
        RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message, DETAIL = detail, HINT = hint;
    END IF;
END
$$;

------------------------------------------------------------------------------------------------------------
-- Routed to the tenant's partition (RUN ON partition_of(tenant)), or to any partition for the calls that read
-- no tenant's data (normalize_usage, price_for, price_suggestions). Each call is its own transaction on the
-- partition: it commits there when it returns, whatever the proxy's transaction does afterwards.
------------------------------------------------------------------------------------------------------------

CREATE FUNCTION usage_meter_proxy.usage_record(
    tenant text, user_id text, operation text, model text, input_tokens bigint, output_tokens bigint,
    cache_read_tokens bigint, cache_write_tokens bigint, reasoning_tokens bigint, quantity numeric, cost numeric,
    provider text, occurred_at timestamptz, idempotency_key text, session_id text, latency_ms integer,
    success boolean, metadata jsonb, reservation_id bigint)
RETURNS usage_meter.recorded
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.usage_record; $$;
CREATE FUNCTION usage_meter.usage_record(
    tenant text, user_id text, operation text, model text DEFAULT NULL, input_tokens bigint DEFAULT 0,
    output_tokens bigint DEFAULT 0, cache_read_tokens bigint DEFAULT 0, cache_write_tokens bigint DEFAULT 0,
    reasoning_tokens bigint DEFAULT 0, quantity numeric DEFAULT NULL, cost numeric DEFAULT NULL,
    provider text DEFAULT NULL, occurred_at timestamptz DEFAULT pg_catalog.now(), idempotency_key text DEFAULT NULL,
    session_id text DEFAULT NULL, latency_ms integer DEFAULT NULL, success boolean DEFAULT true,
    metadata jsonb DEFAULT '{}', reservation_id bigint DEFAULT NULL)
RETURNS usage_meter.recorded
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN usage_meter_proxy.usage_record(
        usage_record.tenant, usage_record.user_id, usage_record.operation, usage_record.model,
        usage_record.input_tokens, usage_record.output_tokens, usage_record.cache_read_tokens,
        usage_record.cache_write_tokens, usage_record.reasoning_tokens, usage_record.quantity, usage_record.cost,
        usage_record.provider, usage_record.occurred_at, usage_record.idempotency_key, usage_record.session_id,
        usage_record.latency_ms, usage_record.success, usage_record.metadata, usage_record.reservation_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], usage_record.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.record_response(
    tenant text, user_id text, operation text, provider text, response jsonb, session_id text, latency_ms integer,
    success boolean, occurred_at timestamptz, metadata jsonb, idempotency_key text, reservation_id bigint)
RETURNS usage_meter.recorded
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.record_response; $$;
CREATE FUNCTION usage_meter.record_response(
    tenant text, user_id text, operation text, provider text, response jsonb, session_id text DEFAULT NULL,
    latency_ms integer DEFAULT NULL, success boolean DEFAULT true, occurred_at timestamptz DEFAULT pg_catalog.now(),
    metadata jsonb DEFAULT '{}', idempotency_key text DEFAULT NULL, reservation_id bigint DEFAULT NULL)
RETURNS usage_meter.recorded
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN usage_meter_proxy.record_response(
        record_response.tenant, record_response.user_id, record_response.operation, record_response.provider,
        record_response.response, record_response.session_id, record_response.latency_ms, record_response.success,
        record_response.occurred_at, record_response.metadata, record_response.idempotency_key,
        record_response.reservation_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], record_response.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.usage_record_batch(
    tenant text, events jsonb)
RETURNS SETOF usage_meter.recorded
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.usage_record_batch; $$;
CREATE FUNCTION usage_meter.usage_record_batch(
    tenant text, events jsonb)
RETURNS SETOF usage_meter.recorded
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY SELECT * FROM usage_meter_proxy.usage_record_batch(
        usage_record_batch.tenant, usage_record_batch.events);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], usage_record_batch.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.check_limit(
    tenant text, user_id text, estimated_cost numeric, estimated_tokens bigint,
    OUT allowed boolean, OUT metric text, OUT period text, OUT used numeric, OUT max_value numeric,
    OUT remaining numeric, OUT resets_at timestamptz, OUT held numeric)
RETURNS record
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.check_limit; $$;
CREATE FUNCTION usage_meter.check_limit(
    tenant text, user_id text DEFAULT NULL, estimated_cost numeric DEFAULT 0, estimated_tokens bigint DEFAULT 0,
    OUT allowed boolean, OUT metric text, OUT period text, OUT used numeric, OUT max_value numeric,
    OUT remaining numeric, OUT resets_at timestamptz, OUT held numeric)
RETURNS record
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    SELECT * INTO check_limit.allowed, check_limit.metric, check_limit.period, check_limit.used, check_limit.max_value, check_limit.remaining, check_limit.resets_at, check_limit.held
      FROM usage_meter_proxy.check_limit(
        check_limit.tenant, check_limit.user_id, check_limit.estimated_cost, check_limit.estimated_tokens);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], check_limit.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.reserve(
    tenant text, user_id text, estimated_cost numeric, estimated_tokens bigint, ttl interval)
RETURNS bigint
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.reserve; $$;
CREATE FUNCTION usage_meter.reserve(
    tenant text, user_id text DEFAULT NULL, estimated_cost numeric DEFAULT 0, estimated_tokens bigint DEFAULT 0,
    ttl interval DEFAULT '10 minutes')
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN usage_meter_proxy.reserve(
        reserve.tenant, reserve.user_id, reserve.estimated_cost, reserve.estimated_tokens, reserve.ttl);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], reserve.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.release(
    tenant text, reservation_id bigint)
RETURNS boolean
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.release; $$;
CREATE FUNCTION usage_meter.release(
    tenant text, reservation_id bigint)
RETURNS boolean
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN usage_meter_proxy.release(
        release.tenant, release.reservation_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], release.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.purge_reservations(
    tenant text, older_than interval)
RETURNS bigint
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.purge_reservations; $$;
CREATE FUNCTION usage_meter.purge_reservations(
    tenant text, older_than interval DEFAULT '7 days')
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN usage_meter_proxy.purge_reservations(
        purge_reservations.tenant, purge_reservations.older_than);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], purge_reservations.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.live_usage(
    tenant text, user_id text)
RETURNS TABLE (period text, period_start date, requests bigint, tokens bigint, cost numeric, billed_cost numeric)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.live_usage; $$;
CREATE FUNCTION usage_meter.live_usage(
    tenant text, user_id text DEFAULT NULL)
RETURNS TABLE (period text, period_start date, requests bigint, tokens bigint, cost numeric, billed_cost numeric)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY SELECT * FROM usage_meter_proxy.live_usage(
        live_usage.tenant, live_usage.user_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], live_usage.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.period_bounds(
    tenant text, at timestamptz)
RETURNS TABLE (period text, period_start date, starts_at timestamptz, resets_at timestamptz)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.period_bounds; $$;
CREATE FUNCTION usage_meter.period_bounds(
    tenant text, at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (period text, period_start date, starts_at timestamptz, resets_at timestamptz)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY SELECT * FROM usage_meter_proxy.period_bounds(
        period_bounds.tenant, period_bounds.at);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], period_bounds.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.set_tenant(
    tenant text, time_zone text, markup_pct numeric)
RETURNS void
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.set_tenant; $$;
CREATE FUNCTION usage_meter.set_tenant(
    tenant text, time_zone text DEFAULT 'UTC', markup_pct numeric DEFAULT 0)
RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    PERFORM usage_meter_proxy.set_tenant(
        set_tenant.tenant, set_tenant.time_zone, set_tenant.markup_pct);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], set_tenant.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.set_limit(
    tenant text, user_id text, metric text, period text, max_value numeric, hard boolean, alert boolean)
RETURNS void
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.set_limit; $$;
CREATE FUNCTION usage_meter.set_limit(
    tenant text, user_id text, metric text, period text, max_value numeric, hard boolean DEFAULT true,
    alert boolean DEFAULT NULL)
RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    PERFORM usage_meter_proxy.set_limit(
        set_limit.tenant, set_limit.user_id, set_limit.metric, set_limit.period, set_limit.max_value, set_limit.hard,
        set_limit.alert);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], set_limit.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.remove_limit(
    tenant text, user_id text, metric text, period text)
RETURNS boolean
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.remove_limit; $$;
CREATE FUNCTION usage_meter.remove_limit(
    tenant text, user_id text, metric text, period text)
RETURNS boolean
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN usage_meter_proxy.remove_limit(
        remove_limit.tenant, remove_limit.user_id, remove_limit.metric, remove_limit.period);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], remove_limit.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.void_event(
    tenant text, event_id bigint, reason text)
RETURNS bigint
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.void_event; $$;
CREATE FUNCTION usage_meter.void_event(
    tenant text, event_id bigint, reason text)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN usage_meter_proxy.void_event(
        void_event.tenant, void_event.event_id, void_event.reason);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], void_event.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.correct_event(
    tenant text, event_id bigint, reason text, input_tokens bigint, output_tokens bigint, cache_read_tokens bigint,
    cache_write_tokens bigint, reasoning_tokens bigint, quantity numeric, cost numeric, model text, provider text,
    idempotency_key text, metadata jsonb,
    OUT reversal_id bigint, OUT replacement_id bigint, OUT new_cost numeric, OUT new_billed_cost numeric,
    OUT priced boolean)
RETURNS record
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.correct_event; $$;
CREATE FUNCTION usage_meter.correct_event(
    tenant text, event_id bigint, reason text, input_tokens bigint DEFAULT NULL, output_tokens bigint DEFAULT NULL,
    cache_read_tokens bigint DEFAULT NULL, cache_write_tokens bigint DEFAULT NULL,
    reasoning_tokens bigint DEFAULT NULL, quantity numeric DEFAULT NULL, cost numeric DEFAULT NULL,
    model text DEFAULT NULL, provider text DEFAULT NULL, idempotency_key text DEFAULT NULL,
    metadata jsonb DEFAULT NULL,
    OUT reversal_id bigint, OUT replacement_id bigint, OUT new_cost numeric, OUT new_billed_cost numeric,
    OUT priced boolean)
RETURNS record
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    SELECT * INTO correct_event.reversal_id, correct_event.replacement_id, correct_event.new_cost, correct_event.new_billed_cost, correct_event.priced
      FROM usage_meter_proxy.correct_event(
        correct_event.tenant, correct_event.event_id, correct_event.reason, correct_event.input_tokens,
        correct_event.output_tokens, correct_event.cache_read_tokens, correct_event.cache_write_tokens,
        correct_event.reasoning_tokens, correct_event.quantity, correct_event.cost, correct_event.model,
        correct_event.provider, correct_event.idempotency_key, correct_event.metadata);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], correct_event.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.usage_series(
    tenant text, since date, until date, bucket text, group_by text[], only_user text)
RETURNS TABLE (bucket_start date, user_id text, operation text, provider text, model text, requests bigint, errors bigint,
    input_tokens bigint, output_tokens bigint, cache_read_tokens bigint, cache_write_tokens bigint,
    reasoning_tokens bigint, cost numeric, billed_cost numeric, avg_latency_ms numeric)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.usage_series; $$;
CREATE FUNCTION usage_meter.usage_series(
    tenant text, since date, until date, bucket text DEFAULT 'day', group_by text[] DEFAULT '{}',
    only_user text DEFAULT NULL)
RETURNS TABLE (bucket_start date, user_id text, operation text, provider text, model text, requests bigint, errors bigint,
    input_tokens bigint, output_tokens bigint, cache_read_tokens bigint, cache_write_tokens bigint,
    reasoning_tokens bigint, cost numeric, billed_cost numeric, avg_latency_ms numeric)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY SELECT * FROM usage_meter_proxy.usage_series(
        usage_series.tenant, usage_series.since, usage_series.until, usage_series.bucket, usage_series.group_by,
        usage_series.only_user);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], usage_series.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.top_usage(
    tenant text, since date, until date, dimension text, metric text, n integer)
RETURNS TABLE (rank integer, key text, value numeric, share numeric)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.top_usage; $$;
CREATE FUNCTION usage_meter.top_usage(
    tenant text, since date, until date, dimension text, metric text DEFAULT 'cost', n integer DEFAULT 10)
RETURNS TABLE (rank integer, key text, value numeric, share numeric)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY SELECT * FROM usage_meter_proxy.top_usage(
        top_usage.tenant, top_usage.since, top_usage.until, top_usage.dimension, top_usage.metric, top_usage.n);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], top_usage.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.session_usage(
    tenant text, session_id text)
RETURNS TABLE (requests bigint, errors bigint, tokens bigint, cost numeric, billed_cost numeric, first_at timestamptz,
    last_at timestamptz, models text[])
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.session_usage; $$;
CREATE FUNCTION usage_meter.session_usage(
    tenant text, session_id text)
RETURNS TABLE (requests bigint, errors bigint, tokens bigint, cost numeric, billed_cost numeric, first_at timestamptz,
    last_at timestamptz, models text[])
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY SELECT * FROM usage_meter_proxy.session_usage(
        session_usage.tenant, session_usage.session_id);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], session_usage.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.latency_percentiles(
    tenant text, since date, until date, group_by text[])
RETURNS TABLE (operation text, provider text, model text, requests bigint, p50_ms integer, p95_ms integer, p99_ms integer)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.latency_percentiles; $$;
CREATE FUNCTION usage_meter.latency_percentiles(
    tenant text, since date, until date, group_by text[] DEFAULT '{model}')
RETURNS TABLE (operation text, provider text, model text, requests bigint, p50_ms integer, p95_ms integer, p99_ms integer)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY SELECT * FROM usage_meter_proxy.latency_percentiles(
        latency_percentiles.tenant, latency_percentiles.since, latency_percentiles.until,
        latency_percentiles.group_by);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], latency_percentiles.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.spend_forecast(
    tenant text, user_id text, at timestamptz)
RETURNS TABLE (month_start date, month_end date, days_elapsed numeric, month_to_date numeric, billed_month_to_date numeric,
    projected numeric, projected_billed numeric, limit_metric text, max_value numeric, projected_exhaustion date)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.spend_forecast; $$;
CREATE FUNCTION usage_meter.spend_forecast(
    tenant text, user_id text DEFAULT NULL, at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (month_start date, month_end date, days_elapsed numeric, month_to_date numeric, billed_month_to_date numeric,
    projected numeric, projected_billed numeric, limit_metric text, max_value numeric, projected_exhaustion date)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY SELECT * FROM usage_meter_proxy.spend_forecast(
        spend_forecast.tenant, spend_forecast.user_id, spend_forecast.at);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], spend_forecast.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.normalize_usage(
    provider text, payload jsonb,
    OUT model text, OUT input_tokens bigint, OUT output_tokens bigint, OUT cache_read_tokens bigint,
    OUT cache_write_tokens bigint, OUT reasoning_tokens bigint, OUT cost numeric, OUT response_id text,
    OUT provider_name text, OUT format text, OUT web_search_requests bigint)
RETURNS record
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ANY; TARGET usage_meter.normalize_usage; $$;
CREATE FUNCTION usage_meter.normalize_usage(
    provider text, payload jsonb,
    OUT model text, OUT input_tokens bigint, OUT output_tokens bigint, OUT cache_read_tokens bigint,
    OUT cache_write_tokens bigint, OUT reasoning_tokens bigint, OUT cost numeric, OUT response_id text,
    OUT provider_name text, OUT format text, OUT web_search_requests bigint)
RETURNS record
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    SELECT * INTO normalize_usage.model, normalize_usage.input_tokens, normalize_usage.output_tokens, normalize_usage.cache_read_tokens, normalize_usage.cache_write_tokens, normalize_usage.reasoning_tokens, normalize_usage.cost, normalize_usage.response_id, normalize_usage.provider_name, normalize_usage.format, normalize_usage.web_search_requests
      FROM usage_meter_proxy.normalize_usage(
        normalize_usage.provider, normalize_usage.payload);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

CREATE FUNCTION usage_meter_proxy.price_for(
    model text, provider text, at timestamptz,
    OUT price_id bigint, OUT matched_model text, OUT matched_provider text, OUT effective_from timestamptz,
    OUT input_per_mtok numeric, OUT output_per_mtok numeric, OUT cache_read_per_mtok numeric,
    OUT cache_write_per_mtok numeric, OUT tiers jsonb, OUT per_request numeric, OUT rule text, OUT explanation text,
    OUT candidates text[])
RETURNS record
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ANY; TARGET usage_meter.price_for; $$;
CREATE FUNCTION usage_meter.price_for(
    model text, provider text DEFAULT NULL, at timestamptz DEFAULT pg_catalog.now(),
    OUT price_id bigint, OUT matched_model text, OUT matched_provider text, OUT effective_from timestamptz,
    OUT input_per_mtok numeric, OUT output_per_mtok numeric, OUT cache_read_per_mtok numeric,
    OUT cache_write_per_mtok numeric, OUT tiers jsonb, OUT per_request numeric, OUT rule text, OUT explanation text,
    OUT candidates text[])
RETURNS record
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    SELECT * INTO price_for.price_id, price_for.matched_model, price_for.matched_provider, price_for.effective_from, price_for.input_per_mtok, price_for.output_per_mtok, price_for.cache_read_per_mtok, price_for.cache_write_per_mtok, price_for.tiers, price_for.per_request, price_for.rule, price_for.explanation, price_for.candidates
      FROM usage_meter_proxy.price_for(
        price_for.model, price_for.provider, price_for.at);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

CREATE FUNCTION usage_meter_proxy.price_suggestions(
    model text, provider text)
RETURNS text[]
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ANY; TARGET usage_meter.price_suggestions; $$;
CREATE FUNCTION usage_meter.price_suggestions(
    model text, provider text DEFAULT NULL)
RETURNS text[]
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN usage_meter_proxy.price_suggestions(
        price_suggestions.model, price_suggestions.provider);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

-- usage_record_batch(events): every event names its tenant. The batch goes as it is to the partition of its
-- tenants when they all live on one partition (one transaction there, as direct); a batch whose tenants live on
-- several partitions is refused (call the tenant-first form per tenant). A batch that is not an array of
-- objects with a string tenant goes to partition 0, which refuses it with usage_meter's own error.
CREATE FUNCTION usage_meter_proxy.usage_record_batch_on(partition integer, events jsonb)
RETURNS SETOF usage_meter.recorded
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON partition; SELECT * FROM usage_meter.usage_record_batch(events); $$;
CREATE FUNCTION usage_meter.usage_record_batch(events jsonb)
RETURNS SETOF usage_meter.recorded
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
    targets integer[] := ARRAY[0];
    n integer;
BEGIN
    IF pg_catalog.jsonb_typeof(events) OPERATOR(pg_catalog.=) 'array'
       AND NOT EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(events) AS x(event)
                        WHERE pg_catalog.jsonb_typeof(x.event) OPERATOR(pg_catalog.<>) 'object'
                           OR pg_catalog.jsonb_typeof(x.event OPERATOR(pg_catalog.->) 'tenant') IS DISTINCT FROM 'string') THEN
        n := (SELECT pg_catalog.count(*)::integer FROM usage_meter.partitions());
        SELECT COALESCE(pg_catalog.array_agg(DISTINCT usage_meter.partition_of(x.event OPERATOR(pg_catalog.->>) 'tenant')
                                             OPERATOR(pg_catalog.&) (n OPERATOR(pg_catalog.-) 1)), ARRAY[0])
          INTO targets FROM pg_catalog.jsonb_array_elements(events) AS x(event);
    END IF;
    IF pg_catalog.cardinality(targets) OPERATOR(pg_catalog.>) 1 THEN
        RAISE EXCEPTION 'invalid events: their tenants live on % partitions (%)', pg_catalog.cardinality(targets),
                        pg_catalog.array_to_string(targets, ', ')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Through the proxy a batch is recorded on one partition: call usage_record_batch(tenant, events) for each tenant.';
    END IF;
    RETURN QUERY SELECT * FROM usage_meter_proxy.usage_record_batch_on(targets[1], usage_record_batch.events);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL, targets[1]);
END
$$;

------------------------------------------------------------------------------------------------------------
-- The forms by id alone cannot be routed: ids are unique per partition only. They refuse, naming the
-- tenant-first form.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter_proxy.by_id_refused(call text, instead text)
RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '% cannot be routed by the proxy: ids are unique per partition only', call
        USING ERRCODE = 'feature_not_supported', HINT = pg_catalog.format('Call %s.', instead);
END
$$;

CREATE FUNCTION usage_meter.release(reservation_id bigint)
RETURNS boolean
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM usage_meter_proxy.by_id_refused('release(reservation_id)', 'release(tenant, reservation_id)');
    RETURN NULL;
END
$$;

CREATE FUNCTION usage_meter.void_event(event_id bigint, reason text)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM usage_meter_proxy.by_id_refused('void_event(event_id, reason)', 'void_event(tenant, event_id, reason)');
    RETURN NULL;
END
$$;

CREATE FUNCTION usage_meter.correct_event(
    event_id bigint, reason text, input_tokens bigint DEFAULT NULL, output_tokens bigint DEFAULT NULL,
    cache_read_tokens bigint DEFAULT NULL, cache_write_tokens bigint DEFAULT NULL, reasoning_tokens bigint DEFAULT NULL,
    quantity numeric DEFAULT NULL, cost numeric DEFAULT NULL, model text DEFAULT NULL, provider text DEFAULT NULL,
    idempotency_key text DEFAULT NULL, metadata jsonb DEFAULT NULL,
    OUT reversal_id bigint, OUT replacement_id bigint, OUT new_cost numeric, OUT new_billed_cost numeric,
    OUT priced boolean)
RETURNS record
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM usage_meter_proxy.by_id_refused('correct_event(event_id, ...)', 'correct_event(tenant, event_id, reason, ...)');
END
$$;

------------------------------------------------------------------------------------------------------------
-- One tenant or all: reprice and rebuild go to the tenant's partition when a tenant is given, else to every
-- partition (each in its own transaction), the figures merged.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter_proxy.reprice(
    tenant text, since timestamptz, until timestamptz, only_unpriced boolean,
    OUT events_changed bigint, OUT cost_difference numeric, OUT billed_cost_difference numeric)
RETURNS record
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.reprice; $$;
CREATE FUNCTION usage_meter_proxy.reprice_all(
    since timestamptz, until timestamptz, only_unpriced boolean)
RETURNS TABLE (events_changed bigint, cost_difference numeric, billed_cost_difference numeric)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL;
          SELECT * FROM usage_meter.reprice(NULL, since, until, only_unpriced); $$;
CREATE FUNCTION usage_meter.reprice(
    tenant text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL,
    only_unpriced boolean DEFAULT true,
    OUT events_changed bigint, OUT cost_difference numeric, OUT billed_cost_difference numeric)
RETURNS record
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    IF reprice.tenant IS NOT NULL THEN
        SELECT * INTO reprice.events_changed, reprice.cost_difference, reprice.billed_cost_difference
          FROM usage_meter_proxy.reprice(reprice.tenant, reprice.since, reprice.until, reprice.only_unpriced);
    ELSE
        SELECT pg_catalog.sum(r.events_changed)::bigint, pg_catalog.sum(r.cost_difference),
               pg_catalog.sum(r.billed_cost_difference)
          INTO reprice.events_changed, reprice.cost_difference, reprice.billed_cost_difference
          FROM usage_meter_proxy.reprice_all(reprice.since, reprice.until, reprice.only_unpriced) AS r;
    END IF;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], reprice.tenant);
END
$$;

CREATE FUNCTION usage_meter_proxy.rebuild(tenant text, since date, until date)
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, before numeric, after numeric)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON usage_meter.partition_of(tenant); TARGET usage_meter.rebuild; $$;
CREATE FUNCTION usage_meter_proxy.rebuild_all(since date, until date)
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, before numeric, after numeric)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; SELECT * FROM usage_meter.rebuild(NULL, since, until); $$;
-- The body of rebuild(), whose report columns could not share names with its parameters in PL/pgSQL.
CREATE FUNCTION usage_meter_proxy.rebuild_scope(scope_tenant text, scope_since date, scope_until date)
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, before numeric, after numeric)
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    IF scope_tenant IS NOT NULL THEN
        RETURN QUERY SELECT * FROM usage_meter_proxy.rebuild(scope_tenant, scope_since, scope_until);
    ELSE
        RETURN QUERY SELECT * FROM usage_meter_proxy.rebuild_all(scope_since, scope_until) AS r
                      ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
    END IF;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], scope_tenant);
END
$$;
CREATE FUNCTION usage_meter.rebuild(tenant text DEFAULT NULL, since date DEFAULT NULL, until date DEFAULT NULL)
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, before numeric, after numeric)
    LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM usage_meter_proxy.rebuild_scope($1, $2, $3) $$;

------------------------------------------------------------------------------------------------------------
-- The price catalog, on every partition (RUN ON ALL). Each partition commits on its own: when one fails, the
-- others may have applied the call. Repeating the same call completes it (an identical price at the same
-- effective_from is a no-op where it exists), and catalog_check() lists what still differs. Defaults that
-- depend on the time (import_litellm_prices' effective_from) are taken once, on the proxy, so every partition
-- gets the same value. Price ids are per partition: the setters return the largest.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter_proxy.set_price(
    model text, input_per_mtok numeric, output_per_mtok numeric, cache_read_per_mtok numeric,
    cache_write_per_mtok numeric, provider text, effective_from timestamptz)
RETURNS SETOF bigint
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; TARGET usage_meter.set_price; $$;
CREATE FUNCTION usage_meter.set_price(
    model text, input_per_mtok numeric, output_per_mtok numeric, cache_read_per_mtok numeric DEFAULT NULL,
    cache_write_per_mtok numeric DEFAULT NULL, provider text DEFAULT NULL, effective_from timestamptz DEFAULT '-infinity')
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN (SELECT pg_catalog.max(x.id) FROM usage_meter_proxy.set_price(
                set_price.model, set_price.input_per_mtok, set_price.output_per_mtok, set_price.cache_read_per_mtok,
                set_price.cache_write_per_mtok, set_price.provider, set_price.effective_from) AS x(id));
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

CREATE FUNCTION usage_meter_proxy.set_unit_price(operation text, per_unit numeric, effective_from timestamptz)
RETURNS SETOF bigint
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; TARGET usage_meter.set_unit_price; $$;
CREATE FUNCTION usage_meter.set_unit_price(operation text, per_unit numeric,
                                           effective_from timestamptz DEFAULT '-infinity')
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN (SELECT pg_catalog.max(x.id) FROM usage_meter_proxy.set_unit_price(
                set_unit_price.operation, set_unit_price.per_unit, set_unit_price.effective_from) AS x(id));
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

CREATE FUNCTION usage_meter_proxy.set_tiered_price(
    model text, input_per_mtok numeric, output_per_mtok numeric, tiers jsonb, cache_read_per_mtok numeric,
    cache_write_per_mtok numeric, provider text, effective_from timestamptz, per_request numeric)
RETURNS SETOF bigint
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; TARGET usage_meter.set_tiered_price; $$;
CREATE FUNCTION usage_meter.set_tiered_price(
    model text, input_per_mtok numeric, output_per_mtok numeric, tiers jsonb, cache_read_per_mtok numeric DEFAULT NULL,
    cache_write_per_mtok numeric DEFAULT NULL, provider text DEFAULT NULL, effective_from timestamptz DEFAULT '-infinity',
    per_request numeric DEFAULT 0)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN (SELECT pg_catalog.max(x.id) FROM usage_meter_proxy.set_tiered_price(
                set_tiered_price.model, set_tiered_price.input_per_mtok, set_tiered_price.output_per_mtok,
                set_tiered_price.tiers, set_tiered_price.cache_read_per_mtok, set_tiered_price.cache_write_per_mtok,
                set_tiered_price.provider, set_tiered_price.effective_from, set_tiered_price.per_request) AS x(id));
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

-- added: the most any partition added (a repeated import adds only where it was missing); unchanged and skipped
-- as the partitions report them (the least unchanged, the most skipped).
CREATE FUNCTION usage_meter_proxy.import_litellm_prices(prices jsonb, effective_from timestamptz)
RETURNS TABLE (added bigint, unchanged bigint, skipped bigint)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; SELECT * FROM usage_meter.import_litellm_prices(prices, effective_from); $$;
CREATE FUNCTION usage_meter.import_litellm_prices(
    prices jsonb, effective_from timestamptz DEFAULT pg_catalog.now(),
    OUT added bigint, OUT unchanged bigint, OUT skipped bigint)
RETURNS record
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    SELECT pg_catalog.max(x.added), pg_catalog.min(x.unchanged), pg_catalog.max(x.skipped)
      INTO import_litellm_prices.added, import_litellm_prices.unchanged, import_litellm_prices.skipped
      FROM usage_meter_proxy.import_litellm_prices(import_litellm_prices.prices,
                                                   import_litellm_prices.effective_from) AS x;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

-- Aliases: the setters return nothing, the removers whether any partition had the alias.
CREATE FUNCTION usage_meter_proxy.set_provider_alias(provider text, alias text, "position" integer)
RETURNS SETOF boolean
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL;
          SELECT true FROM usage_meter.set_provider_alias($1, $2, $3); $$;
CREATE FUNCTION usage_meter.set_provider_alias(provider text, alias text, "position" integer DEFAULT NULL)
RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    PERFORM pg_catalog.count(*) FROM usage_meter_proxy.set_provider_alias(
        set_provider_alias.provider, set_provider_alias.alias, set_provider_alias.position);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

CREATE FUNCTION usage_meter_proxy.remove_provider_alias(provider text, alias text)
RETURNS SETOF boolean
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; TARGET usage_meter.remove_provider_alias; $$;
CREATE FUNCTION usage_meter.remove_provider_alias(provider text, alias text)
RETURNS boolean
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN (SELECT pg_catalog.bool_or(x.removed) FROM usage_meter_proxy.remove_provider_alias(
                remove_provider_alias.provider, remove_provider_alias.alias) AS x(removed));
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

CREATE FUNCTION usage_meter_proxy.set_model_alias(alias text, model text, provider text)
RETURNS SETOF boolean
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; SELECT true FROM usage_meter.set_model_alias(alias, model, provider); $$;
CREATE FUNCTION usage_meter.set_model_alias(alias text, model text, provider text DEFAULT NULL)
RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    PERFORM pg_catalog.count(*) FROM usage_meter_proxy.set_model_alias(
        set_model_alias.alias, set_model_alias.model, set_model_alias.provider);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

CREATE FUNCTION usage_meter_proxy.remove_model_alias(alias text)
RETURNS SETOF boolean
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; TARGET usage_meter.remove_model_alias; $$;
CREATE FUNCTION usage_meter.remove_model_alias(alias text)
RETURNS boolean
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN (SELECT pg_catalog.bool_or(x.removed) FROM usage_meter_proxy.remove_model_alias(remove_model_alias.alias) AS x(removed));
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;

------------------------------------------------------------------------------------------------------------
-- catalog_check(): every difference between the partitions' catalogs (prices, unit prices, model and provider
-- aliases), one row per partition of each entry that is not the same everywhere: content NULL where the
-- partition lacks it. No rows: every partition prices alike. Entries are compared by their keys and values
-- (numbers by value, times in UTC), not by ids or creation times, which are per partition.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter_proxy.catalog_rows(partition integer)
RETURNS TABLE (item text, key text, content text)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON partition;
          SELECT 'price'::text AS item,
                 pg_catalog.concat_ws(' ', p.model, '(' || COALESCE(p.provider, 'any provider') || ')', 'from',
                                      (p.effective_from AT TIME ZONE 'UTC')::text) AS key,
                 pg_catalog.concat_ws(' ', 'input', pg_catalog.trim_scale(p.input_per_mtok),
                                      'output', pg_catalog.trim_scale(p.output_per_mtok),
                                      'cache_read', COALESCE(pg_catalog.trim_scale(p.cache_read_per_mtok)::text, '-'),
                                      'cache_write', COALESCE(pg_catalog.trim_scale(p.cache_write_per_mtok)::text, '-'),
                                      'per_request', pg_catalog.trim_scale(p.per_request),
                                      'tiers', COALESCE(p.tiers::text, '-')) AS content
            FROM usage_meter.prices AS p
          UNION ALL
          SELECT 'unit_price', u.operation || ' from ' || (u.effective_from AT TIME ZONE 'UTC')::text,
                 'per_unit ' || pg_catalog.trim_scale(u.per_unit)::text
            FROM usage_meter.unit_prices AS u
          UNION ALL
          SELECT 'model_alias', a.alias, a.model || ' (' || COALESCE(a.provider, 'any provider') || ')'
            FROM usage_meter.model_aliases AS a
          UNION ALL
          SELECT 'provider_alias', a.provider || ' -> ' || a.alias,
                 'position ' || a.position::text || CASE WHEN a.builtin THEN ' built-in' ELSE '' END
            FROM usage_meter.provider_aliases AS a; $$;

CREATE FUNCTION usage_meter.catalog_check()
RETURNS TABLE (item text, key text, partition integer, content text)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
    p integer;
    n integer := 0;
    parts integer[] := '{}';
    items text[] := '{}';
    keys text[] := '{}';
    contents text[] := '{}';
BEGIN
    FOR p IN SELECT x.partition FROM usage_meter.partitions() AS x LOOP
        n := n OPERATOR(pg_catalog.+) 1;
        BEGIN
            SELECT parts OPERATOR(pg_catalog.||) pg_catalog.array_agg(p), items OPERATOR(pg_catalog.||) pg_catalog.array_agg(r.item),
                   keys OPERATOR(pg_catalog.||) pg_catalog.array_agg(r.key),
                   contents OPERATOR(pg_catalog.||) pg_catalog.array_agg(r.content)
              INTO parts, items, keys, contents
              FROM usage_meter_proxy.catalog_rows(p) AS r;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                                    err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
            PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL, p);
        END;
    END LOOP;
    RETURN QUERY
    WITH c AS (SELECT * FROM ROWS FROM (pg_catalog.unnest(parts), pg_catalog.unnest(items), pg_catalog.unnest(keys),
                                        pg_catalog.unnest(contents)) AS c(partition, item, key, content)),
    differing AS (
        SELECT c.item, c.key FROM c
         GROUP BY c.item, c.key
        HAVING pg_catalog.count(DISTINCT c.partition) OPERATOR(pg_catalog.<>) n
            OR pg_catalog.count(DISTINCT c.content) OPERATOR(pg_catalog.>) 1
    )
    SELECT d.item, d.key, x.partition, c.content
      FROM differing AS d
     CROSS JOIN pg_catalog.generate_series(0, n OPERATOR(pg_catalog.-) 1) AS x(partition)
      LEFT JOIN c ON c.item OPERATOR(pg_catalog.=) d.item AND c.key OPERATOR(pg_catalog.=) d.key
                 AND c.partition OPERATOR(pg_catalog.=) x.partition
     ORDER BY 1, 2, 3;
END
$$;
COMMENT ON FUNCTION usage_meter.catalog_check IS
    'Every difference between the partitions'' price catalogs: one row per partition of each entry not the same everywhere (content NULL: missing there)';

------------------------------------------------------------------------------------------------------------
-- Fan-out reads (RUN ON ALL), merged on the proxy. A tenant lives on one partition, so per-tenant rows are the
-- partitions' rows as they are (a tenant caught between two partitions by a move not yet finished shows twice).
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter_proxy.verify()
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, ledger numeric, recorded numeric, difference numeric)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; TARGET usage_meter.verify; $$;
CREATE FUNCTION usage_meter.verify()
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, ledger numeric, recorded numeric, difference numeric)
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY SELECT * FROM usage_meter_proxy.verify() AS v ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;
COMMENT ON FUNCTION usage_meter.verify IS 'verify() of every partition: no rows exactly when every partition''s summaries equal its ledger';

-- The total row (tenant NULL) adds up the partitions' totals; its status is the worst of theirs.
CREATE FUNCTION usage_meter_proxy.health()
RETURNS TABLE (tenant text, events bigint, unpriced_events bigint, last_occurred_at timestamptz,
               last_recorded_at timestamptz, status text)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; TARGET usage_meter.health; $$;
CREATE FUNCTION usage_meter.health()
RETURNS TABLE (tenant text, events bigint, unpriced_events bigint, last_occurred_at timestamptz,
               last_recorded_at timestamptz, status text)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY
    WITH h AS MATERIALIZED (SELECT * FROM usage_meter_proxy.health()),
    total AS (SELECT * FROM h WHERE h.tenant IS NULL)
    SELECT NULL::text, COALESCE(pg_catalog.sum(t.events), 0)::bigint,
           COALESCE(pg_catalog.sum(t.unpriced_events), 0)::bigint,
           pg_catalog.max(t.last_occurred_at), pg_catalog.max(t.last_recorded_at),
           COALESCE(pg_catalog.min(t.status) FILTER (WHERE t.status OPERATOR(pg_catalog.~) '^error'),
                    pg_catalog.min(t.status) FILTER (WHERE t.status OPERATOR(pg_catalog.~) '^warning'), 'ok')
      FROM total AS t
    UNION ALL
    SELECT * FROM (SELECT * FROM h WHERE h.tenant IS NOT NULL ORDER BY h.tenant) AS p;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;
COMMENT ON FUNCTION usage_meter.health IS 'health() of every partition: a total row (tenant NULL), then one row per tenant';

-- tenants adds up: a tenant is on one partition. suggestions come from one partition (the largest array) (the catalogs agree when
-- catalog_check() is empty).
CREATE FUNCTION usage_meter_proxy.unpriced_models()
RETURNS TABLE (model text, provider text, operation text, events bigint, tenants bigint, input_tokens bigint,
               output_tokens bigint, cache_read_tokens bigint, cache_write_tokens bigint, quantity numeric,
               first_occurred_at timestamptz, last_occurred_at timestamptz, suggestions text[])
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL; TARGET usage_meter.unpriced_models; $$;
CREATE FUNCTION usage_meter.unpriced_models()
RETURNS TABLE (model text, provider text, operation text, events bigint, tenants bigint, input_tokens bigint,
               output_tokens bigint, cache_read_tokens bigint, cache_write_tokens bigint, quantity numeric,
               first_occurred_at timestamptz, last_occurred_at timestamptz, suggestions text[])
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    RETURN QUERY
    SELECT u.model, u.provider, u.operation, pg_catalog.sum(u.events)::bigint, pg_catalog.sum(u.tenants)::bigint,
           pg_catalog.sum(u.input_tokens)::bigint, pg_catalog.sum(u.output_tokens)::bigint,
           pg_catalog.sum(u.cache_read_tokens)::bigint, pg_catalog.sum(u.cache_write_tokens)::bigint,
           pg_catalog.sum(u.quantity), pg_catalog.min(u.first_occurred_at), pg_catalog.max(u.last_occurred_at),
           pg_catalog.max(u.suggestions)
      FROM usage_meter_proxy.unpriced_models() AS u
     GROUP BY u.model, u.provider, u.operation
     ORDER BY 4 DESC, 1 NULLS FIRST, 2 NULLS FIRST, 3;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                            err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
END
$$;
COMMENT ON FUNCTION usage_meter.unpriced_models IS 'unpriced_models() of every partition, added up per model, provider and operation';

-- Cross-tenant totals for reporting (the proxy's own; one database would read daily_usage): each tenant's
-- requests, errors, tokens, cost and billed cost over its local days since .. until, from the daily summaries.
CREATE FUNCTION usage_meter_proxy.usage_totals(since date, until date)
RETURNS TABLE (tenant text, requests bigint, errors bigint, tokens bigint, cost numeric, billed_cost numeric)
    LANGUAGE plproxy VOLATILE
    AS $$ CLUSTER 'usage_meter'; RUN ON ALL;
          SELECT d.tenant, pg_catalog.sum(d.requests)::bigint AS requests, pg_catalog.sum(d.errors)::bigint AS errors,
                 pg_catalog.sum(d.input_tokens + d.output_tokens + d.cache_read_tokens + d.cache_write_tokens)::bigint
                     AS tokens,
                 COALESCE(pg_catalog.sum(d.cost), 0) AS cost, COALESCE(pg_catalog.sum(d.billed_cost), 0) AS billed_cost
            FROM usage_meter.daily_usage AS d
           WHERE d.day >= since AND d.day <= until
           GROUP BY d.tenant; $$;
CREATE FUNCTION usage_meter.usage_totals(since date, until date)
RETURNS TABLE (tenant text, requests bigint, errors bigint, tokens bigint, cost numeric, billed_cost numeric)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
BEGIN
    IF usage_totals.since IS NULL OR usage_totals.until IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN usage_totals.since IS NULL THEN 'since' ELSE 'until' END
            USING ERRCODE = 'null_value_not_allowed';
    ELSIF usage_totals.since OPERATOR(pg_catalog.>) usage_totals.until THEN
        RAISE EXCEPTION 'invalid since: % is after until %', usage_totals.since, usage_totals.until
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM usage_meter_proxy.usage_totals(usage_totals.since, usage_totals.until) AS t
                      ORDER BY 1;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                                err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
        PERFORM usage_meter_proxy.raise_again(ARRAY[err_state, err_message, err_detail, err_hint], NULL);
    END;
END
$$;
COMMENT ON FUNCTION usage_meter.usage_totals IS 'Every tenant''s requests, errors, tokens, cost and billed cost over since .. until, from every partition';

------------------------------------------------------------------------------------------------------------
-- Access: usage_meter's three group roles (created once per cluster, as usage_meter does), with the same
-- rights on the proxy's functions as on usage_meter's. The partitions check again: PL/Proxy connects as the
-- user of the caller's USER MAPPING on the server usage_meter, whose rights there are what the call gets.
------------------------------------------------------------------------------------------------------------
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['usage_meter_writer', 'usage_meter_reader', 'usage_meter_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            BEGIN
                EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$roles$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA usage_meter, usage_meter_proxy FROM PUBLIC;
GRANT USAGE ON SCHEMA usage_meter, usage_meter_proxy TO usage_meter_writer, usage_meter_reader, usage_meter_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA usage_meter, usage_meter_proxy TO usage_meter_admin;

-- Every caller: placement and the error translation.
GRANT EXECUTE ON FUNCTION usage_meter.partition_of(text), usage_meter.partitions(), usage_meter.tenant_partition(text),
    usage_meter_proxy.raise_again(text[], text, integer), usage_meter_proxy.by_id_refused(text, text)
    TO usage_meter_writer, usage_meter_reader;

-- The writer records and checks limits.
GRANT EXECUTE ON FUNCTION
    usage_meter.usage_record(text, text, text, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric, text,
                             timestamptz, text, text, integer, boolean, jsonb, bigint),
    usage_meter_proxy.usage_record(text, text, text, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric,
                                   text, timestamptz, text, text, integer, boolean, jsonb, bigint),
    usage_meter.record_response(text, text, text, text, jsonb, text, integer, boolean, timestamptz, jsonb, text,
                                bigint),
    usage_meter_proxy.record_response(text, text, text, text, jsonb, text, integer, boolean, timestamptz, jsonb,
                                      text, bigint),
    usage_meter.usage_record_batch(text, jsonb), usage_meter_proxy.usage_record_batch(text, jsonb),
    usage_meter.usage_record_batch(jsonb), usage_meter_proxy.usage_record_batch_on(integer, jsonb),
    usage_meter.normalize_usage(text, jsonb), usage_meter_proxy.normalize_usage(text, jsonb),
    usage_meter.check_limit(text, text, numeric, bigint), usage_meter_proxy.check_limit(text, text, numeric, bigint),
    usage_meter.reserve(text, text, numeric, bigint, interval),
    usage_meter_proxy.reserve(text, text, numeric, bigint, interval),
    usage_meter.release(bigint),
    usage_meter.release(text, bigint), usage_meter_proxy.release(text, bigint)
    TO usage_meter_writer;

-- The reader reads periods, live usage, the ledger's state and the analytics.
GRANT EXECUTE ON FUNCTION
    usage_meter.period_bounds(text, timestamptz), usage_meter_proxy.period_bounds(text, timestamptz),
    usage_meter.live_usage(text, text), usage_meter_proxy.live_usage(text, text),
    usage_meter.verify(), usage_meter_proxy.verify(),
    usage_meter.health(), usage_meter_proxy.health(),
    usage_meter.usage_series(text, date, date, text, text[], text),
    usage_meter_proxy.usage_series(text, date, date, text, text[], text),
    usage_meter.top_usage(text, date, date, text, text, integer),
    usage_meter_proxy.top_usage(text, date, date, text, text, integer),
    usage_meter.session_usage(text, text), usage_meter_proxy.session_usage(text, text),
    usage_meter.latency_percentiles(text, date, date, text[]),
    usage_meter_proxy.latency_percentiles(text, date, date, text[]),
    usage_meter.spend_forecast(text, text, timestamptz), usage_meter_proxy.spend_forecast(text, text, timestamptz)
    TO usage_meter_reader;
