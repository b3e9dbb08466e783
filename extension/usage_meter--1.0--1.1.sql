-- usage_meter 1.0 -> 1.1. Version 1.0 is released: its install script is never edited again; everything new
-- or changed since is in this file, and CREATE EXTENSION usage_meter (default 1.1) runs 1.0 then this script.
-- Every name is schema-qualified; every function pins search_path; every new table that holds user data
-- carries the tenant and is registered with pg_extension_config_dump.
\echo Use "ALTER EXTENSION usage_meter UPDATE TO '1.1'" to load this file. \quit

-- ============================================================================================================
-- pricing: price history, model matching, tiers, the public price map, reprice, markup history
-- ============================================================================================================

-- Tiers: whole-request prices above a context-token threshold, stored canonically (see docs/pricing.md).
ALTER TABLE usage_meter.prices ADD COLUMN tiers jsonb;
COMMENT ON COLUMN usage_meter.prices.tiers IS
    'Whole-request tiers: [{"above_input_tokens": N, "input_per_mtok": .., "output_per_mtok": .., "cache_read_per_mtok": .., "cache_write_per_mtok": ..}]';

-- Per-request fees: a fixed amount in USD added once to the cost of every request the price prices (zero-token
-- requests included), whatever tier its tokens fall in. NaN and infinity are refused too (NaN >= 0 holds for
-- numeric, so the upper bound is what keeps it out; prices_guard names the column and value first).
ALTER TABLE usage_meter.prices ADD COLUMN per_request numeric NOT NULL DEFAULT 0
    CONSTRAINT prices_per_request_check CHECK (per_request >= 0 AND per_request < 'Infinity');
COMMENT ON COLUMN usage_meter.prices.per_request IS 'Fixed fee in USD per request, added to the token cost (0: none)';

-- The price history guard: a price row is never updated, and a new price may not start before the latest
-- price of the same model and provider (that would change the price in force for events already recorded).
CREATE FUNCTION usage_meter.prices_guard() RETURNS trigger
    LANGUAGE c SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'prices_guard';
CREATE TRIGGER prices_guard BEFORE INSERT OR UPDATE ON usage_meter.prices
    FOR EACH ROW EXECUTE FUNCTION usage_meter.prices_guard();

-- A price with whole-request tiers. (A function of its own rather than a new set_price argument, so that
-- set_price keeps its 1.0 signature.)
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

-- Markup history: a tenant's markup applies from the time it is set (tenants.markup_from); the markups it
-- replaced stay in tenant_markups for events that occurred before (backfills). Recorded events keep the markup
-- and billed cost they were recorded with.
ALTER TABLE usage_meter.tenants ADD COLUMN markup_from timestamptz NOT NULL DEFAULT '-infinity';
CREATE TABLE usage_meter.tenant_markups (
    tenant          text NOT NULL REFERENCES usage_meter.tenants (tenant),
    markup_pct      numeric NOT NULL CHECK (markup_pct >= -100),
    effective_from  timestamptz NOT NULL,
    effective_until timestamptz NOT NULL,
    PRIMARY KEY (tenant, effective_from)
);
COMMENT ON TABLE usage_meter.tenant_markups IS 'Past markups of each tenant: markup_pct applied from effective_from until effective_until';
SELECT pg_catalog.pg_extension_config_dump('usage_meter.tenant_markups', '');

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

-- Which models and operations recorded usage without a price: add the prices, then reprice(). Reads the
-- ledger's unpriced events (an operator query, not for the hot path).
CREATE FUNCTION usage_meter.unpriced_models()
RETURNS TABLE (model text, provider text, operation text, events bigint, tenants bigint, input_tokens bigint,
               output_tokens bigint, cache_read_tokens bigint, cache_write_tokens bigint, quantity numeric,
               first_occurred_at timestamptz, last_occurred_at timestamptz)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.model, e.provider, e.operation, count(*), count(DISTINCT e.tenant),
           sum(e.input_tokens)::bigint, sum(e.output_tokens)::bigint, sum(e.cache_read_tokens)::bigint,
           sum(e.cache_write_tokens)::bigint, COALESCE(sum(e.quantity), 0), min(e.occurred_at), max(e.occurred_at)
    FROM usage_meter.events AS e
    WHERE NOT e.priced
    GROUP BY e.model, e.provider, e.operation
    ORDER BY count(*) DESC, e.model NULLS FIRST, e.provider NULLS FIRST, e.operation;
$$;
COMMENT ON FUNCTION usage_meter.unpriced_models IS 'Models and operations with unpriced usage: events, tokens, since when';

-- (end of pricing)

-- ============================================================================================================
-- limits: reservations, hierarchy, soft limits and alerts
-- ============================================================================================================

------------------------------------------------------------------------------------------------------------
-- Reservations: reserve() holds an estimate against every hard limit that covers a request; usage_record(...,
-- reservation_id) settles it, release() gives it back; a hold past expires_at stops counting by itself.
-- The primary key leads with reservation_id, so release(id) finds a row by id alone; it includes the tenant.
-- Only reserve(), release() and usage_record() write it; they check every value, so it carries no CHECK
-- constraints (the executor would rebuild them for every statement on the hot path).
------------------------------------------------------------------------------------------------------------
CREATE SEQUENCE usage_meter.reservation_id_seq;
CREATE TABLE usage_meter.reservations (
    reservation_id    bigint NOT NULL DEFAULT pg_catalog.nextval('usage_meter.reservation_id_seq'),
    tenant            text NOT NULL,
    user_id           text,                  -- NULL: a reservation against the tenant's own limits only
    estimated_cost    numeric NOT NULL,     -- >= 0, checked by reserve()
    estimated_tokens  bigint NOT NULL,      -- >= 0, likewise
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    expires_at        timestamptz NOT NULL,
    state             text NOT NULL DEFAULT 'held',  -- held, settled, released or expired
    closed_at         timestamptz,           -- when it was settled, released or marked expired
    event_id          bigint,                -- the ledger event that settled it
    PRIMARY KEY (reservation_id, tenant)
);
-- What reserve() and check_limit() sum: the live holds of a tenant, and of one of its users.
CREATE INDEX reservations_held_tenant ON usage_meter.reservations (tenant, expires_at) WHERE state = 'held';
CREATE INDEX reservations_held_user ON usage_meter.reservations (tenant, user_id, expires_at) WHERE state = 'held';
COMMENT ON TABLE usage_meter.reservations IS 'Reservations: estimates held against limits until settled, released or expired';
SELECT pg_catalog.pg_extension_config_dump('usage_meter.reservations', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.reservation_id_seq', '');

CREATE FUNCTION usage_meter.reserve(tenant text, user_id text DEFAULT NULL, estimated_cost numeric DEFAULT 0,
                                    estimated_tokens bigint DEFAULT 0, ttl interval DEFAULT '10 minutes')
RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'reserve';
COMMENT ON FUNCTION usage_meter.reserve IS 'Admits a request and holds its estimate against every hard limit that covers it, or raises SQLSTATE UM001';

CREATE FUNCTION usage_meter.release(reservation_id bigint)
RETURNS boolean
    LANGUAGE c VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'release';
COMMENT ON FUNCTION usage_meter.release IS 'Gives a reservation''s hold back without usage; true when it was still holding';

-- reserve() and release() run as the extension's owner (like usage_record), so a caller needs no rights on the
-- table; the ledger-trust section grants them to the writer role, and purge_reservations() to the admin only.
-- Closed reservations are kept (so settling one twice is refused as such, not as unknown) until purged.
-- Not needed for correctness: closed and expired rows never count. Run it from time to time, per tenant.
CREATE FUNCTION usage_meter.purge_reservations(tenant text, older_than interval DEFAULT '7 days')
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cutoff timestamptz;
    purged bigint;
BEGIN
    IF tenant IS NULL OR older_than IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN tenant IS NULL THEN 'tenant' ELSE 'older_than' END
            USING ERRCODE = '22004';
    END IF;
    IF older_than < interval '0' THEN
        RAISE EXCEPTION 'invalid older_than: "%"', older_than
            USING ERRCODE = '22023', HINT = 'Give how old a closed reservation must be, such as ''7 days''.';
    END IF;
    cutoff := pg_catalog.clock_timestamp() - older_than;
    DELETE FROM usage_meter.reservations AS r
     WHERE r.tenant = purge_reservations.tenant
       AND ((r.state IN ('settled', 'released') AND r.closed_at < cutoff)
            OR (r.state IN ('held', 'expired') AND r.expires_at < cutoff));
    GET DIAGNOSTICS purged = ROW_COUNT;
    RETURN purged;
END
$$;
COMMENT ON FUNCTION usage_meter.purge_reservations IS 'Deletes a tenant''s reservations closed (or expired) longer ago than older_than';

-- usage_record gains reservation_id (DROP + CREATE: a defaulted parameter added in place would be ambiguous).
DROP FUNCTION usage_meter.usage_record(text, text, text, text, bigint, bigint, bigint, bigint, bigint, numeric,
                                       numeric, text, timestamptz, text, text, integer, boolean, jsonb);
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
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'usage_record';
COMMENT ON FUNCTION usage_meter.usage_record IS 'Records one usage event: validated, priced, rolled up, idempotent per tenant; settles reservation_id';

-- check_limit counts held amounts and reports them (DROP + CREATE: a new result column).
DROP FUNCTION usage_meter.check_limit(text, text, numeric, bigint);
CREATE FUNCTION usage_meter.check_limit(
    tenant text, user_id text DEFAULT NULL, estimated_cost numeric DEFAULT 0, estimated_tokens bigint DEFAULT 0,
    OUT allowed boolean, OUT metric text, OUT period text, OUT used numeric, OUT max_value numeric,
    OUT remaining numeric, OUT resets_at timestamptz, OUT held numeric)
RETURNS record
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'check_limit';
COMMENT ON FUNCTION usage_meter.check_limit IS 'May this request go ahead? Reads live counters and live reservations only';

------------------------------------------------------------------------------------------------------------
-- Alerts. The recording transaction that finds a threshold reached (a soft limit's max; 80 % and 100 % of a
-- hard limit) in the current period, with no alert for it yet, inserts one row here and sends
-- NOTIFY usage_meter_alerts with the row as JSON. alerts_once makes it once per limit, user, period and level,
-- even when writers cross together (INSERT ... ON CONFLICT DO NOTHING; only the inserter notifies).
-- Written by the roll-up path only (as the owner); readers see their tenants' rows through row-level security.
------------------------------------------------------------------------------------------------------------
CREATE SEQUENCE usage_meter.alert_id_seq;
CREATE TABLE usage_meter.alerts (
    tenant         text NOT NULL,
    alert_id       bigint NOT NULL DEFAULT pg_catalog.nextval('usage_meter.alert_id_seq'),
    user_id        text,         -- whose usage reached it: NULL for a tenant-wide limit
    limit_user_id  text,         -- the limit's own user_id: NULL (tenant-wide), the user, or '*'
    metric         text NOT NULL,
    period         text NOT NULL,
    period_start   date NOT NULL,  -- first day of the period, in the tenant's time zone
    level          text NOT NULL,  -- soft, warning (80 % of a hard limit) or reached (100 % of a hard limit)
    used           numeric NOT NULL,  -- usage seen by the transaction that fired it
    max_value      numeric NOT NULL,
    hard           boolean NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant, alert_id),
    CONSTRAINT alerts_once UNIQUE NULLS NOT DISTINCT (tenant, user_id, limit_user_id, metric, period, period_start,
                                                      level)
);
COMMENT ON TABLE usage_meter.alerts IS 'Alerts sent on NOTIFY usage_meter_alerts: a threshold of a limit reached, once per period and level';
SELECT pg_catalog.pg_extension_config_dump('usage_meter.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.alert_id_seq', '');

-- Alerts are opt-in per limit (limits.alert, set by set_limit(..., alert => true)): looking for them costs
-- every recording of the tenant a read of its limits and live counters (see docs/limits.md, "Alerts").
ALTER TABLE usage_meter.limits ADD COLUMN alert boolean NOT NULL DEFAULT false;

-- Whether a tenant has a limit with alerts: the ledger trigger reads the tenants row anyway, so a tenant
-- without one pays nothing for alerts. Kept by a trigger on limits (so set_limit, remove_limit and a restore
-- all keep it): set when such a limit is written (idempotent, so restoring limits after tenants is right),
-- cleared when the last one goes, under the tenant row's lock (so a concurrent set_limit cannot be missed).
-- Existing limits have no alerts, so every tenant starts without.
ALTER TABLE usage_meter.tenants ADD COLUMN alert_limits boolean NOT NULL DEFAULT false;

CREATE FUNCTION usage_meter.limits_flag_tenant()
RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.alert THEN
        UPDATE usage_meter.tenants AS t SET alert_limits = true
         WHERE t.tenant OPERATOR(pg_catalog.=) NEW.tenant AND NOT t.alert_limits;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.alert THEN
        PERFORM 1 FROM usage_meter.tenants AS t WHERE t.tenant OPERATOR(pg_catalog.=) OLD.tenant FOR UPDATE;
        UPDATE usage_meter.tenants AS t SET alert_limits = false
         WHERE t.tenant OPERATOR(pg_catalog.=) OLD.tenant AND t.alert_limits
           AND NOT EXISTS (SELECT 1 FROM usage_meter.limits AS l
                            WHERE l.tenant OPERATOR(pg_catalog.=) OLD.tenant AND l.alert);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER limits_flag_tenant AFTER INSERT OR UPDATE OR DELETE ON usage_meter.limits
    FOR EACH ROW EXECUTE FUNCTION usage_meter.limits_flag_tenant();
REVOKE ALL ON FUNCTION usage_meter.limits_flag_tenant() FROM PUBLIC;

-- set_limit gains alert (DROP + CREATE: a defaulted parameter added in place would be ambiguous). Writing a
-- limit sets all of it: set_limit without alert => true turns its alerts off.
DROP FUNCTION usage_meter.set_limit(text, text, text, text, numeric, boolean);
CREATE FUNCTION usage_meter.set_limit(tenant text, user_id text, metric text, period text, max_value numeric,
                                      hard boolean DEFAULT true, alert boolean DEFAULT false)
RETURNS void
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_limit';
COMMENT ON FUNCTION usage_meter.set_limit IS 'Sets a limit; alert => true sends alerts at its max (soft) or at 80 % and 100 % (hard)';

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
    idempotency_key  text DEFAULT NULL,
    reservation_id   bigint DEFAULT NULL)  -- settles that reservation (see the limits section)
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
               session_id => $6, latency_ms => $7, success => $8, metadata => $10,
               reservation_id => $12) AS r
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
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
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
                                        numeric, text, timestamptz, text, text, integer, boolean, jsonb, bigint)
    SECURITY DEFINER;
ALTER FUNCTION usage_meter.check_limit(text, text, numeric, bigint) SECURITY DEFINER;
ALTER FUNCTION usage_meter.set_tenant(text, text, numeric) SECURITY DEFINER;
ALTER FUNCTION usage_meter.set_price(text, numeric, numeric, numeric, numeric, text, timestamptz) SECURITY DEFINER;
ALTER FUNCTION usage_meter.set_unit_price(text, numeric, timestamptz) SECURITY DEFINER;
ALTER FUNCTION usage_meter.set_limit(text, text, text, text, numeric, boolean, boolean) SECURITY DEFINER;
ALTER FUNCTION usage_meter.remove_limit(text, text, text, text) SECURITY DEFINER;

GRANT EXECUTE ON FUNCTION
    usage_meter.usage_record(text, text, text, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric, text,
                             timestamptz, text, text, integer, boolean, jsonb, bigint),
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
    usage_meter.set_limit(text, text, text, text, numeric, boolean, boolean),
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

-- ------------------------------------------------------------------------------------------------------------
-- Corrections. The ledger stays append-only: a void or a correction adds rows, never changes one.
--   reversal row:     reverses_event_id = the cancelled event, reason; every figure the event's, negated,
--                     copied by the ledger trigger (not priced again), counted as -1 request
--   replacement row:  corrects_event_id = the corrected event, reason; an ordinary event, priced as recorded
-- ------------------------------------------------------------------------------------------------------------
ALTER TABLE usage_meter.events
    ADD COLUMN reverses_event_id bigint,
    ADD COLUMN corrects_event_id bigint,
    ADD COLUMN reason text;
COMMENT ON COLUMN usage_meter.events.reverses_event_id IS 'On a reversal: the event it cancels (figures negated)';
COMMENT ON COLUMN usage_meter.events.corrects_event_id IS 'On a replacement: the event it corrects';
COMMENT ON COLUMN usage_meter.events.reason IS 'Why the event was reversed or corrected';
-- An event is reversed at most once.
CREATE UNIQUE INDEX events_reversed_once ON usage_meter.events (tenant, reverses_event_id)
    WHERE reverses_event_id IS NOT NULL;

-- void_event(tenant, event_id, reason) -> the reversal's event_id. Every summary and counter goes back by
-- exactly that event.
CREATE FUNCTION usage_meter.void_event(tenant text, event_id bigint, reason text)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reversal_id bigint;
BEGIN
    IF void_event.event_id IS NULL THEN
        RAISE EXCEPTION 'event_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- The ledger trigger fills the row from the event (operation included) and checks everything.
    INSERT INTO usage_meter.events AS e (tenant, operation, reverses_event_id, reason)
    VALUES (void_event.tenant, '-', void_event.event_id, void_event.reason)
    RETURNING e.event_id INTO reversal_id;
    RETURN reversal_id;
END
$$;
COMMENT ON FUNCTION usage_meter.void_event(text, bigint, text) IS 'Cancels one event with a reversing ledger entry that keeps the reason';

-- correct_event(...) -> the reversal and the replacement. The replacement takes every figure given and the
-- event's own for the rest (user, operation, time, session, latency, success, metadata, model, provider,
-- token counts, quantity); it is priced like a new record (the price and the tenant's markup in force
-- now for its occurred_at) unless a cost is given.
CREATE FUNCTION usage_meter.correct_event(
    tenant              text,
    event_id            bigint,
    reason              text,
    input_tokens        bigint DEFAULT NULL,
    output_tokens       bigint DEFAULT NULL,
    cache_read_tokens   bigint DEFAULT NULL,
    cache_write_tokens  bigint DEFAULT NULL,
    reasoning_tokens    bigint DEFAULT NULL,
    quantity            numeric DEFAULT NULL,
    cost                numeric DEFAULT NULL,
    model               text DEFAULT NULL,
    provider            text DEFAULT NULL,
    idempotency_key     text DEFAULT NULL,
    metadata            jsonb DEFAULT NULL,
    OUT reversal_id bigint, OUT replacement_id bigint, OUT new_cost numeric, OUT new_billed_cost numeric,
    OUT priced boolean)
RETURNS record
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o usage_meter.events;
BEGIN
    IF correct_event.event_id IS NULL THEN
        RAISE EXCEPTION 'event_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    reversal_id := usage_meter.void_event(correct_event.tenant, correct_event.event_id, correct_event.reason);
    SELECT * INTO STRICT o FROM usage_meter.events AS e
     WHERE e.tenant OPERATOR(pg_catalog.=) correct_event.tenant
       AND e.event_id OPERATOR(pg_catalog.=) correct_event.event_id;
    INSERT INTO usage_meter.events AS e (tenant, user_id, operation, model, provider, input_tokens, output_tokens,
           cache_read_tokens, cache_write_tokens, reasoning_tokens, quantity, cost, occurred_at, idempotency_key,
           session_id, latency_ms, success, metadata, corrects_event_id, reason)
    VALUES (o.tenant, o.user_id, o.operation, COALESCE(correct_event.model, o.model),
            COALESCE(correct_event.provider, o.provider),
            COALESCE(correct_event.input_tokens, o.input_tokens),
            COALESCE(correct_event.output_tokens, o.output_tokens),
            COALESCE(correct_event.cache_read_tokens, o.cache_read_tokens),
            COALESCE(correct_event.cache_write_tokens, o.cache_write_tokens),
            COALESCE(correct_event.reasoning_tokens, o.reasoning_tokens),
            COALESCE(correct_event.quantity, o.quantity), correct_event.cost, o.occurred_at,
            correct_event.idempotency_key, o.session_id, o.latency_ms, o.success,
            COALESCE(correct_event.metadata, o.metadata), o.event_id, correct_event.reason)
    RETURNING e.event_id, e.cost, e.billed_cost, e.priced INTO replacement_id, new_cost, new_billed_cost, priced;
END
$$;
COMMENT ON FUNCTION usage_meter.correct_event(text, bigint, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric, text,
                                              text, text, jsonb) IS 'Replaces an event by a reversal plus a new entry, both with the reason';

GRANT EXECUTE ON FUNCTION usage_meter.void_event(text, bigint, text),
    usage_meter.correct_event(text, bigint, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric, text,
                              text, text, jsonb)
    TO usage_meter_admin;
REVOKE ALL ON FUNCTION usage_meter.void_event(text, bigint, text),
    usage_meter.correct_event(text, bigint, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric, text,
                              text, text, jsonb)
    FROM PUBLIC;

-- The issue's contract forms, by event_id alone: event ids come from one sequence, so an id names one event of one
-- tenant. Finding its tenant reads the ledger's primary-key index without its leading column (a full index scan,
-- fine for an occasional correction); callers who know the tenant should use the forms above, one key lookup.
-- The tenant whose ledger holds event_id; refuses a NULL or unknown id. Internal to the two forms below.
CREATE FUNCTION usage_meter.event_owner(event_id bigint)
RETURNS text
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner text;
BEGIN
    IF event_owner.event_id IS NULL THEN
        RAISE EXCEPTION 'event_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT e.tenant INTO owner FROM usage_meter.events AS e
     WHERE e.event_id OPERATOR(pg_catalog.=) event_owner.event_id;
    IF owner IS NULL THEN
        RAISE EXCEPTION 'invalid event_id: the ledger has no event %', event_owner.event_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN owner;
END
$$;
REVOKE ALL ON FUNCTION usage_meter.event_owner(bigint) FROM PUBLIC;

CREATE FUNCTION usage_meter.void_event(event_id bigint, reason text)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN usage_meter.void_event(usage_meter.event_owner(void_event.event_id), void_event.event_id,
                                  void_event.reason);
END
$$;
COMMENT ON FUNCTION usage_meter.void_event(bigint, text) IS
    'Cancels one event, found by its id alone, with a reversing ledger entry that keeps the reason';

CREATE FUNCTION usage_meter.correct_event(
    event_id            bigint,
    reason              text,
    input_tokens        bigint DEFAULT NULL,
    output_tokens       bigint DEFAULT NULL,
    cache_read_tokens   bigint DEFAULT NULL,
    cache_write_tokens  bigint DEFAULT NULL,
    reasoning_tokens    bigint DEFAULT NULL,
    quantity            numeric DEFAULT NULL,
    cost                numeric DEFAULT NULL,
    model               text DEFAULT NULL,
    provider            text DEFAULT NULL,
    idempotency_key     text DEFAULT NULL,
    metadata            jsonb DEFAULT NULL,
    OUT reversal_id bigint, OUT replacement_id bigint, OUT new_cost numeric, OUT new_billed_cost numeric,
    OUT priced boolean)
RETURNS record
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT * INTO reversal_id, replacement_id, new_cost, new_billed_cost, priced
      FROM usage_meter.correct_event(usage_meter.event_owner(correct_event.event_id), correct_event.event_id,
               correct_event.reason,
               correct_event.input_tokens, correct_event.output_tokens, correct_event.cache_read_tokens,
               correct_event.cache_write_tokens, correct_event.reasoning_tokens, correct_event.quantity,
               correct_event.cost, correct_event.model, correct_event.provider, correct_event.idempotency_key,
               correct_event.metadata);
END
$$;
COMMENT ON FUNCTION usage_meter.correct_event(bigint, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric,
                                              text, text, text, jsonb) IS
    'Replaces an event, found by its id alone, by a reversal plus a new entry, both with the reason';
REVOKE ALL ON FUNCTION usage_meter.void_event(bigint, text),
    usage_meter.correct_event(bigint, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric, text, text,
                              text, jsonb)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.void_event(bigint, text),
    usage_meter.correct_event(bigint, text, bigint, bigint, bigint, bigint, bigint, numeric, numeric, text, text,
                              text, jsonb)
    TO usage_meter_admin;

-- ------------------------------------------------------------------------------------------------------------
-- Repair. rebuild() makes the summaries and counters of a scope equal the ledger again and reports every
-- field it changed (before = what the summary said, after = the ledger's figure).
--
-- Locking: it reads the ledger and the summaries in one snapshot; every recording transaction changes both
-- together, so their difference in that snapshot is exactly the damage, whatever is in flight. It adds that
-- difference to rows of slot -1, a slot no recording backend writes (they use 0 .. counter_slots - 1): it
-- never waits for a recording transaction and none waits for it. Additions commute, so a recording that
-- commits meanwhile is kept as well. Two rebuilds are serialized by a transaction advisory lock, and the
-- second computes its difference after the first committed; so rebuild runs in READ COMMITTED only.
-- ------------------------------------------------------------------------------------------------------------
-- The body of rebuild(), whose report columns could not share names with its parameters in PL/pgSQL.
CREATE FUNCTION usage_meter.rebuild_scope(scope_tenant text, scope_since date, scope_until date)
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, before numeric, after numeric)
    LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
        RAISE EXCEPTION 'rebuild must run in a READ COMMITTED transaction'
            USING ERRCODE = 'active_sql_transaction',
                  HINT = 'In REPEATABLE READ or SERIALIZABLE its snapshot could predate another rebuild''s commit.';
    END IF;
    IF scope_since IS NOT NULL AND scope_until IS NOT NULL AND scope_since OPERATOR(pg_catalog.>) scope_until THEN
        RAISE EXCEPTION 'invalid since: % is after until %', scope_since, scope_until
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('usage_meter.rebuild'));
    -- One statement, one snapshot: the differences, then the additions that remove them.
    RETURN QUERY
    WITH diff AS MATERIALIZED (
        SELECT v.summary, v.tenant, v.user_id, v.period, v.period_start, v.operation, v.provider, v.model, v.field,
               COALESCE(v.ledger, 0) OPERATOR(pg_catalog.-) COALESCE(v.recorded, 0) AS delta,
               v.recorded, v.ledger
          FROM usage_meter.verify() AS v
         WHERE (scope_tenant IS NULL OR v.tenant OPERATOR(pg_catalog.=) scope_tenant)
           AND (scope_until IS NULL OR v.period_start OPERATOR(pg_catalog.<=) scope_until)
           AND (scope_since IS NULL OR v.period_start OPERATOR(pg_catalog.>=)
                CASE WHEN v.period OPERATOR(pg_catalog.=) 'month'
                     THEN pg_catalog.date_trunc('month', scope_since::timestamp)::date ELSE scope_since END)
    ),
    daily AS (
        INSERT INTO usage_meter.daily_rollup AS r (tenant, user_id, day, operation, provider, model, slot, requests,
               errors, unpriced, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
               reasoning_tokens, quantity, cost, billed_cost, latency_ms_total)
        SELECT d.tenant, d.user_id, d.period_start, d.operation, d.provider, d.model, -1,
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'requests'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'errors'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'unpriced'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'input_tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'output_tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'cache_read_tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'cache_write_tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'reasoning_tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'quantity'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'cost'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'billed_cost'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'latency_ms_total'), 0)
          FROM diff AS d
         WHERE d.summary OPERATOR(pg_catalog.=) 'daily_usage'
         GROUP BY d.tenant, d.user_id, d.period_start, d.operation, d.provider, d.model
        ON CONFLICT ON CONSTRAINT daily_rollup_key DO UPDATE SET
               requests = r.requests OPERATOR(pg_catalog.+) excluded.requests,
               errors = r.errors OPERATOR(pg_catalog.+) excluded.errors,
               unpriced = r.unpriced OPERATOR(pg_catalog.+) excluded.unpriced,
               input_tokens = r.input_tokens OPERATOR(pg_catalog.+) excluded.input_tokens,
               output_tokens = r.output_tokens OPERATOR(pg_catalog.+) excluded.output_tokens,
               cache_read_tokens = r.cache_read_tokens OPERATOR(pg_catalog.+) excluded.cache_read_tokens,
               cache_write_tokens = r.cache_write_tokens OPERATOR(pg_catalog.+) excluded.cache_write_tokens,
               reasoning_tokens = r.reasoning_tokens OPERATOR(pg_catalog.+) excluded.reasoning_tokens,
               quantity = r.quantity OPERATOR(pg_catalog.+) excluded.quantity,
               cost = r.cost OPERATOR(pg_catalog.+) excluded.cost,
               billed_cost = r.billed_cost OPERATOR(pg_catalog.+) excluded.billed_cost,
               latency_ms_total = r.latency_ms_total OPERATOR(pg_catalog.+) excluded.latency_ms_total
        RETURNING 1
    ),
    counters AS (
        INSERT INTO usage_meter.counters AS c (tenant, user_id, period, period_start, slot, requests, tokens, cost,
               billed_cost)
        SELECT d.tenant, d.user_id, d.period, d.period_start, -1,
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'requests'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'tokens'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'cost'), 0),
               COALESCE(pg_catalog.sum(d.delta) FILTER (WHERE d.field OPERATOR(pg_catalog.=) 'billed_cost'), 0)
          FROM diff AS d
         WHERE d.summary OPERATOR(pg_catalog.=) 'counters'
         GROUP BY d.tenant, d.user_id, d.period, d.period_start
        ON CONFLICT ON CONSTRAINT counters_key DO UPDATE SET
               requests = c.requests OPERATOR(pg_catalog.+) excluded.requests,
               tokens = c.tokens OPERATOR(pg_catalog.+) excluded.tokens,
               cost = c.cost OPERATOR(pg_catalog.+) excluded.cost,
               billed_cost = c.billed_cost OPERATOR(pg_catalog.+) excluded.billed_cost
        RETURNING 1
    )
    SELECT d.summary, d.tenant, d.user_id, d.period, d.period_start, d.operation, d.provider, d.model, d.field,
           d.recorded, d.ledger
      FROM diff AS d  -- daily and counters run to completion whether read or not
     ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
END
$$;
CREATE FUNCTION usage_meter.rebuild(tenant text DEFAULT NULL, since date DEFAULT NULL, until date DEFAULT NULL)
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, before numeric, after numeric)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM usage_meter.rebuild_scope($1, $2, $3) $$;
COMMENT ON FUNCTION usage_meter.rebuild IS 'Makes summaries and counters equal the ledger (for a tenant and day range) and reports the changes';
REVOKE ALL ON FUNCTION usage_meter.rebuild(text, date, date), usage_meter.rebuild_scope(text, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.rebuild(text, date, date) TO usage_meter_admin;

-- ------------------------------------------------------------------------------------------------------------
-- Retention: the ledger is partitioned by month of occurred_at (UTC months), so whole months of raw events
-- can be dropped (drop_events_before) while daily_rollup and counters keep the history.
--   usage_meter.events          partitioned by RANGE (occurred_at); an extension member
--   usage_meter.events_default  the default partition (an extension member, its rows dumped): takes every row
--                               of a month that has no partition yet (backfills, a fresh install, an upgrade)
--   usage_meter.events_YYYY_MM  monthly partitions, created at run time by create_partitions() (run it after
--                               installing or upgrading and then daily, e.g. from cron); it also moves the
--                               default partition's rows of a month into that month's partition. They are
--                               ordinary tables, not extension members, so pg_dump dumps each once (its
--                               schema, its ATTACH and its rows) and CREATE EXTENSION never creates one.
-- Idempotency keys live in usage_meter.idempotency_keys (a unique index of a partitioned table must contain
-- the partition key, so the ledger cannot hold a tenant-wide unique key itself). A key is remembered as long
-- as its event's raw row is kept: drop_events_before removes both, and refuses later events older than the
-- boundary, so a retry of a dropped event is refused, never counted twice.
-- ------------------------------------------------------------------------------------------------------------
CREATE TABLE usage_meter.idempotency_keys (
    tenant           text NOT NULL,
    idempotency_key  text NOT NULL,
    event_id         bigint NOT NULL,
    occurred_at      timestamptz NOT NULL,  -- the event's, to find it (and its partition) and to prune the key
    recorded_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant, idempotency_key)
);
COMMENT ON TABLE usage_meter.idempotency_keys IS 'Idempotency keys of the ledger: kept as long as their event''s raw row';
SELECT pg_catalog.pg_extension_config_dump('usage_meter.idempotency_keys', '');

-- The retention boundary: raw events before kept_from were dropped. No row: nothing was ever dropped. Global
-- (like prices): partitions are shared by every tenant.
CREATE TABLE usage_meter.retention (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    kept_from   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE usage_meter.retention IS 'Raw events before kept_from were dropped by drop_events_before';
SELECT pg_catalog.pg_extension_config_dump('usage_meter.retention', '');

-- The ledger is rebuilt as a partitioned table below; its indexes and triggers are recreated by name. Any other
-- index or trigger on it (one a later section of this script might add) would be lost: refuse instead.
DO $guard$
DECLARE
    extra text;
BEGIN
    SELECT pg_catalog.string_agg(o.name, ', ') INTO extra FROM (
        SELECT c.relname::text AS name FROM pg_catalog.pg_index AS i
          JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid
         WHERE i.indrelid OPERATOR(pg_catalog.=) 'usage_meter.events'::regclass
           AND c.relname OPERATOR(pg_catalog.<>) ALL (ARRAY['events_pkey', 'events_idempotency_key',
                                                           'events_reversed_once']::name[])
        UNION ALL
        SELECT t.tgname::text FROM pg_catalog.pg_trigger AS t
         WHERE t.tgrelid OPERATOR(pg_catalog.=) 'usage_meter.events'::regclass AND NOT t.tgisinternal
           AND t.tgname OPERATOR(pg_catalog.<>) ALL (ARRAY['events_prepare', 'events_rollup', 'events_append_only']::name[])
    ) AS o;
    IF extra IS NOT NULL THEN
        RAISE EXCEPTION 'usage_meter: the ledger has indexes or triggers the partitioning step does not recreate: %', extra;
    END IF;
END
$guard$;

-- The partitioned ledger, with every column the ledger has now (those other areas added included).
CREATE TABLE usage_meter.events_partitioned (LIKE usage_meter.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS
    INCLUDING COMMENTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED)
    PARTITION BY RANGE (occurred_at);
CREATE TABLE usage_meter.events_default PARTITION OF usage_meter.events_partitioned DEFAULT;

-- Existing rows move as they are (no trigger fires: they are neither priced nor rolled up again), into the
-- default partition; create_partitions() spreads them into monthly partitions afterwards.
DO $move$
DECLARE
    role text := pg_catalog.current_setting('session_replication_role');
BEGIN
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
    INSERT INTO usage_meter.events_partitioned SELECT * FROM usage_meter.events;
    INSERT INTO usage_meter.idempotency_keys (tenant, idempotency_key, event_id, occurred_at, recorded_at)
    SELECT e.tenant, e.idempotency_key, e.event_id, e.occurred_at, e.recorded_at
      FROM usage_meter.events AS e WHERE e.idempotency_key IS NOT NULL;
    PERFORM pg_catalog.set_config('session_replication_role', role, true);
END
$move$;

-- roll_up takes the ledger's row type: recreated for the new table.
DROP FUNCTION usage_meter.roll_up(usage_meter.events[]);
ALTER EXTENSION usage_meter DROP TABLE usage_meter.events;
DROP TABLE usage_meter.events;
ALTER TABLE usage_meter.events_partitioned RENAME TO events;
-- Keys and indexes are each partition's own, not the parent's: an index of the parent (an extension member)
-- would be cloned onto a partition when pg_dump's restore attaches it, and the partition's own dumped index
-- would then collide with the clone. Per partition they are as strong: the key (tenant, event_id, occurred_at)
-- contains the partition key, and a reversal carries its event's occurred_at, so it is in the same partition.
ALTER TABLE usage_meter.events_default ADD CONSTRAINT events_default_pkey PRIMARY KEY (tenant, event_id, occurred_at);
-- An event is reversed at most once.
CREATE UNIQUE INDEX events_default_reversed_once ON usage_meter.events_default (tenant, reverses_event_id)
    WHERE reverses_event_id IS NOT NULL;
COMMENT ON TABLE usage_meter.events IS 'Append-only usage ledger: one row per usage event, partitioned by month of occurred_at';
SELECT pg_catalog.pg_extension_config_dump('usage_meter.events_default', '');

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
-- Partitions are read through the parent, under its row-level security; on the partitions themselves it is on
-- with no policy, so a role granted one directly still sees nothing.
ALTER TABLE usage_meter.events_default ENABLE ROW LEVEL SECURITY;

CREATE FUNCTION usage_meter.roll_up(events usage_meter.events[]) RETURNS bigint
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'roll_up';
REVOKE ALL ON FUNCTION usage_meter.roll_up(usage_meter.events[]) FROM PUBLIC;

-- Readers and admins read the ledger through the parent, under row-level security; partitions are granted to
-- nobody (the owner writes them through the parent).
GRANT SELECT ON usage_meter.events, usage_meter.idempotency_keys, usage_meter.retention
    TO usage_meter_reader, usage_meter_admin;
DO $rls$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['events', 'idempotency_keys'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE usage_meter.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('CREATE POLICY admin_all ON usage_meter.%I TO usage_meter_admin USING (true)', t);
        EXECUTE pg_catalog.format(
            'CREATE POLICY reader_bound ON usage_meter.%I FOR SELECT TO usage_meter_reader'
            ' USING (tenant OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT b.tenant FROM usage_meter.reader_tenants AS b'
            ' WHERE b.role_name OPERATOR(pg_catalog.=) CURRENT_USER::text)))', t);
    END LOOP;
END
$rls$;

-- void_event: the reversal is inserted with its event's occurred_at, so it is routed to the event's partition
-- (a BEFORE ROW trigger cannot move a row to another partition).
CREATE OR REPLACE FUNCTION usage_meter.void_event(tenant text, event_id bigint, reason text)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reversal_id bigint;
    at timestamptz;
BEGIN
    IF void_event.event_id IS NULL THEN
        RAISE EXCEPTION 'event_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT e.occurred_at INTO at FROM usage_meter.events AS e
     WHERE e.tenant OPERATOR(pg_catalog.=) void_event.tenant AND e.event_id OPERATOR(pg_catalog.=) void_event.event_id;
    -- The ledger trigger fills the row from the event (operation included) and checks everything.
    INSERT INTO usage_meter.events AS e (tenant, operation, reverses_event_id, reason, occurred_at)
    VALUES (void_event.tenant, '-', void_event.event_id, void_event.reason, COALESCE(at, pg_catalog.now()))
    RETURNING e.event_id INTO reversal_id;
    RETURN reversal_id;
END
$$;

-- The first day whose raw events are all kept, for every tenant: verify() and rebuild() check the days from it
-- on (all days when nothing was dropped). Conservative for every time zone: a tenant day starts at most 16
-- hours before the same UTC day, so a day is whole when its UTC start is at least kept_from + 16 hours.
CREATE FUNCTION usage_meter.verifiable_since()
RETURNS date
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE((SELECT CASE WHEN b.t OPERATOR(pg_catalog.=) b.t::date THEN b.t::date
                                 ELSE b.t::date OPERATOR(pg_catalog.+) 1 END
                       FROM usage_meter.retention AS r
                      CROSS JOIN LATERAL (SELECT (r.kept_from OPERATOR(pg_catalog.+) interval '16 hours')
                                                 AT TIME ZONE 'UTC' AS t) AS b),
                    '-infinity'::date)
$$;
COMMENT ON FUNCTION usage_meter.verifiable_since IS 'First day whose raw events are all kept: verify() and rebuild() check from it on';

-- verify() as in 1.0, with a reversal counting as -1 request (error, unpriced event) like in the roll-up, over
-- the days whose raw events are all kept (verifiable_since() on): a day or month counter some of whose events
-- were dropped cannot be compared with the ledger, and is not reported.
CREATE OR REPLACE FUNCTION usage_meter.verify()
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, ledger numeric, recorded numeric, difference numeric)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    WITH since AS MATERIALIZED (SELECT usage_meter.verifiable_since() AS day),
    ledger_daily AS (
        SELECT e.tenant, e.user_id, e.day, e.operation, e.provider, e.model,
               sum(s.sign)::numeric AS requests,
               COALESCE(sum(s.sign) FILTER (WHERE NOT e.success), 0)::numeric AS errors,
               COALESCE(sum(s.sign) FILTER (WHERE NOT e.priced), 0)::numeric AS unpriced,
               sum(e.input_tokens)::numeric AS input_tokens, sum(e.output_tokens)::numeric AS output_tokens,
               sum(e.cache_read_tokens)::numeric AS cache_read_tokens,
               sum(e.cache_write_tokens)::numeric AS cache_write_tokens,
               sum(e.reasoning_tokens)::numeric AS reasoning_tokens,
               COALESCE(sum(e.quantity), 0) AS quantity, COALESCE(sum(e.cost), 0) AS cost,
               COALESCE(sum(e.billed_cost), 0) AS billed_cost,
               COALESCE(sum(e.latency_ms), 0)::numeric AS latency_ms_total
        FROM usage_meter.events AS e
        CROSS JOIN LATERAL (SELECT CASE WHEN e.reverses_event_id IS NULL THEN 1 ELSE -1 END AS sign) AS s
        WHERE e.day >= (SELECT since.day FROM since)
        GROUP BY e.tenant, e.user_id, e.day, e.operation, e.provider, e.model
    ),
    daily_diff AS (
        SELECT 'daily_usage'::text AS summary, COALESCE(l.tenant, d.tenant) AS tenant,
               COALESCE(l.user_id, d.user_id) AS user_id, 'day'::text AS period,
               COALESCE(l.day, d.day) AS period_start, COALESCE(l.operation, d.operation) AS operation,
               COALESCE(l.provider, d.provider) AS provider, COALESCE(l.model, d.model) AS model,
               v.field, v.ledger, v.recorded
        FROM ledger_daily AS l
        FULL JOIN (SELECT * FROM usage_meter.daily_usage AS u WHERE u.day >= (SELECT since.day FROM since)) AS d
               ON d.tenant = l.tenant AND d.day = l.day AND d.operation = l.operation
              AND d.user_id IS NOT DISTINCT FROM l.user_id AND d.provider IS NOT DISTINCT FROM l.provider
              AND d.model IS NOT DISTINCT FROM l.model
        CROSS JOIN LATERAL (VALUES
            ('requests', l.requests, d.requests::numeric), ('errors', l.errors, d.errors::numeric),
            ('unpriced', l.unpriced, d.unpriced::numeric),
            ('input_tokens', l.input_tokens, d.input_tokens::numeric),
            ('output_tokens', l.output_tokens, d.output_tokens::numeric),
            ('cache_read_tokens', l.cache_read_tokens, d.cache_read_tokens::numeric),
            ('cache_write_tokens', l.cache_write_tokens, d.cache_write_tokens::numeric),
            ('reasoning_tokens', l.reasoning_tokens, d.reasoning_tokens::numeric),
            ('quantity', l.quantity, d.quantity), ('cost', l.cost, d.cost),
            ('billed_cost', l.billed_cost, d.billed_cost),
            ('latency_ms_total', l.latency_ms_total, d.latency_ms_total::numeric)) AS v(field, ledger, recorded)
        WHERE COALESCE(v.ledger, 0) <> COALESCE(v.recorded, 0)
    ),
    ledger_counters AS (
        SELECT l.tenant, s.user_id, s.period, s.period_start,
               sum(l.requests) AS requests,
               sum(l.input_tokens + l.output_tokens + l.cache_read_tokens + l.cache_write_tokens) AS tokens,
               sum(l.cost) AS cost, sum(l.billed_cost) AS billed_cost
        FROM ledger_daily AS l
        CROSS JOIN LATERAL (VALUES
            (l.user_id, 'day', l.day, false),
            (NULL, 'day', l.day, true),
            (l.user_id, 'month', (l.day - (EXTRACT(day FROM l.day)::int - 1)), false),
            (NULL, 'month', (l.day - (EXTRACT(day FROM l.day)::int - 1)), true)) AS s(user_id, period, period_start, total)
        WHERE (s.total OR l.user_id IS NOT NULL) AND s.period_start >= (SELECT since.day FROM since)
        GROUP BY l.tenant, s.user_id, s.period, s.period_start
    ),
    recorded_counters AS (
        SELECT c.tenant, c.user_id, c.period, c.period_start,
               sum(c.requests)::numeric AS requests, sum(c.tokens)::numeric AS tokens,
               sum(c.cost) AS cost, sum(c.billed_cost) AS billed_cost
        FROM usage_meter.counters AS c
        WHERE c.period_start >= (SELECT since.day FROM since)
        GROUP BY c.tenant, c.user_id, c.period, c.period_start
    ),
    counter_diff AS (
        SELECT 'counters'::text, COALESCE(l.tenant, r.tenant), COALESCE(l.user_id, r.user_id),
               COALESCE(l.period, r.period), COALESCE(l.period_start, r.period_start),
               NULL::text, NULL::text, NULL::text, v.field, v.ledger, v.recorded
        FROM ledger_counters AS l
        FULL JOIN recorded_counters AS r
               ON r.tenant = l.tenant AND r.period = l.period AND r.period_start = l.period_start
              AND r.user_id IS NOT DISTINCT FROM l.user_id
        CROSS JOIN LATERAL (VALUES
            ('requests', l.requests, r.requests), ('tokens', l.tokens, r.tokens),
            ('cost', l.cost, r.cost), ('billed_cost', l.billed_cost, r.billed_cost)) AS v(field, ledger, recorded)
        WHERE COALESCE(v.ledger, 0) <> COALESCE(v.recorded, 0)
    )
    SELECT d.*, COALESCE(d.recorded, 0) - COALESCE(d.ledger, 0) FROM daily_diff AS d
    UNION ALL
    SELECT c.*, COALESCE(c.recorded, 0) - COALESCE(c.ledger, 0) FROM counter_diff AS c
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9;
$$;
COMMENT ON FUNCTION usage_meter.verify IS 'No rows exactly when every daily summary and live counter from verifiable_since() on equals the ledger';

-- The partition of the UTC month starting at month_start: created (if missing) from the default partition's
-- rows of that month, moved as they are (no trigger fires: not priced or rolled up again), with its own key,
-- reversal index and append-only trigger, then attached (which clones the parent's row trigger onto it).
-- Returns its name, NULL if it existed.
CREATE FUNCTION usage_meter.create_partition(month_start timestamptz)
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
    EXECUTE pg_catalog.format('CREATE TABLE usage_meter.%I (LIKE usage_meter.events INCLUDING DEFAULTS'
                              ' INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)', name);
    EXECUTE pg_catalog.format('ALTER TABLE usage_meter.%I ADD CONSTRAINT %I PRIMARY KEY (tenant, event_id, occurred_at)',
                              name, name OPERATOR(pg_catalog.||) '_pkey');
    EXECUTE pg_catalog.format('CREATE UNIQUE INDEX %I ON usage_meter.%I (tenant, reverses_event_id)'
                              ' WHERE reverses_event_id IS NOT NULL', name OPERATOR(pg_catalog.||) '_reversed_once', name);
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

-- create_partitions(months_ahead) -> the partitions it created: the current UTC month and months_ahead months
-- after it, and every month that has rows in the default partition (whose rows move into it). Run it after
-- CREATE EXTENSION or ALTER EXTENSION UPDATE and then daily (it does nothing when all exist). A row of a month
-- without a partition is never refused: it goes to the default partition until this runs.
CREATE FUNCTION usage_meter.create_partitions(months_ahead integer DEFAULT 3)
RETURNS SETOF text
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m timestamptz;
    created text;
BEGIN
    IF months_ahead IS NULL OR months_ahead OPERATOR(pg_catalog.<) 0 OR months_ahead OPERATOR(pg_catalog.>) 120 THEN
        RAISE EXCEPTION 'invalid months_ahead: % (0 to 120)', months_ahead USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('usage_meter.partitions'));
    FOR m IN SELECT DISTINCT pg_catalog.date_trunc('month', d.occurred_at, 'UTC') FROM usage_meter.events_default AS d
             UNION
             SELECT ((pg_catalog.date_trunc('month', pg_catalog.now(), 'UTC') AT TIME ZONE 'UTC')
                     OPERATOR(pg_catalog.+) pg_catalog.make_interval(months => i)) AT TIME ZONE 'UTC'
               FROM pg_catalog.generate_series(0, months_ahead) AS i
             ORDER BY 1
    LOOP
        created := usage_meter.create_partition(m);
        IF created IS NOT NULL THEN
            RETURN NEXT created;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION usage_meter.create_partitions IS 'Creates the ledger''s monthly partitions ahead, and for rows waiting in the default partition';

-- drop_events_before(cutoff) -> the number of raw events dropped. Drops every monthly partition that ends at or
-- before the start of cutoff's UTC month (rows of those months still in the default partition get their
-- partition first), and their idempotency keys; daily_rollup and counters keep the history. From then on
-- events older than that boundary are refused, and verify()/rebuild() check the days from verifiable_since().
-- An admin function: it runs as the extension's owner (DROP TABLE takes an ACCESS EXCLUSIVE lock on the
-- ledger for a moment, so recording waits for it).
CREATE FUNCTION usage_meter.drop_events_before(cutoff timestamptz)
RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    boundary timestamptz;
    kept timestamptz;
    m timestamptz;
    p record;
    n bigint;
    dropped bigint := 0;
BEGIN
    IF cutoff IS NULL THEN
        RAISE EXCEPTION 'cutoff must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT pg_catalog.isfinite(cutoff) OR cutoff OPERATOR(pg_catalog.>) pg_catalog.now() THEN
        RAISE EXCEPTION 'invalid cutoff: % (it must be a finite time, not in the future)', cutoff
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    boundary := pg_catalog.date_trunc('month', cutoff, 'UTC');
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('usage_meter.partitions'));
    SELECT r.kept_from INTO kept FROM usage_meter.retention AS r;
    IF kept IS NOT NULL AND boundary OPERATOR(pg_catalog.<=) kept THEN
        RETURN 0;
    END IF;
    FOR m IN SELECT DISTINCT pg_catalog.date_trunc('month', d.occurred_at, 'UTC') FROM usage_meter.events_default AS d
              WHERE d.occurred_at OPERATOR(pg_catalog.<) boundary LOOP
        PERFORM usage_meter.create_partition(m);
    END LOOP;
    FOR p IN SELECT c.oid::regclass AS part,
                    pg_catalog.substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'TO \(''(.*)''\)')::timestamptz AS upper
               FROM pg_catalog.pg_inherits AS i JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
              WHERE i.inhparent OPERATOR(pg_catalog.=) 'usage_meter.events'::regclass
                AND c.oid OPERATOR(pg_catalog.<>) 'usage_meter.events_default'::regclass LOOP
        IF p.upper OPERATOR(pg_catalog.<=) boundary THEN
            -- The lock DROP TABLE needs, taken first: a recording transaction still writing into the month
            -- commits before the count (a new snapshot), so the count is what is dropped.
            EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p.part);
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', p.part) INTO n;
            dropped := dropped OPERATOR(pg_catalog.+) n;
            EXECUTE pg_catalog.format('DROP TABLE %s', p.part);
        END IF;
    END LOOP;
    DELETE FROM usage_meter.idempotency_keys AS k WHERE k.occurred_at OPERATOR(pg_catalog.<) boundary;
    INSERT INTO usage_meter.retention AS r (singleton, kept_from) VALUES (true, boundary)
        ON CONFLICT (singleton) DO UPDATE SET kept_from = excluded.kept_from, updated_at = pg_catalog.now();
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION usage_meter.drop_events_before IS 'Drops the raw events of every UTC month before cutoff''s; summaries keep the history';
REVOKE ALL ON FUNCTION usage_meter.create_partition(timestamptz), usage_meter.create_partitions(integer),
    usage_meter.drop_events_before(timestamptz), usage_meter.verifiable_since() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION usage_meter.verifiable_since() TO usage_meter_reader, usage_meter_admin;

-- ------------------------------------------------------------------------------------------------------------
-- Grants for every function of the schema, those of the other areas included (this section runs last): the
-- admin may call everything but the internals; the writer also gets the reservation and provider-payload
-- recording functions. A function a writer calls must be SECURITY DEFINER (the writer has no table rights).
-- ------------------------------------------------------------------------------------------------------------
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA usage_meter TO usage_meter_admin;
REVOKE EXECUTE ON FUNCTION usage_meter.events_prepare(), usage_meter.events_rollup(),
    usage_meter.events_append_only(), usage_meter.roll_up(usage_meter.events[]),
    usage_meter.rebuild_scope(text, date, date), usage_meter.create_partition(timestamptz),
    usage_meter.event_owner(bigint)
    FROM usage_meter_admin;
DO $grants$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc AS p
              WHERE p.pronamespace OPERATOR(pg_catalog.=) 'usage_meter'::regnamespace
                AND p.proname OPERATOR(pg_catalog.=) ANY (ARRAY['reserve', 'release', 'record_response',
                                                                 'normalize_usage']::name[])
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO usage_meter_writer', f);
    END LOOP;
END
$grants$;

-- (end of ledger trust)
