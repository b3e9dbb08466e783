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
