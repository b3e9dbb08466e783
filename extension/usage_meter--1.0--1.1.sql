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

-- (end of ledger trust)
