-- Tables: every table, sequence and view of the extension, with their columns, constraints, indexes and
-- comments, and the registration with pg_extension_config_dump of every one that holds user data (so pg_dump
-- keeps its rows). The triggers on them are defined with their functions, in the file of their area;
-- row-level security and privileges are in access.sql.
--
-- Every name is schema-qualified and every function pins search_path, so neither the caller's search_path nor
-- look-alike objects in other schemas change what the extension does. Every table that holds user data of a
-- tenant carries the tenant. Columns are listed in the order an updated installation has them (columns a
-- release added come last): SELECT *, INSERT without a column list and the ledger's row type depend on it.

------------------------------------------------------------------------------------------------------------
-- Tenants: the paying client. Created on first use with time zone UTC and no markup.
--   markup_from   a tenant's markup applies from the time it is set; the markups it replaced stay in
--                 tenant_markups for events that occurred before (backfills). Recorded events keep the markup
--                 and billed cost they were recorded with. Kept by the tenants_markup_history trigger.
--   alert_limits  whether the tenant has a limit with alerts: the ledger trigger reads the tenants row anyway,
--                 so a tenant without one pays nothing for alerts. Kept by the limits_flag_tenant trigger.
--   moving        the tenant is being moved to another database (set_tenant_moving, tenants_move.sql): its
--                 writes are refused (55000). Read with the row the ledger trigger reads anyway.
------------------------------------------------------------------------------------------------------------
CREATE TABLE usage_meter.tenants (
    tenant        text PRIMARY KEY,
    time_zone     text NOT NULL DEFAULT 'UTC',
    markup_pct    numeric NOT NULL DEFAULT 0 CHECK (markup_pct >= -100),
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    markup_from   timestamptz NOT NULL DEFAULT '-infinity',
    alert_limits  boolean NOT NULL DEFAULT false,
    moving        boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE usage_meter.tenants IS 'Tenants (paying clients): time zone for day/month bucketing and billing markup';

CREATE TABLE usage_meter.tenant_markups (
    tenant          text NOT NULL REFERENCES usage_meter.tenants (tenant),
    markup_pct      numeric NOT NULL CHECK (markup_pct >= -100),
    effective_from  timestamptz NOT NULL,
    effective_until timestamptz NOT NULL,
    PRIMARY KEY (tenant, effective_from)
);
COMMENT ON TABLE usage_meter.tenant_markups IS 'Past markups of each tenant: markup_pct applied from effective_from until effective_until';

------------------------------------------------------------------------------------------------------------
-- Prices. Reference data shared by all tenants (a Citus reference table when sharded by tenant). A price row
-- is never updated, and a new price may not start before the latest price of the same model and provider
-- (the prices_guard trigger, pricing.sql).
--   tiers        whole-request prices above a context-token threshold, stored canonically (docs/pricing.md)
--   per_request  a fixed amount in USD added once to the cost of every request the price prices (zero-token
--                requests included), whatever tier its tokens fall in. NaN and infinity are refused too (NaN >= 0
--                holds for numeric, so the upper bound is what keeps it out; prices_guard names the column and
--                value first).
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
    tiers                 jsonb,
    per_request           numeric NOT NULL DEFAULT 0
        CONSTRAINT prices_per_request_check CHECK (per_request >= 0 AND per_request < 'Infinity'),
    CONSTRAINT prices_model_provider_from UNIQUE NULLS NOT DISTINCT (model, provider, effective_from)
);
COMMENT ON TABLE usage_meter.prices IS 'Token prices in USD per million tokens; a NULL cache price means the input price';
COMMENT ON COLUMN usage_meter.prices.tiers IS
    'Whole-request tiers: [{"above_input_tokens": N, "input_per_mtok": .., "output_per_mtok": .., "cache_read_per_mtok": .., "cache_write_per_mtok": ..}]';
COMMENT ON COLUMN usage_meter.prices.per_request IS 'Fixed fee in USD per request, added to the token cost (0: none)';
-- The part of a price's model after its first '/' (all of it when it has none): the price map's keys for any
-- provider of a name ("azure_ai/DeepSeek-R1" for "DeepSeek-R1"), for events that name no provider.
CREATE INDEX prices_unprefixed ON usage_meter.prices
    ((pg_catalog.substr(model, pg_catalog.strpos(model, '/') OPERATOR(pg_catalog.+) 1)));

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
-- Limits: user_id NULL = the tenant's total, '*' = each user of the tenant on their own. alert: whether
-- reaching the limit sends alerts (set by set_limit, limits.sql); looking for them costs every recording of
-- the tenant a read of its limits and live counters (docs/limits.md, "Alerts").
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
    alert       boolean NOT NULL DEFAULT false,
    CONSTRAINT limits_scope UNIQUE NULLS NOT DISTINCT (tenant, user_id, metric, period)
);

------------------------------------------------------------------------------------------------------------
-- The ledger. Rows are validated, priced and bucketed by the events_prepare trigger and rolled up by the
-- events_rollup trigger, whether they come from usage_record or from INSERT / COPY straight into the table
-- (recording.sql). It stays append-only: a void or a correction adds rows, never changes one.
--   reversal row:     reverses_event_id = the cancelled event, reason; every figure the event's, negated,
--                     copied by the ledger trigger (not priced again), counted as -1 request
--   replacement row:  corrects_event_id = the corrected event, reason; an ordinary event, priced as recorded
--
-- It is partitioned by month of occurred_at (UTC months), so whole months of raw events can be dropped
-- (drop_events_before, retention.sql) while daily_rollup and counters keep the history.
--   usage_meter.events          partitioned by RANGE (occurred_at); an extension member
--   usage_meter.events_default  the default partition (an extension member, its rows dumped): takes every row
--                               of a month that has no partition yet (backfills, a fresh install, an upgrade)
--   usage_meter.events_YYYY_MM  monthly partitions, created at run time by create_partitions() (run it after
--                               installing or upgrading and then daily, e.g. from cron); it also moves the
--                               default partition's rows of a month into that month's partition. They are
--                               ordinary tables, not extension members, so pg_dump dumps each once (its
--                               schema, its ATTACH and its rows) and CREATE EXTENSION never creates one.
-- Keys and indexes (the key, the reversal index, the session index) are each partition's own, not the
-- parent's: an index of the parent (an extension member) would be cloned onto a partition when pg_dump's
-- restore attaches it, and the partition's own dumped index would then collide with the clone. Per partition
-- they are as strong: the key (tenant, event_id, occurred_at) contains the partition key, and a reversal
-- carries its event's occurred_at, so it is in the same partition.
-- Idempotency keys live in usage_meter.idempotency_keys (a unique index of a partitioned table must contain
-- the partition key, so the ledger cannot hold a tenant-wide unique key itself).
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
    reverses_event_id   bigint,
    corrects_event_id   bigint,
    reason              text
) PARTITION BY RANGE (occurred_at);
COMMENT ON TABLE usage_meter.events IS 'Append-only usage ledger: one row per usage event, partitioned by month of occurred_at';
COMMENT ON COLUMN usage_meter.events.reverses_event_id IS 'On a reversal: the event it cancels (figures negated)';
COMMENT ON COLUMN usage_meter.events.corrects_event_id IS 'On a replacement: the event it corrects';
COMMENT ON COLUMN usage_meter.events.reason IS 'Why the event was reversed or corrected';

CREATE TABLE usage_meter.events_default PARTITION OF usage_meter.events DEFAULT;
ALTER TABLE usage_meter.events_default ADD CONSTRAINT events_default_pkey PRIMARY KEY (tenant, event_id, occurred_at);
-- An event is reversed at most once.
CREATE UNIQUE INDEX events_default_reversed_once ON usage_meter.events_default (tenant, reverses_event_id)
    WHERE reverses_event_id IS NOT NULL;
-- A session's events (session_usage, analytics.sql): one key lookup per partition.
CREATE INDEX events_default_session ON usage_meter.events_default (tenant, session_id)
    WHERE session_id IS NOT NULL;

-- A key is remembered as long as its event's raw row is kept; once drop_events_before has dropped the event,
-- the key stays as a tombstone until it is 35 days old (recorded_at), and events older than the retention
-- boundary are refused: a retry of a dropped event is refused, never counted twice.
CREATE TABLE usage_meter.idempotency_keys (
    tenant           text NOT NULL,
    idempotency_key  text NOT NULL,
    event_id         bigint NOT NULL,
    occurred_at      timestamptz NOT NULL,  -- the event's, to find it (and its partition) and to prune the key
    recorded_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant, idempotency_key)
);
COMMENT ON TABLE usage_meter.idempotency_keys IS 'Idempotency keys of the ledger: kept as long as their event''s raw row';

-- The retention boundary: raw events before kept_from were dropped. No row: nothing was ever dropped. Global
-- (like prices): partitions are shared by every tenant.
CREATE TABLE usage_meter.retention (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    kept_from   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE usage_meter.retention IS 'Raw events before kept_from were dropped by drop_events_before';

-- The retention policy maintain() applies (set_retention, retention.sql): raw events older than `keep` are
-- dropped by whole UTC months. No row: every raw event is kept. Global, like retention.
CREATE TABLE usage_meter.retention_policy (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    keep        interval NOT NULL CHECK (keep >= interval '1 month'),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE usage_meter.retention_policy IS 'How long maintain() keeps raw events (whole UTC months); no row: forever';

------------------------------------------------------------------------------------------------------------
-- Rollups. Writers add to the row of their own slot (the backend id modulo usage_meter.counter_slots), so
-- concurrent writers of one hot tenant do not queue on one row lock; readers sum the slots. rebuild() adds
-- its corrections to slot -1, which no writer uses (trust.sql).
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

-- The view reads daily_rollup with the caller's rights, so row-level security applies through it.
CREATE VIEW usage_meter.daily_usage WITH (security_invoker = true) AS
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
-- What reserve() and check_limit() sum: the open holds of a tenant, and of one of its users. Through hash
-- indexes: every settled or released hold leaves a dead entry behind, which a btree keeps in the scanned range
-- until VACUUM, so on a busy tenant each reserve() would walk the entries of every hold closed since. A hash
-- index puts all of a tenant's entries in one bucket, and an insert into a full bucket page first reclaims the
-- entries scans have marked dead, so the bucket stays about as large as the set of open holds. The user index
-- hashes tenant, a unit separator and user_id; readers check tenant and user_id on every row, so hash
-- collisions cost time, never correctness.
CREATE INDEX reservations_open_tenant ON usage_meter.reservations USING hash (tenant) WHERE state = 'held';
CREATE INDEX reservations_open_user ON usage_meter.reservations
    USING hash (pg_catalog.textcat(pg_catalog.textcat(tenant, E'\x1f'), user_id))
    WHERE state = 'held' AND user_id IS NOT NULL;
COMMENT ON TABLE usage_meter.reservations IS 'Reservations: estimates held against limits until settled, released or expired';

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

------------------------------------------------------------------------------------------------------------
-- Which tenants a reader may see. Managed by the admin; a reader cannot change it (nor see other readers' rows).
------------------------------------------------------------------------------------------------------------
CREATE TABLE usage_meter.reader_tenants (
    tenant      text NOT NULL REFERENCES usage_meter.tenants (tenant),
    role_name   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant, role_name)
);
CREATE INDEX reader_tenants_role ON usage_meter.reader_tenants (role_name);
COMMENT ON TABLE usage_meter.reader_tenants IS 'Tenants each reader role may see (row-level security on every tenant table)';

------------------------------------------------------------------------------------------------------------
-- pg_dump keeps every table with user data, and the sequences that number it. The ledger's rows are dumped
-- through its partitions: the default partition here; monthly partitions are ordinary tables, dumped as such.
------------------------------------------------------------------------------------------------------------
SELECT pg_catalog.pg_extension_config_dump('usage_meter.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.tenant_markups', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.prices', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.price_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.unit_prices', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.unit_price_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.provider_aliases', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.model_aliases', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.limits', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.events_default', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.idempotency_keys', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.retention', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.retention_policy', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.daily_rollup', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.counters', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.reservations', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.reservation_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.alert_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('usage_meter.reader_tenants', '');
