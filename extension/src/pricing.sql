-- Pricing: setting prices (token prices, unit prices, whole-request tiers, per-request fees), the price
-- history guard, which price an event gets and why, the LiteLLM price import, reprice, the history of tenant
-- markups, and the report of unpriced usage. The setters run as the extension's owner and are the admin's.

------------------------------------------------------------------------------------------------------------
-- Setting prices.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.set_price(
    model                 text,
    input_per_mtok        numeric,
    output_per_mtok       numeric,
    cache_read_per_mtok   numeric DEFAULT NULL,
    cache_write_per_mtok  numeric DEFAULT NULL,
    provider              text DEFAULT NULL,
    effective_from        timestamptz DEFAULT '-infinity')
RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_price';

CREATE FUNCTION usage_meter.set_unit_price(operation text, per_unit numeric,
                                           effective_from timestamptz DEFAULT '-infinity')
RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_unit_price';

-- A price with whole-request tiers and a per-request fee. (A function of its own rather than new set_price
-- arguments, so that set_price keeps its signature.)
CREATE FUNCTION usage_meter.set_tiered_price(
    model                 text,
    input_per_mtok        numeric,
    output_per_mtok       numeric,
    tiers                 jsonb,
    cache_read_per_mtok   numeric DEFAULT NULL,
    cache_write_per_mtok  numeric DEFAULT NULL,
    provider              text DEFAULT NULL,
    effective_from        timestamptz DEFAULT '-infinity',
    per_request           numeric DEFAULT 0)
RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_tiered_price';
COMMENT ON FUNCTION usage_meter.set_tiered_price IS
    'Adds a price (USD per million tokens) with whole-request tiers and a per-request fee (USD) from effective_from on';

-- The price history guard: a price row is never updated, and a new price may not start before the latest
-- price of the same model and provider (that would change the price in force for events already recorded).
CREATE FUNCTION usage_meter.prices_guard() RETURNS trigger
    LANGUAGE c SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'prices_guard';
CREATE TRIGGER prices_guard BEFORE INSERT OR UPDATE ON usage_meter.prices
    FOR EACH ROW EXECUTE FUNCTION usage_meter.prices_guard();

------------------------------------------------------------------------------------------------------------
-- Finding prices, importing them, pricing events again.
------------------------------------------------------------------------------------------------------------
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

-- The price keys that would price a model that has none (unpriced_models): the providers of an ambiguous
-- name, and the priced names that differ from it only in case, separators, a provider prefix or a date.
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

CREATE FUNCTION usage_meter.import_litellm_prices(
    prices jsonb, effective_from timestamptz DEFAULT pg_catalog.now(),
    OUT added bigint, OUT unchanged bigint, OUT skipped bigint)
RETURNS record
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'import_litellm_prices';
COMMENT ON FUNCTION usage_meter.import_litellm_prices IS 'Imports LiteLLM''s model_prices_and_context_window.json: adds only prices that changed';

-- Prices events again with the prices now in the table and corrects summaries and counters by the difference,
-- in the same transaction. Events with a provider-reported cost are never repriced.
CREATE FUNCTION usage_meter.reprice(
    tenant text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL,
    only_unpriced boolean DEFAULT true,
    OUT events_changed bigint, OUT cost_difference numeric, OUT billed_cost_difference numeric)
RETURNS record
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'reprice';
COMMENT ON FUNCTION usage_meter.reprice IS 'Prices events again with the current prices; summaries and counters corrected in the same transaction';

------------------------------------------------------------------------------------------------------------
-- Markup history: a tenant's markup applies from the time it is set (tenants.markup_from); the markups it
-- replaced stay in tenant_markups for events that occurred before (backfills). Recorded events keep the markup
-- and billed cost they were recorded with.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.tenants_markup_history() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.markup_pct IS DISTINCT FROM OLD.markup_pct THEN
        NEW.markup_from := pg_catalog.now();
        INSERT INTO usage_meter.tenant_markups (tenant, markup_pct, effective_from, effective_until)
        VALUES (OLD.tenant, OLD.markup_pct, OLD.markup_from, NEW.markup_from)
        ON CONFLICT (tenant, effective_from) DO NOTHING;
    ELSIF NEW.markup_from IS DISTINCT FROM OLD.markup_from THEN
        NEW.markup_from := OLD.markup_from;  -- only a markup change moves it
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tenants_markup_history BEFORE UPDATE ON usage_meter.tenants
    FOR EACH ROW EXECUTE FUNCTION usage_meter.tenants_markup_history();

------------------------------------------------------------------------------------------------------------
-- Which models and operations recorded usage without a price: add the prices, then reprice(). Reads the
-- ledger's unpriced events (an operator query, not for the hot path), counted as the summaries count them:
-- a voided event does not count (its reversal cancels it), so unpriced_models() and health() agree with
-- daily_usage.unpriced.
------------------------------------------------------------------------------------------------------------
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
