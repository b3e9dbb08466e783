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

-- Adds an alias of a provider (position: its order among the provider's aliases; default after the last). Setting
-- an alias that exists again without a position keeps its position, so repeating a call changes nothing.
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
    ON CONFLICT ON CONSTRAINT provider_aliases_pkey DO UPDATE
        SET position = COALESCE(set_provider_alias.position, a.position)
        WHERE a.position OPERATOR(pg_catalog.<>) COALESCE(set_provider_alias.position, a.position);
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
-- its own name has no price. For events recorded from now on; reprice() applies it to earlier ones. Setting the
-- same alias again changes nothing (not even created_at).
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
                                      created_at = pg_catalog.now()
        WHERE (a.model, a.provider) IS DISTINCT FROM (excluded.model, excluded.provider);
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
-- Analytics (analytics.sql): usage_series, top_usage, session_usage, latency_percentiles and spend_forecast,
-- with the caller's rights (a reader sees its tenants only). session_usage reads the ledger by session through
-- a session index on each partition: the default partition's here, every monthly partition's below (they are
-- not extension members), and create_partition gives new partitions theirs.
-- ------------------------------------------------------------------------------------------------------------
CREATE INDEX events_default_session ON usage_meter.events_default (tenant, session_id)
    WHERE session_id IS NOT NULL;
DO $session_index$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT c.relname FROM pg_catalog.pg_inherits AS i
               JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
              WHERE i.inhparent OPERATOR(pg_catalog.=) 'usage_meter.events'::regclass
                AND c.oid OPERATOR(pg_catalog.<>) 'usage_meter.events_default'::regclass
              ORDER BY c.relname LOOP
        EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS %I ON usage_meter.%I (tenant, session_id)'
                                  ' WHERE session_id IS NOT NULL', p.relname OPERATOR(pg_catalog.||) '_session', p.relname);
    END LOOP;
END
$session_index$;

-- The partition of the UTC month starting at month_start: created (if missing) from the default partition's
-- rows of that month, moved as they are (no trigger fires: not priced or rolled up again), with its own key,
-- reversal index, session index and append-only trigger, then attached (which clones the parent's row trigger onto it).
-- Returns its name, NULL if it existed.
CREATE OR REPLACE FUNCTION usage_meter.create_partition(month_start timestamptz)
RETURNS text
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    upper timestamptz := ((month_start AT TIME ZONE 'UTC') OPERATOR(pg_catalog.+) interval '1 month') AT TIME ZONE 'UTC';
    name text := 'events_' OPERATOR(pg_catalog.||) pg_catalog.to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM')
                 OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.date_part('year', month_start AT TIME ZONE 'UTC')
                                                   OPERATOR(pg_catalog.<=) 0 THEN '_bc' ELSE '' END;
    role text := pg_catalog.current_setting('session_replication_role');
BEGIN
    IF month_start OPERATOR(pg_catalog.<>) pg_catalog.date_trunc('month', month_start, 'UTC') THEN
        RAISE EXCEPTION 'invalid month_start: % is not the start of a UTC month', month_start
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.to_regclass('usage_meter.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(name)) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    -- The ledger waits here for a moment (only when a partition is created): no row is routed while the
    -- partitions change, and the transactions in flight finish before the default partition's rows move.
    LOCK TABLE ONLY usage_meter.events IN ACCESS EXCLUSIVE MODE;
    EXECUTE pg_catalog.format('CREATE TABLE usage_meter.%I (LIKE usage_meter.events INCLUDING DEFAULTS'
                              ' INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)', name);
    EXECUTE pg_catalog.format('ALTER TABLE usage_meter.%I ADD CONSTRAINT %I PRIMARY KEY (tenant, event_id, occurred_at)',
                              name, name OPERATOR(pg_catalog.||) '_pkey');
    EXECUTE pg_catalog.format('CREATE UNIQUE INDEX %I ON usage_meter.%I (tenant, reverses_event_id)'
                              ' WHERE reverses_event_id IS NOT NULL', name OPERATOR(pg_catalog.||) '_reversed_once', name);
    EXECUTE pg_catalog.format('CREATE INDEX %I ON usage_meter.%I (tenant, session_id) WHERE session_id IS NOT NULL',
                              name OPERATOR(pg_catalog.||) '_session', name);
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
    EXECUTE pg_catalog.format('WITH moved AS (DELETE FROM usage_meter.events_default AS d'
                              ' WHERE d.occurred_at OPERATOR(pg_catalog.>=) $1 AND d.occurred_at OPERATOR(pg_catalog.<) $2'
                              ' RETURNING d.*) INSERT INTO usage_meter.%I SELECT * FROM moved', name)
        USING month_start, upper;
    PERFORM pg_catalog.set_config('session_replication_role', role, true);
    EXECUTE pg_catalog.format('ALTER TABLE usage_meter.events ATTACH PARTITION usage_meter.%I FOR VALUES FROM (%L) TO (%L)',
                              name, month_start, upper);
    EXECUTE pg_catalog.format('CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON usage_meter.%I'
                              ' FOR EACH STATEMENT EXECUTE FUNCTION usage_meter.events_append_only()', name);
    EXECUTE pg_catalog.format('ALTER TABLE usage_meter.%I ENABLE ROW LEVEL SECURITY', name);
    RETURN name;
END
$$;

------------------------------------------------------------------------------------------------------------
-- Argument checks shared by the reports: SQLSTATE 22004 for a NULL, 22023 for a bad value, naming the argument.
------------------------------------------------------------------------------------------------------------
-- A tenant and a range of local dates: finite, since <= until, at most 3653 days (ten years).
CREATE FUNCTION usage_meter.check_report_range(tenant text, since date, until date)
RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF since IS NULL THEN
        RAISE EXCEPTION 'since must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF until IS NULL THEN
        RAISE EXCEPTION 'until must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF NOT pg_catalog.isfinite(since) THEN
        RAISE EXCEPTION 'invalid since: % (a finite date)', since USING ERRCODE = 'invalid_parameter_value';
    ELSIF NOT pg_catalog.isfinite(until) THEN
        RAISE EXCEPTION 'invalid until: % (a finite date)', until USING ERRCODE = 'invalid_parameter_value';
    ELSIF since OPERATOR(pg_catalog.>) until THEN
        RAISE EXCEPTION 'invalid since: % is after until %', since, until USING ERRCODE = 'invalid_parameter_value';
    ELSIF until OPERATOR(pg_catalog.-) since OPERATOR(pg_catalog.>=) 3653 THEN
        RAISE EXCEPTION 'invalid until: % .. % covers % days (at most 3653, ten years)',
                        since, until, until OPERATOR(pg_catalog.-) since OPERATOR(pg_catalog.+) 1
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

-- A list of column names (group_by) or one name (dimension, metric, bucket: an array of one, NULL when the
-- name is NULL) among the allowed ones.
CREATE FUNCTION usage_meter.check_report_names(argument text, names text[], allowed text[])
RETURNS void
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
BEGIN
    IF names IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', argument USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT n INTO bad FROM pg_catalog.unnest(names) AS n
     WHERE n IS NULL OR NOT n OPERATOR(pg_catalog.=) ANY (allowed) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'invalid %: "%" (one of %)', argument, COALESCE(bad, 'NULL'),
                        pg_catalog.array_to_string(allowed, ', ')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

------------------------------------------------------------------------------------------------------------
-- Reports from the summaries.
------------------------------------------------------------------------------------------------------------
-- The first day of the bucket (day, ISO week from Monday, month) holding a local date.
CREATE FUNCTION usage_meter.bucket_start(bucket text, day date)
RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE bucket
               WHEN 'day' THEN day
               WHEN 'week' THEN day OPERATOR(pg_catalog.-) (EXTRACT(isodow FROM day)::integer OPERATOR(pg_catalog.-) 1)
               ELSE pg_catalog.date_trunc('month', day::timestamp)::date
           END
$$;

-- usage_series: one row per bucket (the local day, the ISO week from its Monday, or the month from its 1st; the
-- first and last buckets may start before since or end after until, only days in the range are counted) and
-- per combination of the group_by columns (the others are NULL). Without group_by every bucket of the range
-- appears, with zeros where nothing was recorded. avg_latency_ms is the summaries' latency total over their
-- requests: an event recorded without a latency counts as 0 ms (latency_percentiles reads the events).
CREATE FUNCTION usage_meter.usage_series(tenant text, since date, until date, bucket text DEFAULT 'day',
                                         group_by text[] DEFAULT '{}', only_user text DEFAULT NULL)
RETURNS TABLE (bucket_start date, user_id text, operation text, provider text, model text, requests bigint,
               errors bigint, input_tokens bigint, output_tokens bigint, cache_read_tokens bigint,
               cache_write_tokens bigint, reasoning_tokens bigint, cost numeric, billed_cost numeric,
               avg_latency_ms numeric)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    step interval;
BEGIN
    PERFORM usage_meter.check_report_range(usage_series.tenant, usage_series.since, usage_series.until);
    PERFORM usage_meter.check_report_names('bucket', CASE WHEN usage_series.bucket IS NOT NULL
                                                          THEN ARRAY[usage_series.bucket] END,
                                           ARRAY['day', 'week', 'month']);
    PERFORM usage_meter.check_report_names('group_by', usage_series.group_by,
                                           ARRAY['user_id', 'operation', 'provider', 'model']);
    step := CASE usage_series.bucket WHEN 'day' THEN interval '1 day' WHEN 'week' THEN interval '1 week'
                                     ELSE interval '1 month' END;
    RETURN QUERY
    WITH grouped AS (
        SELECT usage_meter.bucket_start(usage_series.bucket, r.day) AS b,
               CASE WHEN 'user_id' OPERATOR(pg_catalog.=) ANY (usage_series.group_by) THEN r.user_id END AS u,
               CASE WHEN 'operation' OPERATOR(pg_catalog.=) ANY (usage_series.group_by) THEN r.operation END AS o,
               CASE WHEN 'provider' OPERATOR(pg_catalog.=) ANY (usage_series.group_by) THEN r.provider END AS p,
               CASE WHEN 'model' OPERATOR(pg_catalog.=) ANY (usage_series.group_by) THEN r.model END AS m,
               pg_catalog.sum(r.requests) AS requests, pg_catalog.sum(r.errors) AS errors,
               pg_catalog.sum(r.input_tokens) AS input_tokens, pg_catalog.sum(r.output_tokens) AS output_tokens,
               pg_catalog.sum(r.cache_read_tokens) AS cache_read_tokens,
               pg_catalog.sum(r.cache_write_tokens) AS cache_write_tokens,
               pg_catalog.sum(r.reasoning_tokens) AS reasoning_tokens,
               pg_catalog.sum(r.cost) AS cost, pg_catalog.sum(r.billed_cost) AS billed_cost,
               pg_catalog.sum(r.latency_ms_total) AS latency_ms_total
          FROM usage_meter.daily_rollup AS r
         WHERE r.tenant OPERATOR(pg_catalog.=) usage_series.tenant
           AND r.day OPERATOR(pg_catalog.>=) usage_series.since AND r.day OPERATOR(pg_catalog.<=) usage_series.until
           AND (usage_series.only_user IS NULL OR r.user_id OPERATOR(pg_catalog.=) usage_series.only_user)
         GROUP BY 1, 2, 3, 4, 5
    ),
    -- Every bucket of the range, when nothing is grouped (a chart needs the gaps).
    buckets AS (
        SELECT s::date AS b
          FROM pg_catalog.generate_series(usage_meter.bucket_start(usage_series.bucket, usage_series.since)::timestamp,
                                          usage_meter.bucket_start(usage_series.bucket, usage_series.until)::timestamp,
                                          step) AS s
         WHERE pg_catalog.cardinality(usage_series.group_by) OPERATOR(pg_catalog.=) 0
    )
    SELECT COALESCE(g.b, k.b), g.u, g.o, g.p, g.m,
           COALESCE(g.requests, 0)::bigint, COALESCE(g.errors, 0)::bigint, COALESCE(g.input_tokens, 0)::bigint,
           COALESCE(g.output_tokens, 0)::bigint, COALESCE(g.cache_read_tokens, 0)::bigint,
           COALESCE(g.cache_write_tokens, 0)::bigint, COALESCE(g.reasoning_tokens, 0)::bigint,
           COALESCE(g.cost, 0), COALESCE(g.billed_cost, 0),
           CASE WHEN g.requests OPERATOR(pg_catalog.<>) 0
                THEN pg_catalog.round(g.latency_ms_total OPERATOR(pg_catalog./) g.requests, 2) END
      FROM grouped AS g
      FULL JOIN buckets AS k ON k.b OPERATOR(pg_catalog.=) g.b
     ORDER BY 1, 2 NULLS FIRST, 3 NULLS FIRST, 4 NULLS FIRST, 5 NULLS FIRST;
END
$$;
COMMENT ON FUNCTION usage_meter.usage_series IS
    'Usage by local day, ISO week or month, optionally by user, operation, provider and model (from the daily summaries)';

-- top_usage: the n keys of a dimension with the largest value of a metric in the range (ties by key, NULL
-- last), with their share of the tenant's total of that metric in the range (6 decimal places; 0 when the
-- total is 0). tokens = input + output + cache read + cache write, as in limits.
CREATE FUNCTION usage_meter.top_usage(tenant text, since date, until date, dimension text, metric text DEFAULT 'cost',
                                      n integer DEFAULT 10)
RETURNS TABLE (rank integer, key text, value numeric, share numeric)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM usage_meter.check_report_range(top_usage.tenant, top_usage.since, top_usage.until);
    PERFORM usage_meter.check_report_names('dimension', CASE WHEN top_usage.dimension IS NOT NULL
                                                             THEN ARRAY[top_usage.dimension] END,
                                           ARRAY['user_id', 'operation', 'provider', 'model']);
    PERFORM usage_meter.check_report_names('metric', CASE WHEN top_usage.metric IS NOT NULL
                                                          THEN ARRAY[top_usage.metric] END,
                                           ARRAY['cost', 'billed_cost', 'tokens', 'requests', 'errors']);
    IF top_usage.n IS NULL THEN
        RAISE EXCEPTION 'n must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF top_usage.n OPERATOR(pg_catalog.<=) 0 THEN
        RAISE EXCEPTION 'invalid n: % (at least 1)', top_usage.n USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH per_key AS (
        SELECT CASE top_usage.dimension WHEN 'user_id' THEN r.user_id WHEN 'operation' THEN r.operation
                                        WHEN 'provider' THEN r.provider ELSE r.model END AS k,
               pg_catalog.sum(CASE top_usage.metric
                                  WHEN 'cost' THEN r.cost
                                  WHEN 'billed_cost' THEN r.billed_cost
                                  WHEN 'tokens' THEN r.input_tokens::numeric OPERATOR(pg_catalog.+) r.output_tokens
                                                     OPERATOR(pg_catalog.+) r.cache_read_tokens
                                                     OPERATOR(pg_catalog.+) r.cache_write_tokens
                                  WHEN 'requests' THEN r.requests::numeric
                                  ELSE r.errors::numeric END) AS v
          FROM usage_meter.daily_rollup AS r
         WHERE r.tenant OPERATOR(pg_catalog.=) top_usage.tenant
           AND r.day OPERATOR(pg_catalog.>=) top_usage.since AND r.day OPERATOR(pg_catalog.<=) top_usage.until
         GROUP BY 1
    ),
    total AS (SELECT pg_catalog.sum(x.v) AS t FROM per_key AS x)
    SELECT (pg_catalog.row_number() OVER (ORDER BY x.v DESC, x.k NULLS LAST))::integer, x.k, x.v,
           CASE WHEN t.t OPERATOR(pg_catalog.=) 0 THEN 0::numeric
                ELSE pg_catalog.round(x.v OPERATOR(pg_catalog./) t.t, 6) END
      FROM per_key AS x CROSS JOIN total AS t
     ORDER BY 1
     LIMIT top_usage.n;
END
$$;
COMMENT ON FUNCTION usage_meter.top_usage IS
    'The n users, operations, providers or models with the most cost, billed cost, tokens, requests or errors in a range, with their share';

------------------------------------------------------------------------------------------------------------
-- Reports from the ledger.
------------------------------------------------------------------------------------------------------------
-- session_usage: the totals of one session's events that count (voided events and the reversals left out;
-- a correction counts as its replacement), with the first and last occurred_at and the models used. One row,
-- zeros for an unknown session.
CREATE FUNCTION usage_meter.session_usage(tenant text, session_id text)
RETURNS TABLE (requests bigint, errors bigint, tokens bigint, cost numeric, billed_cost numeric,
               first_at timestamptz, last_at timestamptz, models text[])
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF session_usage.tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF session_usage.session_id IS NULL THEN
        RAISE EXCEPTION 'session_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN QUERY
    SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE NOT e.success),
           COALESCE(pg_catalog.sum(e.input_tokens OPERATOR(pg_catalog.+) e.output_tokens
                                   OPERATOR(pg_catalog.+) e.cache_read_tokens
                                   OPERATOR(pg_catalog.+) e.cache_write_tokens), 0)::bigint,
           COALESCE(pg_catalog.sum(e.cost), 0), COALESCE(pg_catalog.sum(e.billed_cost), 0),
           pg_catalog.min(e.occurred_at), pg_catalog.max(e.occurred_at),
           COALESCE(pg_catalog.array_agg(DISTINCT e.model ORDER BY e.model) FILTER (WHERE e.model IS NOT NULL),
                    '{}')
      FROM usage_meter.events AS e
     WHERE e.tenant OPERATOR(pg_catalog.=) session_usage.tenant
       AND e.session_id OPERATOR(pg_catalog.=) session_usage.session_id
       AND e.reverses_event_id IS NULL
       AND NOT EXISTS (SELECT FROM usage_meter.events AS r
                        WHERE r.tenant OPERATOR(pg_catalog.=) e.tenant
                          AND r.reverses_event_id OPERATOR(pg_catalog.=) e.event_id
                          AND r.occurred_at OPERATOR(pg_catalog.=) e.occurred_at);
END
$$;
COMMENT ON FUNCTION usage_meter.session_usage IS
    'Totals of one session: requests, errors, tokens, cost, first and last event, models (voided events left out)';

-- latency_percentiles: exact percentiles (percentile_disc) of latency_ms over the range's events that carry one
-- and count (voided events and reversals left out), per combination of the group_by columns. It reads raw
-- events, so the range must start on or after verifiable_since(). The occurred_at bounds (a local day starts
-- between 14 hours before and 12 hours after its UTC midnight) let the planner skip other months' partitions.
CREATE FUNCTION usage_meter.latency_percentiles(tenant text, since date, until date,
                                                group_by text[] DEFAULT '{model}')
RETURNS TABLE (operation text, provider text, model text, requests bigint, p50_ms integer, p95_ms integer,
               p99_ms integer)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kept_since date;
BEGIN
    PERFORM usage_meter.check_report_range(latency_percentiles.tenant, latency_percentiles.since,
                                           latency_percentiles.until);
    PERFORM usage_meter.check_report_names('group_by', latency_percentiles.group_by,
                                           ARRAY['operation', 'provider', 'model']);
    kept_since := usage_meter.verifiable_since();
    IF latency_percentiles.since OPERATOR(pg_catalog.<) kept_since THEN
        RAISE EXCEPTION 'invalid since: % is before %, the first day whose raw events are all kept',
                        latency_percentiles.since, kept_since
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Latency percentiles read the raw events; usage_series has the daily average for older days.';
    END IF;
    RETURN QUERY
    SELECT CASE WHEN 'operation' OPERATOR(pg_catalog.=) ANY (latency_percentiles.group_by) THEN e.operation END,
           CASE WHEN 'provider' OPERATOR(pg_catalog.=) ANY (latency_percentiles.group_by) THEN e.provider END,
           CASE WHEN 'model' OPERATOR(pg_catalog.=) ANY (latency_percentiles.group_by) THEN e.model END,
           pg_catalog.count(*),
           pg_catalog.percentile_disc(0.5) WITHIN GROUP (ORDER BY e.latency_ms),
           pg_catalog.percentile_disc(0.95) WITHIN GROUP (ORDER BY e.latency_ms),
           pg_catalog.percentile_disc(0.99) WITHIN GROUP (ORDER BY e.latency_ms)
      FROM usage_meter.events AS e
     WHERE e.tenant OPERATOR(pg_catalog.=) latency_percentiles.tenant
       AND e.day OPERATOR(pg_catalog.>=) latency_percentiles.since
       AND e.day OPERATOR(pg_catalog.<=) latency_percentiles.until
       AND e.occurred_at OPERATOR(pg_catalog.>=)
           (latency_percentiles.since::timestamp OPERATOR(pg_catalog.-) interval '14 hours') AT TIME ZONE 'UTC'
       AND e.occurred_at OPERATOR(pg_catalog.<)
           ((latency_percentiles.until OPERATOR(pg_catalog.+) 1)::timestamp OPERATOR(pg_catalog.+) interval '12 hours')
           AT TIME ZONE 'UTC'
       AND e.latency_ms IS NOT NULL
       AND e.reverses_event_id IS NULL
       AND NOT EXISTS (SELECT FROM usage_meter.events AS r
                        WHERE r.tenant OPERATOR(pg_catalog.=) e.tenant
                          AND r.reverses_event_id OPERATOR(pg_catalog.=) e.event_id
                          AND r.occurred_at OPERATOR(pg_catalog.=) e.occurred_at)
     GROUP BY 1, 2, 3
     ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3 NULLS FIRST;
END
$$;
COMMENT ON FUNCTION usage_meter.latency_percentiles IS
    'Exact p50, p95 and p99 latency of the events in a range, by operation, provider and model (from the raw events)';

------------------------------------------------------------------------------------------------------------
-- Forecast, from the month counters (what limits read).
------------------------------------------------------------------------------------------------------------
-- spend_forecast: the month holding "at" (default now) in the tenant's time zone, what it has cost so far (the
-- month counter of the tenant, or of user_id), and the straight line through it: days_elapsed is the local
-- wall-clock time since the month's first midnight in days (6 places, at least 1), projected = month_to_date x
-- days in the month / days_elapsed (6 places). The limit is the monthly cost or billed_cost limit of the same
-- scope (the tenant's own for the tenant; the user's own, else '*', for a user), hard or soft, that the line
-- reaches first (at day max_value x days_elapsed / used); projected_exhaustion is the local date it does,
-- NULL when it does not within the month (or nothing was spent).
CREATE FUNCTION usage_meter.spend_forecast(tenant text, user_id text DEFAULT NULL,
                                           at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (month_start date, month_end date, days_elapsed numeric, month_to_date numeric,
               billed_month_to_date numeric, projected numeric, projected_billed numeric, limit_metric text,
               max_value numeric, projected_exhaustion date)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    zone text;
    days_in_month integer;
    reach numeric;
BEGIN
    IF spend_forecast.tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF spend_forecast.at IS NULL THEN
        RAISE EXCEPTION 'at must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF spend_forecast.user_id OPERATOR(pg_catalog.=) '*' THEN
        RAISE EXCEPTION 'invalid user_id: "*" names every user, not one' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT b.period_start INTO month_start
      FROM usage_meter.period_bounds(spend_forecast.tenant, spend_forecast.at) AS b
     WHERE b.period OPERATOR(pg_catalog.=) 'month';
    month_end := (month_start::timestamp OPERATOR(pg_catalog.+) interval '1 month')::date OPERATOR(pg_catalog.-) 1;
    days_in_month := month_end OPERATOR(pg_catalog.-) month_start OPERATOR(pg_catalog.+) 1;
    SELECT COALESCE((SELECT t.time_zone FROM usage_meter.tenants AS t
                      WHERE t.tenant OPERATOR(pg_catalog.=) spend_forecast.tenant), 'UTC') INTO zone;
    days_elapsed := pg_catalog.round(GREATEST(1,
        EXTRACT(epoch FROM (spend_forecast.at AT TIME ZONE zone) OPERATOR(pg_catalog.-) month_start::timestamp)
        OPERATOR(pg_catalog./) 86400), 6);
    SELECT COALESCE(pg_catalog.sum(c.cost), 0), COALESCE(pg_catalog.sum(c.billed_cost), 0)
      INTO month_to_date, billed_month_to_date
      FROM usage_meter.counters AS c
     WHERE c.tenant OPERATOR(pg_catalog.=) spend_forecast.tenant
       AND c.period OPERATOR(pg_catalog.=) 'month' AND c.period_start OPERATOR(pg_catalog.=) month_start
       AND c.user_id IS NOT DISTINCT FROM spend_forecast.user_id;
    projected := pg_catalog.round(month_to_date OPERATOR(pg_catalog.*) days_in_month
                                  OPERATOR(pg_catalog./) days_elapsed, 6);
    projected_billed := pg_catalog.round(billed_month_to_date OPERATOR(pg_catalog.*) days_in_month
                                         OPERATOR(pg_catalog./) days_elapsed, 6);
    SELECT l.metric, l.max_value, l.reach INTO limit_metric, max_value, reach
      FROM (SELECT x.metric, x.max_value,
                   CASE WHEN u.used OPERATOR(pg_catalog.>) 0
                        THEN x.max_value OPERATOR(pg_catalog.*) days_elapsed OPERATOR(pg_catalog./) u.used END AS reach
              FROM usage_meter.limits AS x
             CROSS JOIN LATERAL (SELECT CASE x.metric WHEN 'cost' THEN month_to_date
                                                      ELSE billed_month_to_date END AS used) AS u
             WHERE x.tenant OPERATOR(pg_catalog.=) spend_forecast.tenant
               AND x.period OPERATOR(pg_catalog.=) 'month'
               AND x.metric OPERATOR(pg_catalog.=) ANY (ARRAY['cost', 'billed_cost'])
               AND CASE WHEN spend_forecast.user_id IS NULL THEN x.user_id IS NULL
                        ELSE x.user_id OPERATOR(pg_catalog.=) spend_forecast.user_id
                             OR (x.user_id OPERATOR(pg_catalog.=) '*'
                                 AND NOT EXISTS (SELECT FROM usage_meter.limits AS own
                                                  WHERE own.tenant OPERATOR(pg_catalog.=) x.tenant
                                                    AND own.user_id OPERATOR(pg_catalog.=) spend_forecast.user_id
                                                    AND own.metric OPERATOR(pg_catalog.=) x.metric
                                                    AND own.period OPERATOR(pg_catalog.=) x.period)) END) AS l
     ORDER BY l.reach NULLS LAST, l.max_value, l.metric
     LIMIT 1;
    projected_exhaustion := CASE WHEN reach OPERATOR(pg_catalog.<) days_in_month
                                 THEN month_start OPERATOR(pg_catalog.+) pg_catalog.floor(reach)::integer END;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION usage_meter.spend_forecast IS
    'Month to date, the straight-line projection to the month''s end, and the date it reaches the first monthly cost limit';

REVOKE ALL ON FUNCTION usage_meter.check_report_range(text, date, date),
    usage_meter.check_report_names(text, text[], text[]), usage_meter.bucket_start(text, date),
    usage_meter.usage_series(text, date, date, text, text[], text),
    usage_meter.top_usage(text, date, date, text, text, integer), usage_meter.session_usage(text, text),
    usage_meter.latency_percentiles(text, date, date, text[]), usage_meter.spend_forecast(text, text, timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.check_report_range(text, date, date),
    usage_meter.check_report_names(text, text[], text[]), usage_meter.bucket_start(text, date),
    usage_meter.usage_series(text, date, date, text, text[], text),
    usage_meter.top_usage(text, date, date, text, text, integer), usage_meter.session_usage(text, text),
    usage_meter.latency_percentiles(text, date, date, text[]), usage_meter.spend_forecast(text, text, timestamptz)
    TO usage_meter_reader, usage_meter_admin;

------------------------------------------------------------------------------------------------------------
-- Batches: many events in one call (docs/recording.md, "Batches"): usage_record_batch.
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

REVOKE ALL ON FUNCTION usage_meter.record_batch(text, jsonb, boolean), usage_meter.usage_record_batch(jsonb),
    usage_meter.usage_record_batch(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.usage_record_batch(jsonb), usage_meter.usage_record_batch(text, jsonb)
    TO usage_meter_writer, usage_meter_admin;
-- ------------------------------------------------------------------------------------------------------------
-- Moving a tenant between databases (issue 17; tenants_move.sql): the moving flag, export_tenant,
-- import_tenant, purge_tenant, and price_catalog_digest to compare catalogs. event_owner refuses an id that
-- names events of several tenants (import_tenant keeps a moved tenant's ids).
-- ------------------------------------------------------------------------------------------------------------
ALTER TABLE usage_meter.tenants ADD COLUMN moving boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION usage_meter.event_owner(event_id bigint)
RETURNS text
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner text;
    owners bigint;
BEGIN
    IF event_owner.event_id IS NULL THEN
        RAISE EXCEPTION 'event_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT pg_catalog.min(e.tenant), pg_catalog.count(DISTINCT e.tenant) INTO owner, owners
      FROM usage_meter.events AS e
     WHERE e.event_id OPERATOR(pg_catalog.=) event_owner.event_id;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'invalid event_id: the ledger has no event %', event_owner.event_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF owners OPERATOR(pg_catalog.>) 1 THEN
        RAISE EXCEPTION 'invalid event_id: % names events of several tenants', event_owner.event_id
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A tenant moved in by import_tenant keeps its event ids; name the tenant (the tenant-first form).';
    END IF;
    RETURN owner;
END
$$;

------------------------------------------------------------------------------------------------------------
-- The moving flag (tenants.moving): recording, voids and corrections, reserve, set_tenant, set_limit and
-- remove_limit refuse a tenant being moved with SQLSTATE 55000 (object_not_in_prerequisite_state), so nothing
-- is recorded on the side it is leaving. Reads (check_limit, live_usage, the analytics) still answer.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.set_tenant_moving(tenant text, moving boolean)
RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF set_tenant_moving.tenant IS NULL OR set_tenant_moving.moving IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN set_tenant_moving.tenant IS NULL THEN 'tenant' ELSE 'moving' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE usage_meter.tenants AS t SET moving = set_tenant_moving.moving
     WHERE t.tenant OPERATOR(pg_catalog.=) set_tenant_moving.tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invalid tenant: this database has no tenant "%"', set_tenant_moving.tenant
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;
COMMENT ON FUNCTION usage_meter.set_tenant_moving IS
    'Marks a tenant as being moved to another database (its writes are refused with 55000), or ends that';

-- Internal to export_tenant and purge_tenant: the tenant must be marked moving, and every transaction of this
-- database that began before this call (and so may have read the tenant before it was marked, and may still
-- record for it) must have ended. Waits for them up to 30 seconds, then refuses (55006) naming them. The
-- caller's next statement, taken in READ COMMITTED after this, sees everything they committed.
CREATE FUNCTION usage_meter.tenant_quiesce(tenant text, action text)
RETURNS void
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_moving boolean;
    since timestamptz;
    pids integer[];
BEGIN
    IF tenant_quiesce.tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
        RAISE EXCEPTION '% must run in a READ COMMITTED transaction', tenant_quiesce.action
            USING ERRCODE = 'active_sql_transaction',
                  HINT = 'In REPEATABLE READ or SERIALIZABLE its snapshot could miss a write that was in flight.';
    END IF;
    SELECT t.moving INTO is_moving FROM usage_meter.tenants AS t
     WHERE t.tenant OPERATOR(pg_catalog.=) tenant_quiesce.tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invalid tenant: this database has no tenant "%"', tenant_quiesce.tenant
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT is_moving THEN
        RAISE EXCEPTION 'tenant "%" is not marked as being moved', tenant_quiesce.tenant
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = pg_catalog.format('Call usage_meter.set_tenant_moving(%L, true) and commit it before %s: '
                                           'its writes are refused from then on.', tenant_quiesce.tenant,
                                           tenant_quiesce.action);
    END IF;
    since := pg_catalog.clock_timestamp();
    FOR i IN 1 .. 300 LOOP
        PERFORM pg_catalog.pg_stat_clear_snapshot();  -- pg_stat_activity is otherwise read once per transaction
        SELECT pg_catalog.array_agg(a.pid ORDER BY a.pid) INTO pids FROM pg_catalog.pg_stat_activity AS a
         WHERE a.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()
           AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
           AND a.backend_type OPERATOR(pg_catalog.=) 'client backend'
           AND (a.xact_start OPERATOR(pg_catalog.<) since OR a.state IS NULL);  -- NULL: not visible to us
        EXIT WHEN pids IS NULL;
        PERFORM pg_catalog.pg_sleep(0.1);
    END LOOP;
    IF pids IS NOT NULL THEN
        RAISE EXCEPTION 'cannot % tenant "%" yet: transactions that began before it was marked as moving are still running',
              tenant_quiesce.action, tenant_quiesce.tenant
            USING ERRCODE = 'object_in_use',
                  DETAIL = pg_catalog.format('Backend pids: %s.', pg_catalog.array_to_string(pids, ', ')),
                  HINT = 'One of them may still record for the tenant; retry when they have ended.';
    END IF;
END
$$;

------------------------------------------------------------------------------------------------------------
-- export_tenant(tenant) -> jsonb: every row of the tenant, in one snapshot, as one document:
--   {"format": "usage_meter.tenant_export", "format_version": 1, "tenant", "exported_at", "extension_version",
--    "kept_from": this database's retention boundary (NULL: nothing dropped),
--    and one array of rows (to_jsonb of each row, every column) per table: "tenants", "tenant_markups",
--    "limits", "events", "idempotency_keys", "daily_rollup", "counters", "reservations", "alerts",
--    "reader_tenants"}
-- Prices, unit prices and aliases are shared by every tenant and are not in it (a catalog is set on every
-- database: price_catalog_digest compares them). The tenant must be marked moving (set_tenant_moving), so the
-- document stays complete; it stays marked until purge_tenant removes it. A document is one jsonb value: a
-- tenant of up to some hundred thousand raw events per document (a value is limited to 255 MB).
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.export_tenant(tenant text)
RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text := export_tenant.tenant;
    document jsonb;
BEGIN
    PERFORM usage_meter.tenant_quiesce(t, 'export');
    -- One statement: one snapshot of every table.
    SELECT pg_catalog.jsonb_build_object(
               'format', 'usage_meter.tenant_export', 'format_version', 1, 'tenant', t,
               'exported_at', pg_catalog.clock_timestamp(),
               'extension_version', (SELECT x.extversion FROM pg_catalog.pg_extension AS x
                                      WHERE x.extname OPERATOR(pg_catalog.=) 'usage_meter'),
               'kept_from', (SELECT r.kept_from FROM usage_meter.retention AS r),
               'tenants', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)), '[]')
                             FROM usage_meter.tenants AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'tenant_markups', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.effective_from), '[]')
                                    FROM usage_meter.tenant_markups AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'limits', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)
                                              ORDER BY x.user_id NULLS FIRST, x.metric, x.period), '[]')
                            FROM usage_meter.limits AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'events', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.event_id), '[]')
                            FROM usage_meter.events AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'idempotency_keys', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)
                                                        ORDER BY x.idempotency_key), '[]')
                                      FROM usage_meter.idempotency_keys AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'daily_rollup', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)
                                                    ORDER BY x.day, x.user_id, x.operation, x.provider, x.model, x.slot), '[]')
                                  FROM usage_meter.daily_rollup AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'counters', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x)
                                                ORDER BY x.period, x.period_start, x.user_id, x.slot), '[]')
                              FROM usage_meter.counters AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'reservations', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.reservation_id), '[]')
                                  FROM usage_meter.reservations AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'alerts', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.alert_id), '[]')
                            FROM usage_meter.alerts AS x WHERE x.tenant OPERATOR(pg_catalog.=) t),
               'reader_tenants', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(x) ORDER BY x.role_name), '[]')
                                    FROM usage_meter.reader_tenants AS x WHERE x.tenant OPERATOR(pg_catalog.=) t))
      INTO document;
    RETURN document;
END
$$;
COMMENT ON FUNCTION usage_meter.export_tenant IS
    'Every row of a tenant being moved, in one snapshot, as a jsonb document for import_tenant on another database';

------------------------------------------------------------------------------------------------------------
-- import_tenant(tenant, document) -> (table_name, row_count): the rows of an export_tenant document of that
-- tenant (named first, as in every per-tenant call, so a proxy routes it like the others) written into this
-- database, which must not hold the tenant (42710). Every row keeps its values: event ids (so idempotency
-- keys, reversals, corrections and settled reservations still point at their events, and a client's ids stay
-- valid), reservation ids (an open hold can be settled or released here), the tenant's settings and markup
-- history. The ledger rows arrive prepared (recorded before this transaction), so the ledger trigger keeps them
-- as recorded (not priced or rolled up again, as in a restore); the summaries are copied (they hold the history
-- of days whose raw events were dropped), then rebuilt from the imported ledger over every day this database
-- verifies (row 'rebuilt': the fields rebuild changed, normally 0), so verify() has no row for the tenant.
-- The id sequences are moved past the imported ids, so no later id repeats one; an imported id may equal one of
-- another tenant here: the forms by id alone refuse such an id as ambiguous, the tenant-first forms do not.
-- Retention: when the source had dropped raw events before its boundary (kept_from) and this database's
-- boundary is earlier (or none), this database's boundary moves to the source's (row 'retention') if it holds
-- no raw event before it, else the import is refused: verify() would compare days whose events are gone.
-- The tenant arrives writable (not moving). Returns a row per table, in the order written.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.import_tenant(tenant text, document jsonb)
RETURNS TABLE (table_name text, row_count bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    doc jsonb := import_tenant.document;
    t text;
    part text;
    stray text;
    n bigint;
    source_kept timestamptz;
    here_kept timestamptz;
    latest timestamptz;
    parts constant text[] := ARRAY['tenants', 'tenant_markups', 'limits', 'events', 'idempotency_keys',
                                   'daily_rollup', 'counters', 'reservations', 'alerts', 'reader_tenants'];
BEGIN
    IF import_tenant.tenant IS NULL OR doc IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN import_tenant.tenant IS NULL THEN 'tenant' ELSE 'document' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF pg_catalog.jsonb_typeof(doc) OPERATOR(pg_catalog.<>) 'object'
       OR (doc OPERATOR(pg_catalog.->>) 'format') IS DISTINCT FROM 'usage_meter.tenant_export' THEN
        RAISE EXCEPTION 'invalid document: it is not a tenant export of usage_meter'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass what usage_meter.export_tenant(tenant) returned.';
    END IF;
    IF (doc OPERATOR(pg_catalog.->>) 'format_version') IS DISTINCT FROM '1' THEN
        RAISE EXCEPTION 'invalid document: format_version % is not supported (1 is)',
              COALESCE(doc OPERATOR(pg_catalog.->>) 'format_version', 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    t := import_tenant.tenant;
    IF (doc OPERATOR(pg_catalog.->>) 'tenant') IS DISTINCT FROM t THEN
        RAISE EXCEPTION 'invalid document: it is the export of tenant "%", not "%"',
              doc OPERATOR(pg_catalog.->>) 'tenant', t
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH part IN ARRAY parts LOOP
        IF pg_catalog.jsonb_typeof(doc OPERATOR(pg_catalog.->) part) IS DISTINCT FROM 'array' THEN
            RAISE EXCEPTION 'invalid document: "%" must be an array of rows', part
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT r OPERATOR(pg_catalog.->>) 'tenant' INTO stray
          FROM pg_catalog.jsonb_array_elements(doc OPERATOR(pg_catalog.->) part) AS r
         WHERE (r OPERATOR(pg_catalog.->>) 'tenant') IS DISTINCT FROM t
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'invalid document: a row of "%" is of tenant "%", not "%"', part, stray, t
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    IF pg_catalog.jsonb_array_length(doc OPERATOR(pg_catalog.->) 'tenants') OPERATOR(pg_catalog.<>) 1 THEN
        RAISE EXCEPTION 'invalid document: "tenants" must hold the tenant''s one row'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
        RAISE EXCEPTION 'import_tenant must run in a READ COMMITTED transaction'
            USING ERRCODE = 'active_sql_transaction', HINT = 'It rebuilds the summaries, as rebuild() does.';
    END IF;
    -- The ledger trigger keeps a row as recorded only when it was recorded before this transaction.
    SELECT pg_catalog.max((r OPERATOR(pg_catalog.->>) 'recorded_at')::timestamptz) INTO latest
      FROM pg_catalog.jsonb_array_elements(doc OPERATOR(pg_catalog.->) 'events') AS r;
    IF latest OPERATOR(pg_catalog.>=) pg_catalog.now() THEN
        RAISE EXCEPTION 'cannot import tenant "%": an event was recorded at %, not before this transaction began (%)',
              t, latest, pg_catalog.now()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'The clocks of the two servers differ; retry once this server''s clock has passed it.';
    END IF;

    -- The tenant row first: a concurrent first use of the tenant here conflicts with it.
    INSERT INTO usage_meter.tenants AS x (tenant, time_zone, markup_pct, created_at, updated_at, markup_from,
                                          alert_limits, moving)
    SELECT r.tenant, r.time_zone, r.markup_pct, r.created_at, r.updated_at, r.markup_from, r.alert_limits, false
      FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.tenants, doc OPERATOR(pg_catalog.->) 'tenants') AS r
    ON CONFLICT (tenant) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n OPERATOR(pg_catalog.=) 0
       OR EXISTS (SELECT FROM usage_meter.events AS e WHERE e.tenant OPERATOR(pg_catalog.=) t)
       OR EXISTS (SELECT FROM usage_meter.daily_rollup AS d WHERE d.tenant OPERATOR(pg_catalog.=) t)
       OR EXISTS (SELECT FROM usage_meter.counters AS c WHERE c.tenant OPERATOR(pg_catalog.=) t) THEN
        RAISE EXCEPTION 'tenant "%" already exists in this database', t
            USING ERRCODE = 'duplicate_object',
                  HINT = 'import_tenant writes a tenant this database does not hold; purge_tenant removes one.';
    END IF;
    table_name := 'tenants'; row_count := n; RETURN NEXT;

    -- Retention (see above).
    source_kept := (doc OPERATOR(pg_catalog.->>) 'kept_from')::timestamptz;
    SELECT r.kept_from INTO here_kept FROM usage_meter.retention AS r;
    IF source_kept IS NOT NULL AND (here_kept IS NULL OR here_kept OPERATOR(pg_catalog.<) source_kept) THEN
        IF EXISTS (SELECT FROM usage_meter.events AS e WHERE e.occurred_at OPERATOR(pg_catalog.<) source_kept) THEN
            RAISE EXCEPTION 'cannot import tenant "%": its raw events before % were dropped, and this database keeps older ones',
                  t, source_kept
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Import it into a database whose retention boundary (usage_meter.retention) is at or after the source''s, or drop_events_before(' || pg_catalog.quote_literal(source_kept) || ') here first.';
        END IF;
        INSERT INTO usage_meter.retention AS r (kept_from) VALUES (source_kept)
        ON CONFLICT (singleton) DO UPDATE SET kept_from = excluded.kept_from, updated_at = pg_catalog.now();
        table_name := 'retention'; row_count := 1; RETURN NEXT;
    END IF;

    INSERT INTO usage_meter.tenant_markups
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.tenant_markups,
                                                      doc OPERATOR(pg_catalog.->) 'tenant_markups');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'tenant_markups'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.limits
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.limits, doc OPERATOR(pg_catalog.->) 'limits');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'limits'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.idempotency_keys
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.idempotency_keys,
                                                      doc OPERATOR(pg_catalog.->) 'idempotency_keys');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'idempotency_keys'; row_count := n; RETURN NEXT;

    -- Prepared rows, in id order (an event before its reversal): kept as recorded, not rolled up.
    INSERT INTO usage_meter.events
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.events, doc OPERATOR(pg_catalog.->) 'events') AS r
     ORDER BY r.event_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'events'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.daily_rollup
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.daily_rollup,
                                                      doc OPERATOR(pg_catalog.->) 'daily_rollup');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'daily_rollup'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.counters
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.counters, doc OPERATOR(pg_catalog.->) 'counters');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'counters'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.reservations
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.reservations,
                                                      doc OPERATOR(pg_catalog.->) 'reservations');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'reservations'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.alerts
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.alerts, doc OPERATOR(pg_catalog.->) 'alerts');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'alerts'; row_count := n; RETURN NEXT;

    INSERT INTO usage_meter.reader_tenants
    SELECT * FROM pg_catalog.jsonb_populate_recordset(NULL::usage_meter.reader_tenants,
                                                      doc OPERATOR(pg_catalog.->) 'reader_tenants');
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'reader_tenants'; row_count := n; RETURN NEXT;

    -- No later id repeats an imported one.
    PERFORM pg_catalog.setval('usage_meter.event_id_seq', m)
       FROM (SELECT pg_catalog.max(e.event_id) AS m FROM usage_meter.events AS e
              WHERE e.tenant OPERATOR(pg_catalog.=) t) AS x
      WHERE x.m OPERATOR(pg_catalog.>) (SELECT s.last_value FROM usage_meter.event_id_seq AS s);
    PERFORM pg_catalog.setval('usage_meter.reservation_id_seq', m)
       FROM (SELECT pg_catalog.max(v.reservation_id) AS m FROM usage_meter.reservations AS v
              WHERE v.tenant OPERATOR(pg_catalog.=) t) AS x
      WHERE x.m OPERATOR(pg_catalog.>) (SELECT s.last_value FROM usage_meter.reservation_id_seq AS s);
    PERFORM pg_catalog.setval('usage_meter.alert_id_seq', m)
       FROM (SELECT pg_catalog.max(a.alert_id) AS m FROM usage_meter.alerts AS a
              WHERE a.tenant OPERATOR(pg_catalog.=) t) AS x
      WHERE x.m OPERATOR(pg_catalog.>) (SELECT s.last_value FROM usage_meter.alert_id_seq AS s);

    -- The summaries from the imported ledger.
    SELECT pg_catalog.count(*) INTO n FROM usage_meter.rebuild_scope(t, NULL, NULL);
    table_name := 'rebuilt'; row_count := n; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION usage_meter.import_tenant IS
    'Writes a tenant exported by export_tenant into this database (ids kept) and rebuilds its summaries from its ledger';

------------------------------------------------------------------------------------------------------------
-- purge_tenant(tenant) -> (table_name, row_count): deletes every row of the tenant from this database, the
-- ledger's included (the one sanctioned exception to the append-only ledger: a tenant moved to another
-- database, or a request to delete a client's data). The tenant must be marked moving first
-- (set_tenant_moving), so nothing records for it meanwhile, and a purge cannot be one call's slip. Rows of
-- shared tables (prices, aliases, retention) stay. A later write for the tenant creates it afresh.
------------------------------------------------------------------------------------------------------------
-- Internal: the ledger's DELETE for purge_tenant, the one statement its append-only guard lets through.
CREATE FUNCTION usage_meter.purge_tenant_events(tenant text)
RETURNS bigint
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'purge_tenant_events';

CREATE FUNCTION usage_meter.purge_tenant(tenant text)
RETURNS TABLE (table_name text, row_count bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    t text := purge_tenant.tenant;
    n bigint;
BEGIN
    PERFORM usage_meter.tenant_quiesce(t, 'purge');
    PERFORM 1 FROM usage_meter.tenants AS x WHERE x.tenant OPERATOR(pg_catalog.=) t FOR UPDATE;
    table_name := 'events'; row_count := usage_meter.purge_tenant_events(t); RETURN NEXT;
    DELETE FROM usage_meter.idempotency_keys AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'idempotency_keys'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.daily_rollup AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'daily_rollup'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.counters AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'counters'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.reservations AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'reservations'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.alerts AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'alerts'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.reader_tenants AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'reader_tenants'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.limits AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'limits'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.tenant_markups AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'tenant_markups'; row_count := n; RETURN NEXT;
    DELETE FROM usage_meter.tenants AS x WHERE x.tenant OPERATOR(pg_catalog.=) t;
    GET DIAGNOSTICS n = ROW_COUNT;
    table_name := 'tenants'; row_count := n; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION usage_meter.purge_tenant IS
    'Deletes every row of a tenant marked as moving (ledger included) from this database; returns the rows deleted per table';

------------------------------------------------------------------------------------------------------------
-- price_catalog_digest() -> (kind, key, effective_from, digest): one row per entry of the price catalog, so the
-- catalogs of several databases compare row by row (usage_meter_proxy's catalog_check). kind: price (key: the
-- JSON array [model, provider]), unit_price ([operation]), model_alias ([alias]) or provider_alias
-- ([provider, alias], the ones added by set_provider_alias); effective_from: the price's (NULL for aliases);
-- digest: md5 of the definition as a JSON array (amounts without trailing zeros, so 1.50 and 1.5 are the same
-- price, as set_price compares them): prices [input, output, cache read, cache write, tiers, per request],
-- unit prices [per unit], model aliases [model, provider], provider aliases [position]. Ids and creation
-- times differ between databases and are left out.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.price_catalog_digest()
RETURNS TABLE (kind text, key text, effective_from timestamptz, digest text)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'price'::text, pg_catalog.jsonb_build_array(p.model, p.provider)::text, p.effective_from,
           pg_catalog.md5(pg_catalog.jsonb_build_array(pg_catalog.trim_scale(p.input_per_mtok),
               pg_catalog.trim_scale(p.output_per_mtok), pg_catalog.trim_scale(p.cache_read_per_mtok),
               pg_catalog.trim_scale(p.cache_write_per_mtok), p.tiers, pg_catalog.trim_scale(p.per_request))::text)
      FROM usage_meter.prices AS p
    UNION ALL
    SELECT 'unit_price', pg_catalog.jsonb_build_array(u.operation)::text, u.effective_from,
           pg_catalog.md5(pg_catalog.jsonb_build_array(pg_catalog.trim_scale(u.per_unit))::text)
      FROM usage_meter.unit_prices AS u
    UNION ALL
    SELECT 'model_alias', pg_catalog.jsonb_build_array(a.alias)::text, NULL,
           pg_catalog.md5(pg_catalog.jsonb_build_array(a.model, a.provider)::text)
      FROM usage_meter.model_aliases AS a
    UNION ALL
    SELECT 'provider_alias', pg_catalog.jsonb_build_array(a.provider, a.alias)::text, NULL,
           pg_catalog.md5(pg_catalog.jsonb_build_array(a.position)::text)
      FROM usage_meter.provider_aliases AS a
     WHERE NOT a.builtin
    ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION usage_meter.price_catalog_digest IS
    'One row per price, unit price and alias with an md5 of its definition, to compare catalogs across databases';

REVOKE ALL ON FUNCTION usage_meter.set_tenant_moving(text, boolean), usage_meter.tenant_quiesce(text, text),
    usage_meter.export_tenant(text), usage_meter.import_tenant(text, jsonb), usage_meter.purge_tenant_events(text),
    usage_meter.purge_tenant(text), usage_meter.price_catalog_digest()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.set_tenant_moving(text, boolean), usage_meter.export_tenant(text),
    usage_meter.import_tenant(text, jsonb), usage_meter.purge_tenant(text), usage_meter.price_catalog_digest()
    TO usage_meter_admin;
-- The ledger's row trigger pins search_path in C around its SQL instead of a SET clause run for every row.
ALTER FUNCTION usage_meter.events_prepare() RESET search_path;

-- ------------------------------------------------------------------------------------------------------------
-- reader_bound without a subquery (Citus refuses one in a policy of a distributed table; docs/scale-out.md):
-- reader_scope() reads the reader's bindings once per statement, as the subquery's init plan did.
-- ------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.reader_scope() RETURNS text[]
    LANGUAGE C STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'reader_scope';
COMMENT ON FUNCTION usage_meter.reader_scope() IS
    'The tenants the current user may read (reader_tenants): the reader_bound row-level security policy';
REVOKE ALL ON FUNCTION usage_meter.reader_scope() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.reader_scope() TO usage_meter_reader, usage_meter_admin;

DO $rls$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_catalog.pg_policy AS p
              JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) p.polrelid
             WHERE c.relnamespace OPERATOR(pg_catalog.=) 'usage_meter'::regnamespace
               AND p.polname OPERATOR(pg_catalog.=) 'reader_bound'
             ORDER BY c.relname LOOP
        EXECUTE pg_catalog.format('ALTER POLICY reader_bound ON usage_meter.%I'
                                  ' USING (tenant OPERATOR(pg_catalog.=) ANY (usage_meter.reader_scope()))', t);
    END LOOP;
END
$rls$;
