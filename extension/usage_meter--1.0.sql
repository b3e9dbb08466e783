-- usage_meter 1.0: one priced, append-only usage ledger with daily summaries, live counters and limits.
\echo Use "CREATE EXTENSION usage_meter" to load this file. \quit

-- Every name below is schema-qualified and every function pins search_path, so neither the caller's
-- search_path nor look-alike objects in other schemas change what the extension does.

------------------------------------------------------------------------------------------------------------
-- Tenants: the paying client. Created on first use with time zone UTC and no markup.
------------------------------------------------------------------------------------------------------------
CREATE TABLE usage_meter.tenants (
    tenant      text PRIMARY KEY,
    time_zone   text NOT NULL DEFAULT 'UTC',
    markup_pct  numeric NOT NULL DEFAULT 0 CHECK (markup_pct >= -100),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE usage_meter.tenants IS 'Tenants (paying clients): time zone for day/month bucketing and billing markup';

------------------------------------------------------------------------------------------------------------
-- Prices. Reference data shared by all tenants (a Citus reference table when sharded by tenant).
------------------------------------------------------------------------------------------------------------
CREATE SEQUENCE usage_meter.price_id_seq;
CREATE TABLE usage_meter.prices (
    price_id              bigint PRIMARY KEY DEFAULT pg_catalog.nextval('usage_meter.price_id_seq'),
    model                 text NOT NULL,
    provider              text,
    input_per_mtok        numeric NOT NULL CHECK (input_per_mtok >= 0),
    output_per_mtok       numeric NOT NULL CHECK (output_per_mtok >= 0),
    cache_read_per_mtok   numeric CHECK (cache_read_per_mtok >= 0),
    cache_write_per_mtok  numeric CHECK (cache_write_per_mtok >= 0),
    effective_from        timestamptz NOT NULL DEFAULT '-infinity',
    created_at            timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT prices_model_provider_from UNIQUE NULLS NOT DISTINCT (model, provider, effective_from)
);
COMMENT ON TABLE usage_meter.prices IS 'Token prices in USD per million tokens; a NULL cache price means the input price';

CREATE SEQUENCE usage_meter.unit_price_id_seq;
CREATE TABLE usage_meter.unit_prices (
    unit_price_id   bigint PRIMARY KEY DEFAULT pg_catalog.nextval('usage_meter.unit_price_id_seq'),
    operation       text NOT NULL,
    per_unit        numeric NOT NULL CHECK (per_unit >= 0),
    effective_from  timestamptz NOT NULL DEFAULT '-infinity',
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT unit_prices_operation_from UNIQUE (operation, effective_from)
);
COMMENT ON TABLE usage_meter.unit_prices IS 'Per-unit prices (USD) for the quantity of non-token operations';

------------------------------------------------------------------------------------------------------------
-- Limits: user_id NULL = the tenant's total, '*' = each user of the tenant on their own.
------------------------------------------------------------------------------------------------------------
CREATE TABLE usage_meter.limits (
    tenant      text NOT NULL REFERENCES usage_meter.tenants (tenant),
    user_id     text,
    metric      text NOT NULL CHECK (metric IN ('cost', 'billed_cost', 'tokens', 'requests')),
    period      text NOT NULL CHECK (period IN ('day', 'month')),
    max_value   numeric NOT NULL CHECK (max_value >= 0),
    hard        boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT limits_scope UNIQUE NULLS NOT DISTINCT (tenant, user_id, metric, period)
);

------------------------------------------------------------------------------------------------------------
-- The ledger. Rows are validated, priced and bucketed by the events_prepare trigger and rolled up by the
-- events_rollup trigger, whether they come from usage_record or from INSERT / COPY straight into the table.
------------------------------------------------------------------------------------------------------------
CREATE SEQUENCE usage_meter.event_id_seq;
CREATE TABLE usage_meter.events (
    event_id            bigint NOT NULL DEFAULT pg_catalog.nextval('usage_meter.event_id_seq'),
    tenant              text NOT NULL,
    user_id             text,
    operation           text NOT NULL,
    model               text,
    provider            text,
    input_tokens        bigint NOT NULL DEFAULT 0,
    output_tokens       bigint NOT NULL DEFAULT 0,
    cache_read_tokens   bigint NOT NULL DEFAULT 0,
    cache_write_tokens  bigint NOT NULL DEFAULT 0,
    reasoning_tokens    bigint NOT NULL DEFAULT 0,
    quantity            numeric,
    cost                numeric,              -- USD; NULL when the event could not be priced
    billed_cost         numeric,              -- cost x (1 + markup_pct / 100)
    priced              boolean NOT NULL DEFAULT false,
    cost_source         text CHECK (cost_source IN ('reported', 'price_table')),
    price_id            bigint,               -- the token price that priced the event
    unit_price_id       bigint,               -- the unit price that priced the quantity
    markup_pct          numeric,              -- the tenant's markup when the event was recorded
    occurred_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    day                 date NOT NULL,        -- occurred_at's date in the tenant's time zone, fixed at recording
    recorded_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    idempotency_key     text,
    session_id          text,
    latency_ms          integer,
    success             boolean NOT NULL DEFAULT true,
    metadata            jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant, event_id)
);
CREATE UNIQUE INDEX events_idempotency_key ON usage_meter.events (tenant, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
COMMENT ON TABLE usage_meter.events IS 'Append-only usage ledger: one row per usage event';

------------------------------------------------------------------------------------------------------------
-- Rollups. Writers add to the row of their own slot (the backend id modulo usage_meter.counter_slots), so
-- concurrent writers of one hot tenant do not queue on one row lock; readers sum the slots.
------------------------------------------------------------------------------------------------------------
CREATE TABLE usage_meter.daily_rollup (
    tenant              text NOT NULL,
    user_id             text,
    day                 date NOT NULL,
    operation           text NOT NULL,
    provider            text,
    model               text,
    slot                smallint NOT NULL,
    requests            bigint NOT NULL,
    errors              bigint NOT NULL,
    unpriced            bigint NOT NULL,
    input_tokens        bigint NOT NULL,
    output_tokens       bigint NOT NULL,
    cache_read_tokens   bigint NOT NULL,
    cache_write_tokens  bigint NOT NULL,
    reasoning_tokens    bigint NOT NULL,
    quantity            numeric NOT NULL,
    cost                numeric NOT NULL,
    billed_cost         numeric NOT NULL,
    latency_ms_total    bigint NOT NULL,
    CONSTRAINT daily_rollup_key UNIQUE NULLS NOT DISTINCT (tenant, day, user_id, operation, provider, model, slot)
);

CREATE TABLE usage_meter.counters (
    tenant        text NOT NULL,
    user_id       text,                       -- NULL: the tenant's total
    period        text NOT NULL CHECK (period IN ('day', 'month')),
    period_start  date NOT NULL,
    slot          smallint NOT NULL,
    requests      bigint NOT NULL,
    tokens        bigint NOT NULL,
    cost          numeric NOT NULL,
    billed_cost   numeric NOT NULL,
    CONSTRAINT counters_key UNIQUE NULLS NOT DISTINCT (tenant, user_id, period, period_start, slot)
);
COMMENT ON TABLE usage_meter.counters IS 'Live counters per tenant (user_id NULL) and per user, per day and month';

CREATE VIEW usage_meter.daily_usage AS
SELECT tenant, user_id, day, operation, provider, model,
       sum(requests)::bigint           AS requests,
       sum(errors)::bigint             AS errors,
       sum(input_tokens)::bigint       AS input_tokens,
       sum(output_tokens)::bigint      AS output_tokens,
       sum(cache_read_tokens)::bigint  AS cache_read_tokens,
       sum(cache_write_tokens)::bigint AS cache_write_tokens,
       sum(reasoning_tokens)::bigint   AS reasoning_tokens,
       sum(quantity)                   AS quantity,
       sum(cost)                       AS cost,
       sum(billed_cost)                AS billed_cost,
       sum(latency_ms_total)::bigint   AS latency_ms_total,
       sum(unpriced)::bigint           AS unpriced
FROM usage_meter.daily_rollup
GROUP BY tenant, user_id, day, operation, provider, model;
COMMENT ON VIEW usage_meter.daily_usage IS 'Daily summaries per tenant, user, operation, provider and model';

------------------------------------------------------------------------------------------------------------
-- pg_dump keeps every table with user data.
------------------------------------------------------------------------------------------------------------
SELECT pg_catalog.pg_extension_config_dump('usage_meter.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.prices', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.unit_prices', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.limits', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.events', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.daily_rollup', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.counters', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.price_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.unit_price_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.event_id_seq', '');

------------------------------------------------------------------------------------------------------------
-- Ledger triggers (C++).
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.events_prepare() RETURNS trigger
    LANGUAGE c SET search_path = pg_catalog, pg_temp
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
    metadata            jsonb DEFAULT '{}')
RETURNS usage_meter.recorded
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'usage_record';
COMMENT ON FUNCTION usage_meter.usage_record IS 'Records one usage event: validated, priced, rolled up, idempotent per tenant';

------------------------------------------------------------------------------------------------------------
-- Settings.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.set_tenant(tenant text, time_zone text DEFAULT 'UTC', markup_pct numeric DEFAULT 0)
RETURNS void
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_tenant';

CREATE FUNCTION usage_meter.set_price(
    model                 text,
    input_per_mtok        numeric,
    output_per_mtok       numeric,
    cache_read_per_mtok   numeric DEFAULT NULL,
    cache_write_per_mtok  numeric DEFAULT NULL,
    provider              text DEFAULT NULL,
    effective_from        timestamptz DEFAULT '-infinity')
RETURNS bigint
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_price';

CREATE FUNCTION usage_meter.set_unit_price(operation text, per_unit numeric,
                                           effective_from timestamptz DEFAULT '-infinity')
RETURNS bigint
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_unit_price';

CREATE FUNCTION usage_meter.set_limit(tenant text, user_id text, metric text, period text, max_value numeric,
                                      hard boolean DEFAULT true)
RETURNS void
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'set_limit';

CREATE FUNCTION usage_meter.remove_limit(tenant text, user_id text, metric text, period text)
RETURNS boolean
    LANGUAGE c VOLATILE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'remove_limit';

------------------------------------------------------------------------------------------------------------
-- Periods, limits and live usage.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.period_bounds(tenant text, at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (period text, period_start date, starts_at timestamptz, resets_at timestamptz)
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'period_bounds';
COMMENT ON FUNCTION usage_meter.period_bounds IS 'The day and month containing "at" in the tenant''s time zone';

CREATE FUNCTION usage_meter.check_limit(
    tenant text, user_id text DEFAULT NULL, estimated_cost numeric DEFAULT 0, estimated_tokens bigint DEFAULT 0,
    OUT allowed boolean, OUT metric text, OUT period text, OUT used numeric, OUT max_value numeric,
    OUT remaining numeric, OUT resets_at timestamptz)
RETURNS record
    LANGUAGE c STABLE SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'check_limit';
COMMENT ON FUNCTION usage_meter.check_limit IS 'May this request go ahead? Reads live counters only';

CREATE FUNCTION usage_meter.live_usage(tenant text, user_id text DEFAULT NULL)
RETURNS TABLE (period text, period_start date, requests bigint, tokens bigint, cost numeric, billed_cost numeric)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT b.period, b.period_start,
           COALESCE(sum(c.requests), 0)::bigint, COALESCE(sum(c.tokens), 0)::bigint,
           COALESCE(sum(c.cost), 0), COALESCE(sum(c.billed_cost), 0)
    FROM usage_meter.period_bounds($1) AS b
    LEFT JOIN usage_meter.counters AS c
           ON c.tenant = $1 AND c.period = b.period AND c.period_start = b.period_start
          AND ((c.user_id = $2) OR ($2 IS NULL AND c.user_id IS NULL))
    GROUP BY b.period, b.period_start
    ORDER BY b.period_start DESC, b.period;
$$;

------------------------------------------------------------------------------------------------------------
-- Checking: verify() compares every summary with the ledger; health() reports the state.
------------------------------------------------------------------------------------------------------------
CREATE FUNCTION usage_meter.verify()
RETURNS TABLE (summary text, tenant text, user_id text, period text, period_start date, operation text,
               provider text, model text, field text, ledger numeric, recorded numeric, difference numeric)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    WITH ledger_daily AS (
        SELECT e.tenant, e.user_id, e.day, e.operation, e.provider, e.model,
               count(*)::numeric AS requests,
               count(*) FILTER (WHERE NOT e.success)::numeric AS errors,
               count(*) FILTER (WHERE NOT e.priced)::numeric AS unpriced,
               sum(e.input_tokens)::numeric AS input_tokens, sum(e.output_tokens)::numeric AS output_tokens,
               sum(e.cache_read_tokens)::numeric AS cache_read_tokens,
               sum(e.cache_write_tokens)::numeric AS cache_write_tokens,
               sum(e.reasoning_tokens)::numeric AS reasoning_tokens,
               COALESCE(sum(e.quantity), 0) AS quantity, COALESCE(sum(e.cost), 0) AS cost,
               COALESCE(sum(e.billed_cost), 0) AS billed_cost,
               COALESCE(sum(e.latency_ms), 0)::numeric AS latency_ms_total
        FROM usage_meter.events AS e
        GROUP BY e.tenant, e.user_id, e.day, e.operation, e.provider, e.model
    ),
    daily_diff AS (
        SELECT 'daily_usage'::text AS summary, COALESCE(l.tenant, d.tenant) AS tenant,
               COALESCE(l.user_id, d.user_id) AS user_id, 'day'::text AS period,
               COALESCE(l.day, d.day) AS period_start, COALESCE(l.operation, d.operation) AS operation,
               COALESCE(l.provider, d.provider) AS provider, COALESCE(l.model, d.model) AS model,
               v.field, v.ledger, v.recorded
        FROM ledger_daily AS l
        FULL JOIN usage_meter.daily_usage AS d
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
        WHERE s.total OR l.user_id IS NOT NULL
        GROUP BY l.tenant, s.user_id, s.period, s.period_start
    ),
    recorded_counters AS (
        SELECT c.tenant, c.user_id, c.period, c.period_start,
               sum(c.requests)::numeric AS requests, sum(c.tokens)::numeric AS tokens,
               sum(c.cost) AS cost, sum(c.billed_cost) AS billed_cost
        FROM usage_meter.counters AS c
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
COMMENT ON FUNCTION usage_meter.verify IS 'No rows exactly when every daily summary and live counter equals the ledger';

CREATE FUNCTION usage_meter.health()
RETURNS TABLE (tenant text, events bigint, unpriced_events bigint, last_occurred_at timestamptz,
               last_recorded_at timestamptz, status text)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    WITH per_tenant AS (
        SELECT e.tenant, count(*) AS events, count(*) FILTER (WHERE NOT e.priced) AS unpriced_events,
               max(e.occurred_at) AS last_occurred_at, max(e.recorded_at) AS last_recorded_at
        FROM usage_meter.events AS e GROUP BY e.tenant
    ),
    triggers AS (
        SELECT count(*) FILTER (WHERE t.tgenabled <> 'D') AS enabled
        FROM pg_catalog.pg_trigger AS t
        WHERE t.tgrelid = 'usage_meter.events'::regclass
          AND t.tgname IN ('events_prepare', 'events_rollup', 'events_append_only')
    )
    SELECT NULL::text, COALESCE(sum(p.events), 0)::bigint, COALESCE(sum(p.unpriced_events), 0)::bigint,
           max(p.last_occurred_at), max(p.last_recorded_at),
           CASE WHEN (SELECT enabled FROM triggers) < 3
                    THEN 'error: a ledger trigger is disabled; summaries are not being kept'
                WHEN COALESCE(sum(p.unpriced_events), 0) > 0
                    THEN 'warning: unpriced events; add prices for the models in use'
                ELSE 'ok' END
    FROM per_tenant AS p
    UNION ALL
    SELECT p.tenant, p.events, p.unpriced_events, p.last_occurred_at, p.last_recorded_at,
           CASE WHEN p.unpriced_events > 0 THEN 'warning: unpriced events' ELSE 'ok' END
    FROM (SELECT * FROM per_tenant ORDER BY tenant) AS p;
$$;
COMMENT ON FUNCTION usage_meter.health IS 'State of the ledger: a total row (tenant NULL), then one row per tenant';
