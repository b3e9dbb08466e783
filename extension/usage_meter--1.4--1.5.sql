-- usage_meter 1.4 -> 1.5. Versions 1.0 to 1.4 are released: their scripts are never edited again. A fresh
-- CREATE EXTENSION runs usage_meter--1.5.sql, built from extension/src; this script brings a 1.4 database
-- to the same schema (tests/stages/76-fresh-vs-upgrade.sh compares the two).
\echo Use "ALTER EXTENSION usage_meter UPDATE TO '1.5'" to load this file. \quit

-- ------------------------------------------------------------------------------------------------------------
-- Model matching finds the price a person would point at (docs/pricing.md, "Model matching"): provider
-- aliases (the price map's other spellings of a provider), model aliases, and price_for's list of the names it
-- considered; unpriced_models suggests the price keys that could price each model.
-- ------------------------------------------------------------------------------------------------------------
-- Aliases for model matching (docs/pricing.md, "Model matching"). Reference data shared by all tenants, like
-- prices. provider_aliases: the other spellings under which the price map prices a provider's models (as
-- provider and as key prefix); the rows the extension ships are builtin (they are not dumped: the extension
-- script creates them) and cannot be changed, only added to. model_aliases: a name events use (a deployment
-- name) for a model the prices know.
CREATE TABLE usage_meter.provider_aliases (
    provider    text NOT NULL,
    alias       text NOT NULL,
    position    integer NOT NULL,
    builtin     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (provider, alias),
    CONSTRAINT provider_aliases_not_itself CHECK (provider <> alias)
);
COMMENT ON TABLE usage_meter.provider_aliases IS
    'Other spellings of a provider in the price map, tried in position order after the provider itself';

CREATE TABLE usage_meter.model_aliases (
    alias       text PRIMARY KEY,
    model       text NOT NULL,
    provider    text,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT model_aliases_not_itself CHECK (alias <> model)
);
COMMENT ON TABLE usage_meter.model_aliases IS
    'A model name events use (alias) for the model (and provider) whose price applies; tried before the patterns';
-- The part of a price's model after its first '/' (all of it when it has none): the price map's keys for any
-- provider of a name ("azure_ai/DeepSeek-R1" for "DeepSeek-R1"), for events that name no provider.
CREATE INDEX prices_unprefixed ON usage_meter.prices
    ((pg_catalog.substr(model, pg_catalog.strpos(model, '/') OPERATOR(pg_catalog.+) 1)));
SELECT pg_catalog.pg_extension_config_dump('usage_meter.provider_aliases', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.model_aliases', '');
GRANT SELECT ON usage_meter.provider_aliases, usage_meter.model_aliases TO usage_meter_reader, usage_meter_admin;

DROP FUNCTION usage_meter.price_for(text, text, timestamptz);
CREATE FUNCTION usage_meter.price_for(
    model text, provider text DEFAULT NULL, at timestamptz DEFAULT pg_catalog.now(),
    OUT price_id bigint, OUT matched_model text, OUT matched_provider text, OUT effective_from timestamptz,
    OUT input_per_mtok numeric, OUT output_per_mtok numeric, OUT cache_read_per_mtok numeric,
    OUT cache_write_per_mtok numeric, OUT tiers jsonb, OUT per_request numeric, OUT rule text, OUT explanation text,
    OUT candidates text[])
RETURNS record
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'price_for';
COMMENT ON FUNCTION usage_meter.price_for IS 'The price an event of this model and provider at "at" gets, why, and the names considered';

CREATE FUNCTION usage_meter.price_suggestions(model text, provider text DEFAULT NULL)
RETURNS text[]
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'price_suggestions';
COMMENT ON FUNCTION usage_meter.price_suggestions IS
    'Price keys ("model (provider)") a set_model_alias or a price for this model could use';

------------------------------------------------------------------------------------------------------------
-- Aliases for model matching. The setters run as the extension's owner and are the admin's.
------------------------------------------------------------------------------------------------------------
-- The provider spellings the public price map uses for providers that events (and OpenTelemetry's
-- gen_ai.system values) name otherwise: tried after the provider itself, in this order.
INSERT INTO usage_meter.provider_aliases (provider, alias, position, builtin)
SELECT f.provider, a.alias, a.n * 10, true
  FROM (VALUES ('vertex_ai', 0), ('gcp.vertex_ai', 1), ('gcp.gen_ai', 2)) AS f(provider, family)
 CROSS JOIN LATERAL (
     SELECT x.alias, x.n FROM unnest(
         CASE f.family WHEN 1 THEN ARRAY['vertex_ai'] WHEN 2 THEN ARRAY['gemini', 'vertex_ai'] ELSE '{}' END
         || ARRAY['vertex_ai-language-models', 'vertex_ai-anthropic_models', 'vertex_ai-mistral_models',
                  'vertex_ai-llama_models', 'vertex_ai-ai21_models', 'vertex_ai-deepseek_models',
                  'vertex_ai-qwen_models', 'vertex_ai-openai_models', 'vertex_ai-zai_models',
                  'vertex_ai-minimax_models', 'vertex_ai-moonshot_models', 'vertex_ai-text-models',
                  'vertex_ai-embedding-models', 'vertex_ai-image-models', 'vertex_ai-video-models'])
         WITH ORDINALITY AS x(alias, n)) AS a
UNION ALL
SELECT v.provider, v.alias, v.position, true
  FROM (VALUES ('bedrock', 'bedrock_converse', 10), ('bedrock', 'bedrock_mantle', 20),
               ('bedrock_converse', 'bedrock', 10),
               ('aws.bedrock', 'bedrock', 10), ('aws.bedrock', 'bedrock_converse', 20),
               ('aws.bedrock', 'bedrock_mantle', 30),
               ('gcp.gemini', 'gemini', 10), ('google', 'gemini', 10),
               ('az.ai.openai', 'azure', 10), ('azure_openai', 'azure', 10), ('az.ai.inference', 'azure_ai', 10),
               ('mistral_ai', 'mistral', 10), ('mistralai', 'mistral', 10),
               ('cohere', 'cohere_chat', 10), ('cohere_chat', 'cohere', 10),
               ('ibm.watsonx.ai', 'watsonx', 10), ('x_ai', 'xai', 10), ('x-ai', 'xai', 10),
               ('together', 'together_ai', 10), ('fireworks', 'fireworks_ai', 10))
       AS v(provider, alias, position);

-- An alias's names follow the rules of a model name (as set_price checks them).
CREATE FUNCTION usage_meter.check_alias_name(argument text, value text)
RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', argument USING ERRCODE = 'null_value_not_allowed';
    ELSIF value OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION '% must not be empty', argument USING ERRCODE = 'invalid_parameter_value';
    ELSIF pg_catalog.length(value) OPERATOR(pg_catalog.>) 200 THEN
        RAISE EXCEPTION '% is too long (% characters)', argument, pg_catalog.length(value)
            USING ERRCODE = 'string_data_right_truncation', HINT = 'names and keys are limited to 200 characters';
    END IF;
END
$$;

-- Adds an alias of a provider (position: its order among the provider's aliases; default after the last).
CREATE FUNCTION usage_meter.set_provider_alias(provider text, alias text, "position" integer DEFAULT NULL)
RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM usage_meter.check_alias_name('provider', set_provider_alias.provider);
    PERFORM usage_meter.check_alias_name('alias', set_provider_alias.alias);
    IF set_provider_alias.provider OPERATOR(pg_catalog.=) set_provider_alias.alias THEN
        RAISE EXCEPTION 'invalid alias: a provider is not an alias of itself' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM usage_meter.provider_aliases AS a
                WHERE a.provider OPERATOR(pg_catalog.=) set_provider_alias.provider
                  AND a.alias OPERATOR(pg_catalog.=) set_provider_alias.alias AND a.builtin) THEN
        RAISE EXCEPTION 'invalid alias: "%" is a built-in alias of "%"', set_provider_alias.alias,
              set_provider_alias.provider USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO usage_meter.provider_aliases AS a (provider, alias, position)
    VALUES (set_provider_alias.provider, set_provider_alias.alias,
            COALESCE(set_provider_alias.position,
                     (SELECT COALESCE(pg_catalog.max(b.position), 0) OPERATOR(pg_catalog.+) 10
                        FROM usage_meter.provider_aliases AS b
                       WHERE b.provider OPERATOR(pg_catalog.=) set_provider_alias.provider)))
    ON CONFLICT ON CONSTRAINT provider_aliases_pkey DO UPDATE SET position = excluded.position;
END
$$;
COMMENT ON FUNCTION usage_meter.set_provider_alias IS
    'Adds (or moves) an alias: another spelling of the provider in the price map, tried after the provider itself';

CREATE FUNCTION usage_meter.remove_provider_alias(provider text, alias text)
RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM usage_meter.provider_aliases AS a
                WHERE a.provider OPERATOR(pg_catalog.=) remove_provider_alias.provider
                  AND a.alias OPERATOR(pg_catalog.=) remove_provider_alias.alias AND a.builtin) THEN
        RAISE EXCEPTION 'invalid alias: "%" is a built-in alias of "%"', remove_provider_alias.alias,
              remove_provider_alias.provider USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM usage_meter.provider_aliases AS a
     WHERE a.provider OPERATOR(pg_catalog.=) remove_provider_alias.provider
       AND a.alias OPERATOR(pg_catalog.=) remove_provider_alias.alias;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION usage_meter.remove_provider_alias IS 'Removes an alias added by set_provider_alias; true when there was one';

-- An event of model `alias` is priced as one of `model` (for `provider` when given, else the event's), when
-- its own name has no price. For events recorded from now on; reprice() applies it to earlier ones.
CREATE FUNCTION usage_meter.set_model_alias(alias text, model text, provider text DEFAULT NULL)
RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM usage_meter.check_alias_name('alias', set_model_alias.alias);
    PERFORM usage_meter.check_alias_name('model', set_model_alias.model);
    IF set_model_alias.provider IS NOT NULL THEN
        PERFORM usage_meter.check_alias_name('provider', set_model_alias.provider);
    END IF;
    IF set_model_alias.alias OPERATOR(pg_catalog.=) set_model_alias.model THEN
        RAISE EXCEPTION 'invalid alias: a model is not an alias of itself' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO usage_meter.model_aliases AS a (alias, model, provider)
    VALUES (set_model_alias.alias, set_model_alias.model, set_model_alias.provider)
    ON CONFLICT ON CONSTRAINT model_aliases_pkey DO UPDATE SET model = excluded.model, provider = excluded.provider,
                                      created_at = pg_catalog.now();
END
$$;
COMMENT ON FUNCTION usage_meter.set_model_alias IS
    'Prices events of model "alias" as "model" (and provider) when their own name has no price; tried before the patterns';

CREATE FUNCTION usage_meter.remove_model_alias(alias text)
RETURNS boolean
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (DELETE FROM usage_meter.model_aliases AS a
                   WHERE a.alias OPERATOR(pg_catalog.=) remove_model_alias.alias RETURNING 1)
    SELECT EXISTS (SELECT FROM gone)
$$;
COMMENT ON FUNCTION usage_meter.remove_model_alias IS 'Removes a model alias; true when there was one';

DROP FUNCTION usage_meter.unpriced_models();
CREATE FUNCTION usage_meter.unpriced_models()
RETURNS TABLE (model text, provider text, operation text, events bigint, tenants bigint, input_tokens bigint,
               output_tokens bigint, cache_read_tokens bigint, cache_write_tokens bigint, quantity numeric,
               first_occurred_at timestamptz, last_occurred_at timestamptz, suggestions text[])
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.*, CASE WHEN u.model IS NOT NULL THEN usage_meter.price_suggestions(u.model, u.provider) END
    FROM (
        SELECT e.model, e.provider, e.operation, pg_catalog.count(*), pg_catalog.count(DISTINCT e.tenant),
               pg_catalog.sum(e.input_tokens)::bigint, pg_catalog.sum(e.output_tokens)::bigint,
               pg_catalog.sum(e.cache_read_tokens)::bigint, pg_catalog.sum(e.cache_write_tokens)::bigint,
               COALESCE(pg_catalog.sum(e.quantity), 0), pg_catalog.min(e.occurred_at), pg_catalog.max(e.occurred_at)
        FROM usage_meter.events AS e
        WHERE NOT e.priced AND e.reverses_event_id IS NULL
          AND NOT EXISTS (SELECT FROM usage_meter.events AS r
                           WHERE r.tenant OPERATOR(pg_catalog.=) e.tenant
                             AND r.reverses_event_id OPERATOR(pg_catalog.=) e.event_id
                             AND r.occurred_at OPERATOR(pg_catalog.=) e.occurred_at)
        GROUP BY e.model, e.provider, e.operation
    ) AS u
    ORDER BY 4 DESC, 1 NULLS FIRST, 2 NULLS FIRST, 3
$$;
COMMENT ON FUNCTION usage_meter.unpriced_models IS 'Models and operations with unpriced usage that counts (voided events excluded): events, tokens, since when, and price keys that could price them';

REVOKE ALL ON FUNCTION usage_meter.price_for(text, text, timestamptz), usage_meter.price_suggestions(text, text),
    usage_meter.check_alias_name(text, text), usage_meter.set_provider_alias(text, text, integer),
    usage_meter.remove_provider_alias(text, text), usage_meter.set_model_alias(text, text, text),
    usage_meter.remove_model_alias(text), usage_meter.unpriced_models() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.price_for(text, text, timestamptz), usage_meter.price_suggestions(text, text),
    usage_meter.set_provider_alias(text, text, integer), usage_meter.remove_provider_alias(text, text),
    usage_meter.set_model_alias(text, text, text), usage_meter.remove_model_alias(text),
    usage_meter.unpriced_models() TO usage_meter_admin;

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

-- ------------------------------------------------------------------------------------------------------------
-- Maintenance (docs/operations in README): maintain() runs every periodic job, set_retention() sets the policy
-- it applies, schedule_maintenance() registers it with pg_cron.
-- ------------------------------------------------------------------------------------------------------------
-- The retention policy maintain() applies (set_retention, retention.sql): raw events older than `keep` are
-- dropped by whole UTC months. No row: every raw event is kept. Global, like retention.
CREATE TABLE usage_meter.retention_policy (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    keep        interval NOT NULL CHECK (keep >= interval '1 month'),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE usage_meter.retention_policy IS 'How long maintain() keeps raw events (whole UTC months); no row: forever';
SELECT pg_catalog.pg_extension_config_dump('usage_meter.retention_policy', '');
GRANT SELECT ON usage_meter.retention_policy TO usage_meter_reader, usage_meter_admin;

-- set_retention(keep) -> the policy now: maintain() drops the raw events of every UTC month that ended more
-- than `keep` ago (drop_events_before(now() - keep)); the summaries keep the history. NULL keeps everything.
-- At least one month, so the cut is always a month start before the current month; at most 1000 years.
CREATE FUNCTION usage_meter.set_retention(keep interval)
RETURNS interval
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF keep IS NULL THEN
        DELETE FROM usage_meter.retention_policy;
        RETURN NULL;
    END IF;
    IF keep OPERATOR(pg_catalog.<) interval '1 month' OR keep OPERATOR(pg_catalog.>) interval '1000 years' THEN
        RAISE EXCEPTION 'invalid keep: "%" (1 month to 1000 years; NULL keeps every raw event)', keep
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Raw events are dropped by whole UTC months, such as keep => ''13 months''.';
    END IF;
    INSERT INTO usage_meter.retention_policy AS p (singleton, keep) VALUES (true, set_retention.keep)
        ON CONFLICT ON CONSTRAINT retention_policy_pkey
        DO UPDATE SET keep = excluded.keep, updated_at = pg_catalog.now();
    RETURN keep;
END
$$;
COMMENT ON FUNCTION usage_meter.set_retention IS 'How long maintain() keeps raw events (at least 1 month; NULL: forever)';

-- maintain() -> one row per job, with what it did. Every job is idempotent: run it hourly (schedule_maintenance)
-- or from a system cron. One maintain() at a time: a second one waits for the first to commit, then finds
-- nothing left to do. Recording goes on meanwhile (it waits a moment while a partition is created or dropped).
--   partitions    create_partitions(3): this UTC month and 3 ahead, and the months of rows waiting in the
--                 default partition, whose rows move into them
--   reservations  purge_reservations(tenant, '7 days') for every tenant with reservations
--   retention     with a policy (set_retention), drop_events_before(now() - keep)
CREATE FUNCTION usage_meter.maintain()
RETURNS TABLE (job text, done bigint, detail text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    waiting bigint;
    created bigint;
    purged bigint := 0;
    t text;
    keep_for interval;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('usage_meter.maintain'));

    SELECT pg_catalog.count(*) INTO waiting FROM usage_meter.events_default;
    SELECT pg_catalog.count(*) INTO created FROM usage_meter.create_partitions(3) AS c;
    job := 'partitions';
    done := created;
    detail := pg_catalog.format('%s partitions created, %s rows moved out of the default partition', created,
                                waiting OPERATOR(pg_catalog.-) (SELECT pg_catalog.count(*) FROM usage_meter.events_default));
    RETURN NEXT;

    FOR t IN SELECT DISTINCT r.tenant FROM usage_meter.reservations AS r ORDER BY 1 LOOP
        purged := purged OPERATOR(pg_catalog.+) usage_meter.purge_reservations(t, interval '7 days');
    END LOOP;
    job := 'reservations';
    done := purged;
    detail := pg_catalog.format('%s reservations closed or expired more than 7 days ago deleted', purged);
    RETURN NEXT;

    SELECT p.keep INTO keep_for FROM usage_meter.retention_policy AS p;
    job := 'retention';
    IF keep_for IS NULL THEN
        done := 0;
        detail := 'no retention policy (set_retention): every raw event is kept';
    ELSE
        done := usage_meter.drop_events_before(pg_catalog.now() OPERATOR(pg_catalog.-) keep_for);
        detail := pg_catalog.format('%s raw events dropped; kept from %s (policy: %s)', done,
                                    (SELECT r.kept_from FROM usage_meter.retention AS r), keep_for);
    END IF;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION usage_meter.maintain IS 'Every periodic job, idempotently: partitions ahead, reservations purged, the retention policy applied';

-- schedule_maintenance(cron) -> the pg_cron job id: one job, usage_meter_maintain, running maintain() on that
-- schedule (registered, or updated when it exists). pg_cron must be installed in this database; the job runs
-- as the caller.
CREATE FUNCTION usage_meter.schedule_maintenance(cron text DEFAULT '7 * * * *')
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job_id bigint;
BEGIN
    IF cron IS NULL OR pg_catalog.btrim(cron) OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'invalid cron: it must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension AS x WHERE x.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'feature_not_supported',
                  HINT = pg_catalog.format('Install pg_cron (shared_preload_libraries = ''pg_cron'', then CREATE EXTENSION '
                                           'pg_cron) and call this again. If pg_cron runs in another database, run there: '
                                           'SELECT cron.schedule_in_database(''usage_meter_maintain'', %L, '
                                           '''SELECT * FROM usage_meter.maintain()'', %L). Without pg_cron, a system '
                                           'crontab line: %s psql -d %s -c ''SELECT * FROM usage_meter.maintain()''',
                                           cron, pg_catalog.current_database(), cron, pg_catalog.current_database());
    END IF;
    BEGIN
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job_id
            USING 'usage_meter_maintain', cron, 'SELECT * FROM usage_meter.maintain()';
    EXCEPTION WHEN invalid_parameter_value OR internal_error THEN
        RAISE EXCEPTION 'invalid cron: "%" (%)', cron, SQLERRM
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Five fields, minute hour day-of-month month day-of-week, such as ''7 * * * *''.';
    END;
    RETURN job_id;
END
$$;
COMMENT ON FUNCTION usage_meter.schedule_maintenance IS 'Runs maintain() from pg_cron on this schedule (one job, usage_meter_maintain)';

REVOKE ALL ON FUNCTION usage_meter.set_retention(interval), usage_meter.maintain(),
    usage_meter.schedule_maintenance(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.set_retention(interval), usage_meter.maintain(),
    usage_meter.schedule_maintenance(text) TO usage_meter_admin;

-- ------------------------------------------------------------------------------------------------------------
-- release(tenant, reservation_id): the tenant-first form of release (ids are unique per database only).
-- ------------------------------------------------------------------------------------------------------------
-- The tenant-first form: ids are unique per database only, so where several databases hold tenants a call names
-- its tenant; another tenant's reservation is unknown to it (22023).
CREATE FUNCTION usage_meter.release(tenant text, reservation_id bigint)
RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_seqscan = off
    AS 'MODULE_PATHNAME', 'release_for_tenant';
COMMENT ON FUNCTION usage_meter.release(text, bigint) IS 'release(reservation_id) for one tenant: another tenant''s reservation is unknown';
REVOKE ALL ON FUNCTION usage_meter.release(text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.release(text, bigint) TO usage_meter_writer, usage_meter_admin;
