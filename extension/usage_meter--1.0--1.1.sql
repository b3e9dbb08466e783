-- usage_meter 1.0 -> 1.1. Version 1.0 is released: its install script is never edited again; everything new
-- or changed since is in this file, and CREATE EXTENSION usage_meter (default 1.1) runs 1.0 then this script.
-- Every name is schema-qualified; every function pins search_path; every new table that holds user data
-- carries the tenant and is registered with pg_extension_config_dump.
\echo Use "ALTER EXTENSION usage_meter UPDATE TO '1.1'" to load this file. \quit

-- ============================================================================================================
-- pricing: price history, model matching, tiers, the public price map, reprice, markup history
-- ============================================================================================================

-- (end of pricing)

-- ============================================================================================================
-- limits: reservations, hierarchy, soft limits and alerts
-- ============================================================================================================

-- (end of limits)

-- ============================================================================================================
-- provider payloads: normalize_usage, record_response
-- ============================================================================================================

-- The usage a provider reports in its response, in usage_meter's meanings (input = uncached prompt tokens,
-- output includes reasoning). provider: auto, openai, openai_chat, openai_responses, anthropic,
-- anthropic_stream, openrouter, gemini or otel. Parsed by the C++ core (src/core/payload.cpp).
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
    OUT format              text)
    LANGUAGE c IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'normalize_usage';
COMMENT ON FUNCTION usage_meter.normalize_usage IS
    'Reads the usage in a provider response (OpenAI, Anthropic, OpenRouter, Gemini, OpenTelemetry) in usage_meter''s meanings';

-- Normalizes a provider response and records it through usage_record, in one call: the same validation,
-- pricing, roll-up and idempotency. The idempotency key defaults to the response's own id, so the same
-- generation arriving twice (webhook and periodic sync) is counted once. A payload that cannot be read is
-- refused before anything is written.
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
    idempotency_key  text DEFAULT NULL)
RETURNS usage_meter.recorded
    LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.*
      FROM usage_meter.normalize_usage($4, $5) AS n
     CROSS JOIN LATERAL usage_meter.usage_record(
               $1, $2, $3, n.model, n.input_tokens, n.output_tokens, n.cache_read_tokens, n.cache_write_tokens,
               n.reasoning_tokens,
               cost => n.cost, provider => n.provider_name, occurred_at => $9,
               idempotency_key => COALESCE($11, n.response_id),
               session_id => $6, latency_ms => $7, success => $8, metadata => $10) AS r
$$;
COMMENT ON FUNCTION usage_meter.record_response IS
    'Records a provider response: normalize_usage, then usage_record with the response id as idempotency key';

-- (end of provider payloads)

-- ============================================================================================================
-- ledger trust: corrections, repair, retention, roles
-- ============================================================================================================

-- ------------------------------------------------------------------------------------------------------------
-- Roles. Three group roles (NOLOGIN); grant them to login roles. Roles are cluster-wide: they are created once
-- per cluster (an existing role of the same name is reused, not altered) and stay when the extension is
-- dropped. The writer may only call the recording and checking functions; the reader may read summaries and
-- the ledger, limited by row-level security to the tenants an admin bound it to; the admin manages tenants,
-- prices, limits, reader bindings, corrections and repair.
-- ------------------------------------------------------------------------------------------------------------
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['usage_meter_writer', 'usage_meter_reader', 'usage_meter_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object THEN
                NULL;  -- created concurrently by CREATE EXTENSION in another database
            END;
        END IF;
    END LOOP;
END
$roles$;

-- Which tenants a reader may see. Managed by the admin; a reader cannot change it (nor see other readers' rows).
CREATE TABLE usage_meter.reader_tenants (
    tenant      text NOT NULL REFERENCES usage_meter.tenants (tenant),
    role_name   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant, role_name)
);
CREATE INDEX reader_tenants_role ON usage_meter.reader_tenants (role_name);
COMMENT ON TABLE usage_meter.reader_tenants IS 'Tenants each reader role may see (row-level security on every tenant table)';
SELECT pg_catalog.pg_extension_config_dump('usage_meter.reader_tenants', '');

-- Nothing is callable by PUBLIC: each function is granted to the roles that need it, below.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA usage_meter FROM PUBLIC;
GRANT USAGE ON SCHEMA usage_meter TO usage_meter_writer, usage_meter_reader, usage_meter_admin;

-- Writer and admin paths run as the extension's owner (pinned search_path, set in 1.0), so callers need no
-- table privileges: they can write only what these functions write.
ALTER FUNCTION usage_meter.usage_record(text, text, text, text, bigint, bigint, bigint, bigint, bigint, numeric,
                                        numeric, text, timestamptz, text, text, integer, boolean, jsonb)
    SECURITY DEFINER;
ALTER FUNCTION usage_meter.check_limit(text, text, numeric, bigint) SECURITY DEFINER;
ALTER FUNCTION usage_meter.set_tenant(text, text, numeric) SECURITY DEFINER;
ALTER FUNCTION usage_meter.set_price(text, numeric, numeric, numeric, numeric, text, timestamptz) SECURITY DEFINER;
ALTER FUNCTION usage_meter.set_unit_price(text, numeric, timestamptz) SECURITY DEFINER;
ALTER FUNCTION usage_meter.set_limit(text, text, text, text, numeric, boolean) SECURITY DEFINER;
ALTER FUNCTION usage_meter.remove_limit(text, text, text, text) SECURITY DEFINER;

GRANT EXECUTE ON FUNCTION
    usage_meter.usage_record(text, text, text, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric, text,
                             timestamptz, text, text, integer, boolean, jsonb),
    usage_meter.check_limit(text, text, numeric, bigint)
    TO usage_meter_writer, usage_meter_admin;
GRANT EXECUTE ON FUNCTION
    usage_meter.period_bounds(text, timestamptz),
    usage_meter.live_usage(text, text),
    usage_meter.verify(),
    usage_meter.health()
    TO usage_meter_reader, usage_meter_admin;
GRANT EXECUTE ON FUNCTION
    usage_meter.set_tenant(text, text, numeric),
    usage_meter.set_price(text, numeric, numeric, numeric, numeric, text, timestamptz),
    usage_meter.set_unit_price(text, numeric, timestamptz),
    usage_meter.set_limit(text, text, text, text, numeric, boolean),
    usage_meter.remove_limit(text, text, text, text)
    TO usage_meter_admin;

-- Readers and admins read tables (readers through row-level security); only the admin writes reader bindings.
-- Nobody but the owner writes the ledger, the summaries or the counters directly.
GRANT SELECT ON ALL TABLES IN SCHEMA usage_meter TO usage_meter_reader, usage_meter_admin;
GRANT INSERT, DELETE ON usage_meter.reader_tenants TO usage_meter_admin;

-- The view reads daily_rollup with the caller's rights, so row-level security applies through it.
ALTER VIEW usage_meter.daily_usage SET (security_invoker = true);

-- Row-level security on every table of the schema that carries a tenant (those of every area). The owner (the
-- recording path) is not subject to it; admins see every row; a reader sees the rows of the tenants bound to
-- it in reader_tenants.
DO $rls$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_catalog.pg_class AS c
              JOIN pg_catalog.pg_attribute AS a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
             WHERE c.relnamespace OPERATOR(pg_catalog.=) 'usage_meter'::regnamespace
               AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::"char"[])
               AND a.attname OPERATOR(pg_catalog.=) 'tenant' AND NOT a.attisdropped
               AND c.relname OPERATOR(pg_catalog.<>) 'reader_tenants'
             ORDER BY c.relname LOOP
        EXECUTE pg_catalog.format('ALTER TABLE usage_meter.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('CREATE POLICY admin_all ON usage_meter.%I TO usage_meter_admin USING (true)', t);
        EXECUTE pg_catalog.format(
            'CREATE POLICY reader_bound ON usage_meter.%I FOR SELECT TO usage_meter_reader'
            ' USING (tenant OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT b.tenant FROM usage_meter.reader_tenants AS b'
            ' WHERE b.role_name OPERATOR(pg_catalog.=) CURRENT_USER::text)))', t);
    END LOOP;
END
$rls$;
ALTER TABLE usage_meter.reader_tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY admin_all ON usage_meter.reader_tenants TO usage_meter_admin USING (true);
CREATE POLICY reader_own ON usage_meter.reader_tenants FOR SELECT TO usage_meter_reader
    USING (role_name OPERATOR(pg_catalog.=) CURRENT_USER::text);

-- (end of ledger trust)
