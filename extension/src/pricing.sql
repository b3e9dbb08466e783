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
    OUT cache_write_per_mtok numeric, OUT tiers jsonb, OUT per_request numeric, OUT rule text, OUT explanation text)
RETURNS record
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'price_for';
COMMENT ON FUNCTION usage_meter.price_for IS 'The price an event of this model and provider at "at" gets, and why';

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
               first_occurred_at timestamptz, last_occurred_at timestamptz)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
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
    ORDER BY pg_catalog.count(*) DESC, e.model NULLS FIRST, e.provider NULLS FIRST, e.operation;
$$;
COMMENT ON FUNCTION usage_meter.unpriced_models IS 'Models and operations with unpriced usage that counts (voided events excluded): events, tokens, since when';
