-- usage_meter 1.4 -> 1.5. Versions 1.0 to 1.4 are released: their scripts are never edited again. A fresh
-- CREATE EXTENSION runs usage_meter--1.5.sql, built from extension/src; this script brings a 1.4 database
-- to the same schema (tests/stages/76-fresh-vs-upgrade.sh compares the two).
\echo Use "ALTER EXTENSION usage_meter UPDATE TO '1.5'" to load this file. \quit


-- normalize_usage reads more providers' payloads and reports the web searches a response was charged for
-- (DROP + CREATE: a new result column, and the library's symbol for the 1.5 row); record_response records
-- those as a second event of the response.
DROP FUNCTION usage_meter.normalize_usage(text, jsonb);
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
REVOKE ALL ON FUNCTION usage_meter.normalize_usage(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.normalize_usage(text, jsonb) TO usage_meter_writer, usage_meter_admin;

CREATE OR REPLACE FUNCTION usage_meter.record_response(
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
